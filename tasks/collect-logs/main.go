// Command collect-logs is the Lambda of the collect-logs action: it copies
// the task's CloudWatch Logs (awslogs) streams to the evidence bucket.
package main

import (
	"github.com/irflow/irflow/tasks/collect-logs/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("collect-logs", handler.New) }
