package playbook

import "time"

// Playbook is the typed form of a playbook. Every node keeps its JSON Pointer
// (Path) so later passes can ask the Document for its line and column.
type Playbook struct {
	Doc         *Document
	Name        string
	Title       string
	Description string
	Severity    string
	Owner       string
	Triggers    Triggers
	Approval    ApprovalDefaults
	// Exclude, when set, ends a run for a task it matches before any step.
	Exclude *Exclude
	Steps   []*Step
}

// Exclude names the tasks a playbook leaves alone: a task carrying any one
// of TaskTags (value "*": any value) ends the run with outcome EXCLUDED.
type Exclude struct {
	Path     string
	TaskTags map[string]string
}

// When is a step's condition: every field that is set must hold for the
// step to run; otherwise it is recorded SKIPPED. Tags are read by
// resolve-target; finding fields hold only for runs a finding started.
type When struct {
	Path            string
	FindingTypes    []Located
	SeverityAtLeast *float64
	NetworkModes    []string
	InService       *bool
	ExecEnabled     *bool // the task was started with ECS Exec
	// Target is "task" (the target is one task) or "host" (a host
	// finding: the target is a container instance, no task); "" when unset.
	Target      string
	TaskTags    map[string]string
	NotTaskTags map[string]string
}

// Triggers says what starts an execution.
type Triggers struct {
	FindingTypes []Located
	MinSeverity  float64
	// HostFindings says the playbook also takes GuardDuty findings about a
	// container instance (resourceType Instance); HostFindingsPath locates
	// triggers.guardduty.hostFindings ("" when the playbook does not say).
	HostFindings     bool
	HostFindingsPath string
	Manual           bool
	// Correlate, when set, makes one case per service (triggers.correlate).
	Correlate *Correlate
}

// Correlate is triggers.correlate: later findings on tasks of a service
// within Window join the case of its first one.
type Correlate struct {
	Path   string
	By     string
	Window Duration
}

// Located is a string with the JSON Pointer it came from.
type Located struct {
	Value string
	Path  string
}

// ApprovalDefaults are the playbook-level defaults of approval steps.
type ApprovalDefaults struct {
	Approvers         []string
	Timeout           Duration
	OnTimeout         string
	AllowSelfApproval bool
	// MinApprovers is how many different people must approve; 0 when unset.
	MinApprovers int
}

// Duration is a parsed duration with the pointer of its text; Set is false
// when the playbook did not give one.
type Duration struct {
	D    time.Duration
	Set  bool
	Path string
}

// StepKind says which of action, parallel or approval a step is.
type StepKind int

// Step kinds.
const (
	KindInvalid StepKind = iota
	KindAction
	KindParallel
	KindApproval
	KindForEach
)

// Step is one playbook step.
type Step struct {
	ID          string
	Path        string
	Kind        StepKind
	Description string

	Action string
	With   map[string]any

	// Branches of a parallel; each branch is a sequence of steps.
	Branches []Branch

	Approval *Approval
	// OnReject are the steps an approval step runs when its gate is
	// rejected (or times out with onTimeout reject), before the case is
	// finalized with outcome REJECTED.
	OnReject []*Step

	// ForEach is set on a forEach step: its steps run once per task of an
	// earlier step's list output.
	ForEach *ForEach

	When *When

	// OnError is fail or continue; "" inherits from the enclosing parallel (default fail).
	OnError string
	// LaunchTypes restricts the step; nil means every launch type its action supports.
	LaunchTypes      []string
	RequiresApproval *bool
	Justification    string
	Timeout          Duration
	Retry            *Retry
}

// Branch is one item of a parallel: a sequence of steps.
type Branch struct {
	Path  string
	Steps []*Step
}

// ForEach runs Steps for each task ARN of an earlier step's list output
// (a Map state); each iteration's target is that task.
type ForEach struct {
	Path string
	// Step is the id of the step whose output lists the tasks.
	Step string
	// Output is the key of the list in that step's outputs ("" = the
	// action's default list).
	Output string
	// MaxConcurrency bounds the iterations running at once (0 = default).
	MaxConcurrency int
	Steps          []*Step
}

// Approval is an approval step's own settings; unset fields fall back to the
// playbook's approval defaults.
type Approval struct {
	Prompt            string
	Approvers         []string
	Timeout           Duration
	OnTimeout         string
	AllowSelfApproval *bool
	MinApprovers      *int
}

// Retry overrides an action's retry policy.
type Retry struct {
	MaxAttempts *int
	Interval    Duration
	BackoffRate *float64
	MaxDelay    Duration
}

// Walk calls fn for every step, depth first in document order: the steps
// of a parallel, of an approval's onReject and of a forEach follow their step.
func (p *Playbook) Walk(fn func(s *Step)) {
	var walk func(steps []*Step)
	walk = func(steps []*Step) {
		for _, s := range steps {
			fn(s)
			for _, b := range s.Branches {
				walk(b.Steps)
			}
			walk(s.OnReject)
			if s.ForEach != nil {
				walk(s.ForEach.Steps)
			}
		}
	}
	walk(p.Steps)
}
