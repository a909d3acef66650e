package handler

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/hostcmd/hostcmdtest"
)

// tcpdumpStub writes a pcap magic and PCAP_BYTES of noise to the -w file and
// reports 3 packets; with PCAP_HANG it keeps running until killed.
const tcpdumpStub = `out=""; while [ $# -gt 0 ]; do case $1 in -w) out=$2; shift 2 ;; *) shift ;; esac; done
printf '\324\303\262\241' >"$out"
head -c "${PCAP_BYTES:-200}" /dev/urandom >>"$out"
echo "3 packets captured" >&2
[ -z "${PCAP_HANG:-}" ] || exec sleep 30`

func hostRun(t *testing.T, h *Handler, env ...string) (*hostcmdtest.Uploads, *hostcmd.Manifest, string) {
	t.Helper()
	box := hostcmdtest.New(t)
	up := hostcmdtest.NewUploads(t)
	full := strings.Repeat("d", 64)
	box.Stub(t, "docker", hostcmdtest.DockerStub(hostcmdtest.TaskArn, map[string]string{"worker": full, "log_router": strings.Repeat("e", 64)}, os.Getpid()))
	box.Stub(t, "nsenter", hostcmdtest.NsenterStub)
	box.Stub(t, "tcpdump", tcpdumpStub)
	box.Env = append(box.Env, env...)
	h.Presign.(*hostcmdtest.FakePresign).Base, h.Paths = up.Server.URL, box.Paths
	res, err := h.Handle(context.Background(), payload("start", false, `{"durationSeconds":5}`, nil))
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := box.Run(t, strings.Join(h.Runner.SSM.(*hostcmdtest.FakeSSM).Sent[0].Parameters["commands"], "\n"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	m, err := hostcmd.ParseManifest(stdout, res.Outputs["keys"].([]string))
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, stdout, stderr)
	}
	return up, m, stderr
}

func TestScriptCapturesEachNamespaceOnce(t *testing.T) {
	h, _, _, _ := newTest()
	up, m, _ := hostRun(t, h)
	// Both stub containers run as the same pid, so they share a namespace.
	if len(m.Files) != 1 || m.Files[0].Name != "traffic.worker.pcap" || len(m.Skipped) != 1 ||
		!strings.Contains(m.Skipped[0].Reason, "shares its network namespace") {
		t.Fatalf("files %+v, skipped %+v", m.Files, m.Skipped)
	}
	pcap, ok := up.Object("cases/case-5/pcap/traffic.worker.pcap")
	if !ok || !bytes.HasPrefix(pcap, []byte{0xd4, 0xc3, 0xb2, 0xa1}) || len(pcap) != 204 {
		t.Errorf("uploaded pcap %d bytes %x…", len(pcap), pcap[:min(4, len(pcap))])
	}
	if m.Info["packets.worker"] != "3" {
		t.Errorf("info %v", m.Info)
	}
}

func TestScriptStopsAtTheSizeCap(t *testing.T) {
	h, _, _, _ := newTest()
	h.MaxPcapBytes = 100
	_, m, _ := hostRun(t, h, "PCAP_BYTES=500", "PCAP_HANG=1")
	if !strings.HasPrefix(m.Info["truncated.worker"], "stopped at") || len(m.Files) != 1 {
		t.Errorf("info %v, files %+v; want the capture stopped and uploaded", m.Info, m.Files)
	}
}
