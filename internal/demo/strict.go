package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/irflow/irflow/internal/flowmodel"
	"github.com/irflow/irflow/internal/strict"
	"github.com/irflow/irflow/internal/worlds"
)

// startStrict puts the strict layer in front of moto: in process for a
// run that ends with moto, or as a detached `irflow-demo strict-serve`
// process that outlives the run with --keep (its state — findings, held
// stops, recorded calls, the fake container ECS Exec sessions run in —
// lives in that process). Either way ECS Exec is served by the bench's
// execBackend from the start. IRFLOW_AWS_STRICT=0 leaves the handlers
// talking to moto directly (debugging only; ExecuteCommand is then moto's
// 500).
func (e *awsEnv) startStrict(ctx context.Context, o *Options, res *Result) error {
	if !strict.Enabled() {
		return nil
	}
	res.Strict = true
	e.latency = o.Latency
	if !o.Keep {
		sessions, err := newExecBackend()
		if err != nil {
			return err
		}
		_, url, stop, err := strict.StartWith(strict.Config{Backend: e.motoURL, Exec: sessions, Latency: o.Latency})
		if err != nil {
			sessions.Close()
			return fmt.Errorf("starting the strict layer: %w", err)
		}
		e.endpoint, e.layer = url, &strictClient{strict.NewClient(url)}
		e.stops = append(e.stops, sessions.Close, stop)
		return nil
	}
	url, pid, err := serveDetached(ctx, e.motoURL, o.Latency)
	if err != nil {
		return err
	}
	e.endpoint, e.layer, e.strictPID = url, &strictClient{strict.NewClient(url)}, pid
	e.stops = append(e.stops, func() { _ = syscall.Kill(pid, syscall.SIGTERM) })
	return nil
}

// serveDetached starts `irflow-demo strict-serve` in a process group of its
// own and reads the URL it serves on from its first line of output.
func serveDetached(ctx context.Context, backend string, latency time.Duration) (string, int, error) {
	self, err := os.Executable()
	if err != nil {
		return "", 0, err
	}
	cmd := exec.Command(self, "strict-serve", "--backend", backend, "--latency", latency.String())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, err
	}
	if err := cmd.Start(); err != nil {
		return "", 0, fmt.Errorf("starting the strict layer: %w", err)
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case url := <-line:
		if !strings.HasPrefix(url, "http://127.0.0.1:") {
			_ = cmd.Process.Kill()
			return "", 0, fmt.Errorf("the strict layer did not start: %q", url)
		}
		pid := cmd.Process.Pid
		_ = cmd.Process.Release()
		return url, pid, nil
	case <-time.After(10 * time.Second):
	case <-ctx.Done():
	}
	_ = cmd.Process.Kill()
	return "", 0, fmt.Errorf("the strict layer did not start within 10s")
}

// ServeStrict is `irflow-demo strict-serve --backend URL [--latency D]`:
// the strict layer in front of moto until SIGTERM or SIGINT; its URL is the
// first line it prints.
func ServeStrict(ctx context.Context, backend string, latency time.Duration) error {
	sessions, err := newExecBackend()
	if err != nil {
		return err
	}
	defer sessions.Close()
	_, url, stop, err := strict.StartWith(strict.Config{Backend: backend, Exec: sessions, Latency: latency})
	if err != nil {
		return err
	}
	defer stop()
	fmt.Println(url)
	<-ctx.Done()
	return nil
}

// strictClient is the bench's view of the layer's control API.
type strictClient struct{ c *strict.Client }

func (s *strictClient) Register(ctx context.Context, w *worlds.World) error {
	reg := strict.World{Region: w.Region}
	// Whose world it is: the member account's for an organization world.
	if w.Cfg.Credentials != nil {
		cr, err := w.Cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return err
		}
		reg.AccessKey = cr.AccessKeyID
	}
	for _, a := range w.Agents {
		reg.Agents = append(reg.Agents, strict.AgentFlows{InstanceID: a.InstanceID, Established: []flowmodel.Flow{a.Flow}})
	}
	if w.ExecEnabled {
		reg.ExecEnabledTasks = []string{w.Target.Arn}
	}
	return s.c.RegisterWorld(ctx, reg)
}

func (s *strictClient) Administer(ctx context.Context, account, region, detector, member string) error {
	return s.c.PutAdministrator(ctx, strict.Administrator{Account: account, Region: region, Detector: detector, Members: []string{member}})
}

func (s *strictClient) AddFinding(ctx context.Context, account, region string, finding []byte) error {
	return s.c.PutFindings(ctx, json.RawMessage(finding))
}

func (s *strictClient) Calls(ctx context.Context) ([]flowmodel.Call, error) {
	rcs, err := s.c.EC2Calls(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]flowmodel.Call, len(rcs))
	for i, rc := range rcs {
		out[i] = rc.Call()
	}
	return out, nil
}

func (s *strictClient) Refusals(ctx context.Context) ([]Refusal, error) { return s.c.Refusals(ctx) }

func (s *strictClient) Requests(ctx context.Context, since int64) (strict.RequestLog, error) {
	return s.c.Requests(ctx, since)
}
