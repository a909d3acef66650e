package taskrt

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/mac"
)

// Constructor builds an action's handler from the process's AWS config and
// environment. Each tasks/<action>/handler package exports one as New.
type Constructor func(cfg aws.Config, env Env) HandlerFunc

// NewRuntime wires a handler with the audit chain and the JSON logger.
// The handler's clients hold requests that may change something until the
// step's start record is written (gate.go).
func NewRuntime(action string, cfg aws.Config, env Env, newHandler Constructor) *Runtime {
	cfg = withStartGate(cfg)
	rt := &Runtime{Action: action, Handle: newHandler(cfg, env), Audit: NewChain(cfg, env), Log: NewLogger(nil)}
	if a := catalog.Lookup(action); a != nil && a.ActsInTarget() {
		rt.Targets, rt.New, rt.Cfg, rt.Env = NewTargets(cfg, env), newHandler, cfg, env
	}
	return rt
}

// NewChain returns the audit chain of the deployment, its records
// authenticated with the deployment's MAC key when one is configured.
func NewChain(cfg aws.Config, env Env) *audit.Chain {
	cfg = env.Home(cfg)
	return &audit.Chain{DB: dynamodb.NewFromConfig(cfg), Table: env.AuditTable, MAC: NewMACKey(cfg, env)}
}

// NewMACKey returns the deployment's HMAC key (IRFLOW_MAC_KEY_ARN), or nil
// when none is configured.
func NewMACKey(cfg aws.Config, env Env) *mac.Key {
	if env.MACKeyArn == "" {
		return nil
	}
	return &mac.Key{KMS: kms.NewFromConfig(env.Home(cfg)), ID: env.MACKeyArn}
}

// NewEvidenceWriter returns the evidence writer of the deployment.
func NewEvidenceWriter(cfg aws.Config, env Env) *EvidenceWriter {
	return &EvidenceWriter{S3: NewS3(env.Home(cfg)), Bucket: env.EvidenceBucket, KMSKeyArn: env.KMSKeyArn}
}

// NewS3 returns an S3 client; path-style addressing keeps custom endpoints
// (moto, a proxy) working and is harmless on AWS.
func NewS3(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })
}

// Start is a task Lambda's main: config and clients once per process, then
// lambda.Start. A failed init exits non-zero so Lambda reports it.
func Start(action string, newHandler Constructor) {
	cfg, err := LoadAWSConfig(context.Background())
	if err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("init failed", "action", action, "error", err.Error())
		os.Exit(1)
	}
	rt := NewRuntime(action, cfg, EnvFromOS(), newHandler)
	lambda.Start(func(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
		out, err := rt.Invoke(ctx, raw)
		return out, lambdaError(err)
	})
}

// lambdaError hands err to Lambda with its contract name as errorType
// (aws-lambda-go reports a messages.InvokeResponse_Error's Type as is,
// instead of the Go type name it reflects for any other error).
func lambdaError(err error) error {
	if err == nil {
		return nil
	}
	return messages.InvokeResponse_Error{Type: contract.ErrorName(err), Message: err.Error()}
}
