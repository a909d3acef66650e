package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/irflow/irflow/internal/syncbuf"
)

// LambdaReport is what `report lambda` measures.
type LambdaReport struct {
	RIE     string         `json:"rie"`
	Payload string         `json:"payload"`
	Cold    int            `json:"cold"`
	Warm    int            `json:"warm"`
	Arch    string         `json:"arch"` // of the timed builds
	Actions []LambdaAction `json:"actions"`
}

// LambdaAction is one function's figures.
type LambdaAction struct {
	Name string `json:"name"`
	// Baseline marks the do-nothing Lambda (bench/cmd/nulllambda).
	Baseline bool `json:"baseline,omitempty"`
	// SizeBytes is the linux/arm64 bootstrap that is deployed.
	SizeBytes int64 `json:"sizeBytes"`
	// FirstNs: from the first invocation request (which makes the emulator
	// start the bootstrap process) to its response, per cold start.
	FirstNs []float64 `json:"firstNs"`
	// ProcessNs: from starting the emulator process to that response.
	ProcessNs []float64 `json:"processNs"`
	// InitNs: the emulator's INIT REPORT, bootstrap exec to the runtime's
	// first /next.
	InitNs []float64 `json:"initNs"`
	// WarmNs: each later invocation, request to response.
	WarmNs   []float64 `json:"warmNs"`
	Response string    `json:"response"`
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// lambdaEnv is the whole environment of the emulator and the bootstrap:
// fake credentials and an endpoint nobody listens on, so no invocation can
// reach AWS, and nothing of the caller's environment.
func lambdaEnv() []string {
	return []string{
		"PATH=/usr/bin:/bin",
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=AKIABENCHMARKONLY000",
		"AWS_SECRET_ACCESS_KEY=benchmark-only",
		"AWS_ENDPOINT_URL=http://127.0.0.1:9",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"IRFLOW_EVIDENCE_BUCKET=bench-evidence",
		"IRFLOW_AUDIT_TABLE=bench-audit",
		"IRFLOW_APPROVALS_TABLE=bench-approvals",
		"IRFLOW_INCIDENTS_TABLE=bench-incidents",
		"IRFLOW_TOPIC_ARN=arn:aws:sns:us-east-1:123456789012:bench",
		"IRFLOW_KMS_KEY_ARN=arn:aws:kms:us-east-1:123456789012:key/bench",
	}
}

// benchPayload makes every task handler return at once: the payload fails
// schema validation (InvalidInputError) before any AWS call.
const benchPayload = `{}`

func runLambda(rie, arm64Dir, timedDir, baseline string, cold, warm int) (*LambdaReport, error) {
	rie, err := filepath.Abs(rie) // the emulator runs in each function's directory
	if err != nil {
		return nil, err
	}
	rep := &LambdaReport{RIE: filepath.Base(rie), Payload: benchPayload, Cold: cold, Warm: warm, Arch: "linux/amd64"}
	names, err := bootstrapDirs(timedDir)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, name := range names {
		st, err := os.Stat(filepath.Join(arm64Dir, name, "bootstrap"))
		if err != nil {
			return nil, fmt.Errorf("arm64 build: %v", err)
		}
		rep.Actions = append(rep.Actions, LambdaAction{Name: name, SizeBytes: st.Size()})
		dirs = append(dirs, filepath.Join(timedDir, name))
	}
	if baseline != "" {
		st, err := os.Stat(filepath.Join(baseline, "bootstrap"))
		if err != nil {
			return nil, err
		}
		rep.Actions = append(rep.Actions, LambdaAction{Name: "(baseline: empty Go handler)", Baseline: true, SizeBytes: st.Size()})
		dirs = append(dirs, baseline)
	}
	// Rounds: every function once per round, so a burst of load from other
	// work on the machine spreads over all functions instead of hitting
	// every cold start of one. The first round also times warm invokes.
	for round := 0; round < cold; round++ {
		for i := range rep.Actions {
			w := 0
			if round == 0 {
				w = warm
			}
			if err := coldStart(rie, dirs[i], w, &rep.Actions[i]); err != nil {
				return nil, fmt.Errorf("%s: %v", rep.Actions[i].Name, err)
			}
		}
	}
	return rep, nil
}

func bootstrapDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "bootstrap")); e.IsDir() && err == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("no */bootstrap in %s", dir)
	}
	return names, nil
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func coldStart(rie, dir string, warm int, a *LambdaAction) (err error) {
	p1, err := freePort()
	if err != nil {
		return err
	}
	p2, err := freePort()
	if err != nil {
		return err
	}
	if p1 == p2 {
		return fmt.Errorf("the kernel gave one port twice")
	}
	api := "127.0.0.1:" + strconv.Itoa(p1)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", api,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(p2), "./bootstrap")
	cmd.Dir = dir
	cmd.Env = lambdaEnv()
	var logs syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	// A process group of its own, so the emulator and the bootstrap it
	// starts are stopped together, by this group's id.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if err != nil {
			err = fmt.Errorf("%v\nemulator output:\n%s", err, tail(logs.String(), 2000))
		}
	}()
	for {
		c, derr := net.DialTimeout("tcp", api, 100*time.Millisecond)
		if derr == nil {
			c.Close()
			break
		}
		if time.Since(start) > 10*time.Second {
			return fmt.Errorf("the emulator did not listen on %s within 10s", api)
		}
		time.Sleep(500 * time.Microsecond)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	url := "http://" + api + "/2015-03-31/functions/function/invocations"
	sent := time.Now()
	body, err := invoke(client, url)
	if err != nil {
		return err
	}
	done := time.Now()
	a.FirstNs = append(a.FirstNs, float64(done.Sub(sent).Nanoseconds()))
	a.ProcessNs = append(a.ProcessNs, float64(done.Sub(start).Nanoseconds()))
	if a.Response == "" {
		a.Response = body
	}
	for i := 0; i < warm; i++ {
		t := time.Now()
		if _, err := invoke(client, url); err != nil {
			return err
		}
		a.WarmNs = append(a.WarmNs, float64(time.Since(t).Nanoseconds()))
	}
	// The emulator logs INIT REPORT before it answers the first invoke.
	deadline := time.Now().Add(time.Second)
	for {
		if m := initReport.FindStringSubmatch(logs.String()); m != nil {
			ms, _ := strconv.ParseFloat(m[1], 64)
			a.InitNs = append(a.InitNs, ms*1e6)
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no INIT REPORT in the emulator's output")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// invoke posts the benchmark payload; a 200 with a body is a response (a
// handler error included: the emulator reports it as a 200 with
// errorType, as Lambda's Invoke API does).
func invoke(client *http.Client, url string) (string, error) {
	resp, err := client.Post(url, "application/json", strings.NewReader(benchPayload))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK || len(b) == 0 {
		return "", fmt.Errorf("invoke: HTTP %d %s", resp.StatusCode, b)
	}
	return string(b), nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
