// Command nulllambda is the baseline of the Lambda benchmarks: a Go Lambda
// built like the task Lambdas (aws-lambda-go, lambda.norpc) whose handler
// does nothing, so its cold start under the runtime interface emulator is
// the floor that the emulator and the Go Lambda runtime set.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`{}`), nil
	})
}
