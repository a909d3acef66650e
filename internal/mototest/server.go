package mototest

import (
	"context"
	_ "embed"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/irflow/irflow/tasks/taskrt"
)

// Region is where every seeded world lives.
const Region = "us-east-1"

// endpoint is where tests send their AWS calls (the front, when MainWith
// put one before moto); direct is moto itself.
var endpoint, direct string

// Front puts a layer in front of the moto server at motoURL for the whole
// test binary (internal/stricttest: the AWS-strict layer), returning where
// it listens and how to stop it.
type Front func(motoURL string) (url string, stop func(), err error)

// MainWith is Main with every test's AWS calls going through front: Endpoint
// and Config are the front's, DirectEndpoint is moto's.
func MainWith(m *testing.M, front Front) {
	os.Exit(runWith(m, front))
}

// Main runs a test binary's tests with a moto server: the one named by
// IRFLOW_MOTO_ENDPOINT, or one it starts from .venv/bin/moto_server on
// 127.0.0.1 and stops afterwards. Without moto, tests that need it skip,
// unless IRFLOW_REQUIRE_MOTO=1 (make test sets it), where they fail.
func Main(m *testing.M) {
	os.Exit(runWith(m, nil))
}

func runWith(m *testing.M, front Front) int {
	serve := func(ep string) int {
		if err := PinTaskLifecycle(ep); err != nil {
			fmt.Fprintf(os.Stderr, "mototest: %v\n", err)
			return 1
		}
		direct, endpoint = ep, ep
		if front != nil {
			url, stop, err := front(ep)
			if err != nil {
				fmt.Fprintf(os.Stderr, "mototest: starting the layer in front of moto: %v\n", err)
				return 1
			}
			defer stop()
			endpoint = url
		}
		return m.Run()
	}
	if ep := os.Getenv("IRFLOW_MOTO_ENDPOINT"); ep != "" {
		return serve(ep)
	}
	stop, ep, err := Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "mototest: %v\n", err)
		if os.Getenv("IRFLOW_REQUIRE_MOTO") == "1" {
			return 1
		}
		return m.Run()
	}
	defer stop()
	return serve(ep)
}

// PinTaskLifecycle stops moto from moving an ECS task one status further on
// every DescribeTasks (RUNNING → DEACTIVATING → … → STOPPED after a few
// reads), so seeded tasks stay RUNNING until something stops them.
func PinTaskLifecycle(ep string) error {
	body := strings.NewReader(`{"model_name":"ecs::task","transition":{"progression":"manual","times":1000000000}}`)
	resp, err := http.Post(ep+"/moto-api/state-manager/set-transition", "application/json", body)
	if err != nil {
		return fmt.Errorf("pinning the ECS task lifecycle: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("pinning the ECS task lifecycle: HTTP %d", resp.StatusCode)
	}
	return nil
}

// Start launches moto_server on a free loopback port and returns a stop
// function and its endpoint. The server dies with this process.
func Start() (stop func(), endpoint string, err error) {
	s, err := StartServer(false)
	if err != nil {
		return nil, "", err
	}
	return s.Stop, s.Endpoint, nil
}

// Server is a moto server this process started.
type Server struct {
	Endpoint string
	PID      int
	// Stop kills the server and waits for it.
	Stop func()
}

// StartServer launches moto_server on a free loopback port. A detached
// server has a process group of its own and outlives this process (the
// bench's --keep); otherwise it dies with it.
func StartServer(detached bool) (*Server, error) {
	bin := os.Getenv("IRFLOW_MOTO_SERVER")
	if bin == "" {
		bin = filepath.Join(repoRoot(), ".venv", "bin", "moto_server")
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("no moto server at %s (run make py-deps)", bin)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	if py, launcher, ok := motoLauncher(bin); ok {
		cmd = exec.Command(py, launcher, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
		// Python has read the script once the server answers, or gave up.
		defer os.Remove(launcher)
	}
	if detached {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), PID: cmd.Process.Pid,
		Stop: func() { cmd.Process.Kill(); cmd.Wait() }}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			if detached {
				// Nobody waits for a kept server; release it.
				_ = cmd.Process.Release()
			}
			return s, nil
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.Stop()
	return nil, fmt.Errorf("moto server did not answer on %s", s.Endpoint)
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Endpoint returns the moto endpoint, skipping (or failing under
// IRFLOW_REQUIRE_MOTO=1) when there is none.
func Endpoint(t testing.TB) string {
	t.Helper()
	if endpoint == "" {
		if os.Getenv("IRFLOW_REQUIRE_MOTO") == "1" {
			t.Fatal("moto server required (IRFLOW_REQUIRE_MOTO=1) but not running: call mototest.Main from TestMain")
		}
		t.Skip("no moto server: run `make py-deps` (tests start .venv/bin/moto_server) or set IRFLOW_MOTO_ENDPOINT")
	}
	return endpoint
}

// DirectEndpoint is the moto server itself, past any front MainWith put
// before it (reads of moto's own state, a second layer of a test's own).
func DirectEndpoint(t testing.TB) string {
	t.Helper()
	Endpoint(t)
	return direct
}

// Config returns an aws.Config aimed at moto with fake credentials and
// irflow's retryer.
func Config(t testing.TB) aws.Config {
	ep := Endpoint(t)
	return ConfigFor(ep)
}

// ConfigFor returns an aws.Config aimed at an AWS-compatible endpoint.
func ConfigFor(ep string) aws.Config {
	cfg, err := taskrt.LoadAWSConfig(context.Background())
	if err != nil {
		cfg = aws.Config{}
	}
	cfg.Region = Region
	cfg.Credentials = credentials.NewStaticCredentialsProvider("testing", "testing", "")
	cfg.BaseEndpoint = aws.String(ep)
	return cfg
}

// Unique returns prefix plus a short suffix unique in this process, so tests
// sharing one moto server never collide.
func Unique(prefix string) string {
	n := seq.Add(1)
	return strings.ToLower(fmt.Sprintf("%s-%d-%d", prefix, os.Getpid()%100000, n))
}

// launcherSource is moto_server with speed-ups that change no answer
// (motoserver.py says which and why).
//
//go:embed motoserver.py
var launcherSource []byte

// motoLauncher returns the Python beside bin (a virtualenv's bin folder)
// and motoserver.py written to a temporary file, or ok false when bin has
// no Python beside it (then bin runs as it is).
func motoLauncher(bin string) (py, launcher string, ok bool) {
	py = filepath.Join(filepath.Dir(bin), "python")
	if _, err := os.Stat(py); err != nil {
		return "", "", false
	}
	f, err := os.CreateTemp("", "irflow-motoserver-*.py")
	if err != nil {
		return "", "", false
	}
	defer f.Close()
	if _, err := f.Write(launcherSource); err != nil {
		return "", "", false
	}
	return py, f.Name(), true
}
