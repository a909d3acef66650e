package asl

// Succeed ends the execution (or branch) successfully.
type Succeed struct {
	Type       string `json:"Type"`
	Comment    string `json:"Comment,omitempty"`
	InputPath  *Path  `json:"InputPath,omitempty"`
	OutputPath *Path  `json:"OutputPath,omitempty"`
}

// StateType implements State.
func (*Succeed) StateType() string { return "Succeed" }

// Targets implements State.
func (*Succeed) Targets() []string { return nil }

// Terminal implements State.
func (*Succeed) Terminal() bool { return true }

// Fail ends the execution (or branch) with an error.
type Fail struct {
	Type      string `json:"Type"`
	Comment   string `json:"Comment,omitempty"`
	Error     string `json:"Error,omitempty"`
	ErrorPath string `json:"ErrorPath,omitempty"`
	Cause     string `json:"Cause,omitempty"`
	CausePath string `json:"CausePath,omitempty"`
}

// StateType implements State.
func (*Fail) StateType() string { return "Fail" }

// Targets implements State.
func (*Fail) Targets() []string { return nil }

// Terminal implements State.
func (*Fail) Terminal() bool { return true }
