package asl

// Parallel runs branches at the same time; its result is the array of the
// branches' outputs.
type Parallel struct {
	Type           string         `json:"Type"`
	Comment        string         `json:"Comment,omitempty"`
	InputPath      *Path          `json:"InputPath,omitempty"`
	Parameters     map[string]any `json:"Parameters,omitempty"`
	Branches       []StateMachine `json:"Branches"`
	ResultSelector map[string]any `json:"ResultSelector,omitempty"`
	ResultPath     *Path          `json:"ResultPath,omitempty"`
	OutputPath     *Path          `json:"OutputPath,omitempty"`
	Retry          []Retrier      `json:"Retry,omitempty"`
	Catch          []Catcher      `json:"Catch,omitempty"`
	Next           string         `json:"Next,omitempty"`
	End            bool           `json:"End,omitempty"`
}

// StateType implements State.
func (*Parallel) StateType() string { return "Parallel" }

// Targets implements State.
func (p *Parallel) Targets() []string { return append(flow(p.Next, p.End), catchTargets(p.Catch)...) }

// Terminal implements State.
func (p *Parallel) Terminal() bool { return p.End }
