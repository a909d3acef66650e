package hostcmd_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/hostcmd/hostcmdtest"
)

const (
	keyA = "cases/case-7/host/a.txt"
	keyB = "cases/case-7/host/b.bin"
)

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// reported is the manifest of a host that uploaded a and b honestly.
func reported(a, b []byte) *hostcmd.Manifest {
	return &hostcmd.Manifest{Files: []hostcmd.File{{Name: "a.txt", SHA256: hexSHA(a), Bytes: int64(len(a))},
		{Name: "b.bin", SHA256: hexSHA(b), Bytes: int64(len(b))}}}
}

// TestBind: honest uploads are bound to their version; uploads other than
// what the host reported are refused, whatever the host claims.
func TestBind(t *testing.T) {
	a, b := []byte("docker inspect output\n"), []byte(strings.Repeat("pcap", 1000))
	tests := []struct {
		name    string
		stored  func(o *hostcmdtest.FakeObjects)
		mismach string // "" binds
	}{
		{name: "honest", stored: func(o *hostcmdtest.FakeObjects) { o.Put(keyA, a); o.Put(keyB, b) }},
		{name: "other bytes of the same size than the host reports", stored: func(o *hostcmdtest.FakeObjects) {
			o.Put(keyA, a)
			o.Put(keyB, []byte(strings.Repeat("PCAP", 1000)))
		}, mismach: "its SHA-256"},
		{name: "another size", stored: func(o *hostcmdtest.FakeObjects) { o.Put(keyA, a); o.Put(keyB, b[:10]) }, mismach: "bytes, the host reported"},
		{name: "re-PUT after the honest upload: the newest version is checked", stored: func(o *hostcmdtest.FakeObjects) {
			o.Put(keyA, a)
			o.Put(keyB, b)
			o.Put(keyA, []byte("DOCKER INSPECT OUTPUT\n"))
		}, mismach: "its SHA-256 (version v2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := &hostcmdtest.FakeObjects{}
			tt.stored(objs)
			r := &hostcmd.Runner{Objects: objs}
			ev, _, err := r.Bind(context.Background(), "evidence", reported(a, b), []string{keyA, keyB}, nil)
			var me *hostcmd.MismatchError
			switch {
			case tt.mismach == "" && err != nil:
				t.Fatal(err)
			case tt.mismach == "":
				if len(ev) != 2 || ev[0].VersionID != "v1" || ev[1].SHA256 != hexSHA(b) || ev[1].URI != "s3://evidence/"+keyB {
					t.Errorf("evidence %+v", ev)
				}
			case !errors.As(err, &me) || !strings.Contains(err.Error(), tt.mismach) || contract.ErrorName(contract.Classified(err)) != contract.ErrPreconditionFailed:
				t.Errorf("err %v; want a mismatch saying %q", err, tt.mismach)
			}
		})
	}
}

// TestBindResumes: hashing large objects spreads over check calls; the
// SHA-256 state goes through the result's JSON, as the poll loop carries
// it, and the version stays pinned though the key is written again.
func TestBindResumes(t *testing.T) {
	a, b := []byte(strings.Repeat("memory", 500)), []byte(strings.Repeat("image", 700))
	objs := &hostcmdtest.FakeObjects{}
	objs.Put(keyA, a)
	objs.Put(keyB, b)
	r := &hostcmd.Runner{Objects: objs, MaxHashBytes: 1000}
	m := reported(a, b)
	var prior []hostcmd.Binding
	calls := 0
	for {
		calls++
		ev, binds, err := r.Bind(context.Background(), "evidence", m, []string{keyA, keyB}, prior)
		if err != nil {
			t.Fatal(err)
		}
		if ev != nil {
			if len(ev) != 2 || ev[0].SHA256 != hexSHA(a) || ev[1].VersionID != "v1" {
				t.Errorf("evidence %+v", ev)
			}
			break
		}
		if calls == 1 {
			objs.Put(keyB, []byte("a later PUT to the same key"))
		}
		raw, _ := json.Marshal(map[string]any{"verify": binds})
		var back contract.Result
		_ = json.Unmarshal([]byte(`{"status":"OK","summary":"","evidence":[],"outputs":`+string(raw)+`}`), &back)
		prior = hostcmd.BindingsFrom(&back)
		if calls > 20 {
			t.Fatal("never finished")
		}
	}
	if want := (len(a)+len(b)+999)/1000 + 1; calls < want-1 || calls > want {
		t.Errorf("%d calls for %d bytes at 1000 a call", calls, len(a)+len(b))
	}
	// Each call goes on where the last stopped, on the version read first.
	want := []string{keyA + " v1 bytes=0-", keyA + " v1 bytes=1000-", keyA + " v1 bytes=2000-", keyB + " v1 bytes=0-"}
	if got := strings.Join(objs.Ranges[:4], ","); got != strings.Join(want, ",") {
		t.Errorf("reads %v; want them to start %v", objs.Ranges, want)
	}
}

// TestBindRefusesWhatWasNotPresigned: a manifest naming a file the start
// did not presign is refused before anything is read.
func TestBindRefusesWhatWasNotPresigned(t *testing.T) {
	r := &hostcmd.Runner{Objects: &hostcmdtest.FakeObjects{}}
	m := &hostcmd.Manifest{Files: []hostcmd.File{{Name: "etc-shadow", SHA256: hexSHA(nil), Bytes: 0}}}
	if _, _, err := r.Bind(context.Background(), "evidence", m, []string{keyA}, nil); err == nil {
		t.Error("bound a file nobody presigned")
	}
}
