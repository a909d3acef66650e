package scenario

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readRepo reads paths as the test files name them, from the repository.
func readRepo(name string) ([]byte, error) { return os.ReadFile(filepath.FromSlash(name)) }

// run runs a test file as if it were ../../workflows/<name>.
func run(t *testing.T, src string) (*Report, error) {
	t.Helper()
	return Run(context.Background(), []byte(src), "../../workflows/t.test.yaml", readRepo)
}

const head = `apiVersion: irflow/v1
kind: PlaybookTest
playbook: crypto-mining.yaml
cases:
`

func TestPassingCases(t *testing.T) {
	rep, err := run(t, head+`
  - name: fargate approved
    input: ../examples/inputs/guardduty-fargate-cryptominer.json
    expect:
      status: SUCCEEDED
      outcome: COMPLETED
      ran: [isolate-now, approve-containment, stop]
      notRan: [memory, protect]
      order: [isolate-now, tag, approve-containment, stop, notify]
  - name: fargate rejected
    input: ../examples/inputs/guardduty-fargate-cryptominer.json
    decisions: { approve-containment: reject }
    expect: { outcome: REJECTED, ran: [isolate-now], notRan: [approve-containment, stop] }
  - name: ec2 console input, a step fails
    input: { taskArn: "arn:aws:ecs:us-east-1:111122223333:task/batch/5a4b3c2d1e0f49a8b7c6d5e4f3a2b1c0", reason: drill, requestedBy: me }
    launchType: EC2
    failures: { isolate: PreconditionFailedError }
    expect: { status: FAILED, outcome: FAILED, ran: [memory, approve-containment], notRan: [isolate, stop] }
  - name: unanswered gate
    input: ../examples/inputs/guardduty-fargate-cryptominer.json
    decisions: { approve-containment: timeout }
    expect: { outcome: REJECTED, notRan: [approve-containment, stop] }
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Cases {
		if !c.Pass {
			t.Errorf("%s failed:\n%s", c.Name, strings.Join(c.Failures, "\n"))
		}
	}
	if !rep.Passed() || len(rep.Cases) != 4 {
		t.Errorf("report passed %v with %d cases; want 4 passing", rep.Passed(), len(rep.Cases))
	}
}

func TestFailingCases(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"wrong outcome", `{name: c, input: ../examples/inputs/guardduty-fargate-cryptominer.json, expect: {outcome: REJECTED}}`,
			[]string{"outcome: want REJECTED; got COMPLETED"}},
		{"a step that did not run", `{name: c, input: ../examples/inputs/guardduty-fargate-cryptominer.json, expect: {ran: [memory, stop]}}`,
			[]string{"ran: want memory to run; they did not", "want ran: [memory stop]", "got ran:  [isolate-now"}},
		{"a step that ran", `{name: c, input: ../examples/inputs/guardduty-fargate-cryptominer.json, expect: {notRan: [stop]}}`,
			[]string{"notRan: stop ran"}},
		{"order", `{name: c, input: ../examples/inputs/guardduty-fargate-cryptominer.json, expect: {order: [stop, isolate-now]}}`,
			[]string{"want order: [stop isolate-now]", "got order:  [isolate-now stop]"}},
		{"a misspelt step", `{name: c, input: ../examples/inputs/guardduty-fargate-cryptominer.json, expect: {ran: [isolte-now]}}`,
			[]string{`ran: "isolte-now" is not a step of playbook crypto-mining (did you mean "isolate-now"?)`}},
		{"a misspelt gate", `{name: c, input: ../examples/inputs/guardduty-fargate-cryptominer.json, decisions: {approve-containmnt: reject}}`,
			[]string{`did you mean "approve-containment"?`}},
		{"an approve of no gate", `{name: c, input: ../examples/inputs/guardduty-fargate-cryptominer.json, decisions: {stop: approve}}`,
			[]string{"decisions: stop is not an approval step"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := run(t, head+"  - "+tt.body+"\n")
			if err != nil {
				t.Fatal(err)
			}
			if rep.Passed() {
				t.Fatal("passed")
			}
			got := strings.Join(rep.Cases[0].Failures, "\n")
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("failures lack %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestFileErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"misspelt key", head + "  - {name: c, input: x.json, expct: {}}\n", `t.test.yaml:5:30: unknown key "expct" (keys: name, input, launchType, decisions, failures, expect) (did you mean "expect"?)`},
		{"wrong kind", strings.Replace(head, "PlaybookTest", "Playbook", 1) + "  - {name: c, input: x.json}\n", "must be PlaybookTest"},
		{"bad decision", head + "  - {name: c, input: x.json, decisions: {g: approv}}\n", `"approv" is not one of approve, reject, timeout (did you mean "approve"?)`},
		{"no input", head + "  - {name: c}\n", `case "c" has no input`},
		{"unreadable input", head + "  - {name: c, input: nope.json}\n", `case "c": input nope.json`},
		{"unreadable playbook", strings.Replace(head, "crypto-mining.yaml", "nope.yaml", 1) + "  - {name: c, input: x.json}\n", "playbook nope.yaml"},
		{"cases not a list", head, "4:7: expected a list"},
		{"no cases", head + "  []\n", "no cases"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run(t, tt.src)
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want a FileError saying %q", err, tt.want)
			}
		})
	}
}

// TestPlaybookErrorsFailEveryCase: a playbook that does not compile fails
// its test file (exit 1), with its diagnostics, not the run (exit 2).
func TestPlaybookErrorsFailEveryCase(t *testing.T) {
	read := func(name string) ([]byte, error) {
		if strings.HasSuffix(name, "broken.yaml") {
			return []byte("apiVersion: irflow/v1\nkind: Playbook\nmetadata: {name: b, title: B}\nsteps: [{id: x, action: nope}]\n"), nil
		}
		return readRepo(name)
	}
	rep, err := Run(context.Background(), []byte(strings.Replace(head, "crypto-mining", "broken", 1)+
		"  - {name: c, input: ../examples/inputs/guardduty-fargate-cryptominer.json}\n"), "../../workflows/t.test.yaml", read)
	if err != nil || rep.Passed() || !rep.Diagnostics.HasErrors() || rep.Cases[0].Pass {
		t.Errorf("err %v, passed %v, diagnostics %v", err, rep != nil && rep.Passed(), rep.Diagnostics)
	}
}
