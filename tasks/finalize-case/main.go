// Command finalize-case is the Lambda of the last state of every irflow
// state machine: it writes the case report and evidence manifest and
// releases the task's dedupe lock.
package main

import (
	"github.com/irflow/irflow/tasks/finalize-case/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("finalize-case", handler.New) }
