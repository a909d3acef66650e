// Command snapshot-volumes is the Lambda of the snapshot-volumes action: it
// starts tagged, crash-consistent EBS snapshots of the container instance
// and returns once they are started (a snapshot is point-in-time from then).
package main

import (
	"github.com/irflow/irflow/tasks/snapshot-volumes/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("snapshot-volumes", handler.New) }
