package ledger

import (
	"encoding/json"
	"fmt"
	"time"
)

// Kinds of entry: what kind of change an entry records.
const (
	KindNACLEntry          = "nacl-entry"
	KindSecurityGroups     = "security-groups"
	KindStandby            = "standby"
	KindTargetGroup        = "target-group"
	KindDrain              = "drain"
	KindInstanceProtection = "instance-protection"
	KindRolePolicy         = "role-policy"
	KindDesiredCount       = "desired-count"
	KindTaskDefinition     = "task-definition"
)

// Kinds lists every kind of entry, in the order above.
var Kinds = []string{KindNACLEntry, KindSecurityGroups, KindStandby, KindTargetGroup, KindDrain,
	KindInstanceProtection, KindRolePolicy, KindDesiredCount, KindTaskDefinition}

// KeyPrefix is the partition-key prefix of ledger items in the incidents
// table.
const KeyPrefix = "ledger#"

// Key is the partition key of a case's ledger.
func Key(caseID string) string { return KeyPrefix + caseID }

// Entry is one change a containment action made, and how to undo it.
type Entry struct {
	// ID is deterministic for the change (see the ID functions), so a
	// retried action records it once.
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Step and Action are the playbook step and catalog action that made it.
	Step   string `json:"step"`
	Action string `json:"action"`
	// Resource is the ARN or id of what changed.
	Resource string `json:"resource"`
	// Data is the exact record that undoes the change (JSON object; its
	// shape is the kind's, see the *Data types).
	Data    json.RawMessage `json:"data"`
	AddedAt string          `json:"addedAt"`
	// RemovedAt and RemovedBy say when and by which step the change was
	// undone (or found gone); empty while it is in place.
	RemovedAt string `json:"removedAt,omitempty"`
	RemovedBy string `json:"removedBy,omitempty"`
}

// Removed reports whether the change was undone.
func (e Entry) Removed() bool { return e.RemovedAt != "" }

// Decode reads the entry's data into v.
func (e Entry) Decode(v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("ledger entry %s: data: %w", e.ID, err)
	}
	return nil
}

// New builds an entry whose data is v as JSON.
func New(id, kind, step, action, resource string, v any, at time.Time) (Entry, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Entry{}, fmt.Errorf("ledger entry %s: %w", id, err)
	}
	return Entry{ID: id, Kind: kind, Step: step, Action: action, Resource: resource, Data: b,
		AddedAt: at.UTC().Format(time.RFC3339Nano)}, nil
}

// NACLEntryData undoes a network ACL entry: DeleteNetworkAclEntry of
// RuleNumber in that direction, once the entry there is still this one.
type NACLEntryData struct {
	NetworkAclID string `json:"networkAclId"`
	RuleNumber   int32  `json:"ruleNumber"`
	Egress       bool   `json:"egress"`
	RuleAction   string `json:"ruleAction"` // deny
	Protocol     string `json:"protocol"`   // -1
	CidrBlock    string `json:"cidrBlock,omitempty"`
	Ipv6Block    string `json:"ipv6CidrBlock,omitempty"`
	// Address is the task's address the entry names; TaskArn and ENI the
	// task and ENI it was the address of.
	Address string `json:"address"`
	TaskArn string `json:"taskArn"`
	ENI     string `json:"networkInterfaceId"`
	VpcID   string `json:"vpcId"`
}

// NACLEntryID is the id of a network ACL entry: "nacl:<aclId>:<in|out>:<rule>".
func NACLEntryID(aclID string, egress bool, rule int32) string {
	dir := "in"
	if egress {
		dir = "out"
	}
	return fmt.Sprintf("nacl:%s:%s:%d", aclID, dir, rule)
}

// SecurityGroupsData undoes a security-group swap: put the ENI back on
// PreviousGroups (exactly, in this order).
type SecurityGroupsData struct {
	ENI             string   `json:"networkInterfaceId"`
	VpcID           string   `json:"vpcId"`
	InstanceID      string   `json:"instanceId,omitempty"`
	PreviousGroups  []string `json:"previousSecurityGroups"`
	QuarantineGroup string   `json:"quarantineGroupId"`
	// TransitGroup is the all-traffic group the ENI passed through (the
	// AWSSupport-ContainEC2Instance runbook's untracking step).
	TransitGroup string `json:"transitGroupId,omitempty"`
}

// SecurityGroupsID is the id of an ENI's group swap: "sg:<eniId>".
func SecurityGroupsID(eni string) string { return "sg:" + eni }

// StandbyData undoes EnterStandby: ExitStandby of the instance in the group.
type StandbyData struct {
	AutoScalingGroup string `json:"autoScalingGroupName"`
	InstanceID       string `json:"instanceId"`
	// PreviousState is the lifecycle state before (InService).
	PreviousState string `json:"previousLifecycleState"`
	// DecrementedDesiredCapacity is false: the group kept its capacity, so
	// ExitStandby raises it by one again (AWS does, unless the group's
	// maximum forbids it).
	DecrementedDesiredCapacity bool `json:"shouldDecrementDesiredCapacity"`
}

// StandbyID is "standby:<instanceId>".
func StandbyID(instance string) string { return "standby:" + instance }

// TargetGroupData undoes a deregistration: RegisterTargets of the target
// (id, port, availability zone) in the group.
type TargetGroupData struct {
	TargetGroupArn   string `json:"targetGroupArn"`
	TargetID         string `json:"targetId"`
	Port             int32  `json:"port,omitempty"`
	AvailabilityZone string `json:"availabilityZone,omitempty"`
	PreviousHealth   string `json:"previousHealth,omitempty"`
}

// TargetGroupID is "tg:<targetGroupArn>:<targetId>:<port>".
func TargetGroupID(arn, target string, port int32) string {
	return fmt.Sprintf("tg:%s:%s:%d", arn, target, port)
}

// DrainData undoes a drain: UpdateContainerInstancesState back to
// PreviousStatus.
type DrainData struct {
	Cluster              string `json:"cluster"`
	ContainerInstanceArn string `json:"containerInstanceArn"`
	PreviousStatus       string `json:"previousStatus"`
}

// DrainID is "drain:<containerInstanceArn>".
func DrainID(containerInstance string) string { return "drain:" + containerInstance }

// InstanceProtectionData undoes a protection: set Attribute back to Previous.
type InstanceProtectionData struct {
	InstanceID string `json:"instanceId"`
	// Attribute is disableApiTermination or disableApiStop.
	Attribute string `json:"attribute"`
	Previous  bool   `json:"previous"`
}

// InstanceProtectionID is "protect:<instanceId>:<attribute>".
func InstanceProtectionID(instance, attribute string) string {
	return "protect:" + instance + ":" + attribute
}

// RolePolicyData undoes an inline deny: DeleteRolePolicy of PolicyName on
// RoleName, or, when PreviousDocument is set (the run replaced another
// revocation), PutRolePolicy of that document.
type RolePolicyData struct {
	RoleName   string `json:"roleName"`
	RoleArn    string `json:"roleArn"`
	PolicyName string `json:"policyName"`
	Sid        string `json:"sid"`
	// Scope is task (aws:userid of one task's sessions) or role
	// (aws:TokenIssueTime of every older session).
	Scope            string `json:"scope"`
	Condition        string `json:"condition"`
	PreviousDocument string `json:"previousDocument,omitempty"`
}

// RolePolicyID is "role-policy:<roleName>:<policyName>".
func RolePolicyID(role, policy string) string { return "role-policy:" + role + ":" + policy }

// DesiredCountData undoes a service scaled by irflow: UpdateService back to
// Previous, once the service's desired count is still DesiredCount (the
// count irflow set); anything else means someone changed it since.
type DesiredCountData struct {
	Cluster      string `json:"cluster"`
	Service      string `json:"service"`
	ServiceArn   string `json:"serviceArn"`
	Previous     int32  `json:"previousDesiredCount"`
	DesiredCount int32  `json:"desiredCount"`
}

// DesiredCountID is "desired-count:<serviceArn>".
func DesiredCountID(serviceArn string) string { return "desired-count:" + serviceArn }

// TaskDefinitionData undoes a service pin-service rolled back: UpdateService
// taskDefinition=Previous, once the service still runs Pinned (the
// revision irflow set); anything else means someone deployed since.
type TaskDefinitionData struct {
	Cluster    string `json:"cluster"`
	Service    string `json:"service"`
	ServiceArn string `json:"serviceArn"`
	Previous   string `json:"previousTaskDefinition"`
	Pinned     string `json:"taskDefinition"`
}

// TaskDefinitionID is "task-definition:<serviceArn>".
func TaskDefinitionID(serviceArn string) string { return "task-definition:" + serviceArn }
