// Command resolve-target is the Lambda of the resolve-target action: the
// first state of every irflow state machine. It validates the execution
// input, takes the per-task dedupe lock and describes the task.
package main

import (
	"github.com/irflow/irflow/tasks/resolve-target/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("resolve-target", handler.New) }
