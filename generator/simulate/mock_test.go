package simulate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/tasks/catalog"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/incident"
)

const mockExec = `{"Id":"arn:aws:states:us-east-1:111122223333:execution:irflow-x:3f2a","Name":"3f2a9c1e-0d4b-4c6e-8f7a-1b2c3d4e5f60","StartTime":"2026-11-20T14:02:12.000Z"}`

// resolve runs the mock resolve-target on an execution input.
func resolve(t *testing.T, h Handlers, input string) (map[string]any, error) {
	t.Helper()
	payload := `{"action":"resolve-target","step":"","with":{"lockTtlMinutes":1440},"input":` + input + `,"execution":` + mockExec + `}`
	out, err := h["resolve-target"](context.Background(), json.RawMessage(payload))
	if err != nil {
		return nil, err
	}
	var res map[string]any
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res, nil
}

// TestMockResolveTargetIsTheRealValidation: every input the shared
// normalization (or, without with.hostFindings, incident.AdmitHost)
// rejects fails as InvalidInputError naming the same field.
func TestMockResolveTargetIsTheRealValidation(t *testing.T) {
	h := MockHandlers(MockOptions{})
	for _, in := range append(readInputs(t, "../../examples/inputs/*.json"), readInputs(t, "testdata/inputs/*.json")...) {
		t.Run(in.name, func(t *testing.T) {
			inc, want := incident.Normalize(in.data, incident.Execution{Name: "x"})
			if want == nil {
				want = incident.AdmitHost(inc, false) // with: {} takes no host findings
			}
			res, err := resolve(t, h, string(in.data))
			var fe *incident.FieldError
			if errors.As(want, &fe) {
				if contract.ErrorName(err) != generator.ErrInvalidInput || !strings.Contains(err.Error(), "invalid input: "+fe.Field+": ") {
					t.Errorf("got %v (%s); want InvalidInputError on %s", err, contract.ErrorName(err), fe.Field)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolve-target: %v", err)
			}
			checkResult(t, res)
			outputs := res["outputs"].(map[string]any)
			if outputs["incident"] == nil || outputs["target"] == nil {
				t.Errorf("outputs lack incident or target: %v", outputs)
			}
		})
	}
}

func TestMockTargets(t *testing.T) {
	input := string(readInputs(t, "testdata/inputs/console-live.json")[0].data)
	tests := []struct {
		launchType, mode        string
		instance, volumes, enis bool
	}{
		{"", "awsvpc", false, false, true},
		{"FARGATE", "awsvpc", false, false, true},
		{"EC2", "bridge", true, true, true},
	}
	for _, tt := range tests {
		res, err := resolve(t, MockHandlers(MockOptions{LaunchType: tt.launchType}), input)
		if err != nil {
			t.Fatal(err)
		}
		var target incident.Target
		b, _ := json.Marshal(res["outputs"].(map[string]any)["target"])
		if err := json.Unmarshal(b, &target); err != nil {
			t.Fatal(err)
		}
		want := tt.launchType
		if want == "" {
			want = "FARGATE"
		}
		if target.LaunchType != want || target.NetworkMode != tt.mode || (target.InstanceID != "") != tt.instance ||
			(len(target.VolumeIDs) > 0) != tt.volumes || (len(target.ENIs) > 0) != tt.enis {
			t.Errorf("launch type %q: got %+v", tt.launchType, target)
		}
	}
}

var hex64 = regexp.MustCompile(`^[a-f0-9]{64}$`)

// checkResult holds a task result to docs/internals.md: four keys, a known
// status, evidence with a hash and a size.
func checkResult(t *testing.T, res map[string]any) {
	t.Helper()
	for _, k := range []string{"status", "summary", "evidence", "outputs"} {
		if _, ok := res[k]; !ok {
			t.Errorf("result lacks %q: %v", k, res)
		}
	}
	if s := res["status"]; s != "OK" && s != "DRY_RUN" && s != "SKIPPED" {
		t.Errorf("status %v", s)
	}
	ev, _ := res["evidence"].([]any)
	for _, e := range ev {
		m := e.(map[string]any)
		if !hex64.MatchString(m["sha256"].(string)) || m["bytes"].(float64) <= 0 || !strings.HasPrefix(m["uri"].(string), "s3://") {
			t.Errorf("evidence %v", m)
		}
	}
	if _, ok := res["outputs"].(map[string]any); !ok {
		t.Errorf("outputs is not an object: %v", res["outputs"])
	}
}

// TestMockActions runs every action of the catalog through a simulated
// execution of every shipped playbook and checks each result, and that the
// evidence hashes are the SHA-256 of content the mock can reproduce.
func TestMockActions(t *testing.T) {
	input := readInputs(t, "../../examples/inputs/guardduty-ec2-reverse-shell.json")[0].data
	seen := map[string]bool{}
	for _, p := range shippedPlaybooks(t) {
		h := MockHandlers(MockOptions{})
		checking := Handlers{}
		for name, fn := range h {
			checking[name] = func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
				out, err := fn(ctx, payload)
				if err == nil {
					var res map[string]any
					if err := json.Unmarshal(out, &res); err != nil {
						t.Fatal(err)
					}
					checkResult(t, res)
					seen[name] = true
				}
				return out, err
			}
		}
		run := simulate(t, p.r, input, Options{Handlers: checking})
		if run.Outcome != generator.OutcomeCompleted {
			t.Errorf("%s: %s", p.r.Name, describe(run))
		}
	}
	t.Logf("actions exercised: %d of %d", len(seen), len(catalog.All()))
}

func TestMockAsyncAndDryRun(t *testing.T) {
	h := MockHandlers(MockOptions{LaunchType: "EC2"})
	res, err := resolve(t, h, string(readInputs(t, "testdata/inputs/console-live.json")[0].data))
	if err != nil {
		t.Fatal(err)
	}
	outputs := res["outputs"].(map[string]any)
	call := func(action, mode string, dryRun bool, previous any) map[string]any {
		t.Helper()
		inc := outputs["incident"].(map[string]any)
		inc["dryRun"] = dryRun
		p := map[string]any{"action": action, "step": "s", "with": map[string]any{}, "incident": inc, "target": outputs["target"],
			"execution": json.RawMessage(mockExec)}
		if mode != "" {
			p["mode"], p["timeoutSeconds"] = mode, 3600
		}
		if previous != nil {
			p["previous"] = previous
		}
		b, _ := json.Marshal(p)
		out, err := h[action](context.Background(), b)
		if err != nil {
			t.Fatalf("%s %s: %v", action, mode, err)
		}
		var r map[string]any
		json.Unmarshal(out, &r)
		checkResult(t, r)
		return r
	}
	start := call("capture-memory", "start", false, nil)
	if start["outputs"].(map[string]any)["done"] != false || start["status"] != "OK" {
		t.Errorf("start: %v", start)
	}
	check := call("capture-memory", "check", false, start)
	ev := check["evidence"].([]any)
	if check["outputs"].(map[string]any)["done"] != true || len(ev) != 1 {
		t.Errorf("check: %v", check)
	}
	if dry := call("capture-memory", "start", true, nil); dry["status"] != "DRY_RUN" || dry["outputs"].(map[string]any)["done"] != true {
		t.Errorf("dry-run start: %v", dry)
	}
	for _, a := range catalog.All() {
		if !a.Mutating || a.Async || a.Kind == catalog.KindSystem {
			continue
		}
		if r := call(a.Name, "", true, nil); r["status"] != "DRY_RUN" && r["status"] != "SKIPPED" {
			t.Errorf("%s under dryRun: %v", a.Name, r["status"])
		}
	}
	if r := call("capture-task-metadata", "", true, nil); r["status"] != "OK" || len(r["evidence"].([]any)) == 0 {
		t.Errorf("evidence that changes nothing is still collected under dryRun: %v", r)
	}
	// The hash is that of the content: the mock stores what it says it stores.
	m := ev[0].(map[string]any)
	content := "simulated capture-memory of " + outputs["target"].(map[string]any)["instanceId"].(string) + " (command " + check["outputs"].(map[string]any)["commandId"].(string) + ")\n"
	if sum := sha256.Sum256([]byte(content)); m["sha256"] != hex.EncodeToString(sum[:]) || int(m["bytes"].(float64)) != len(content) {
		t.Errorf("evidence %v is not the SHA-256 of %q", m, content)
	}
}

func TestMockRejectsBadPayloads(t *testing.T) {
	h := MockHandlers(MockOptions{})
	tests := []struct{ action, payload, field string }{
		{"notify", `{"action":"notify","step":"n","with":{},"execution":` + mockExec + `}`, "incident"},
		{"resolve-target", `{"action":"resolve-target","step":"BAD","with":{},"input":{},"execution":` + mockExec + `}`, "step"},
		{"stop-task", `{"action":"stop-task","step":"s","execution":` + mockExec + `}`, "payload"},
		{"stop-task", `{"action":"stop-task","step":"s","with":{},"incident":{},"target":{},"execution":` + mockExec + `}`, "incident"},
		{"stop-task", `{"action":"notify","step":"s","with":{},"input":{},"error":{},"execution":` + mockExec + `}`, "action"},
		{"stop-task", `not json`, "payload"},
	}
	for _, tt := range tests {
		_, err := h[tt.action](context.Background(), json.RawMessage(tt.payload))
		if contract.ErrorName(err) != generator.ErrInvalidInput || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%s: got %v (%s); want InvalidInputError on %s", tt.payload, err, contract.ErrorName(err), tt.field)
		}
	}
}

func TestCallbackApprover(t *testing.T) {
	gate := Gate{State: "EC2: approve", Step: "approve", Token: "tok-1", TimeoutSeconds: 60}
	tests := []struct {
		name   string
		answer func(ctx context.Context, g Gate, cb Callbacks) error
		want   Decision
		err    string
	}{
		{"success", func(ctx context.Context, g Gate, cb Callbacks) error {
			return cb.SendTaskSuccess(ctx, g.Token, `{"status":"OK","summary":"yes","evidence":[],"outputs":{"approved":true}}`)
		}, Decision{Output: json.RawMessage(`{"status":"OK","summary":"yes","evidence":[],"outputs":{"approved":true}}`)}, ""},
		{"failure", func(ctx context.Context, g Gate, cb Callbacks) error {
			return cb.SendTaskFailure(ctx, g.Token, generator.ErrApprovalRejected, "no")
		}, Decision{Error: generator.ErrApprovalRejected, Cause: "no"}, ""},
		{"silence", func(context.Context, Gate, Callbacks) error { return nil }, Decision{NoAnswer: true}, ""},
		{"wrong token", func(ctx context.Context, g Gate, cb Callbacks) error {
			return cb.SendTaskSuccess(ctx, "other", `{}`)
		}, Decision{}, "does not name"},
		{"twice", func(ctx context.Context, g Gate, cb Callbacks) error {
			cb.SendTaskFailure(ctx, g.Token, "E", "")
			return cb.SendTaskFailure(ctx, g.Token, "E", "")
		}, Decision{}, "already answered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CallbackApprover(tt.answer).Decide(context.Background(), gate)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("got %v; want an error saying %q", err, tt.err)
				}
				return
			}
			if err != nil || string(got.Output) != string(tt.want.Output) || got.Error != tt.want.Error || got.Cause != tt.want.Cause || got.NoAnswer != tt.want.NoAnswer {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestCallbackApproverInARun plugs a callback-style approver (as
// tasks/approval-api will be) into a simulation.
func TestCallbackApproverInARun(t *testing.T) {
	p := shippedPlaybooks(t)[0]
	input := readInputs(t, "../../examples/inputs/guardduty-fargate-cryptominer.json")[0].data
	var tokens []string
	approver := CallbackApprover(func(ctx context.Context, g Gate, cb Callbacks) error {
		var payload struct {
			TaskToken string `json:"taskToken"`
		}
		json.Unmarshal(g.Payload, &payload)
		tokens = append(tokens, payload.TaskToken)
		return cb.SendTaskFailure(ctx, payload.TaskToken, generator.ErrApprovalRejected, "rejected by bob")
	})
	run := simulate(t, p.r, input, Options{Approver: approver})
	if len(tokens) > 0 && (run.Outcome != generator.OutcomeRejected || tokens[0] == "") {
		t.Errorf("tokens %q: %s", tokens, describe(run))
	}
}

// TestMockHostTarget: with hostFindings, the mock resolve-target describes a
// host finding's container instance as resolve-target does (no task, its
// instance, ENIs and volumes, the tasks on it); every action that needs a
// task refuses that target as InvalidInputError on target.taskArn, and the
// others act on it.
func TestMockHostTarget(t *testing.T) {
	h := MockHandlers(MockOptions{})
	input := string(readInputs(t, "../../examples/inputs/guardduty-ec2-host-escape.json")[0].data)
	payload := `{"action":"resolve-target","step":"","with":{"hostFindings":true},"input":` + input + `,"execution":` + mockExec + `}`
	out, err := h["resolve-target"](context.Background(), json.RawMessage(payload))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Outputs struct {
			Incident map[string]any  `json:"incident"`
			Target   incident.Target `json:"target"`
			Raw      map[string]any  `json:"-"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	tg := res.Outputs.Target
	if tg.TaskArn != "" || tg.LaunchType != "EC2" || tg.InstanceID != "i-0b1c2d3e4f5a69788" || tg.ContainerInstanceArn == "" ||
		len(tg.ENIs) == 0 || len(tg.VolumeIDs) == 0 || len(tg.HostTasks) < 2 || !strings.HasSuffix(tg.ClusterArn, ":cluster/batch") {
		t.Fatalf("host target = %+v", tg)
	}
	for _, a := range catalog.All() {
		if a.Kind == catalog.KindSystem || a.Kind == catalog.KindApproval {
			continue
		}
		p := map[string]any{"action": a.Name, "step": "s", "with": map[string]any{}, "incident": res.Outputs.Incident, "target": tg,
			"execution": json.RawMessage(mockExec)}
		if a.Async {
			p["mode"], p["timeoutSeconds"] = "start", 3600
		}
		b, _ := json.Marshal(p)
		_, err := h[a.Name](context.Background(), b)
		switch {
		case a.NeedsTask && (contract.ErrorName(err) != generator.ErrInvalidInput || !strings.Contains(err.Error(), "target.taskArn")):
			t.Errorf("%s on a host target: %v; want InvalidInputError on target.taskArn", a.Name, err)
		case !a.NeedsTask && err != nil:
			t.Errorf("%s on a host target: %v; want it to act on the host", a.Name, err)
		}
	}
}
