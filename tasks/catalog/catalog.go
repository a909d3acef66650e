package catalog

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Kind groups actions by what they do to an incident.
type Kind string

// The kinds of the catalog (docs/design.md, "The action catalog").
const (
	KindEvidence    Kind = "evidence"
	KindContainment Kind = "containment"
	KindNotify      Kind = "notify"
	KindApproval    Kind = "approval"
	KindSystem      Kind = "system"
)

// Launch types the generator branches on. Other ECS launch types (EXTERNAL,
// MANAGED_INSTANCES) are valid input but take the state machine's default branch.
const (
	EC2     = "EC2"
	Fargate = "FARGATE"
)

// LaunchTypes lists the launch types irflow responds to, in branch order.
var LaunchTypes = []string{EC2, Fargate}

// Retry is an action's default Step Functions retry policy for transient
// failures (Lambda service errors and RetryableError). Delays are in seconds;
// the generator always adds full jitter.
type Retry struct {
	MaxAttempts     int     `json:"maxAttempts"`
	IntervalSeconds int     `json:"intervalSeconds"`
	BackoffRate     float64 `json:"backoffRate"`
	MaxDelaySeconds int     `json:"maxDelaySeconds"`
}

// Statement is one IAM allow statement of an action's Lambda role. Resources
// may hold the placeholders of Placeholders; Condition is an IAM condition block.
type Statement struct {
	Actions   []string                     `json:"actions"`
	Resources []string                     `json:"resources"`
	Condition map[string]map[string]string `json:"condition,omitempty"`
}

// Action is one catalog entry: everything the generator, the CDK app, the CLI
// and the README need to know about a task Lambda.
type Action struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Kind        Kind     `json:"kind"`
	LaunchTypes []string `json:"launchTypes"`
	// Destructive actions change or end the workload and need an approval first.
	Destructive bool `json:"destructive"`
	// Mutating actions change the customer's environment; under dry-run they
	// record what they would do and change nothing.
	Mutating bool `json:"mutating"`
	// UsesSSM actions need an SSM agent to reach Systems Manager: Run Command
	// on the container instance, or ECS Exec's agent in the container
	// talking to ssmmessages. A quarantine that blocks SSM must come after
	// them (the compiler's ssm-after-isolation).
	UsesSSM bool `json:"usesSsm"`
	// Async actions are started, then polled by the same Lambda in mode "check"
	// from a Wait/Choice loop, so no Lambda waits minutes.
	Async bool `json:"async"`
	// NeedsRunningTarget evidence is lost once the task stops (memory, host
	// state, the task ENI), so collecting it after a StopsTarget step is a warning.
	NeedsRunningTarget bool `json:"needsRunningTarget"`
	// StopsTarget actions end the task (stop-task, scale-service).
	StopsTarget bool `json:"stopsTarget"`
	// NeedsTask actions act on the target task itself (its ARN, task
	// definition, containers, role or service). A host finding's target is
	// a container instance with no task (target.taskArn empty, the tasks on
	// it in target.hostTasks): such an action cannot run on it, so in a
	// playbook that takes host findings the compiler requires it under
	// when: {target: task} or inside a forEach over the host's tasks. The
	// others act on what a host target has too: its instance, ENIs,
	// volumes, or the case.
	NeedsTask bool `json:"needsTask"`
	// Inserted actions are placed by the compiler and cannot be named in a playbook.
	Inserted bool `json:"inserted"`
	// TaskLists are the keys (dotted, under outputs) of the task ARN lists
	// the action returns, which a forEach may iterate; the first is the
	// default of forEach.output.
	TaskLists []string `json:"taskLists,omitempty"`
	// Params is the JSON Schema (2020-12) of the step's `with:` block.
	Params json.RawMessage `json:"params"`
	// Reserved are keys of Params that the compiler sets from the
	// playbook, never from the step (find-siblings' excludeTaskTags is the
	// playbook's exclude:): the playbook schema leaves them out and the
	// compiler refuses them in a step's with:.
	Reserved []string `json:"reserved,omitempty"`
	// Timeout bounds one Lambda invocation (Task TimeoutSeconds and the function timeout).
	Timeout Duration `json:"timeout"`
	// StepTimeout bounds an async action from start to done (the poll loop).
	StepTimeout Duration `json:"stepTimeout,omitempty"`
	// PollInterval is the Wait between checks of an async action.
	PollInterval Duration `json:"pollInterval,omitempty"`
	Retry        Retry    `json:"retry"`
	// MemoryMB is the Lambda memory size.
	MemoryMB int         `json:"memoryMB"`
	IAM      []Statement `json:"iam"`
	// Undo says how the changes of a containment action are reversed
	// (docs/design.md, "Release"); nil for actions that change nothing to
	// undo.
	Undo *Undo `json:"undo,omitempty"`

	// defaults are the "default" of each top-level property of Params, read
	// once when the catalog is built: the catalog is constant.
	defaults map[string]json.RawMessage
}

// Undo is how an action's changes are reversed: by the Action that reads
// the case's containment ledger and undoes its entries of the Ledger kinds
// (tasks/ledger), in reverse order. An empty Ledger means there is nothing
// to undo; Note says why, or what the undo does beyond the entries.
type Undo struct {
	Action string   `json:"action"`
	Ledger []string `json:"ledger"`
	Note   string   `json:"note,omitempty"`
}

// ReleaseAction is the action that undoes containment.
const ReleaseAction = "release-containment"

// ParamDefaults returns the "default" of each top-level property of the
// action's parameter schema that has one. The map is shared: do not modify it.
func (a *Action) ParamDefaults() map[string]json.RawMessage { return a.defaults }

// paramDefaults reads the property defaults of a parameter schema.
func paramDefaults(params json.RawMessage) map[string]json.RawMessage {
	var sch struct {
		Properties map[string]struct {
			Default json.RawMessage `json:"default"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(params, &sch); err != nil {
		panic(fmt.Sprintf("catalog: parameter schema: %v", err))
	}
	d := map[string]json.RawMessage{}
	for k, p := range sch.Properties {
		if p.Default != nil {
			d[k] = p.Default
		}
	}
	return d
}

// Supports reports whether the action can run on the launch type.
func (a *Action) Supports(launchType string) bool {
	for _, lt := range a.LaunchTypes {
		if lt == launchType {
			return true
		}
	}
	return false
}

// FunctionPlaceholder is the DefinitionSubstitutions key the generated ASL
// uses for the action's Lambda ARN, e.g. Fn_capture_memory.
func (a *Action) FunctionPlaceholder() string {
	return FunctionPlaceholder(a.Name)
}

// FunctionPlaceholder returns the substitution key for a function name.
func FunctionPlaceholder(name string) string {
	b := []byte("Fn_" + name)
	for i := range b {
		if b[i] == '-' {
			b[i] = '_'
		}
	}
	return string(b)
}

// SpecificIAMActions returns the IAM actions of the action's own statements,
// without the CommonIAM statements every function has.
func (a *Action) SpecificIAMActions() []string {
	isCommon := func(st Statement) bool {
		for _, c := range CommonIAM() {
			if fmt.Sprint(c) == fmt.Sprint(st) {
				return true
			}
		}
		return false
	}
	return a.iamActions(func(st Statement) bool { return !isCommon(st) })
}

// IAMActions returns the sorted, de-duplicated IAM actions the role may call.
func (a *Action) IAMActions() []string {
	return a.iamActions(func(Statement) bool { return true })
}

// iamActions returns the sorted, de-duplicated IAM actions of the
// statements keep accepts.
func (a *Action) iamActions(keep func(Statement) bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, st := range a.IAM {
		if !keep(st) {
			continue
		}
		for _, act := range st.Actions {
			if !seen[act] {
				seen[act] = true
				out = append(out, act)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Duration is a time.Duration that marshals as a Go duration string ("30s").
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Seconds returns the whole seconds of the duration.
func (d Duration) Seconds() int { return int(time.Duration(d) / time.Second) }

// MarshalJSON writes the duration as a string such as "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

//go:embed params/*.json
var paramFiles embed.FS

func params(name string) json.RawMessage {
	b, err := paramFiles.ReadFile("params/" + name + ".json")
	if err != nil {
		panic(fmt.Sprintf("catalog: no parameter schema for %s: %v", name, err))
	}
	return json.RawMessage(b)
}

var byName = func() map[string]*Action {
	m := make(map[string]*Action, len(actions))
	for _, a := range actions {
		if _, dup := m[a.Name]; dup {
			panic("catalog: duplicate action " + a.Name)
		}
		a.defaults = paramDefaults(a.Params)
		m[a.Name] = a
	}
	return m
}()

// Lookup returns the named action, or nil.
func Lookup(name string) *Action { return byName[name] }

// All returns every action in catalog order (the order of docs/design.md's table).
func All() []*Action {
	out := make([]*Action, len(actions))
	copy(out, actions)
	return out
}

// Names returns every action name in catalog order.
func Names() []string {
	out := make([]string, len(actions))
	for i, a := range actions {
		out[i] = a.Name
	}
	return out
}
