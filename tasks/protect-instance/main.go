// Command protect-instance is the Lambda of the protect-instance action: it
// keeps the container instance around for the investigation (termination
// and stop protection, Auto Scaling scale-in protection) and drains it so
// no new task lands on it.
package main

import (
	"github.com/irflow/irflow/tasks/protect-instance/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("protect-instance", handler.New) }
