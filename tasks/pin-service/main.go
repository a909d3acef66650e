// Command pin-service is the Lambda of the pin-service action: it stops the
// task's service from starting replacements from the compromised image, by
// rolling it back to an earlier revision of other digests or scaling it to
// zero, and records what undoes it.
package main

import (
	"github.com/irflow/irflow/tasks/pin-service/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("pin-service", handler.New) }
