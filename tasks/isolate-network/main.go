// Command isolate-network is the Lambda of the isolate-network action: it
// swaps the security groups of the task's ENI (awsvpc) or of its instance's
// ENIs (bridge/host) for a per-VPC quarantine group and remembers the old ones.
package main

import (
	"github.com/irflow/irflow/tasks/isolate-network/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("isolate-network", handler.New) }
