package flowmodel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// recorder is an EC2 endpoint that accepts every request and keeps it as a
// Call, so the tests see the parameters exactly as the SDK serializes them.
type recorder struct {
	mu    sync.Mutex
	calls []Call
}

var responses = map[string]string{
	"CreateSecurityGroup":          "<groupId>sg-new</groupId>",
	"CreateNetworkAcl":             "<networkAcl><networkAclId>acl-new</networkAclId><vpcId>vpc-1</vpcId></networkAcl>",
	"ReplaceNetworkAclAssociation": "<newAssociationId>aclassoc-new</newAssociationId>",
	"CreateVpcEndpoint":            "<vpcEndpoint><vpcEndpointId>vpce-ssm</vpcEndpointId></vpcEndpoint>",
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	action := form.Get("Action")
	resp := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><%sResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId><return>true</return>%s</%sResponse>`,
		action, responses[action], action)
	r.mu.Lock()
	r.calls = append(r.calls, Call{Action: action, Params: form, Response: []byte(resp)})
	r.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	io.WriteString(w, resp)
}

// record runs fn against a real *ec2.Client pointed at a recorder.
func record(t *testing.T, fn func(ctx context.Context, c *ec2.Client) error) []Call {
	t.Helper()
	r := &recorder{}
	srv := httptest.NewServer(r)
	defer srv.Close()
	c := ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	if err := fn(context.Background(), c); err != nil {
		t.Fatalf("SDK call: %v", err)
	}
	return r.calls
}

func TestChangesFromCalls(t *testing.T) {
	s, i32 := aws.String, aws.Int32
	tests := []struct {
		name string
		do   func(ctx context.Context, c *ec2.Client) error
		want []Change
	}{
		{"CreateSecurityGroup takes the new ID from the response",
			func(ctx context.Context, c *ec2.Client) error {
				_, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: s("q"), Description: s("d"), VpcId: s("vpc-1")})
				return err
			},
			[]Change{CreateGroup{ID: "sg-new", VPC: "vpc-1", Name: "q"}}},
		{"AuthorizeSecurityGroupEgress with every kind of peer",
			func(ctx context.Context, c *ec2.Client) error {
				_, err := c.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: s("sg-task"), IpPermissions: []types.IpPermission{
					{IpProtocol: s("tcp"), FromPort: i32(443), ToPort: i32(443), IpRanges: []types.IpRange{{CidrIp: s("10.9.0.0/16")}},
						Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: s("2001:db8::/32")}}, PrefixListIds: []types.PrefixListId{{PrefixListId: s("pl-s3")}},
						UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: s("sg-db")}}},
					{IpProtocol: s("-1"), IpRanges: []types.IpRange{{CidrIp: s("0.0.0.0/0")}}},
				}})
				return err
			},
			[]Change{Authorize{Group: "sg-task", Egress: true, Rules: []SGRule{
				tcp(443, 443, "10.9.0.0/16"), tcp(443, 443, "2001:db8::/32"),
				{Protocol: protoTCP, FromPort: 443, ToPort: 443, PrefixList: "pl-s3"},
				{Protocol: protoTCP, FromPort: 443, ToPort: 443, Group: "sg-db"},
				{Protocol: protoAll, FromPort: -1, ToPort: -1, CIDR: allV4},
			}}}},
		{"RevokeSecurityGroupIngress and the legacy top-level form",
			func(ctx context.Context, c *ec2.Client) error {
				if _, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: s("sg-task"), IpPermissions: []types.IpPermission{
					{IpProtocol: s("udp"), FromPort: i32(53), ToPort: i32(53), IpRanges: []types.IpRange{{CidrIp: s("10.0.0.0/16")}}}}}); err != nil {
					return err
				}
				_, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: s("sg-task"), IpProtocol: s("tcp"), FromPort: i32(22), ToPort: i32(22), CidrIp: s("203.0.113.0/24")})
				return err
			},
			[]Change{
				Revoke{Group: "sg-task", Rules: []SGRule{{Protocol: protoUDP, FromPort: 53, ToPort: 53, CIDR: pfx("10.0.0.0/16")}}},
				Authorize{Group: "sg-task", Rules: []SGRule{tcp(22, 22, "203.0.113.0/24")}},
			}},
		{"ModifyNetworkInterfaceAttribute groups, in order",
			func(ctx context.Context, c *ec2.Client) error {
				_, err := c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: s("eni-task"), Groups: []string{"sg-b", "sg-a"}})
				return err
			},
			[]Change{SetENIGroups{ENI: "eni-task", Groups: []string{"sg-b", "sg-a"}}}},
		{"ModifyInstanceAttribute groups",
			func(ctx context.Context, c *ec2.Client) error {
				_, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: s("i-1"), Groups: []string{"sg-q"}})
				return err
			},
			[]Change{SetInstanceGroups{Instance: "i-1", Groups: []string{"sg-q"}}}},
		{"network ACL entries: create, replace (IPv6, ports), delete; new ACL; association",
			func(ctx context.Context, c *ec2.Client) error {
				calls := []func() error{
					func() error {
						_, err := c.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: s("vpc-1")})
						return err
					},
					func() error {
						_, err := c.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: s("acl-app"), RuleNumber: i32(90), Protocol: s("-1"),
							RuleAction: types.RuleActionDeny, Egress: aws.Bool(false), CidrBlock: s("10.0.1.5/32")})
						return err
					},
					func() error {
						_, err := c.ReplaceNetworkAclEntry(ctx, &ec2.ReplaceNetworkAclEntryInput{NetworkAclId: s("acl-app"), RuleNumber: i32(100), Protocol: s("6"),
							RuleAction: types.RuleActionAllow, Egress: aws.Bool(true), Ipv6CidrBlock: s("::/0"), PortRange: &types.PortRange{From: i32(1024), To: i32(65535)}})
						return err
					},
					func() error {
						_, err := c.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: s("acl-app"), RuleNumber: i32(90), Egress: aws.Bool(true)})
						return err
					},
					func() error {
						_, err := c.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: s("aclassoc-app"), NetworkAclId: s("acl-new")})
						return err
					},
				}
				for _, f := range calls {
					if err := f(); err != nil {
						return err
					}
				}
				return nil
			},
			[]Change{
				CreateNACL{ID: "acl-new", VPC: "vpc-1"},
				CreateNACLEntry{ACL: "acl-app", Entry: NACLEntry{Rule: 90, Protocol: protoAll, CIDR: pfx("10.0.1.5/32"), ICMPType: -1, ICMPCode: -1, ToPort: 65535}},
				ReplaceNACLEntry{ACL: "acl-app", Entry: NACLEntry{Rule: 100, Egress: true, Protocol: protoTCP, Allow: true, CIDR: pfx("::/0"), FromPort: 1024, ToPort: 65535, ICMPType: -1, ICMPCode: -1}},
				DeleteNACLEntry{ACL: "acl-app", Rule: 90, Egress: true},
				ReplaceNACLAssociation{Association: "aclassoc-app", ACL: "acl-new", NewAssociation: "aclassoc-new"},
			}},
		{"ENIs and instances going away; reads, tags and dry runs yield nothing",
			func(ctx context.Context, c *ec2.Client) error {
				if _, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{}); err != nil {
					return err
				}
				if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"eni-task"}, Tags: []types.Tag{{Key: s("k"), Value: s("v")}}}); err != nil {
					return err
				}
				if _, err := c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: s("eni-task"), DryRun: aws.Bool(true)}); err != nil {
					return err
				}
				if _, err := c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: s("eni-task")}); err != nil {
					return err
				}
				_, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{"i-1", "i-2"}})
				return err
			},
			[]Change{ENIDown{ENI: "eni-task"}, InstanceDown{Instance: "i-1"}, InstanceDown{Instance: "i-2"}}},
		{"interface endpoint and DNS support",
			func(ctx context.Context, c *ec2.Client) error {
				if _, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: s("vpc-1"), ServiceName: s("com.amazonaws.us-east-1.ssm"),
					VpcEndpointType: types.VpcEndpointTypeInterface, SubnetIds: []string{"subnet-app"}}); err != nil {
					return err
				}
				_, err := c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: s("vpc-1"), EnableDnsSupport: &types.AttributeBooleanValue{Value: aws.Bool(false)}})
				return err
			},
			[]Change{AddInterfaceEndpoint{ID: "vpce-ssm", VPC: "vpc-1", Service: "com.amazonaws.us-east-1.ssm"}, SetVPCDNS{VPC: "vpc-1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ChangesFromCalls(record(t, tt.do))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v; want %#v", got, tt.want)
			}
		})
	}
}

func TestChangesFromCallsRefuses(t *testing.T) {
	s := aws.String
	tests := []struct {
		name string
		do   func(ctx context.Context, c *ec2.Client) error
		want string
	}{
		{"a route change", func(ctx context.Context, c *ec2.Client) error {
			_, err := c.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: s("rtb-private"), DestinationCidrBlock: s("0.0.0.0/0"), GatewayId: s("igw-1")})
			return err
		}, "call 0 (CreateRoute): flowmodel: not modeled: EC2 action CreateRoute"},
		{"a revoke by rule ID", func(ctx context.Context, c *ec2.Client) error {
			_, err := c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: s("sg-task"), SecurityGroupRuleIds: []string{"sgr-1"}})
			return err
		}, "by SecurityGroupRuleId"},
		{"a public IP change on an ENI", func(ctx context.Context, c *ec2.Client) error {
			_, err := c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: s("eni-task"), AssociatePublicIpAddress: aws.Bool(true)})
			return err
		}, "parameter AssociatePublicIpAddress"},
		{"a gateway endpoint", func(ctx context.Context, c *ec2.Client) error {
			_, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: s("vpc-1"), ServiceName: s("com.amazonaws.us-east-1.s3"), RouteTableIds: []string{"rtb-private"}})
			return err
		}, "gateway endpoints add routes"},
		{"metadata options", func(ctx context.Context, c *ec2.Client) error {
			_, err := c.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: s("i-1"), HttpEndpoint: types.InstanceMetadataEndpointStateDisabled})
			return err
		}, "ModifyInstanceMetadataOptions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ChangesFromCalls(record(t, tt.do))
			if !errors.Is(err, ErrNotModeled) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want a not-modeled error containing %q", err, tt.want)
			}
		})
	}
}

// TestRunbookCallsReplay drives the runbook's two group swaps through the
// SDK, the calls into Changes, and the Changes through Replay.
func TestRunbookCallsReplay(t *testing.T) {
	calls := record(t, func(ctx context.Context, c *ec2.Client) error {
		for _, g := range []string{"sg-open", "sg-quarantine"} {
			for _, eni := range []string{"eni-pub", "eni-task"} {
				if _, err := c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(eni), Groups: []string{g}}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	changes, err := ChangesFromCalls(calls)
	if err != nil {
		t.Fatal(err)
	}
	_, out, err := Replay(testNet(), []Flow{toInternet("direct", "eni-pub", 443), toInternet("via-nat", "eni-task", 443)}, changes)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		flow        string
		wantAllowed bool
		wantCutAt   int
	}{
		{"direct", false, 2},
		{"via-nat", true, -1},
	}
	for i, tt := range tests {
		t.Run(tt.flow, func(t *testing.T) {
			if got := out[i]; got.Flow != tt.flow || got.After.Allowed != tt.wantAllowed || got.CutAt != tt.wantCutAt {
				t.Errorf("got %s allowed=%v cutAt=%d (%s); want %s allowed=%v cutAt=%d", got.Flow, got.After.Allowed, got.CutAt, got.After.Reason, tt.flow, tt.wantAllowed, tt.wantCutAt)
			}
		})
	}
}
