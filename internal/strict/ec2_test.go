package strict

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// fakeENIs gives the fake a subnet with three ENIs moto placed in it: the
// account's own (eni-own) and the ENIs of the EC2 task (eni-e) and the
// Fargate task (eni-f) of fakeTasks, marked "moto ECS".
func fakeENIs(f *fakeMoto) *fakeEC2 {
	fe := &fakeEC2{subnets: map[string]string{"subnet-1": "10.0.0.0/24"}, enis: []*fakeENI{
		{ID: "eni-own", Subnet: "subnet-1", Addr: "10.0.0.9"},
		{ID: "eni-e", Subnet: "subnet-1", Addr: "10.0.0.10", Desc: motoECSDescription},
		{ID: "eni-f", Subnet: "subnet-1", Addr: "10.0.0.11", Desc: motoECSDescription},
	}}
	fe.install(f)
	return fe
}

// TestRequesterManagedENI: ECS task ENIs (moto's "moto ECS" mark) refuse
// every change but tags with EC2's AuthFailure; DescribeNetworkInterfaces
// shows them requester-managed with the ECS attachment; the account's own
// ENIs are untouched.
func TestRequesterManagedENI(t *testing.T) {
	f := newFakeMoto(t)
	fakeTasks(f)
	fakeENIs(f)
	l, u := serve(t, f.srv.URL, Config{})
	c := ec2.NewFromConfig(sdk(u))
	_, err := c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String("eni-f"), Groups: []string{"sg-quarantine"}})
	wantRefused(t, l, err, http.StatusBadRequest, "AuthFailure", ruleRequesterManaged.id)
	_, err = c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String("eni-e")})
	wantRefused(t, l, err, http.StatusBadRequest, "AuthFailure", ruleRequesterManaged.id)
	_, err = c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: aws.String(synthAttachment("eni-f"))})
	wantRefused(t, l, err, http.StatusBadRequest, "AuthFailure", ruleRequesterManaged.id)
	if f.saw("ModifyNetworkInterfaceAttribute")+f.saw("DeleteNetworkInterface")+f.saw("DetachNetworkInterface") != 0 {
		t.Error("a refused change reached moto")
	}
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"eni-f"}, Tags: []ec2types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Errorf("tagging a requester-managed ENI: %v", err)
	}
	if _, err := c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String("eni-own"), Groups: []string{"sg-2"}}); err != nil {
		t.Errorf("changing the account's own ENI: %v", err)
	}

	out, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-f", "eni-e", "eni-own"}})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]ec2types.NetworkInterface{}
	for _, ni := range out.NetworkInterfaces {
		byID[aws.ToString(ni.NetworkInterfaceId)] = ni
	}
	tests := []struct {
		eni, owner, instance string
	}{
		{"eni-f", DefaultFargateOwnerID, ""},
		{"eni-e", "123456789012", "i-1"},
	}
	for _, tt := range tests {
		ni := byID[tt.eni]
		att := ni.Attachment
		if !aws.ToBool(ni.RequesterManaged) || aws.ToString(ni.RequesterId) != DefaultECSRequesterID ||
			aws.ToString(ni.Description) != "arn:aws:ecs:us-east-1:123456789012:attachment/att-"+tt.eni ||
			att == nil || aws.ToString(att.AttachmentId) != synthAttachment(tt.eni) || aws.ToInt32(att.DeviceIndex) != 1 ||
			aws.ToBool(att.DeleteOnTermination) || att.Status != ec2types.AttachmentStatusAttached ||
			aws.ToString(att.InstanceOwnerId) != tt.owner || aws.ToString(att.InstanceId) != tt.instance || att.AttachTime == nil {
			t.Errorf("%s shown as %+v, attachment %+v", tt.eni, ni, att)
		}
		if len(ni.Groups) != 1 || aws.ToString(ni.PrivateIpAddress) != map[string]string{"eni-e": "10.0.0.10", "eni-f": "10.0.0.11"}[tt.eni] {
			t.Errorf("%s lost moto's fields: %+v", tt.eni, ni)
		}
	}
	if own := byID["eni-own"]; aws.ToBool(own.RequesterManaged) || own.Attachment != nil {
		t.Errorf("the account's own ENI rewritten: %+v", own)
	}
}

// TestTrunkENI: an ENI the world registers as ECS's trunk refuses changes
// and shows interfaceType trunk.
func TestTrunkENI(t *testing.T) {
	f := newFakeMoto(t)
	fakeENIs(f)
	l, u := serve(t, f.srv.URL, Config{})
	if err := NewClient(u).RegisterWorld(ctx, World{TrunkENIs: []string{"eni-own"}}); err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(sdk(u))
	_, err := c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String("eni-own"),
		SourceDestCheck: &ec2types.AttributeBooleanValue{Value: aws.Bool(false)}})
	wantRefused(t, l, err, http.StatusBadRequest, "AuthFailure", ruleRequesterManaged.id)
	out, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-own"}})
	if err != nil || out.NetworkInterfaces[0].InterfaceType != ec2types.NetworkInterfaceTypeTrunk || !aws.ToBool(out.NetworkInterfaces[0].RequesterManaged) {
		t.Errorf("trunk ENI shown as %+v %v", out, err)
	}
}

// TestQuotasWithoutLookups: rule numbers outside 1-32766 and more than five
// security groups on an ENI are EC2's own errors.
func TestQuotasWithoutLookups(t *testing.T) {
	f := newFakeMoto(t)
	fakeENIs(f)
	l, u := serve(t, f.srv.URL, Config{})
	c := ec2.NewFromConfig(sdk(u))
	six := []string{"sg-1", "sg-2", "sg-3", "sg-4", "sg-5", "sg-6"}
	_, err := c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String("eni-own"), Groups: six})
	wantRefused(t, l, err, http.StatusBadRequest, "SecurityGroupsPerInterfaceLimitExceeded", ruleGroupsPerENI.id)
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String("i-1"), Groups: six})
	wantRefused(t, l, err, http.StatusBadRequest, "SecurityGroupsPerInterfaceLimitExceeded", ruleGroupsPerENI.id)
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String("i-1"), Groups: six[:5]}); err != nil {
		t.Errorf("five groups: %v", err)
	}
	for _, n := range []int32{0, 32767, 40000} {
		_, err = c.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String("acl-1"), RuleNumber: aws.Int32(n),
			Protocol: aws.String("-1"), RuleAction: ec2types.RuleActionDeny, Egress: aws.Bool(false), CidrBlock: aws.String("10.0.0.0/8")})
		wantRefused(t, l, err, http.StatusBadRequest, "InvalidParameterValue", ruleNACLRuleNumber.id)
	}
	if f.saw("CreateNetworkAclEntry") != 0 {
		t.Error("a refused ACL entry reached moto")
	}
}
