package report

import (
	"github.com/irflow/irflow/tasks/audit"
)

// ManifestVersion identifies the manifest's JSON shape.
const ManifestVersion = "irflow.evidence-manifest/v1"

// Manifest lists every evidence object of a case with its SHA-256 and size,
// so a reviewer can check each object in the bucket against it (S3 keeps
// the same SHA-256 as the object's checksum and irflow-sha256 metadata).
type Manifest struct {
	Version     string `json:"version"`
	CaseID      string `json:"caseId"`
	ExecutionID string `json:"executionId"`
	Outcome     string `json:"outcome"`
	DryRun      bool   `json:"dryRun"`
	GeneratedAt string `json:"generatedAt"`
	// TargetAccount and TargetRegion are where the evidence comes from:
	// with Organizations, a member account and region other than the
	// bucket's (each object's irflow-target-account and
	// irflow-target-region metadata say the same).
	TargetAccount string     `json:"targetAccount,omitempty"`
	TargetRegion  string     `json:"targetRegion,omitempty"`
	Objects       []Artifact `json:"objects"`
	// AuditHeadHash is the chain's last hash when the report was built.
	AuditHeadHash string `json:"auditHeadHash,omitempty"`
	// Audit anchors the case's audit chain: the record count and head hash
	// at the case-finalized record, MAC-signed. irflow audit --verify reads it.
	Audit *audit.Anchor `json:"audit,omitempty"`
}

// Manifest returns the case's manifest: the report's artifacts, then the
// extra objects (the report files themselves).
func (r *Report) Manifest(extra ...Artifact) *Manifest {
	objs := append(append([]Artifact{}, r.Artifacts...), extra...)
	m := &Manifest{Version: ManifestVersion, CaseID: r.CaseID, ExecutionID: r.ExecutionID, Outcome: r.Outcome,
		DryRun: r.DryRun, GeneratedAt: r.GeneratedAt, Objects: objs, AuditHeadHash: r.Chain.HeadHash}
	if r.Incident != nil {
		m.TargetAccount, m.TargetRegion = r.Incident.Account, r.Incident.Region
	}
	return m
}

// JSON is the manifest as indented JSON with a final newline.
func (m *Manifest) JSON() []byte { return IndentJSON(m) }
