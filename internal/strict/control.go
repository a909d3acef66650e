package strict

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/irflow/irflow/internal/awsproxy"
	"github.com/irflow/irflow/internal/flowmodel"
)

// controlPrefix is where the layer's control API lives. Like moto's
// /moto-api/, it is never forwarded.
const controlPrefix = "/irflow-strict/"

// World is what a harness registers once it has seeded a world: the agent
// flows of its container instances (the flow model then takes its baseline
// snapshot, directly from moto), the tasks started with ECS Exec that never
// passed through the layer, and the ENIs ECS made for ENI trunking.
type World struct {
	// AccessKey and Region say whose world it is (moto maps the access key
	// to an account); "" is "testing" in us-east-1.
	AccessKey string `json:"accessKey,omitempty"`
	Region    string `json:"region,omitempty"`
	// Agents are the container instances' agent flows.
	Agents []AgentFlows `json:"agents,omitempty"`
	// ExecEnabledTasks are task ARNs started with enableExecuteCommand.
	ExecEnabledTasks []string `json:"execEnabledTasks,omitempty"`
	// TrunkENIs and BranchENIs are requester-managed ENIs of ENI trunking.
	TrunkENIs  []string `json:"trunkEnis,omitempty"`
	BranchENIs []string `json:"branchEnis,omitempty"`
}

// Findings is the body of POST /irflow-strict/findings: GuardDuty findings
// in the API's Finding shape (the detail of an EventBridge GuardDuty event).
type Findings struct {
	Findings []json.RawMessage `json:"findings"`
}

// control serves the control API:
//
//	POST /irflow-strict/world     register a World (baseline snapshot taken now)
//	POST /irflow-strict/findings  store GuardDuty findings ({"findings":[...]})
//	POST /irflow-strict/guardduty-administrator  an Administrator's detector
//	                              sees its members' findings
//	GET  /irflow-strict/refusals  {"strictRefusals":[...]}
//	GET  /irflow-strict/ec2-calls {"ec2Calls":[...]}
//	GET  /irflow-strict/requests?since=N
//	                              {"requests":[...],"last":M}: every AWS
//	                              request served, numbered above N (a mark
//	                              from an earlier answer's last)
//	POST /irflow-strict/reset     forget everything above (POST /moto-api/reset
//	                              forgets all but the refusals)
func (l *Layer) control(w http.ResponseWriter, r *http.Request) {
	what := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, controlPrefix), "/")
	switch r.Method + " " + what {
	case "POST world":
		var wd World
		if err := json.NewDecoder(r.Body).Decode(&wd); err != nil {
			controlError(w, http.StatusBadRequest, "world: "+err.Error())
			return
		}
		n, err := l.register(r, wd)
		if err != nil {
			controlError(w, http.StatusBadGateway, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"agents": len(wd.Agents), "baselineEnis": n})
	case "POST findings":
		var f Findings
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil {
			controlError(w, http.StatusBadRequest, "findings: "+err.Error())
			return
		}
		for i, raw := range f.Findings {
			if err := l.findings.put(raw); err != nil {
				controlError(w, http.StatusBadRequest, fmt.Sprintf("findings[%d]: %v", i, err))
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"stored": len(f.Findings)})
	case "POST guardduty-administrator":
		var a Administrator
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			controlError(w, http.StatusBadRequest, "guardduty-administrator: "+err.Error())
			return
		}
		if err := l.findings.administer(a); err != nil {
			controlError(w, http.StatusBadRequest, "guardduty-administrator: "+err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"members": len(a.Members)})
	case "GET refusals":
		writeJSON(w, http.StatusOK, map[string]any{"strictRefusals": l.refusals.list()})
	case "GET ec2-calls":
		writeJSON(w, http.StatusOK, map[string]any{"ec2Calls": l.calls.recorded()})
	case "GET requests":
		var since int64
		if v := r.URL.Query().Get("since"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				controlError(w, http.StatusBadRequest, "requests: since: want a request number, got "+strconv.Quote(v))
				return
			}
			since = n
		}
		reqs, last := l.requests.since(since)
		writeJSON(w, http.StatusOK, RequestLog{Requests: reqs, Last: last})
	case "POST reset":
		l.refusals.reset()
		l.resetState()
		writeJSON(w, http.StatusOK, map[string]any{"reset": true})
	default:
		controlError(w, http.StatusNotFound, "no control operation "+r.Method+" "+r.URL.Path)
	}
}

// register installs a World; with agents it takes the flow model's
// baseline from moto (directly) and returns how many ENIs it holds.
func (l *Layer) register(r *http.Request, wd World) (int, error) {
	c := caller{AccessKey: wd.AccessKey, Region: wd.Region}
	if c.AccessKey == "" {
		c.AccessKey = "testing"
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	l.tasks.enableExec(wd.ExecEnabledTasks...)
	l.tasks.addTrunks("trunk", wd.TrunkENIs...)
	l.tasks.addTrunks("branch", wd.BranchENIs...)
	if len(wd.Agents) == 0 {
		return 0, nil
	}
	// The index first: a call recorded while the snapshot is taken is
	// replayed on it, which errs toward a stale network, never a lost change.
	// The snapshot is read through the layer: the network as AWS would show
	// it (ENIs in their subnets, service ENIs in use), which is the network
	// the calls replayed on it name.
	_, from := l.calls.since(0, c)
	state, err := flowmodel.Gather(r.Context(), l.selfEC2(c))
	if err != nil {
		return 0, fmt.Errorf("world: baseline snapshot: %w", err)
	}
	net, err := flowmodel.FromEC2(state)
	if err != nil {
		return 0, fmt.Errorf("world: baseline network: %w", err)
	}
	l.flow.set(net, c, from, wd.Agents)
	return len(net.ENIs), nil
}

// resetState forgets everything but the refusals: findings, learned tasks,
// pending stops, recorded calls and the world. moto's own reset
// (POST /moto-api/reset through the layer) calls it too.
func (l *Layer) resetState() {
	l.findings.reset()
	l.tasks.reset()
	l.addrs.reset()
	l.svc.reset()
	l.stops.reset()
	l.calls.reset()
	l.requests.reset()
	l.flow.reset()
}

func controlError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// selfEC2 is an EC2 client, acting as c, whose requests go through the layer
// itself, in process: it reads what the layer presents.
func (l *Layer) selfEC2(c caller) *ec2.Client {
	cfg := l.look.config(c)
	cfg.BaseEndpoint = aws.String("http://irflow-strict.internal")
	cfg.HTTPClient = &http.Client{Transport: handlerTransport{l}}
	return ec2.NewFromConfig(cfg)
}

// handlerTransport serves client requests with an http.Handler in process.
// The requests' context must not carry a request the layer prepared
// (awsproxy.Prepare would find that request's body): register's comes from a
// control request, which is never prepared.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := awsproxy.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return &http.Response{StatusCode: rec.Code, Status: fmt.Sprintf("%d %s", rec.Code, http.StatusText(rec.Code)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: rec.Header(),
		Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), ContentLength: int64(rec.Body.Len()), Request: r}, nil
}
