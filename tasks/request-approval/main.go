// Command request-approval is the Lambda of every approval gate: a
// waitForTaskToken task that stores the pending approval and its token and
// tells the approvers how to decide, and, when nobody answered in time,
// records the timeout.
package main

import (
	"github.com/irflow/irflow/tasks/request-approval/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("request-approval", handler.New) }
