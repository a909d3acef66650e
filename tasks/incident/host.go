package incident

import (
	"fmt"
	"regexp"
	"strings"
)

// ResourceInstance is a finding's resource type when GuardDuty Runtime
// Monitoring saw the activity on an EC2 instance rather than in a task it
// could name: an escape that reached the host, a process outside every
// container. On an ECS container instance the finding also carries
// resource.ecsClusterDetails (the cluster, no taskDetails). Resource:
// https://docs.aws.amazon.com/guardduty/latest/APIReference/API_Resource.html;
// the resource types: https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-summary.html.
const ResourceInstance = "Instance"

// instanceIDRE is an EC2 instance id (i- and 8 or 17 hex digits).
var instanceIDRE = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

// HostLockPrefix keys the dedupe lock of a host finding's container
// instance, as TaskLockPrefix keys a task's.
const HostLockPrefix = "host#"

// LockKey is the partition key of the incident's dedupe lock: its task's,
// or for a host finding its EC2 instance's (every task on the host is in
// that one case).
func (inc *Incident) LockKey() string {
	if inc.IsHost() {
		return HostLockPrefix + inc.InstanceArn()
	}
	return TaskLockKey(inc.TaskArn)
}

// IsHost reports whether the incident is about a container instance (a
// GuardDuty finding of resource type Instance), not one task.
func (inc *Incident) IsHost() bool { return inc.ResourceType == ResourceInstance }

// InstanceArn is the host's EC2 instance ARN ("" for a task incident).
func (inc *Incident) InstanceArn() string {
	if inc.InstanceID == "" {
		return ""
	}
	return fmt.Sprintf("arn:%s:ec2:%s:%s:instance/%s", inc.Partition, inc.Region, inc.Account, inc.InstanceID)
}

// fromHostFinding normalizes a Runtime Monitoring finding about an EC2
// instance: the instance id is required; the account, region and
// partition come from the finding (there is no task ARN to read them
// from); the cluster from resource.ecsClusterDetails when GuardDuty names
// it (resolve-target otherwise looks for the instance in every cluster).
// The incident names no task: resolve-target finds the container instance
// and the tasks running on it.
func fromHostFinding(detail, res map[string]any, exec Execution) (*Incident, error) {
	const idField = "detail.resource.instanceDetails"
	idm, ok := res["instanceDetails"].(map[string]any)
	if !ok {
		return nil, fieldErr(idField, "must be an object: a finding about an instance names it")
	}
	id, err := str(idm, "instanceId", true)
	if err != nil {
		return nil, prefixed(idField, err)
	}
	if !instanceIDRE.MatchString(id) {
		return nil, fieldErr(idField+".instanceId", "%q is not an EC2 instance id", clip(id))
	}
	acct, err := str(detail, "accountId", true)
	if err != nil {
		return nil, prefixed("detail", err)
	}
	if !accountRE.MatchString(acct) {
		return nil, fieldErr("detail.accountId", "must be 12 digits")
	}
	region, err := str(detail, "region", true)
	if err != nil {
		return nil, prefixed("detail", err)
	}
	partition, err := str(detail, "partition", false)
	if err != nil {
		return nil, prefixed("detail", err)
	}
	if partition == "" {
		partition = "aws"
	}
	// The same checks a task ARN of that partition and region would pass.
	if _, perr := ParseTaskARN(fmt.Sprintf("arn:%s:ecs:%s:%s:task/c/%s", partition, region, acct, strings.Repeat("0", 32))); perr != nil {
		return nil, fieldErr("detail.region", "%v", perr)
	}
	f, ferr := finding(detail)
	if ferr != nil {
		return nil, ferr
	}
	// Only Runtime Monitoring sees inside an instance's containers; every
	// one of its finding types is <purpose>:Runtime/<name> ("GuardDuty
	// Runtime Monitoring finding types",
	// https://docs.aws.amazon.com/guardduty/latest/ug/findings-runtime-monitoring.html).
	// Other Instance findings (Recon:EC2/PortProbeUnprotectedPort,
	// UnauthorizedAccess:EC2/SSHBruteForce, ...) come from flow logs, DNS
	// and CloudTrail and say nothing of the host's tasks: acting on every
	// task of a host on one of them would be out of proportion, so they are
	// refused here even when an EventBridge rule routes them.
	if !strings.Contains(f.Type, ":Runtime/") {
		return nil, fieldErr("detail.type", "%q is not a Runtime Monitoring finding (<purpose>:Runtime/<name>): irflow takes instance findings only from Runtime Monitoring", clip(f.Type))
	}
	inc := &Incident{Source: SourceGuardDuty, LaunchType: "EC2", Finding: f, ResourceType: ResourceInstance, InstanceID: id,
		Reason: "GuardDuty " + f.Type + " on instance " + id, RequestedBy: "aws.guardduty",
		Region: region, Account: acct, Partition: partition}
	if ecs, ok := res["ecsClusterDetails"].(map[string]any); ok {
		if inc.ClusterArn, err = hostCluster(ecs, inc); err != nil {
			return nil, err
		}
	}
	inc.CaseID = clipID("gd-" + f.ID)
	inc.ReceivedAt = received(exec)
	return inc, nil
}

// hostCluster is the cluster ARN resource.ecsClusterDetails names (its arn,
// else its name), in the finding's account and region.
func hostCluster(ecs map[string]any, inc *Incident) (string, *FieldError) {
	const field = "detail.resource.ecsClusterDetails"
	arn, err := str(ecs, "arn", false)
	if err != nil {
		return "", prefixed(field, err)
	}
	name, err := str(ecs, "name", false)
	if err != nil {
		return "", prefixed(field, err)
	}
	if arn == "" && name == "" {
		return "", nil
	}
	want := fmt.Sprintf("arn:%s:ecs:%s:%s:cluster/", inc.Partition, inc.Region, inc.Account)
	if arn == "" {
		arn = want + name
	}
	cluster, ok := strings.CutPrefix(arn, want)
	if !ok || !clusterRE.MatchString(cluster) || name != "" && name != cluster {
		return "", fieldErr(field+".arn", "%q is not a cluster of account %s in %s named %q", clip(arn), inc.Account, inc.Region, clip(name))
	}
	return arn, nil
}

// AdmitHost refuses a host incident (a finding on a container instance)
// unless the playbook takes them (resolve-target's with.hostFindings).
func AdmitHost(inc *Incident, allowed bool) error {
	if !inc.IsHost() || allowed {
		return nil
	}
	return &FieldError{Field: "detail.resource.resourceType", Message: fmt.Sprintf(
		"a finding on container instance %s (resourceType Instance): this playbook does not take host findings (resolve-target with.hostFindings is false)", inc.InstanceID)}
}
