// Command approval-api is the Lambda behind the approval Function URL
// (AWS_IAM auth): it records approval decisions and answers Step Functions.
// It is not a state of any state machine; `irflow approve` calls it.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/irflow/irflow/tasks/approval-api/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

func main() {
	cfg, err := taskrt.LoadAWSConfig(context.Background())
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("init failed", "function", "approval-api", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(handler.New(cfg, taskrt.EnvFromOS()).HandleURL)
}
