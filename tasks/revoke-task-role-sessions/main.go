// Command revoke-task-role-sessions is the Lambda of the
// revoke-task-role-sessions action: it puts an inline deny on the task role
// for every session issued before the revocation, cutting off credentials
// that left the task.
package main

import (
	"github.com/irflow/irflow/tasks/revoke-task-role-sessions/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("revoke-task-role-sessions", handler.New) }
