package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator/simulate"
)

const simPlaybook = `apiVersion: irflow/v1
kind: Playbook
metadata:
  name: sim-test
  title: Simulate test
  severity: HIGH
triggers:
  manual: true
steps:
  - id: tag
    action: tag-resources
  - id: memory
    action: capture-memory
    onError: continue
  - id: approve
    approval: { prompt: "Stop the task?", timeout: 30m, onTimeout: reject }
  - id: stop
    action: stop-task
`

const consoleInput = `{"taskArn": "arn:aws:ecs:us-east-1:111122223333:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0",
 "reason": "test", "requestedBy": "alice@example.com"}`

func simFiles(t *testing.T) (playbook, console, dir string) {
	t.Helper()
	dir = t.TempDir()
	playbook = filepath.Join(dir, "sim-test.yaml")
	console = filepath.Join(dir, "console.json")
	for path, body := range map[string]string{
		playbook:                          simPlaybook,
		console:                           consoleInput,
		filepath.Join(dir, "empty.json"):  "{}",
		filepath.Join(dir, "array.json"):  "[]",
		filepath.Join(dir, "yaml.json"):   "taskArn: x\n",
		filepath.Join(dir, "blank.json"):  "",
		filepath.Join(dir, "broken.yaml"): "apiVersion: irflow/v1\nkind: Playbook\nsteps: [{id: x, action: nope}]\n",
	} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return playbook, console, dir
}

func TestSimulateExitCodes(t *testing.T) {
	pb, console, dir := simFiles(t)
	in := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"completed", []string{pb, "--input", console}, exitOK, "SUCCEEDED  outcome COMPLETED  launch type FARGATE", "assuming FARGATE"},
		{"ec2", []string{pb, "--input", console, "--launch-type", "EC2"}, exitOK, "EC2: memory check", ""},
		{"rejected", []string{"--reject", "approve", pb, "--input", console}, exitOK, "outcome REJECTED", ""},
		{"timed out", []string{pb, "--input", console, "--timeout", "approve"}, exitOK, "simulated time 30m", ""},
		{"failed step", []string{pb, "--input", console, "--fail", "stop"}, exitFailed, "outcome FAILED", ""},
		{"caught step", []string{pb, "--input", console, "--launch-type", "EC2", "--fail", "memory=Lambda.ServiceException"}, exitOK, "5 attempts", ""},
		{"empty object", []string{pb, "--input", in("empty.json")}, exitFailed, "outcome INVALID_INPUT", ""},
		{"array", []string{pb, "--input", in("array.json")}, exitFailed, "outcome INVALID_INPUT", ""},
		{"not json", []string{pb, "--input", in("yaml.json")}, exitUsage, "", "is not JSON"},
		{"blank", []string{pb, "--input", in("blank.json")}, exitUsage, "", "is not JSON"},
		{"missing input file", []string{pb, "--input", in("nope.json")}, exitUsage, "", "cannot read"},
		{"no input flag", []string{pb}, exitUsage, "", "--input FILE is required"},
		{"two playbooks", []string{pb, pb, "--input", console}, exitUsage, "", "exactly one playbook"},
		{"unknown gate", []string{pb, "--input", console, "--reject", "aprove"}, exitUsage, "", `did you mean "approve"?`},
		{"gate that is a step", []string{pb, "--input", console, "--timeout", "stop"}, exitUsage, "", "not an approval step"},
		{"unknown step", []string{pb, "--input", console, "--fail", "stpo"}, exitUsage, "", `did you mean "stop"?`},
		{"bad fail spec", []string{pb, "--input", console, "--fail", "stop="}, exitUsage, "", "error name"},
		{"bad launch type", []string{pb, "--input", console, "--launch-type", "EXTERNAL"}, exitUsage, "", "--launch-type must be one of"},
		{"bad format", []string{pb, "--input", console, "--format", "yaml"}, exitUsage, "", "--format must be one of"},
		{"aws endpoint", []string{pb, "--input", console, "--aws-endpoint", "http://127.0.0.1:5000"}, exitUsage, "", "the real handlers need irflow's stores: set IRFLOW_EVIDENCE_BUCKET"},
		{"playbook errors", []string{in("broken.yaml"), "--input", console}, exitPlaybook, "", "unknown-action"},
		{"help", []string{"--help"}, exitOK, "", "assumes FARGATE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"simulate"}, tt.args...), &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d; want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, stderr.String())
			}
		})
	}
}

func TestSimulateJSON(t *testing.T) {
	pb, console, _ := simFiles(t)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"simulate", pb, "--input", console, "--format", "json", "--reject", "approve"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	var got struct {
		Playbook, Status, Outcome, LaunchType string
		Requester                             struct {
			ID       string
			Verified bool
		}
		Transitions int
		Steps       []struct {
			Step, Action, State, Result string
			RequiredApprovals           int
		}
	}
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, s := range got.Steps {
		steps = append(steps, s.Step+"|"+s.Action+"|"+s.State+"|"+s.Result)
	}
	want := []string{"|resolve-target|Resolve target|OK", "tag|tag-resources|FARGATE: tag|OK",
		"approve|request-approval|FARGATE: approve|REJECTED", "|finalize-case|Finalize case|OK"}
	if got.Requester.ID != "alice@example.com" || got.Requester.Verified || got.Steps[2].RequiredApprovals != 2 {
		t.Errorf("requester %+v, gate %+v; want alice, unverified, and a gate needing 2", got.Requester, got.Steps[2])
	}
	if got.Playbook != "sim-test" || got.Status != "SUCCEEDED" || got.Outcome != "REJECTED" || got.LaunchType != "FARGATE" ||
		strings.Join(steps, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %+v\nsteps:\n%s\nwant:\n%s", got, strings.Join(steps, "\n"), strings.Join(want, "\n"))
	}
}

func TestSimulateJSONKeyOrder(t *testing.T) {
	pb, console, _ := simFiles(t)
	var stdout, stderr bytes.Buffer
	run([]string{"simulate", pb, "--input", console, "--format", "json"}, &stdout, &stderr)
	out := stdout.String()
	last := -1
	for _, k := range []string{`"playbook"`, `"status"`, `"outcome"`, `"launchType"`, `"transitions"`, `"steps"`} {
		i := strings.Index(out, k)
		if i < last {
			t.Errorf("key %s out of the documented order in\n%s", k, out)
		}
		last = i
	}
}

func TestSimulateRealHandlersHook(t *testing.T) {
	pb, console, _ := simFiles(t)
	defer func(old func(context.Context, string) (simulate.Handlers, error)) { realHandlers = old }(realHandlers)
	var endpoint string
	realHandlers = func(_ context.Context, url string) (simulate.Handlers, error) {
		endpoint = url
		return simulate.MockHandlers(simulate.MockOptions{LaunchType: "EC2"}), nil
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"simulate", pb, "--input", console, "--aws-endpoint", "http://127.0.0.1:5000"}, &stdout, &stderr)
	if code != exitOK || endpoint != "http://127.0.0.1:5000" || !strings.Contains(stdout.String(), "launch type EC2") {
		t.Errorf("exit %d, endpoint %q\n%s%s", code, endpoint, stdout.String(), stderr.String())
	}
}
