// Command exec-triage is the Lambda of the exec-triage action: live triage
// inside a running container through ECS Exec, with irflow's fixed,
// read-only collector.
package main

import (
	"github.com/irflow/irflow/tasks/exec-triage/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("exec-triage", handler.New) }
