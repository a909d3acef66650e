package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/ledger"
)

// securityGroups puts an ENI back on exactly its recorded groups, once it
// is still on irflow's quarantine (or transit) group. Any other group set
// means someone changed the ENI since: refused.
func (r *run) securityGroups(ctx context.Context, d ledger.SecurityGroupsData) error {
	if len(d.PreviousGroups) == 0 {
		return refuse("ENI %s: the ledger records no previous groups to put back", d.ENI)
	}
	out, err := r.h.EC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{d.ENI}})
	switch {
	case apiCode(err) == "InvalidNetworkInterfaceID.NotFound":
		return refuse("ENI %s no longer exists: nothing to put its groups %s back on", d.ENI, strings.Join(d.PreviousGroups, ","))
	case err != nil:
		return contract.AWSError("ec2:DescribeNetworkInterfaces "+d.ENI, err)
	case len(out.NetworkInterfaces) == 0:
		return refuse("ENI %s no longer exists: nothing to put its groups %s back on", d.ENI, strings.Join(d.PreviousGroups, ","))
	}
	var now []string
	for _, g := range out.NetworkInterfaces[0].Groups {
		now = append(now, aws.ToString(g.GroupId))
	}
	r.groups[d.QuarantineGroup] = true
	if d.TransitGroup != "" {
		r.groups[d.TransitGroup] = true
	}
	switch {
	case sameSet(now, d.PreviousGroups):
		return gone("ENI %s already has its original groups %s", d.ENI, strings.Join(d.PreviousGroups, ","))
	case !onIrflowGroup(now, d):
		return refuse("ENI %s has groups %s now, not irflow's quarantine group %s: changed since isolation, left alone (its original groups were %s)",
			d.ENI, strings.Join(now, ","), d.QuarantineGroup, strings.Join(d.PreviousGroups, ","))
	}
	if r.dry {
		r.moving[d.ENI] = true
		return nil
	}
	// ModifyNetworkInterfaceAttribute replaces the ENI's whole group set
	// (API reference, ModifyNetworkInterfaceAttribute: "Groups ... You must
	// specify the ID of at least one security group, even if it's just the
	// default security group in the VPC").
	if _, err := r.h.EC2.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{
		NetworkInterfaceId: aws.String(d.ENI), Groups: d.PreviousGroups}); err != nil {
		return contract.AWSError("ec2:ModifyNetworkInterfaceAttribute "+d.ENI+" groups="+strings.Join(d.PreviousGroups, ","), err)
	}
	return nil
}

// onIrflowGroup reports whether the ENI is still where isolation put it:
// on irflow's quarantine (or transit) group, with no group besides those
// and its recorded originals. In AWS the set is exactly the quarantine
// group; moto reports an instance's primary ENI with the instance's launch
// groups added (NetworkInterface.group_set in moto/ec2), which are among
// the originals. Any other group was put there by someone else.
func onIrflowGroup(now []string, d ledger.SecurityGroupsData) bool {
	ok := map[string]bool{d.QuarantineGroup: true}
	if d.TransitGroup != "" {
		ok[d.TransitGroup] = true
	}
	on := false
	for _, g := range now {
		if ok[g] {
			on = true
		}
	}
	for _, g := range d.PreviousGroups {
		ok[g] = true
	}
	for _, g := range now {
		if !ok[g] {
			return false
		}
	}
	return on
}

// sameSet compares two group lists as sets.
func sameSet(a, b []string) bool {
	set := func(l []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range l {
			m[x] = true
		}
		return m
	}
	sa, sb := set(a), set(b)
	if len(sa) != len(sb) {
		return false
	}
	for x := range sa {
		if !sb[x] {
			return false
		}
	}
	return true
}

// naclEntry deletes irflow's deny entry, once the entry at that number is
// still it. A network ACL entry has no id but its number and direction
// (DeleteNetworkAclEntry takes NetworkAclId, RuleNumber and Egress), so
// another rule written there since is someone else's and stays.
func (r *run) naclEntry(ctx context.Context, d ledger.NACLEntryData) error {
	out, err := r.h.EC2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{d.NetworkAclID}})
	switch {
	case apiCode(err) == "InvalidNetworkAclID.NotFound":
		return gone("network ACL %s no longer exists, and its entries with it", d.NetworkAclID)
	case err != nil:
		return contract.AWSError("ec2:DescribeNetworkAcls "+d.NetworkAclID, err)
	case len(out.NetworkAcls) == 0:
		return gone("network ACL %s no longer exists, and its entries with it", d.NetworkAclID)
	}
	dir := map[bool]string{false: "inbound", true: "outbound"}[d.Egress]
	var found *ec2types.NetworkAclEntry
	for i, e := range out.NetworkAcls[0].Entries {
		if aws.ToBool(e.Egress) == d.Egress && aws.ToInt32(e.RuleNumber) == d.RuleNumber {
			found = &out.NetworkAcls[0].Entries[i]
		}
	}
	switch {
	case found == nil:
		return gone("no %s entry %d in %s any more", dir, d.RuleNumber, d.NetworkAclID)
	case found.RuleAction != ec2types.RuleActionDeny || aws.ToString(found.CidrBlock) != d.CidrBlock || aws.ToString(found.Ipv6CidrBlock) != d.Ipv6Block:
		return gone("%s entry %d in %s is another rule now (%s %s%s): irflow's deny is gone, that rule is left alone",
			dir, d.RuleNumber, d.NetworkAclID, found.RuleAction, aws.ToString(found.CidrBlock), aws.ToString(found.Ipv6CidrBlock))
	}
	if r.dry {
		return nil
	}
	_, err = r.h.EC2.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(d.NetworkAclID),
		RuleNumber: aws.Int32(d.RuleNumber), Egress: aws.Bool(d.Egress)})
	switch {
	case apiCode(err) == "InvalidNetworkAclEntry.NotFound":
		return gone("%s entry %d in %s removed meanwhile", dir, d.RuleNumber, d.NetworkAclID)
	case err != nil:
		return contract.AWSError(fmt.Sprintf("ec2:DeleteNetworkAclEntry %s %s rule %d", d.NetworkAclID, dir, d.RuleNumber), err)
	}
	return nil
}

// standby takes the instance out of standby. ExitStandby puts it back in
// service and raises the group's desired capacity by one again (API
// reference, ExitStandby: "After you put the instances back in service,
// the desired capacity is incremented"), which is what protect-instance's
// EnterStandby without decrement took away.
func (r *run) standby(ctx context.Context, d ledger.StandbyData) error {
	out, err := r.h.ASG.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{d.InstanceID}})
	if err != nil {
		return contract.AWSError("autoscaling:DescribeAutoScalingInstances "+d.InstanceID, err)
	}
	if len(out.AutoScalingInstances) == 0 {
		return refuse("instance %s is no longer in an Auto Scaling group (it was in %s)", d.InstanceID, d.AutoScalingGroup)
	}
	in := out.AutoScalingInstances[0]
	state := aws.ToString(in.LifecycleState)
	switch {
	case aws.ToString(in.AutoScalingGroupName) != d.AutoScalingGroup:
		return refuse("instance %s is in group %s now, not %s", d.InstanceID, aws.ToString(in.AutoScalingGroupName), d.AutoScalingGroup)
	case state == "InService" || strings.HasPrefix(state, "Pending"):
		return gone("instance %s is %s in %s already", d.InstanceID, state, d.AutoScalingGroup)
	case state != "Standby":
		return refuse("instance %s is %s in %s, not Standby: left alone", d.InstanceID, state, d.AutoScalingGroup)
	}
	if r.dry {
		return nil
	}
	if _, err := r.h.ASG.ExitStandby(ctx, &autoscaling.ExitStandbyInput{AutoScalingGroupName: aws.String(d.AutoScalingGroup),
		InstanceIds: []string{d.InstanceID}}); err != nil {
		return contract.AWSError("autoscaling:ExitStandby "+d.InstanceID+" in "+d.AutoScalingGroup, err)
	}
	return nil
}

// targetGroup registers the target again, with its recorded port and zone.
// RegisterTargets of a target already registered changes nothing.
func (r *run) targetGroup(ctx context.Context, d ledger.TargetGroupData) error {
	if r.dry {
		return nil
	}
	t := elbtypes.TargetDescription{Id: aws.String(d.TargetID)}
	if d.Port != 0 {
		t.Port = aws.Int32(d.Port)
	}
	if d.AvailabilityZone != "" {
		t.AvailabilityZone = aws.String(d.AvailabilityZone)
	}
	_, err := r.h.ELB.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(d.TargetGroupArn), Targets: []elbtypes.TargetDescription{t}})
	switch apiCode(err) {
	case "":
		if err != nil {
			return contract.AWSError("elasticloadbalancing:RegisterTargets "+d.TargetGroupArn, err)
		}
		return nil
	case "TargetGroupNotFound":
		return refuse("target group %s no longer exists", d.TargetGroupArn)
	case "InvalidTarget":
		return refuse("target %s cannot be registered in %s any more (%v)", d.TargetID, d.TargetGroupArn, err)
	}
	return contract.AWSError("elasticloadbalancing:RegisterTargets "+d.TargetGroupArn, err)
}

// drain puts the container instance back to its recorded status (ACTIVE),
// once it is still DRAINING.
func (r *run) drain(ctx context.Context, d ledger.DrainData) error {
	in := &ecs.DescribeContainerInstancesInput{ContainerInstances: []string{d.ContainerInstanceArn}}
	if d.Cluster != "" {
		in.Cluster = aws.String(d.Cluster)
	}
	out, err := r.h.ECS.DescribeContainerInstances(ctx, in)
	if err != nil {
		return contract.AWSError("ecs:DescribeContainerInstances "+d.ContainerInstanceArn, err)
	}
	if len(out.ContainerInstances) == 0 {
		return refuse("container instance %s is no longer registered", d.ContainerInstanceArn)
	}
	prev := d.PreviousStatus
	if prev == "" {
		prev = "ACTIVE"
	}
	switch st := aws.ToString(out.ContainerInstances[0].Status); st {
	case prev:
		return gone("container instance %s is %s already", d.ContainerInstanceArn, st)
	case "DRAINING":
	default:
		return refuse("container instance %s is %s, not DRAINING: left alone", d.ContainerInstanceArn, st)
	}
	if r.dry {
		return nil
	}
	up := &ecs.UpdateContainerInstancesStateInput{ContainerInstances: []string{d.ContainerInstanceArn}, Status: ecstypes.ContainerInstanceStatus(prev)}
	if d.Cluster != "" {
		up.Cluster = aws.String(d.Cluster)
	}
	res, err := r.h.ECS.UpdateContainerInstancesState(ctx, up)
	if err != nil {
		return contract.AWSError("ecs:UpdateContainerInstancesState "+d.ContainerInstanceArn, err)
	}
	if len(res.Failures) > 0 {
		return refuse("container instance %s: %s", d.ContainerInstanceArn, aws.ToString(res.Failures[0].Reason))
	}
	return nil
}

// protection sets termination or stop protection back to its recorded value.
func (r *run) protection(ctx context.Context, d ledger.InstanceProtectionData) error {
	var attr ec2types.InstanceAttributeName
	switch d.Attribute {
	case "disableApiTermination":
		attr = ec2types.InstanceAttributeNameDisableApiTermination
	case "disableApiStop":
		attr = ec2types.InstanceAttributeNameDisableApiStop
	default:
		return refuse("unknown instance attribute %q", d.Attribute)
	}
	out, err := r.h.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(d.InstanceID), Attribute: attr})
	switch {
	case apiCode(err) == "InvalidInstanceID.NotFound":
		return refuse("instance %s no longer exists", d.InstanceID)
	case err != nil:
		return contract.AWSError("ec2:DescribeInstanceAttribute "+d.InstanceID+" "+d.Attribute, err)
	}
	var now *ec2types.AttributeBooleanValue
	if attr == ec2types.InstanceAttributeNameDisableApiTermination {
		now = out.DisableApiTermination
	} else {
		now = out.DisableApiStop
	}
	if now != nil && aws.ToBool(now.Value) == d.Previous {
		return gone("instance %s has %s=%t already", d.InstanceID, d.Attribute, d.Previous)
	}
	if r.dry {
		return nil
	}
	in := &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(d.InstanceID)}
	v := &ec2types.AttributeBooleanValue{Value: aws.Bool(d.Previous)}
	if attr == ec2types.InstanceAttributeNameDisableApiTermination {
		in.DisableApiTermination = v
	} else {
		in.DisableApiStop = v
	}
	if _, err := r.h.EC2.ModifyInstanceAttribute(ctx, in); err != nil {
		return contract.AWSError("ec2:ModifyInstanceAttribute "+d.InstanceID+" "+d.Attribute, err)
	}
	return nil
}

// rolePolicy removes irflow's statement (by its Sid) from the role's
// inline policy and keeps every other statement: a policy left with none
// is deleted (DeleteRolePolicy), or, when the run replaced another
// revocation, that document is put back (PutRolePolicy replaces an inline
// policy of the same name). IAM returns documents URL-encoded (GetRolePolicy:
// "Policy documents returned by this operation are URL-encoded compliant
// with RFC 3986").
func (r *run) rolePolicy(ctx context.Context, d ledger.RolePolicyData) error {
	out, err := r.h.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(d.RoleName), PolicyName: aws.String(d.PolicyName)})
	switch {
	case apiCode(err) == "NoSuchEntity":
		return gone("role %s has no inline policy %s any more", d.RoleName, d.PolicyName)
	case err != nil:
		return contract.AWSError("iam:GetRolePolicy "+d.PolicyName+" of role "+d.RoleName, err)
	}
	doc := aws.ToString(out.PolicyDocument)
	if dec, err := url.PathUnescape(doc); err == nil && !strings.HasPrefix(strings.TrimSpace(doc), "{") {
		doc = dec
	}
	var policy map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &policy); err != nil {
		return refuse("role %s: inline policy %s is not JSON irflow can read: left alone", d.RoleName, d.PolicyName)
	}
	raw := policy["Statement"]
	var stmts []json.RawMessage
	if t := strings.TrimSpace(string(raw)); strings.HasPrefix(t, "{") {
		stmts = []json.RawMessage{raw}
	} else if err := json.Unmarshal(raw, &stmts); err != nil {
		return refuse("role %s: inline policy %s has no statements irflow can read: left alone", d.RoleName, d.PolicyName)
	}
	var keep []json.RawMessage
	ours := 0
	for _, s := range stmts {
		var id struct{ Sid string }
		_ = json.Unmarshal(s, &id)
		if d.Sid != "" && id.Sid == d.Sid {
			ours++
			continue
		}
		keep = append(keep, s)
	}
	if ours == 0 {
		return gone("role %s: inline policy %s no longer holds irflow's statement %s (a later statement replaced it and stays)", d.RoleName, d.PolicyName, d.Sid)
	}
	if r.dry {
		return nil
	}
	var put string
	switch {
	case len(keep) > 0:
		policy["Statement"], _ = json.Marshal(keep)
		b, _ := json.Marshal(policy)
		put = string(b)
	case d.PreviousDocument != "":
		put = d.PreviousDocument
	}
	if put == "" {
		_, err = r.h.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(d.RoleName), PolicyName: aws.String(d.PolicyName)})
		if apiCode(err) == "NoSuchEntity" {
			return nil
		}
		if err != nil {
			return contract.AWSError("iam:DeleteRolePolicy "+d.PolicyName+" of role "+d.RoleName, err)
		}
		return nil
	}
	if _, err := r.h.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(d.RoleName), PolicyName: aws.String(d.PolicyName),
		PolicyDocument: aws.String(put)}); err != nil {
		return contract.AWSError("iam:PutRolePolicy "+d.PolicyName+" on role "+d.RoleName, err)
	}
	return nil
}

// desiredCount restores the service's recorded desired count, once it is
// still the count irflow set: any other count was set by someone since
// (a deploy, auto scaling, a responder), and irflow will not overrule it.
func (r *run) desiredCount(ctx context.Context, d ledger.DesiredCountData) error {
	svc, err := r.service(ctx, d.ServiceArn, d.Cluster, d.Service)
	if err != nil {
		return err
	}
	now := svc.DesiredCount
	switch {
	case now == d.Previous:
		return gone("service %s has desired count %d already", d.Service, now)
	case now != d.DesiredCount:
		return refuse("service %s has desired count %d now, not the %d irflow set: changed since, left alone (it was %d before containment)",
			d.Service, now, d.DesiredCount, d.Previous)
	}
	if r.dry {
		return nil
	}
	return r.updateService(ctx, d.Cluster, d.Service, &ecs.UpdateServiceInput{Service: aws.String(d.ServiceArn), DesiredCount: aws.Int32(d.Previous)})
}

// taskDefinition puts a service pin-service rolled back on the revision it
// ran before, while it still runs the revision irflow pinned. Changing
// the task definition starts a new deployment
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html);
// a service someone deployed since, or one gone, is refused.
func (r *run) taskDefinition(ctx context.Context, d ledger.TaskDefinitionData) error {
	svc, err := r.service(ctx, d.ServiceArn, d.Cluster, d.Service)
	if err != nil {
		return err
	}
	now := aws.ToString(svc.TaskDefinition)
	switch {
	case now == d.Previous:
		return gone("service %s runs %s already", d.Service, now)
	case now != d.Pinned:
		return refuse("service %s runs %s now, not %s that irflow pinned: deployed since, left alone (it ran %s before containment)",
			d.Service, now, d.Pinned, d.Previous)
	}
	if r.dry {
		return nil
	}
	return r.updateService(ctx, d.Cluster, d.Service, &ecs.UpdateServiceInput{Service: aws.String(d.ServiceArn), TaskDefinition: aws.String(d.Previous)})
}

// service is the service as ECS describes it now; one gone (none, or
// INACTIVE) is refused.
func (r *run) service(ctx context.Context, arn, cluster, name string) (ecstypes.Service, error) {
	in := &ecs.DescribeServicesInput{Services: []string{arn}}
	if cluster != "" {
		in.Cluster = aws.String(cluster)
	}
	out, err := r.h.ECS.DescribeServices(ctx, in)
	if err != nil {
		return ecstypes.Service{}, contract.AWSError("ecs:DescribeServices "+arn, err)
	}
	if len(out.Services) == 0 || aws.ToString(out.Services[0].Status) == "INACTIVE" {
		return ecstypes.Service{}, refuse("service %s no longer exists", name)
	}
	return out.Services[0], nil
}

// updateService sends up in the service's cluster.
func (r *run) updateService(ctx context.Context, cluster, name string, up *ecs.UpdateServiceInput) error {
	if cluster != "" {
		up.Cluster = aws.String(cluster)
	}
	if _, err := r.h.ECS.UpdateService(ctx, up); err != nil {
		return contract.AWSError("ecs:UpdateService "+name, err)
	}
	return nil
}
