package demo

import "context"

// startStrict puts the strict layer in front of moto. (Wired to
// internal/strict when it lands; until then the bench talks to moto.)
func (e *awsEnv) startStrict(ctx context.Context, o *Options, res *Result) error {
	return nil
}
