package asl

// Pass passes its input on, optionally shaping it.
type Pass struct {
	Type       string         `json:"Type"`
	Comment    string         `json:"Comment,omitempty"`
	InputPath  *Path          `json:"InputPath,omitempty"`
	Parameters map[string]any `json:"Parameters,omitempty"`
	Result     any            `json:"Result,omitempty"`
	ResultPath *Path          `json:"ResultPath,omitempty"`
	OutputPath *Path          `json:"OutputPath,omitempty"`
	Next       string         `json:"Next,omitempty"`
	End        bool           `json:"End,omitempty"`
}

// StateType implements State.
func (*Pass) StateType() string { return "Pass" }

// Targets implements State.
func (p *Pass) Targets() []string { return flow(p.Next, p.End) }

// Terminal implements State.
func (p *Pass) Terminal() bool { return p.End }
