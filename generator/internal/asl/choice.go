package asl

// Choice branches on its input.
type Choice struct {
	Type       string       `json:"Type"`
	Comment    string       `json:"Comment,omitempty"`
	InputPath  *Path        `json:"InputPath,omitempty"`
	OutputPath *Path        `json:"OutputPath,omitempty"`
	Choices    []ChoiceRule `json:"Choices"`
	Default    string       `json:"Default,omitempty"`
}

// ChoiceRule is a top-level rule (with Next) or a nested one (And/Or/Not).
// Exactly one comparison operator is set.
type ChoiceRule struct {
	Variable string `json:"Variable,omitempty"`

	StringEquals             *string  `json:"StringEquals,omitempty"`
	StringEqualsPath         string   `json:"StringEqualsPath,omitempty"`
	StringMatches            *string  `json:"StringMatches,omitempty"`
	StringLessThan           *string  `json:"StringLessThan,omitempty"`
	StringGreaterThan        *string  `json:"StringGreaterThan,omitempty"`
	NumericEquals            *float64 `json:"NumericEquals,omitempty"`
	NumericEqualsPath        string   `json:"NumericEqualsPath,omitempty"`
	NumericLessThan          *float64 `json:"NumericLessThan,omitempty"`
	NumericLessThanEquals    *float64 `json:"NumericLessThanEquals,omitempty"`
	NumericGreaterThan       *float64 `json:"NumericGreaterThan,omitempty"`
	NumericGreaterThanEquals *float64 `json:"NumericGreaterThanEquals,omitempty"`
	BooleanEquals            *bool    `json:"BooleanEquals,omitempty"`
	BooleanEqualsPath        string   `json:"BooleanEqualsPath,omitempty"`
	TimestampLessThan        *string  `json:"TimestampLessThan,omitempty"`
	TimestampGreaterThan     *string  `json:"TimestampGreaterThan,omitempty"`
	IsPresent                *bool    `json:"IsPresent,omitempty"`
	IsNull                   *bool    `json:"IsNull,omitempty"`
	IsString                 *bool    `json:"IsString,omitempty"`
	IsNumeric                *bool    `json:"IsNumeric,omitempty"`
	IsBoolean                *bool    `json:"IsBoolean,omitempty"`

	And []ChoiceRule `json:"And,omitempty"`
	Or  []ChoiceRule `json:"Or,omitempty"`
	Not *ChoiceRule  `json:"Not,omitempty"`

	Next string `json:"Next,omitempty"`
}

// StateType implements State.
func (*Choice) StateType() string { return "Choice" }

// Targets implements State.
func (c *Choice) Targets() []string {
	var out []string
	for _, r := range c.Choices {
		out = append(out, r.Next)
	}
	if c.Default != "" {
		out = append(out, c.Default)
	}
	return out
}

// Terminal implements State.
func (*Choice) Terminal() bool { return false }

// Str returns a pointer to s, for rule literals.
func Str(s string) *string { return &s }

// Bool returns a pointer to b, for rule literals.
func Bool(b bool) *bool { return &b }

// Int returns a pointer to i.
func Int(i int) *int { return &i }
