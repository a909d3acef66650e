package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/irflow/irflow/generator/diag"
	"github.com/irflow/irflow/ops"
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
		if err := parseQuiet(fs, args); err != nil {
			if err == flag.ErrHelp {
				fs.Usage()
				return nil, true, nil
			}
			return nil, false, suggestFlag(fs, err)
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

// newOpsFlags is newFlags for an operator command: the AWS flags of
// ops.Options into o, and help (if any) after the usage.
func newOpsFlags(name, usageLine, help string, o *ops.Options, stderr io.Writer) *flag.FlagSet {
	fs := newFlags(name, usageLine, stderr)
	o.AddFlags(fs)
	if help != "" {
		withHelp(fs, stderr, help)
	}
	return fs
}

// withHelp prints help after fs's usage line and flags.
func withHelp(fs *flag.FlagSet, stderr io.Writer, help string) {
	usage := fs.Usage
	fs.Usage = func() {
		usage()
		fmt.Fprintf(stderr, "\n%s\n", help)
	}
}

// parseFormat is parseArgs, then the check that --format (format) is one
// of formats.
func parseFormat(fs *flag.FlagSet, args []string, format *string, formats ...string) ([]string, bool, error) {
	pos, help, err := parseArgs(fs, args)
	if err == nil && !help {
		err = choice("format", *format, formats...)
	}
	return pos, help, err
}

// parseOne is parseFormat for a command that takes exactly one positional
// argument, which what names; it returns that argument.
func parseOne(fs *flag.FlagSet, args []string, what string, format *string, formats ...string) (string, bool, error) {
	pos, help, err := parseFormat(fs, args, format, formats...)
	if err != nil || help {
		return "", help, err
	}
	if len(pos) != 1 {
		return "", false, fmt.Errorf("give exactly one %s", what)
	}
	return pos[0], false, nil
}

// usageError reports a command's usage error and its usage; the command
// exits with what it returns.
func usageError(fs *flag.FlagSet, stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "irflow %s: %v\n", fs.Name(), err)
	fs.Usage()
	return exitUsage
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

// suggestFlag adds "did you mean --format?" to the flag package's error
// for an undefined flag.
func suggestFlag(fs *flag.FlagSet, err error) error {
	const prefix = "flag provided but not defined: -"
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		return err
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if s := diag.Suggest(strings.TrimPrefix(msg, prefix), names); s != "" {
		return fmt.Errorf("%w (did you mean --%s?)", err, s)
	}
	return err
}

// parseQuiet parses without the flag package's own error line and usage:
// the command prints the error once (with a suggestion) and then its usage.
func parseQuiet(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	defer func() { fs.SetOutput(out); fs.Usage = usage }()
	return fs.Parse(args)
}
