package strict

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TestRequestLog: every AWS request the layer serves is logged in arrival
// order with its service, operation, status, step header and timing, a
// refused one included; control requests are not; since reads on from a
// mark, reset forgets.
func TestRequestLog(t *testing.T) {
	f := newFakeMoto(t)
	fakeENIs(f)
	_, url := serve(t, f.srv.URL, Config{})
	cl := NewClient(url)
	step := func(id string) func(*ec2.Options) {
		return func(o *ec2.Options) { o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue(StepHeader, id)) }
	}
	c := ec2.NewFromConfig(sdk(url))
	if _, err := sts.NewFromConfig(sdk(url)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	_, _ = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String("i-1"), Groups: []string{"a", "b", "c", "d", "e", "f"}}, step("isolate"))
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String("i-1"), Groups: []string{"sg-q"}}, step("isolate")); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Refusals(ctx); err != nil { // a control request: not logged
		t.Fatal(err)
	}
	log, err := cl.Requests(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		seq           int64
		svc, op, step string
		status        int
	}
	want := []row{{1, "sts", "GetCallerIdentity", "", http.StatusOK}, {2, "ec2", "ModifyInstanceAttribute", "isolate", http.StatusBadRequest},
		{3, "ec2", "ModifyInstanceAttribute", "isolate", http.StatusOK}}
	if len(log.Requests) != len(want) || log.Last != 3 {
		t.Fatalf("Requests = %+v; want %d requests, last 3", log, len(want))
	}
	for i, w := range want {
		r := log.Requests[i]
		if (row{r.Seq, r.Service, r.Operation, r.Step, r.Status}) != w {
			t.Errorf("request %d = %+v; want %+v", i, r, w)
		}
		if r.Start.IsZero() || r.End.Before(r.Start) || r.AccessKey != "testing" {
			t.Errorf("request %d: start %v end %v access key %q", i, r.Start, r.End, r.AccessKey)
		}
		if i > 0 && r.Start.Before(log.Requests[i-1].End) {
			t.Errorf("request %d started before request %d ended, though the client sent them one after the other", i, i-1)
		}
	}
	if after, err := cl.Requests(ctx, 2); err != nil || len(after.Requests) != 1 || after.Requests[0].Seq != 3 {
		t.Errorf("Requests(since 2) = %+v, %v; want request 3 only", after, err)
	}
	resp, err := http.Get(url + "/irflow-strict/requests?since=x")
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("since=x: %v %v; want 400", resp, err)
	}
	resp.Body.Close()
	if err := cl.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if log, err := cl.Requests(ctx, 0); err != nil || len(log.Requests) != 0 || log.Last != 0 {
		t.Errorf("Requests after reset = %+v, %v", log, err)
	}
}

// TestLatencyFloor: with Config.Latency every request a handler makes (it
// names its step) takes at least that long, and requests sent together are
// in flight together (they overlap in the log, so the bench counts them as
// one round trip) while requests sent one after the other do not; a
// request naming no step (the bench's own) is not held.
func TestLatencyFloor(t *testing.T) {
	const latency = 80 * time.Millisecond
	f := newFakeMoto(t)
	_, url := serve(t, f.srv.URL, Config{Latency: latency})
	c := sts.NewFromConfig(sdk(url))
	step := func(o *sts.Options) {
		o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue(StepHeader, "isolate"))
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, step); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, step); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	log, err := NewClient(url).Requests(ctx, 0)
	if err != nil || len(log.Requests) != 5 {
		t.Fatalf("Requests = %+v, %v; want 5", log, err)
	}
	rs := log.Requests
	for i, r := range rs[:4] {
		if d := r.End.Sub(r.Start); d < latency {
			t.Errorf("request %d took %v; want at least %v", i, d, latency)
		}
	}
	if d := rs[4].End.Sub(rs[4].Start); d >= latency {
		t.Errorf("a request naming no step took %v; want it not held", d)
	}
	for i := range 3 {
		for j := range 3 {
			if i != j && !rs[i].Start.Before(rs[j].End) {
				t.Errorf("concurrent requests %d and %d do not overlap: %d started %v, %d ended %v", i, j, i, rs[i].Start, j, rs[j].End)
			}
		}
		if rs[3].Start.Before(rs[i].End) {
			t.Errorf("the sequential request started before concurrent request %d ended", i)
		}
	}
}
