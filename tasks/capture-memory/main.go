// Command capture-memory is the Lambda of the capture-memory action: it
// acquires the container instance's memory with a pinned AVML build through
// SSM Run Command and polls the command until the image is uploaded.
package main

import (
	"github.com/irflow/irflow/tasks/capture-memory/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("capture-memory", handler.New) }
