package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/hostcmd/hostcmdtest"
	"github.com/irflow/irflow/tasks/taskrt"
)

// avmlStub stands in for AVML: it notes that it ran and writes 2.5 MiB of
// random "memory" to the file named last on its command line.
const avmlStub = `#!/bin/sh
touch "$AVML_RAN"
out=""; for a in "$@"; do case $a in --compress) echo compressing >&2 ;; *) out=$a ;; esac; done
head -c 2621440 /dev/urandom >"$out"
`

// hostRun starts the action with fakes, then runs the script it sent in a
// sandbox whose uploads and tool download are served locally.
func hostRun(t *testing.T, with, pin string) (box *hostcmdtest.Sandbox, up *hostcmdtest.Uploads, res *contract.Result, stdout, stderr string, code int) {
	t.Helper()
	box = hostcmdtest.New(t)
	up = hostcmdtest.NewUploads(t)
	up.Serve("get/tools-bucket/tools/avml", []byte(avmlStub))
	box.Env = append(box.Env, "AVML_RAN="+filepath.Join(box.Dir, "avml-ran"))
	h, f, ps := newTest(taskrt.Env{AVMLURL: "s3://tools-bucket/tools/avml", AVMLSha256: pin})
	ps.Base = up.Server.URL
	h.Paths, h.PartBytes = box.Paths, 1<<20
	res, err := h.Handle(context.Background(), payload("start", false, with, nil))
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = box.Run(t, script(t, f))
	return box, up, res, stdout, stderr, code
}

func stubHash() string {
	s := sha256.Sum256([]byte(avmlStub))
	return hex.EncodeToString(s[:])
}

func TestScriptCapturesInParts(t *testing.T) {
	box, up, res, stdout, stderr, code := hostRun(t, "", stubHash())
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	keys := res.Outputs["keys"].([]string)
	m, err := hostcmd.ParseManifest(stdout, keys)
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(m.Files) != 3 || m.Info["parts"] != "3" || m.Info["image-bytes"] != "2621440" || m.Info["avml-sha256"] != stubHash() {
		t.Fatalf("manifest %+v", m)
	}
	whole := sha256.New()
	for i, f := range m.Files {
		body, ok := up.Object(keys[i])
		if !ok {
			t.Fatalf("part %s not uploaded", keys[i])
		}
		sum := sha256.Sum256(body)
		if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(body)) != f.Bytes {
			t.Errorf("%s: manifest says %s/%d, uploaded %x/%d", f.Name, f.SHA256, f.Bytes, sum, len(body))
		}
		whole.Write(body)
	}
	if got := hex.EncodeToString(whole.Sum(nil)); got != m.Info["image-sha256"] {
		t.Errorf("concatenated parts hash %s; image hash %s", got, m.Info["image-sha256"])
	}
	if left := strings.Join(box.Leftovers(t), ","); left != "case-7.memory.lock,case-7.memory.manifest" {
		t.Errorf("left on the host: %s; want no image, no tool", left)
	}
	again, _, code := box.Run(t, mustRead(t, box))
	if code != 0 || again != stdout || up.Puts() != 3 {
		t.Errorf("second run: exit %d, %d uploads, same manifest %v; want a replay", code, up.Puts(), again == stdout)
	}
}

func TestScriptRefusesUnpinnedTool(t *testing.T) {
	box, up, _, stdout, stderr, code := hostRun(t, "", strings.Repeat("0", 64))
	if code == 0 || !strings.Contains(stderr, "AVML hash mismatch") {
		t.Fatalf("exit %d, stderr %q; want a refusal", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(box.Dir, "avml-ran")); err == nil {
		t.Error("the unpinned tool ran")
	}
	if up.Puts() != 0 || strings.Contains(stdout, "IRFLOW-DONE") {
		t.Errorf("%d uploads, stdout %q; want nothing", up.Puts(), stdout)
	}
}

func TestScriptRefusesImageLargerThanItsParts(t *testing.T) {
	// 256 MiB of sandbox memory, uncompressed, does not fit 16 parts of 1 MiB.
	box, up, _, _, stderr, code := hostRun(t, `{"compress": false}`, stubHash())
	if code == 0 || !strings.Contains(stderr, "exceeds the 16 presigned parts") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(box.Dir, "avml-ran")); err == nil || up.Puts() != 0 {
		t.Error("captured or uploaded although the image could not be uploaded")
	}
}

func mustRead(t *testing.T, box *hostcmdtest.Sandbox) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(box.Dir, "_script.sh"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
