package strict

import (
	"net/http"
	"sync"
	"time"

	"github.com/irflow/irflow/internal/awsproxy"
)

// rule is one documented AWS behaviour the layer enforces: a stable
// kebab-case ID and the documentation page it comes from.
type rule struct{ id, doc string }

// The rules, each with the page (title and URL) that documents it.
var (
	// "You can add or remove tags, but you can't change other properties of
	// a requester-managed network interface. You can't detach a
	// requester-managed network interface." (Requester-managed network
	// interfaces); "These ENIs ... can't be detached manually or modified by
	// your account" (Amazon ECS task networking for tasks hosted on Amazon
	// EC2 instances —
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html).
	ruleRequesterManaged = rule{"requester-managed-eni",
		"Requester-managed network interfaces — https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/requester-managed-eni.html"}
	// "Rules per network ACL: 20 ... This is a one-way quota ... enforced
	// separately for IPv4 rules and IPv6 rules ... This quota includes the
	// default deny rules" (Amazon VPC quotas, Network ACLs).
	ruleNACLQuota = rule{"network-acl-rule-quota",
		"Amazon VPC quotas — https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html"}
	// "RuleNumber ... Constraints: Positive integer from 1 to 32766. The range
	// 32767 to 65535 is reserved for internal use." (CreateNetworkAclEntry).
	ruleNACLRuleNumber = rule{"network-acl-rule-number",
		"CreateNetworkAclEntry — https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkAclEntry.html"}
	// "Security groups per network interface: 5" (Amazon VPC quotas,
	// Security groups).
	ruleGroupsPerENI = rule{"security-groups-per-eni",
		"Amazon VPC quotas — https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html"}
	// "If the lastStatus property of the ExecuteCommandAgent is listed as
	// RUNNING and the enableExecuteCommand property is set to true, then your
	// task is ready." (Monitor Amazon ECS containers with ECS Exec).
	ruleExecNotEnabled = rule{"ecs-exec-not-enabled",
		"Monitor Amazon ECS containers with ECS Exec — https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html"}
	// "Amazon ECS only supports initiating interactive sessions, so you must
	// use the --interactive flag." (same page).
	ruleExecInteractive = rule{"ecs-exec-interactive-only",
		"Monitor Amazon ECS containers with ECS Exec — https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html"}
	// TargetNotConnectedException: "The execute command cannot run."
	// (ExecuteCommand, Errors).
	ruleExecNotConnected = rule{"ecs-exec-target-not-connected",
		"ExecuteCommand — https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ExecuteCommand.html"}
	// ExecuteCommand: "container: The name of the container to execute the
	// command on. A container name only needs to be specified for tasks
	// containing multiple containers." (same page).
	ruleExecContainer = rule{"ecs-exec-container",
		"ExecuteCommand — https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ExecuteCommand.html"}
	// "the Amazon ECS container agent tracks these changes as the last known
	// status (lastStatus) of the task and the desired status (desiredStatus)"
	// and STOPPING/DEACTIVATING are "waiting on the container agent to take
	// further action" (Amazon ECS task lifecycle); agentConnected "returns
	// true if the agent is connected to Amazon ECS" (ContainerInstance).
	ruleAgentUnreachable = rule{"ecs-agent-unreachable",
		"Amazon ECS task lifecycle — https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle.html"}
	// The reachability oracle failed: the stop was passed to moto as is.
	ruleAgentUnknown = rule{"ecs-agent-reachability-unknown",
		"Amazon ECS task lifecycle — https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle.html"}
	// BadRequestException "The request is rejected because the input
	// detectorId is not owned by the current account." (GetFindings, Errors).
	ruleGuardDutyDetector = rule{"guardduty-detector-not-owned",
		"GetFindings — https://docs.aws.amazon.com/guardduty/latest/APIReference/API_GetFindings.html"}
	// findingIds: "Array Members: Maximum number of 50 items." (GetFindings).
	ruleGuardDutyInput = rule{"guardduty-invalid-input",
		"GetFindings — https://docs.aws.amazon.com/guardduty/latest/APIReference/API_GetFindings.html"}
	// Operations the finding store does not serve.
	ruleGuardDutyUnserved = rule{"guardduty-unserved-operation",
		"Amazon GuardDuty API Reference — https://docs.aws.amazon.com/guardduty/latest/APIReference/Welcome.html"}
)

// Refusal is one request the layer answered with an error moto would not
// have given, or (Code "") accepted without carrying it out, as AWS does.
type Refusal struct {
	Service   string    `json:"service"`
	Operation string    `json:"operation"`
	Code      string    `json:"code"`
	Message   string    `json:"message"`
	Resource  string    `json:"resource"`
	Rule      string    `json:"rule"`
	Doc       string    `json:"doc"`
	At        time.Time `json:"at"`
}

type refusalLog struct {
	mu  sync.Mutex
	all []Refusal
}

func (l *refusalLog) add(r Refusal) {
	l.mu.Lock()
	l.all = append(l.all, r)
	l.mu.Unlock()
}

func (l *refusalLog) list() []Refusal {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Refusal{}, l.all...)
}

func (l *refusalLog) reset() {
	l.mu.Lock()
	l.all = nil
	l.mu.Unlock()
}

// refuse answers r with e in the service's error shape and records it.
func (l *Layer) refuse(w http.ResponseWriter, r *http.Request, svc awsproxy.Service, op string, ru rule, e awsproxy.Error, resource string) {
	l.note(svc, op, ru, e.Code, e.Message, resource)
	awsproxy.WriteError(w, r, svc, e)
}

// note records a refusal (or, with code "", an accepted request the layer
// did not carry out) without answering.
func (l *Layer) note(svc awsproxy.Service, op string, ru rule, code, msg, resource string) {
	l.refusals.add(Refusal{Service: svc.Name, Operation: op, Code: code, Message: msg, Resource: resource, Rule: ru.id, Doc: ru.doc, At: time.Now().UTC()})
}
