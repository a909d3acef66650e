// Command tag-resources is the Lambda of the tag-resources action: it marks
// the task and the resources it runs on with the case id and status.
package main

import (
	"github.com/irflow/irflow/tasks/tag-resources/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("tag-resources", handler.New) }
