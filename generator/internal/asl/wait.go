package asl

// Wait delays for a number of seconds or until a timestamp.
type Wait struct {
	Type          string `json:"Type"`
	Comment       string `json:"Comment,omitempty"`
	InputPath     *Path  `json:"InputPath,omitempty"`
	OutputPath    *Path  `json:"OutputPath,omitempty"`
	Seconds       int    `json:"Seconds,omitempty"`
	SecondsPath   string `json:"SecondsPath,omitempty"`
	Timestamp     string `json:"Timestamp,omitempty"`
	TimestampPath string `json:"TimestampPath,omitempty"`
	Next          string `json:"Next,omitempty"`
	End           bool   `json:"End,omitempty"`
}

// StateType implements State.
func (*Wait) StateType() string { return "Wait" }

// Targets implements State.
func (w *Wait) Targets() []string { return flow(w.Next, w.End) }

// Terminal implements State.
func (w *Wait) Terminal() bool { return w.End }
