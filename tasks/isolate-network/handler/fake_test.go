package handler

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/irflow/irflow/internal/faketags"
	"github.com/irflow/irflow/tasks/ledger"
)

// fakeEC2 is a function-field fake of the EC2 interfaces and the ledger.
// newFake wires the fields to a small in-memory VPC; tests replace fields
// to inject faults. calls lists every call in order, ledger appends as
// "LedgerAppend".
type fakeEC2 struct {
	describeNIs          func(*ec2.DescribeNetworkInterfacesInput) (*ec2.DescribeNetworkInterfacesOutput, error)
	createTags           func(*ec2.CreateTagsInput) (*ec2.CreateTagsOutput, error)
	modifyNI             func(*ec2.ModifyNetworkInterfaceAttributeInput) (*ec2.ModifyNetworkInterfaceAttributeOutput, error)
	describeSGs          func(*ec2.DescribeSecurityGroupsInput) (*ec2.DescribeSecurityGroupsOutput, error)
	createSG             func(*ec2.CreateSecurityGroupInput) (*ec2.CreateSecurityGroupOutput, error)
	authorizeEgress      func(*ec2.AuthorizeSecurityGroupEgressInput) (*ec2.AuthorizeSecurityGroupEgressOutput, error)
	authorizeIngress     func(*ec2.AuthorizeSecurityGroupIngressInput) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	revokeEgress         func(*ec2.RevokeSecurityGroupEgressInput) (*ec2.RevokeSecurityGroupEgressOutput, error)
	revokeIngress        func(*ec2.RevokeSecurityGroupIngressInput) (*ec2.RevokeSecurityGroupIngressOutput, error)
	describeVpcEndpoints func(*ec2.DescribeVpcEndpointsInput) (*ec2.DescribeVpcEndpointsOutput, error)
	describePrefixLists  func(*ec2.DescribePrefixListsInput) (*ec2.DescribePrefixListsOutput, error)
	describeACLs         func(*ec2.DescribeNetworkAclsInput) (*ec2.DescribeNetworkAclsOutput, error)
	createACLEntry       func(*ec2.CreateNetworkAclEntryInput) (*ec2.CreateNetworkAclEntryOutput, error)
	appendLedger         func(entries []ledger.Entry) error

	calls  []string
	ledger []ledger.Entry
	modify []string   // "<eni>=<group>" per ModifyNetworkInterfaceAttribute
	mu     sync.Mutex // calls come in parallel: each holds it but the two first reads (note)
}

var (
	_ eniAPI      = (*fakeEC2)(nil)
	_ groupAPI    = (*fakeEC2)(nil)
	_ endpointAPI = (*fakeEC2)(nil)
	_ naclAPI     = (*fakeEC2)(nil)
	_ ledgerAPI   = (*fakeEC2)(nil)
)

// mutating are the calls a dry run or a failed precondition must never make.
var mutating = map[string]bool{"CreateTags": true, "ModifyNetworkInterfaceAttribute": true, "CreateSecurityGroup": true,
	"AuthorizeSecurityGroupEgress": true, "AuthorizeSecurityGroupIngress": true, "RevokeSecurityGroupEgress": true,
	"RevokeSecurityGroupIngress": true, "CreateNetworkAclEntry": true, "LedgerAppend": true}

// note records a call that may come in parallel with others.
func (f *fakeEC2) note(call string) {
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.mu.Unlock()
}

func (f *fakeEC2) mutations() []string {
	var out []string
	for _, c := range f.calls {
		if mutating[c] {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeEC2) count(call string) int {
	n := 0
	for _, c := range f.calls {
		if c == call {
			n++
		}
	}
	return n
}

func (f *fakeEC2) DescribeNetworkInterfaces(_ context.Context, in *ec2.DescribeNetworkInterfacesInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	f.note("DescribeNetworkInterfaces") // read while the network ACLs are
	return f.describeNIs(in)
}
func (f *fakeEC2) CreateTags(_ context.Context, in *ec2.CreateTagsInput, _ ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "CreateTags")
	return f.createTags(in)
}
func (f *fakeEC2) ModifyNetworkInterfaceAttribute(_ context.Context, in *ec2.ModifyNetworkInterfaceAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "ModifyNetworkInterfaceAttribute")
	f.modify = append(f.modify, aws.ToString(in.NetworkInterfaceId)+"="+strings.Join(in.Groups, ","))
	return f.modifyNI(in)
}
func (f *fakeEC2) DescribeSecurityGroups(_ context.Context, in *ec2.DescribeSecurityGroupsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "DescribeSecurityGroups")
	return f.describeSGs(in)
}
func (f *fakeEC2) CreateSecurityGroup(_ context.Context, in *ec2.CreateSecurityGroupInput, _ ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "CreateSecurityGroup")
	return f.createSG(in)
}
func (f *fakeEC2) AuthorizeSecurityGroupEgress(_ context.Context, in *ec2.AuthorizeSecurityGroupEgressInput, _ ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupEgressOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "AuthorizeSecurityGroupEgress")
	return f.authorizeEgress(in)
}
func (f *fakeEC2) AuthorizeSecurityGroupIngress(_ context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, _ ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "AuthorizeSecurityGroupIngress")
	return f.authorizeIngress(in)
}
func (f *fakeEC2) RevokeSecurityGroupEgress(_ context.Context, in *ec2.RevokeSecurityGroupEgressInput, _ ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "RevokeSecurityGroupEgress")
	return f.revokeEgress(in)
}
func (f *fakeEC2) RevokeSecurityGroupIngress(_ context.Context, in *ec2.RevokeSecurityGroupIngressInput, _ ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "RevokeSecurityGroupIngress")
	return f.revokeIngress(in)
}
func (f *fakeEC2) DescribeVpcEndpoints(_ context.Context, in *ec2.DescribeVpcEndpointsInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "DescribeVpcEndpoints")
	return f.describeVpcEndpoints(in)
}
func (f *fakeEC2) DescribePrefixLists(_ context.Context, in *ec2.DescribePrefixListsInput, _ ...func(*ec2.Options)) (*ec2.DescribePrefixListsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "DescribePrefixLists")
	return f.describePrefixLists(in)
}
func (f *fakeEC2) DescribeNetworkAcls(_ context.Context, in *ec2.DescribeNetworkAclsInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error) {
	f.note("DescribeNetworkAcls") // read while the ENIs are
	return f.describeACLs(in)
}
func (f *fakeEC2) CreateNetworkAclEntry(_ context.Context, in *ec2.CreateNetworkAclEntryInput, _ ...func(*ec2.Options)) (*ec2.CreateNetworkAclEntryOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "CreateNetworkAclEntry")
	return f.createACLEntry(in)
}
func (f *fakeEC2) Append(_ context.Context, caseID string, entries ...ledger.Entry) (*ledger.Ledger, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "LedgerAppend")
	if f.appendLedger != nil {
		if err := f.appendLedger(entries); err != nil {
			return nil, err
		}
	}
	for _, e := range entries {
		dup := false
		for _, old := range f.ledger {
			dup = dup || old.ID == e.ID
		}
		if !dup {
			f.ledger = append(f.ledger, e)
		}
	}
	return &ledger.Ledger{CaseID: caseID, Entries: f.ledger}, nil
}

// vpcState is the in-memory VPC newFake serves.
type vpcState struct {
	enis      map[string]*ec2types.NetworkInterface
	groups    map[string]*ec2types.SecurityGroup
	endpoints []ec2types.VpcEndpoint
	acls      []*ec2types.NetworkAcl
	nextID    int
}

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: code + " (fake)"} }

func filterValue(fs []ec2types.Filter, name string) string {
	for _, f := range fs {
		if aws.ToString(f.Name) == name && len(f.Values) > 0 {
			return f.Values[0]
		}
	}
	return ""
}

func newFake(s *vpcState) *fakeEC2 {
	f := &fakeEC2{}
	f.describeNIs = func(in *ec2.DescribeNetworkInterfacesInput) (*ec2.DescribeNetworkInterfacesOutput, error) {
		out := &ec2.DescribeNetworkInterfacesOutput{}
		for _, id := range in.NetworkInterfaceIds {
			ni, ok := s.enis[id]
			if !ok {
				return nil, apiErr("InvalidNetworkInterfaceID.NotFound")
			}
			out.NetworkInterfaces = append(out.NetworkInterfaces, *ni)
		}
		if inst := filterValue(in.Filters, "attachment.instance-id"); inst != "" {
			for _, ni := range s.enis {
				if ni.Attachment != nil && aws.ToString(ni.Attachment.InstanceId) == inst {
					out.NetworkInterfaces = append(out.NetworkInterfaces, *ni)
				}
			}
		}
		return out, nil
	}
	f.createTags = func(in *ec2.CreateTagsInput) (*ec2.CreateTagsOutput, error) {
		for _, id := range in.Resources {
			ni := s.enis[id]
			ni.TagSet = faketags.Apply(ni.TagSet, in.Tags, func(t ec2types.Tag) *string { return t.Key })
		}
		return &ec2.CreateTagsOutput{}, nil
	}
	f.modifyNI = func(in *ec2.ModifyNetworkInterfaceAttributeInput) (*ec2.ModifyNetworkInterfaceAttributeOutput, error) {
		ni := s.enis[aws.ToString(in.NetworkInterfaceId)]
		if aws.ToBool(ni.RequesterManaged) {
			return nil, apiErr("AuthFailure")
		}
		ni.Groups = nil
		for _, g := range in.Groups {
			ni.Groups = append(ni.Groups, ec2types.GroupIdentifier{GroupId: aws.String(g), GroupName: s.groups[g].GroupName})
		}
		return &ec2.ModifyNetworkInterfaceAttributeOutput{}, nil
	}
	f.describeSGs = func(in *ec2.DescribeSecurityGroupsInput) (*ec2.DescribeSecurityGroupsOutput, error) {
		out := &ec2.DescribeSecurityGroupsOutput{}
		for _, g := range s.groups {
			if aws.ToString(g.VpcId) == filterValue(in.Filters, "vpc-id") && aws.ToString(g.GroupName) == filterValue(in.Filters, "group-name") {
				out.SecurityGroups = append(out.SecurityGroups, *g)
			}
		}
		return out, nil
	}
	f.createSG = func(in *ec2.CreateSecurityGroupInput) (*ec2.CreateSecurityGroupOutput, error) {
		s.nextID++
		id := fmt.Sprintf("sg-q%d", s.nextID)
		s.groups[id] = &ec2types.SecurityGroup{GroupId: aws.String(id), GroupName: in.GroupName, VpcId: in.VpcId,
			Tags:                in.TagSpecifications[0].Tags,
			IpPermissionsEgress: []ec2types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}
		return &ec2.CreateSecurityGroupOutput{GroupId: aws.String(id)}, nil
	}
	setRules := func(perms *[]ec2types.IpPermission, add, remove []ec2types.IpPermission) {
		kept, _ := diff(explode(remove), explode(*perms))
		added, _ := diff(kept, explode(add))
		*perms = permissions(append(kept, added...))
	}
	f.authorizeEgress = func(in *ec2.AuthorizeSecurityGroupEgressInput) (*ec2.AuthorizeSecurityGroupEgressOutput, error) {
		setRules(&s.groups[aws.ToString(in.GroupId)].IpPermissionsEgress, in.IpPermissions, nil)
		return &ec2.AuthorizeSecurityGroupEgressOutput{}, nil
	}
	f.authorizeIngress = func(in *ec2.AuthorizeSecurityGroupIngressInput) (*ec2.AuthorizeSecurityGroupIngressOutput, error) {
		setRules(&s.groups[aws.ToString(in.GroupId)].IpPermissions, in.IpPermissions, nil)
		return &ec2.AuthorizeSecurityGroupIngressOutput{}, nil
	}
	f.revokeEgress = func(in *ec2.RevokeSecurityGroupEgressInput) (*ec2.RevokeSecurityGroupEgressOutput, error) {
		setRules(&s.groups[aws.ToString(in.GroupId)].IpPermissionsEgress, nil, in.IpPermissions)
		return &ec2.RevokeSecurityGroupEgressOutput{}, nil
	}
	f.revokeIngress = func(in *ec2.RevokeSecurityGroupIngressInput) (*ec2.RevokeSecurityGroupIngressOutput, error) {
		setRules(&s.groups[aws.ToString(in.GroupId)].IpPermissions, nil, in.IpPermissions)
		return &ec2.RevokeSecurityGroupIngressOutput{}, nil
	}
	f.describeVpcEndpoints = func(in *ec2.DescribeVpcEndpointsInput) (*ec2.DescribeVpcEndpointsOutput, error) {
		var out []ec2types.VpcEndpoint
		for _, ep := range s.endpoints {
			if aws.ToString(ep.VpcId) == filterValue(in.Filters, "vpc-id") {
				out = append(out, ep)
			}
		}
		return &ec2.DescribeVpcEndpointsOutput{VpcEndpoints: out}, nil
	}
	f.describePrefixLists = func(in *ec2.DescribePrefixListsInput) (*ec2.DescribePrefixListsOutput, error) {
		name := filterValue(in.Filters, "prefix-list-name")
		if !strings.HasSuffix(name, ".s3") {
			return &ec2.DescribePrefixListsOutput{}, nil
		}
		return &ec2.DescribePrefixListsOutput{PrefixLists: []ec2types.PrefixList{{PrefixListId: aws.String("pl-63a5400a"), PrefixListName: aws.String(name)}}}, nil
	}
	f.describeACLs = func(in *ec2.DescribeNetworkAclsInput) (*ec2.DescribeNetworkAclsOutput, error) {
		out := &ec2.DescribeNetworkAclsOutput{}
		for _, a := range s.acls {
			if aws.ToString(a.VpcId) == filterValue(in.Filters, "vpc-id") {
				out.NetworkAcls = append(out.NetworkAcls, *a)
			}
		}
		return out, nil
	}
	f.createACLEntry = func(in *ec2.CreateNetworkAclEntryInput) (*ec2.CreateNetworkAclEntryOutput, error) {
		for _, a := range s.acls {
			if aws.ToString(a.NetworkAclId) != aws.ToString(in.NetworkAclId) {
				continue
			}
			for _, e := range a.Entries {
				if aws.ToInt32(e.RuleNumber) == aws.ToInt32(in.RuleNumber) && aws.ToBool(e.Egress) == aws.ToBool(in.Egress) {
					return nil, apiErr("NetworkAclEntryAlreadyExists")
				}
			}
			a.Entries = append(a.Entries, ec2types.NetworkAclEntry{RuleNumber: in.RuleNumber, Egress: in.Egress, Protocol: in.Protocol,
				RuleAction: in.RuleAction, CidrBlock: in.CidrBlock, Ipv6CidrBlock: in.Ipv6CidrBlock})
			return &ec2.CreateNetworkAclEntryOutput{}, nil
		}
		return nil, apiErr("InvalidNetworkAclID.NotFound")
	}
	return f
}

// newVPC is vpc-1: an app subnet (the task's, with its own network ACL)
// and a public subnet (the NAT gateway's, with another), each ACL allowing
// everything at rule 100 (IPv4) and 101 (IPv6) both ways after the default
// deny; groups app and ops; a Fargate task ENI (ECS's: requester-managed)
// at 10.0.1.5, and an instance with two ENIs of its own.
func newVPC() *vpcState {
	s := &vpcState{enis: map[string]*ec2types.NetworkInterface{}, groups: map[string]*ec2types.SecurityGroup{}}
	s.groups["sg-app"] = &ec2types.SecurityGroup{GroupId: aws.String("sg-app"), GroupName: aws.String("app"), VpcId: aws.String("vpc-1")}
	s.groups["sg-ops"] = &ec2types.SecurityGroup{GroupId: aws.String("sg-ops"), GroupName: aws.String("ops"), VpcId: aws.String("vpc-1")}
	eni := func(id, ip, instance string, groups ...string) *ec2types.NetworkInterface {
		ni := &ec2types.NetworkInterface{NetworkInterfaceId: aws.String(id), VpcId: aws.String("vpc-1"), SubnetId: aws.String("subnet-app"),
			PrivateIpAddress: aws.String(ip), PrivateIpAddresses: []ec2types.NetworkInterfacePrivateIpAddress{{PrivateIpAddress: aws.String(ip)}}}
		for _, g := range groups {
			ni.Groups = append(ni.Groups, ec2types.GroupIdentifier{GroupId: aws.String(g), GroupName: s.groups[g].GroupName})
		}
		if instance != "" {
			ni.Attachment = &ec2types.NetworkInterfaceAttachment{InstanceId: aws.String(instance)}
		}
		s.enis[id] = ni
		return ni
	}
	eni("eni-task", "10.0.1.5", "", "sg-app").RequesterManaged = aws.Bool(true)
	eni("eni-inst0", "10.0.1.20", "i-1", "sg-app", "sg-ops")
	eni("eni-inst1", "10.0.1.21", "i-1", "sg-ops")
	s.acl("acl-app", 100, "subnet-app")
	s.acl("acl-nat", 100, "subnet-public")
	return s
}

// acl adds a network ACL allowing all traffic at rule allowAt (IPv4) and
// allowAt+1 (IPv6) both ways, with the default deny rules.
func (s *vpcState) acl(id string, allowAt int32, subnets ...string) *ec2types.NetworkAcl {
	a := &ec2types.NetworkAcl{NetworkAclId: aws.String(id), VpcId: aws.String("vpc-1")}
	for _, egress := range []bool{false, true} {
		a.Entries = append(a.Entries,
			ec2types.NetworkAclEntry{RuleNumber: aws.Int32(allowAt), Egress: aws.Bool(egress), Protocol: aws.String("-1"), RuleAction: ec2types.RuleActionAllow, CidrBlock: aws.String("0.0.0.0/0")},
			ec2types.NetworkAclEntry{RuleNumber: aws.Int32(allowAt + 1), Egress: aws.Bool(egress), Protocol: aws.String("-1"), RuleAction: ec2types.RuleActionAllow, Ipv6CidrBlock: aws.String("::/0")},
			ec2types.NetworkAclEntry{RuleNumber: aws.Int32(defaultRule), Egress: aws.Bool(egress), Protocol: aws.String("-1"), RuleAction: ec2types.RuleActionDeny, CidrBlock: aws.String("0.0.0.0/0")},
			ec2types.NetworkAclEntry{RuleNumber: aws.Int32(defaultRule), Egress: aws.Bool(egress), Protocol: aws.String("-1"), RuleAction: ec2types.RuleActionDeny, Ipv6CidrBlock: aws.String("::/0")})
	}
	for _, sub := range subnets {
		a.Associations = append(a.Associations, ec2types.NetworkAclAssociation{SubnetId: aws.String(sub), NetworkAclId: aws.String(id)})
	}
	s.acls = append(s.acls, a)
	return a
}

// withEndpoints adds interface endpoints (one ENI each, private DNS on)
// for the services, and an S3 gateway endpoint for "s3".
func (s *vpcState) withEndpoints(services ...string) *vpcState {
	for i, svc := range services {
		ep := ec2types.VpcEndpoint{VpcEndpointId: aws.String("vpce-" + svc), VpcId: aws.String("vpc-1"), State: "available",
			ServiceName: aws.String("com.amazonaws.us-east-1." + svc), PrivateDnsEnabled: aws.Bool(true)}
		if svc == "s3" {
			ep.VpcEndpointType = ec2types.VpcEndpointTypeGateway
		} else {
			ep.VpcEndpointType = ec2types.VpcEndpointTypeInterface
			id := "eni-vpce-" + svc
			ep.NetworkInterfaceIds = []string{id}
			s.enis[id] = &ec2types.NetworkInterface{NetworkInterfaceId: aws.String(id), VpcId: aws.String("vpc-1"),
				PrivateIpAddresses: []ec2types.NetworkInterfacePrivateIpAddress{{PrivateIpAddress: aws.String(fmt.Sprintf("10.0.1.%d", 10+i))}}}
		}
		s.endpoints = append(s.endpoints, ep)
	}
	return s
}

var (
	ssmAndS3 = []string{"ssm", "ssmmessages", "ec2messages", "s3"}
	ecsAll   = []string{"ecs", "ecs-agent", "ecs-telemetry"}
)

func (s *vpcState) groupsOf(eni string) []string {
	var out []string
	for _, g := range s.enis[eni].Groups {
		out = append(out, aws.ToString(g.GroupId))
	}
	return out
}

func (s *vpcState) named(name string) []*ec2types.SecurityGroup {
	var out []*ec2types.SecurityGroup
	for _, g := range s.groups {
		if aws.ToString(g.GroupName) == name {
			out = append(out, g)
		}
	}
	return out
}

// denies lists an ACL's deny entries other than the default ones, as
// "in|out <rule> <cidr>", sorted.
func (s *vpcState) denies(id string) []string {
	var out []string
	for _, a := range s.acls {
		if aws.ToString(a.NetworkAclId) != id {
			continue
		}
		for _, e := range a.Entries {
			if e.RuleAction == ec2types.RuleActionDeny && aws.ToInt32(e.RuleNumber) != defaultRule {
				dir := "in"
				if aws.ToBool(e.Egress) {
					dir = "out"
				}
				out = append(out, fmt.Sprintf("%s %d %s%s", dir, aws.ToInt32(e.RuleNumber), aws.ToString(e.CidrBlock), aws.ToString(e.Ipv6CidrBlock)))
			}
		}
	}
	sort.Strings(out)
	return out
}
