package asl

// Resources of the Lambda service integration.
const (
	ResourceLambdaInvoke     = "arn:aws:states:::lambda:invoke"
	ResourceLambdaInvokeWait = "arn:aws:states:::lambda:invoke.waitForTaskToken"
)

// Task runs work: in irflow always a Lambda invoke.
type Task struct {
	Type             string         `json:"Type"`
	Comment          string         `json:"Comment,omitempty"`
	Resource         string         `json:"Resource"`
	InputPath        *Path          `json:"InputPath,omitempty"`
	Parameters       map[string]any `json:"Parameters,omitempty"`
	ResultSelector   map[string]any `json:"ResultSelector,omitempty"`
	ResultPath       *Path          `json:"ResultPath,omitempty"`
	OutputPath       *Path          `json:"OutputPath,omitempty"`
	TimeoutSeconds   int            `json:"TimeoutSeconds,omitempty"`
	HeartbeatSeconds int            `json:"HeartbeatSeconds,omitempty"`
	Retry            []Retrier      `json:"Retry,omitempty"`
	Catch            []Catcher      `json:"Catch,omitempty"`
	Next             string         `json:"Next,omitempty"`
	End              bool           `json:"End,omitempty"`
}

// StateType implements State.
func (*Task) StateType() string { return "Task" }

// Targets implements State.
func (t *Task) Targets() []string { return append(flow(t.Next, t.End), catchTargets(t.Catch)...) }

// Terminal implements State.
func (t *Task) Terminal() bool { return t.End }
