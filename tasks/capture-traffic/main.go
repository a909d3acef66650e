// Command capture-traffic is the Lambda of the capture-traffic action: it
// captures the task's packets with tcpdump on the container instance
// through SSM Run Command, or starts a VPC traffic-mirror session on the
// task's network interface.
package main

import (
	"github.com/irflow/irflow/tasks/capture-traffic/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("capture-traffic", handler.New) }
