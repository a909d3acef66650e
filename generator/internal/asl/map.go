package asl

// Map runs a sub-machine for each item of an array: a forEach (generator
// emit.go), ItemProcessor over a task list; the older Iterator is read so
// the simulator can run definitions that use it.
type Map struct {
	Type           string         `json:"Type"`
	Comment        string         `json:"Comment,omitempty"`
	InputPath      *Path          `json:"InputPath,omitempty"`
	ItemsPath      *Path          `json:"ItemsPath,omitempty"`
	ItemSelector   map[string]any `json:"ItemSelector,omitempty"`
	Parameters     map[string]any `json:"Parameters,omitempty"`
	ItemProcessor  *StateMachine  `json:"ItemProcessor,omitempty"`
	Iterator       *StateMachine  `json:"Iterator,omitempty"`
	MaxConcurrency int            `json:"MaxConcurrency,omitempty"`
	ResultSelector map[string]any `json:"ResultSelector,omitempty"`
	ResultPath     *Path          `json:"ResultPath,omitempty"`
	OutputPath     *Path          `json:"OutputPath,omitempty"`
	Retry          []Retrier      `json:"Retry,omitempty"`
	Catch          []Catcher      `json:"Catch,omitempty"`
	Next           string         `json:"Next,omitempty"`
	End            bool           `json:"End,omitempty"`
}

// StateType implements State.
func (*Map) StateType() string { return "Map" }

// Targets implements State.
func (m *Map) Targets() []string { return append(flow(m.Next, m.End), catchTargets(m.Catch)...) }

// Terminal implements State.
func (m *Map) Terminal() bool { return m.End }

// Processor returns ItemProcessor, or the older Iterator.
func (m *Map) Processor() *StateMachine {
	if m.ItemProcessor != nil {
		return m.ItemProcessor
	}
	return m.Iterator
}
