package triage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/irflow/irflow/tasks/ecsexec"
	"github.com/irflow/irflow/tasks/ecsexec/fakeagent"
)

// TestThroughTheDataChannel runs the whole path an exec-triage action
// takes: the command string handed to ExecuteCommand, split and executed
// in a real pty by the fake agent, the output carried by the data channel
// client, then decoded and analyzed. The pty turns every "\n" into "\r\n";
// the report must be the same as from a plain pipe.
func TestThroughTheDataChannel(t *testing.T) {
	root := fakeTree(t)
	sum := sha256.Sum256(minerBytes)
	miner := hex.EncodeToString(sum[:])
	target := Target{PID: 42, ExecutablePath: "/tmp/.x/miner", SHA256: miner}
	nonce := NewNonce()
	cmd, err := command("/bin/sh", nonce, root, target, testLimits)
	if err != nil {
		t.Fatal(err)
	}
	agent := fakeagent.New(fakeagent.Options{Mode: fakeagent.SkipHandshake, Container: fakeagent.Exec("PATH=/usr/bin:/bin")})
	defer agent.Close()
	res, out, err := agent.Run(cmd, ecsexec.Limits{IdleTimeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !bytes.Contains(out, []byte("\r\n")) {
		t.Fatalf("no pty line ends in %d bytes of output: not a real pty?", len(out))
	}
	rep, arts, err := Analyze(out, nonce, target, Options{Root: root})
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	checkReport(t, rep, arts, miner, true)
	t.Logf("%d frames, %d bytes of output, %d artifacts", res.Frames, res.OutputBytes, len(arts))
}

// TestTruncatedRunKeepsWhatArrived cuts the same run at the output limit:
// the client reports it, and the analysis returns what arrived with an
// IncompleteError.
func TestTruncatedRunKeepsWhatArrived(t *testing.T) {
	root := fakeTree(t)
	nonce := NewNonce()
	cmd, _ := command("/bin/sh", nonce, root, Target{PID: 42}, testLimits)
	agent := fakeagent.New(fakeagent.Options{Mode: fakeagent.SkipHandshake, Container: fakeagent.Exec("PATH=/usr/bin:/bin")})
	defer agent.Close()
	s, _ := agent.NewSession(cmd)
	var out bytes.Buffer
	_, err := ecsexec.Run(context.Background(), s, nil, &out, ecsexec.Limits{MaxOutputBytes: 40000, IdleTimeout: 20 * time.Second})
	var ol *ecsexec.OutputLimitError
	if !errorsAs(err, &ol) {
		t.Fatalf("Run error %v; want OutputLimitError", err)
	}
	rep, arts, err := Analyze(out.Bytes(), nonce, Target{PID: 42}, Options{Root: root})
	var inc *IncompleteError
	if !errorsAs(err, &inc) || rep.Complete || len(arts) < 6 {
		t.Fatalf("Analyze: %v, complete %v, %d artifacts; want IncompleteError with partial artifacts", err, rep.Complete, len(arts))
	}
	if len(rep.Binaries) != 1 {
		t.Errorf("binaries %+v; the target's exe comes first and should have arrived", rep.Binaries)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
