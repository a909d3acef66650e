// Command notify is the Lambda of the notify action: it publishes the case
// summary to the irflow SNS topic.
package main

import (
	"github.com/irflow/irflow/tasks/notify/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("notify", handler.New) }
