package report

import (
	"strings"
	"testing"

	"github.com/irflow/irflow/tasks/incident"
)

// TestWhere: the report names the target's account and region and the
// evidence bucket's region, in JSON and Markdown; without a bucket region
// (older callers) it leaves them out.
func TestWhere(t *testing.T) {
	inc := &incident.Incident{CaseID: "c1", Account: "222233334444", Region: "eu-west-1", TaskArn: "arn:aws:ecs:eu-west-1:222233334444:task/c/1"}
	r := Build(Input{CaseID: "c1", Incident: inc, EvidenceBucket: "ev", EvidenceRegion: "us-east-1"})
	if w := r.Where; w == nil || *w != (Where{"222233334444", "eu-west-1", "ev", "us-east-1"}) {
		t.Fatalf("where %+v", r.Where)
	}
	js, md := string(r.JSON()), string(r.Markdown())
	if !strings.Contains(js, `"targetAccount": "222233334444"`) || !strings.Contains(js, `"evidenceRegion": "us-east-1"`) {
		t.Errorf("JSON %s", js)
	}
	if !strings.Contains(md, "222233334444 eu-west-1") || !strings.Contains(md, "s3://ev in us-east-1") {
		t.Errorf("Markdown %s", md)
	}
	if m := string(r.Manifest().JSON()); !strings.Contains(m, `"targetAccount": "222233334444"`) || !strings.Contains(m, `"targetRegion": "eu-west-1"`) {
		t.Errorf("manifest %s", m)
	}
	if Build(Input{CaseID: "c1", Incident: inc}).Where != nil {
		t.Error("where without an evidence region")
	}
}
