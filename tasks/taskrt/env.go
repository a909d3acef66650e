package taskrt

import (
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"strings"
)

// Env is the deployment's configuration, from environment variables the CDK
// app sets on every task Lambda (docs/internals.md).
type Env struct {
	EvidenceBucket   string
	AuditTable       string
	ApprovalsTable   string
	IncidentsTable   string
	TopicArn         string
	ApprovalURL      string
	KMSKeyArn        string
	AVMLURL          string
	AVMLSha256       string
	DefaultApprovers []string
	// MACKeyArn is the HMAC key (KMS, HMAC_256) that authenticates audit
	// records, the manifest's anchor and start envelopes.
	MACKeyArn string
	// GuardDutyDetectorID is the detector resolve-target asks to confirm
	// findings (GetFindings); empty: the detector named in the finding's ARN.
	GuardDutyDetectorID string
	// StateMachinePrefix is arn:P:states:R:A:stateMachine:irflow-, to which
	// the start API appends a playbook's name.
	StateMachinePrefix string
	// HomeAccount is the account irflow runs in (IRFLOW_HOME_ACCOUNT, the
	// GuardDuty administrator); "" asks STS once. A target in another
	// account is acted on through its responder role (Targets).
	HomeAccount string

	// HomeConfig, set by the runtime when the handler is built for a
	// target outside the home account or region, is the home config:
	// irflow's own stores (evidence bucket, tables, topic, KMS keys) use
	// it (Env.Home), the workload clients the config the handler got.
	HomeConfig *aws.Config
}

// Home returns the config of irflow's own stores: HomeConfig when the
// handler was built for another account or region, else cfg.
func (e Env) Home(cfg aws.Config) aws.Config {
	if e.HomeConfig != nil {
		return *e.HomeConfig
	}
	return cfg
}

// EnvFromOS reads the IRFLOW_* variables.
func EnvFromOS() Env {
	e := Env{
		EvidenceBucket: os.Getenv("IRFLOW_EVIDENCE_BUCKET"),
		AuditTable:     os.Getenv("IRFLOW_AUDIT_TABLE"),
		ApprovalsTable: os.Getenv("IRFLOW_APPROVALS_TABLE"),
		IncidentsTable: os.Getenv("IRFLOW_INCIDENTS_TABLE"),
		TopicArn:       os.Getenv("IRFLOW_TOPIC_ARN"),
		ApprovalURL:    os.Getenv("IRFLOW_APPROVAL_URL"),
		KMSKeyArn:      os.Getenv("IRFLOW_KMS_KEY_ARN"),
		AVMLURL:        os.Getenv("IRFLOW_AVML_URL"),
		AVMLSha256:     os.Getenv("IRFLOW_AVML_SHA256"),

		MACKeyArn:           os.Getenv("IRFLOW_MAC_KEY_ARN"),
		GuardDutyDetectorID: os.Getenv("IRFLOW_GUARDDUTY_DETECTOR_ID"),
		StateMachinePrefix:  os.Getenv("IRFLOW_STATE_MACHINE_PREFIX"),
		HomeAccount:         os.Getenv("IRFLOW_HOME_ACCOUNT"),
	}
	for _, a := range strings.Split(os.Getenv("IRFLOW_DEFAULT_APPROVERS"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			e.DefaultApprovers = append(e.DefaultApprovers, a)
		}
	}
	return e
}
