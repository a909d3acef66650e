// Command enable-flow-logs is the Lambda of the enable-flow-logs action: it
// turns on VPC flow logs for the task's ENIs, delivered to the case's folder.
package main

import (
	"github.com/irflow/irflow/tasks/enable-flow-logs/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("enable-flow-logs", handler.New) }
