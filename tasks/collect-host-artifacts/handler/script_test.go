package handler

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/hostcmd/hostcmdtest"
	"github.com/irflow/irflow/tasks/incident"
)

const ssStub = `echo 'tcp ESTAB 0 0 172.17.0.2:41234 203.0.113.7:4444 users:(("xmrig",pid=4242,fd=3))'`

// hostRun starts the action with fakes and runs its script in a sandbox
// where docker knows worker (by runtime id) and log_router (by labels) but
// not sidecar.
func hostRun(t *testing.T, with string, prepare func(box *hostcmdtest.Sandbox)) (*hostcmdtest.Uploads, []string, *hostcmd.Manifest, string) {
	t.Helper()
	box := hostcmdtest.New(t)
	up := hostcmdtest.NewUploads(t)
	logRouter := strings.Repeat("b", 64)
	box.Stub(t, "docker", hostcmdtest.DockerStub(hostcmdtest.TaskArn, map[string]string{"worker": fullID, "log_router": logRouter}, os.Getpid()))
	box.Stub(t, "nsenter", hostcmdtest.NsenterStub)
	box.Stub(t, "ss", ssStub)
	if prepare != nil {
		prepare(box)
	}
	h, f, ps := newTest()
	ps.Base, h.Paths = up.Server.URL, box.Paths
	p := payload("start", false, with, nil)
	p.Target.Containers = append(p.Target.Containers, incident.Container{Name: "sidecar"})
	res, err := h.Handle(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := box.Run(t, strings.Join(f.Sent[0].Parameters["commands"], "\n"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	keys := res.Outputs["keys"].([]string)
	m, err := hostcmd.ParseManifest(stdout, keys)
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, stdout, stderr)
	}
	return up, keys, m, stderr
}

func TestScriptCollectsEverything(t *testing.T) {
	up, _, m, _ := hostRun(t, "", nil)
	if len(m.Files) != 11 || len(m.Skipped) != 5 {
		t.Fatalf("%d files, %d skipped: %+v", len(m.Files), len(m.Skipped), m.Skipped)
	}
	for _, s := range m.Skipped {
		if !strings.HasSuffix(s.Name, ".sidecar.txt") && !strings.HasSuffix(s.Name, ".sidecar.json") && !strings.HasSuffix(s.Name, ".sidecar.log") {
			t.Errorf("skipped %s (%s); only sidecar's artifacts should be", s.Name, s.Reason)
		}
	}
	if m.Info["container.worker"] != fullID || m.Info["container.log_router"] != strings.Repeat("b", 64) {
		t.Errorf("containers found: %v", m.Info)
	}
	for key, want := range map[string]string{
		"cases/case-9/host/docker-diff.worker.txt":         "A /tmp/.cache/xmrig",
		"cases/case-9/host/docker-logs.worker.log":         "connecting to pool",
		"cases/case-9/host/process-list.log_router.txt":    "/tmp/.cache/xmrig",
		"cases/case-9/host/network-connections.worker.txt": "203.0.113.7:4444",
		"cases/case-9/host/docker-inspect.worker.json":     `"com.amazonaws.ecs.task-arn": "` + hostcmdtest.TaskArn,
	} {
		body, ok := up.Object(key)
		if !ok || !strings.Contains(string(body), want) {
			t.Errorf("%s = %q; want it to contain %q", key, body, want)
		}
	}
	tgz, _ := up.Object("cases/case-9/host/ecs-agent-logs.tar.gz")
	if names := tarNames(t, tgz); !strings.Contains(names, "ecs-agent.log") {
		t.Errorf("agent log archive holds %q", names)
	}
}

func TestScriptSkipsWhatIsMissing(t *testing.T) {
	_, _, m, _ := hostRun(t, `{"include":["ecs-agent-logs","docker-logs"]}`, func(box *hostcmdtest.Sandbox) {
		if err := os.RemoveAll(box.Paths.ECSLogs); err != nil {
			t.Fatal(err)
		}
	})
	if len(m.Files) != 2 || m.Files[0].Name != "docker-logs.worker.log" {
		t.Errorf("files %+v; want the two found containers' logs only", m.Files)
	}
	reasons := map[string]string{}
	for _, s := range m.Skipped {
		reasons[s.Name] = s.Reason
	}
	if !strings.Contains(reasons["ecs-agent-logs.tar.gz"], "var/log/ecs on this host") || !strings.Contains(reasons["docker-logs.sidecar.log"], "not on this host") {
		t.Errorf("skipped %v", reasons)
	}
}

func TestScriptRefusesAContainerOfAnotherTask(t *testing.T) {
	// The runtime id resolve-target gave points at a container whose
	// task-arn label is another task's: the script must not collect it.
	_, _, m, _ := hostRun(t, `{"include":["docker-inspect"]}`, func(box *hostcmdtest.Sandbox) {
		box.Stub(t, "docker", hostcmdtest.DockerStub(strings.Replace(hostcmdtest.TaskArn, "prod", "other", 1),
			map[string]string{"worker": fullID}, os.Getpid()))
	})
	if len(m.Files) != 0 || len(m.Skipped) != 3 {
		t.Errorf("files %+v, skipped %+v; want nothing collected", m.Files, m.Skipped)
	}
}

func tarNames(t *testing.T, tgz []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatalf("agent logs are not gzip: %v", err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	return strings.Join(names, ",")
}
