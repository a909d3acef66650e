package registry

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	capturememory "github.com/irflow/irflow/tasks/capture-memory/handler"
	capturetaskmetadata "github.com/irflow/irflow/tasks/capture-task-metadata/handler"
	capturetraffic "github.com/irflow/irflow/tasks/capture-traffic/handler"
	"github.com/irflow/irflow/tasks/catalog"
	collecthostartifacts "github.com/irflow/irflow/tasks/collect-host-artifacts/handler"
	collectlogs "github.com/irflow/irflow/tasks/collect-logs/handler"
	enableflowlogs "github.com/irflow/irflow/tasks/enable-flow-logs/handler"
	exectriage "github.com/irflow/irflow/tasks/exec-triage/handler"
	finalizecase "github.com/irflow/irflow/tasks/finalize-case/handler"
	findsiblings "github.com/irflow/irflow/tasks/find-siblings/handler"
	isolatenetwork "github.com/irflow/irflow/tasks/isolate-network/handler"
	notify "github.com/irflow/irflow/tasks/notify/handler"
	pinservice "github.com/irflow/irflow/tasks/pin-service/handler"
	protectinstance "github.com/irflow/irflow/tasks/protect-instance/handler"
	releasecontainment "github.com/irflow/irflow/tasks/release-containment/handler"
	requestapproval "github.com/irflow/irflow/tasks/request-approval/handler"
	resolvetarget "github.com/irflow/irflow/tasks/resolve-target/handler"
	revoketaskrolesessions "github.com/irflow/irflow/tasks/revoke-task-role-sessions/handler"
	scaleservice "github.com/irflow/irflow/tasks/scale-service/handler"
	snapshotvolumes "github.com/irflow/irflow/tasks/snapshot-volumes/handler"
	stoptask "github.com/irflow/irflow/tasks/stop-task/handler"
	tagresources "github.com/irflow/irflow/tasks/tag-resources/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

// Constructors returns every catalog action's handler constructor, by
// action name (tasks/catalog is the list of names; a test ties them).
func Constructors() map[string]taskrt.Constructor {
	return map[string]taskrt.Constructor{
		"resolve-target":            resolvetarget.New,
		"tag-resources":             tagresources.New,
		"capture-task-metadata":     capturetaskmetadata.New,
		"find-siblings":             findsiblings.New,
		"collect-logs":              collectlogs.New,
		"enable-flow-logs":          enableflowlogs.New,
		"snapshot-volumes":          snapshotvolumes.New,
		"capture-memory":            capturememory.New,
		"collect-host-artifacts":    collecthostartifacts.New,
		"capture-traffic":           capturetraffic.New,
		"exec-triage":               exectriage.New,
		"isolate-network":           isolatenetwork.New,
		"protect-instance":          protectinstance.New,
		"revoke-task-role-sessions": revoketaskrolesessions.New,
		"stop-task":                 stoptask.New,
		"scale-service":             scaleservice.New,
		"pin-service":               pinservice.New,
		"release-containment":       releasecontainment.New,
		"notify":                    notify.New,
		"request-approval":          requestapproval.New,
		"finalize-case":             finalizecase.New,
	}
}

// Env is the deployment's configuration the handlers read (the IRFLOW_*
// variables). It is taskrt.Env under a name code outside tasks/ can use.
type Env = taskrt.Env

// EnvFromOS reads Env from the IRFLOW_* environment variables.
func EnvFromOS() Env { return taskrt.EnvFromOS() }

// Invoker runs one action in process: a task payload in, a task result (or
// a named error) out, exactly as its Lambda would.
type Invoker = func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error)

// logOutput is where the runtimes log; tests silence it.
var logOutput io.Writer = os.Stderr

// Handlers builds every action's handler against cfg and env (moto server
// behind AWS_ENDPOINT_URL for `irflow simulate --aws-endpoint`) and wraps
// each in the task runtime, audit chain included. Each invocation gets the
// action's Lambda timeout (the catalog's) as its deadline, as in AWS, so a
// handler that runs out of time fails the way it would there. The runtimes
// log to stderr: the CLI's stdout is its report.
func Handlers(ctx context.Context, cfg aws.Config, env Env) map[string]Invoker {
	out := map[string]Invoker{}
	for name, newHandler := range Constructors() {
		rt := taskrt.NewRuntime(name, cfg, env, newHandler)
		rt.Log = taskrt.NewLogger(logOutput)
		out[name] = withTimeout(rt.Invoke, timeoutOf(name))
	}
	return out
}

// timeoutOf is the Lambda timeout of an action.
func timeoutOf(action string) time.Duration {
	if a := catalog.Lookup(action); a != nil && a.Timeout.D() > 0 {
		return a.Timeout.D()
	}
	return 15 * time.Minute // Lambda's longest
}

// withTimeout gives every call of invoke a deadline d away, like Lambda's.
func withTimeout(invoke Invoker, d time.Duration) Invoker {
	return func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return invoke(ctx, payload)
	}
}

// ConfigFor loads the default AWS config (credentials, region, irflow's
// retryer) aimed at endpoint, an AWS-compatible URL such as moto server's.
// The region defaults to us-east-1 when none is configured.
func ConfigFor(ctx context.Context, endpoint string) (aws.Config, error) {
	cfg, err := taskrt.LoadAWSConfig(ctx)
	if err != nil {
		return aws.Config{}, err
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	return cfg, nil
}
