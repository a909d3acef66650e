package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlags returns a FlagSet that reports errors instead of exiting.
func newFlags(name, usageLine string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: irflow %s %s\n", name, usageLine)
		if hasFlags(fs) {
			fmt.Fprintln(stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseArgs parses flags that may come before, between or after positional
// arguments (irflow compile a.yaml b.yaml --out dir). "--" ends flags.
// It returns the positionals, whether help was asked for, and an error.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, bool, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, true, nil
			}
			return nil, false, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, false, nil
		}
		// fs.Parse stops at the first positional or after "--".
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), false, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// choice validates a flag value against fixed options.
func choice(flagName, v string, opts ...string) error {
	for _, o := range opts {
		if v == o {
			return nil
		}
	}
	return fmt.Errorf("--%s must be one of %s, not %q", flagName, strings.Join(opts, ", "), v)
}
