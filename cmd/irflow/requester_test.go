package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// simulatedRun is irflow simulate --format json, as far as these tests read it.
type simulatedRun struct {
	Status, Outcome string
	Requester       *struct {
		ID       string `json:"id"`
		Verified bool   `json:"verified"`
	} `json:"requester"`
	Steps []struct {
		Step, Action, Result string
		RequiredApprovals    int `json:"requiredApprovals"`
	} `json:"steps"`
}

func simulateJSON(t *testing.T, args ...string) (int, simulatedRun) {
	t.Helper()
	code, out, errOut := runCLI(append([]string{"simulate", "--format", "json"}, args...)...)
	var run simulatedRun
	if err := json.Unmarshal([]byte(out), &run); err != nil {
		t.Fatalf("exit %d, not JSON: %v\n%s%s", code, err, out, errOut)
	}
	return code, run
}

// gates returns the approval steps' records and checks each carries its
// required approvals.
func gates(t *testing.T, run simulatedRun) []int {
	t.Helper()
	var out []int
	for _, s := range run.Steps {
		if s.Action == "request-approval" {
			out = append(out, s.RequiredApprovals)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no approval step ran: %+v", run.Steps)
	}
	return out
}

// TestSimulateConsoleRequesterIsAClaim: a console input that types another
// person's requestedBy gets an unverified requester, and every gate then
// needs two distinct approvers.
func TestSimulateConsoleRequesterIsAClaim(t *testing.T) {
	input := filepath.Join(t.TempDir(), "console.json")
	if err := os.WriteFile(input, []byte(`{"taskArn": "arn:aws:ecs:us-east-1:111122223333:task/payments/0f8e7d6c5b4a39281706f5e4d3c2b1a0",
 "reason": "test", "requestedBy": "arn:aws:sts::111122223333:assumed-role/IncidentCommander/bob"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, pb := range []string{"crypto-mining", "suspicious-activity", "container-escape"} {
		t.Run(pb, func(t *testing.T) {
			code, run := simulateJSON(t, "../../workflows/"+pb+".yaml", "--input", input)
			if code != exitOK || run.Outcome != "COMPLETED" {
				t.Fatalf("exit %d, outcome %s", code, run.Outcome)
			}
			if run.Requester == nil || run.Requester.Verified || run.Requester.ID != "arn:aws:sts::111122223333:assumed-role/IncidentCommander/bob" {
				t.Errorf("requester %+v; want bob, not verified", run.Requester)
			}
			for _, n := range gates(t, run) {
				if n < 2 {
					t.Errorf("a gate needs %d approval(s); want at least 2 for an unverified requester", n)
				}
			}
		})
	}
}

// TestSimulateGuardDutyRequesterIsVerified: the sample findings are
// confirmed by the simulated GuardDuty: the requester is verified and a
// gate needs one approver; a finding GuardDuty does not know ends
// INVALID_INPUT naming detail.id.
func TestSimulateGuardDutyRequesterIsVerified(t *testing.T) {
	for _, in := range []string{"guardduty-fargate-cryptominer.json", "guardduty-ec2-reverse-shell.json"} {
		t.Run(in, func(t *testing.T) {
			pb := "../../workflows/crypto-mining.yaml"
			if strings.Contains(in, "reverse-shell") {
				pb = "../../workflows/reverse-shell-c2.yaml"
			}
			code, run := simulateJSON(t, pb, "--input", "../../examples/inputs/"+in)
			if code != exitOK || run.Requester == nil || !run.Requester.Verified || run.Requester.ID != "aws.guardduty" {
				t.Fatalf("exit %d, requester %+v", code, run.Requester)
			}
			for _, n := range gates(t, run) {
				if n != 1 {
					t.Errorf("a gate needs %d approvals; want 1 for a confirmed finding", n)
				}
			}
			code, run = simulateJSON(t, pb, "--input", "../../examples/inputs/"+in, "--unconfirmed-finding")
			if code != exitFailed || run.Outcome != "INVALID_INPUT" || run.Requester != nil {
				t.Errorf("unconfirmed finding: exit %d, outcome %s, requester %+v", code, run.Outcome, run.Requester)
			}
		})
	}
	_, out, errOut := runCLI("simulate", "../../workflows/crypto-mining.yaml", "--input", "../../examples/inputs/guardduty-fargate-cryptominer.json",
		"--unconfirmed-finding")
	if !strings.Contains(out+errOut, "detail.id") || !strings.Contains(out+errOut, "does not confirm") {
		t.Errorf("the text output does not name detail.id:\n%s%s", out, errOut)
	}
}
