// Command release-containment is the Lambda of the release-containment
// action: it undoes a case's containment from its ledger.
package main

import (
	"github.com/irflow/irflow/tasks/release-containment/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() { taskrt.Start("release-containment", handler.New) }
