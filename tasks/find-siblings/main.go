// Command find-siblings is the Lambda of the find-siblings action: it lists
// the running tasks that share the compromised task's image digest, task
// definition family, task role or container instance.
package main

import (
	"github.com/irflow/irflow/tasks/find-siblings/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("find-siblings", handler.New) }
