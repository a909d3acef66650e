package handler_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/contract"
	release "github.com/irflow/irflow/tasks/release-containment/handler"
)

// TestMotoPinReleased: pin-service records its rollback (and its
// scale-to-zero) in the case's containment ledger before it changes the
// service, and release-containment undoes it against moto: the service
// back on the revision it ran, a second release changes nothing; a service
// someone deployed since is refused, named, and left alone; a scale to
// zero gets its desired count back.
func TestMotoPinReleased(t *testing.T) {
	w := mototest.Seed(t)
	w.Env.IncidentsTable = stricttest.IncidentsTable(t, w.Cfg)
	p := seedPinned(t, w, "FARGATE", threeRevisions)
	releaseCase := func(caseID string) *contract.Result {
		t.Helper()
		r, err := mototest.Run(t, w, "release-containment", release.New(w.Cfg, w.Env), w.Payload("release-containment", "release", "FARGATE", caseID, false, nil, nil))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	caseID := mototest.Unique("case-pin-rel")
	if _, err := p.pin(t, p.payload(t, caseID, false, nil)); err != nil {
		t.Fatal(err)
	}
	if def, _, _ := p.state(t); def != p.revs[0] {
		t.Fatalf("pinned to %s; want %s", def, p.revs[0])
	}
	r := releaseCase(caseID)
	if def, n, _ := p.state(t); r.Outputs["releaseStatus"] != release.Released || def != p.revs[2] || n != 2 {
		t.Fatalf("release: %v %q; service on %s, %d", r.Outputs["releaseStatus"], r.Summary, def, n)
	}
	if r := releaseCase(caseID); r.Outputs["releaseStatus"] != release.Released || !strings.HasPrefix(r.Summary, "already released") {
		t.Errorf("second release: %q", r.Summary)
	}
	if def, _, _ := p.state(t); def != p.revs[2] {
		t.Errorf("the second release moved the service to %s", def)
	}

	// Pinned again by another case, then deployed by someone: refused.
	again := mototest.Unique("case-pin-rel")
	if _, err := p.pin(t, p.payload(t, again, false, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ecs.UpdateService(context.Background(), &ecs.UpdateServiceInput{Cluster: aws.String(p.ClusterArn), Service: aws.String(p.service),
		TaskDefinition: aws.String(p.revs[1])}); err != nil {
		t.Fatal(err)
	}
	r = releaseCase(again)
	if def, _, _ := p.state(t); r.Outputs["releaseStatus"] != release.PartiallyReleased || !strings.Contains(r.Summary, "deployed since") || def != p.revs[1] {
		t.Errorf("deployed since: %v %q; service on %s", r.Outputs["releaseStatus"], r.Summary, def)
	}

	// Scale to zero: scale-service's entry, its count back.
	zero := mototest.Unique("case-pin-rel")
	if _, err := p.pin(t, p.payload(t, zero, false, map[string]any{"mode": "scale-to-zero"})); err != nil {
		t.Fatal(err)
	}
	if _, n, _ := p.state(t); n != 0 {
		t.Fatalf("scale to zero left desired count %d", n)
	}
	r = releaseCase(zero)
	if _, n, _ := p.state(t); r.Outputs["releaseStatus"] != release.Released || n != p.originalDesired {
		t.Errorf("release of the scale: %v %q; desired count %d", r.Outputs["releaseStatus"], r.Summary, n)
	}
}
