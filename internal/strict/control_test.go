package strict

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/irflow/irflow/internal/awsproxy"
	"github.com/irflow/irflow/internal/faultproxy"
)

// TestControlAPI: refusals and accepted EC2 mutations are readable, reset
// forgets them, unknown control paths are 404s, and nothing under
// /irflow-strict/ reaches moto.
func TestControlAPI(t *testing.T) {
	f := newFakeMoto(t)
	fakeENIs(f)
	_, url := serve(t, f.srv.URL, Config{})
	cl := NewClient(url)
	c := ec2.NewFromConfig(sdk(url))
	_, _ = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String("i-1"), Groups: []string{"a", "b", "c", "d", "e", "f"}})
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String("i-1"), Groups: []string{"sg-q"}}); err != nil {
		t.Fatal(err)
	}
	_, _ = c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-own"}})
	rs, err := cl.Refusals(ctx)
	if err != nil || len(rs) != 1 || rs[0].Service != "ec2" || rs[0].Operation != "ModifyInstanceAttribute" ||
		rs[0].Code != "SecurityGroupsPerInterfaceLimitExceeded" || rs[0].Rule != "security-groups-per-eni" || rs[0].Resource != "i-1" ||
		!strings.HasPrefix(rs[0].Doc, "Amazon VPC quotas — https://") {
		t.Errorf("Refusals = %+v, %v", rs, err)
	}
	calls, err := cl.EC2Calls(ctx)
	if err != nil || len(calls) != 1 || calls[0].Action != "ModifyInstanceAttribute" || calls[0].Call().Params.Get("GroupId.1") != "sg-q" ||
		calls[0].AccessKey != "testing" || calls[0].Region != "us-east-1" || !strings.Contains(calls[0].Response, "ModifyInstanceAttributeResponse") {
		t.Errorf("EC2Calls = %+v, %v; want the accepted change only (not the refused one, not the Describe)", calls, err)
	}
	resp, err := http.Post(url+"/moto-api/reset", "application/json", nil)
	if err != nil || f.saw("") != 1 {
		t.Fatalf("moto's reset did not reach moto: %v", err)
	}
	resp.Body.Close()
	if calls, _ := cl.EC2Calls(ctx); len(calls) != 0 {
		t.Errorf("calls after moto's reset: %+v", calls)
	}
	if rs, _ := cl.Refusals(ctx); len(rs) != 1 {
		t.Errorf("moto's reset dropped the refusals: %+v", rs)
	}
	if err := cl.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if rs, _ := cl.Refusals(ctx); len(rs) != 0 {
		t.Errorf("refusals after reset: %+v", rs)
	}
	if calls, _ := cl.EC2Calls(ctx); len(calls) != 0 {
		t.Errorf("calls after reset: %+v", calls)
	}
	resp, err = http.Get(url + "/irflow-strict/nothing")
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /irflow-strict/nothing: %v %v", resp, err)
	}
	if err := cl.RegisterWorld(ctx, World{Agents: []AgentFlows{{InstanceID: "i-1"}}}); err == nil {
		t.Error("a world whose baseline cannot be taken was registered")
	}
	if f.saw("") != 1 {
		t.Error("a control request of the layer reached moto")
	}
}

// TestComposesWithFaults: client → faults → strict → moto, as make stress
// wires it: the fault proxy passes the strict control API and AWS requests
// on, and the strict layer still answers in the service's shape.
func TestComposesWithFaults(t *testing.T) {
	f := newFakeMoto(t)
	fakeTasks(f)
	fwd, err := awsproxy.NewForwarder(f.srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(fwd, Config{Backend: f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	faults, err := faultproxy.New(l, faultproxy.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, faults)
	_, err = ecs.NewFromConfig(sdk(srv)).ExecuteCommand(ctx, &ecs.ExecuteCommandInput{Cluster: aws.String("c1"), Task: aws.String(taskEC2),
		Command: aws.String("id"), Interactive: false})
	wantRefused(t, l, err, http.StatusBadRequest, "InvalidParameterException", ruleExecInteractive.id)
	if rs, err := NewClient(srv).Refusals(ctx); err != nil || len(rs) != 1 {
		t.Errorf("refusals through the fault proxy: %+v %v", rs, err)
	}
	if st := faults.Stats(); st.Requests != 1 {
		t.Errorf("the fault proxy counted %d AWS requests; want 1 (control requests are not AWS requests)", st.Requests)
	}
}

// TestStartOff: IRFLOW_AWS_STRICT=0 serves nothing and hands back moto's URL.
func TestStartOff(t *testing.T) {
	t.Setenv("IRFLOW_AWS_STRICT", "0")
	url, stop, err := Start("http://127.0.0.1:5000")
	defer stop()
	if err != nil || url != "http://127.0.0.1:5000" || Enabled() {
		t.Errorf("Start with the layer off: %q %v", url, err)
	}
}

// TestStart serves a layer in process.
func TestStart(t *testing.T) {
	f := newFakeMoto(t)
	url, stop, err := Start(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if url == f.srv.URL || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("Start = %q", url)
	}
	if _, err := NewClient(url).Refusals(ctx); err != nil {
		t.Errorf("control API of the started layer: %v", err)
	}
	if _, err := New(nil, Config{}); err == nil {
		t.Error("a layer without a backend for its look-ups was made")
	}
}
