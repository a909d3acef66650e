// Command start-api is the Lambda behind the start Function URL (AWS_IAM
// auth): it starts a playbook's state machine for the signed caller, with
// the input sealed by the deployment's HMAC key so resolve-target can
// verify who asked. It is not a state of any state machine; `irflow start`
// calls it.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/irflow/irflow/tasks/start-api/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() {
	cfg, err := taskrt.LoadAWSConfig(context.Background())
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("init failed", "function", "start-api", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(handler.New(cfg, taskrt.EnvFromOS()).HandleURL)
}
