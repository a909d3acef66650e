package handler_test

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/isolate-network/handler"
)

func TestMain(m *testing.M) { mototest.Main(m) }

// run invokes the action the way Lambda does, with the world's audit chain.
func run(t *testing.T, w *mototest.World, lt, caseID string, dry bool, with map[string]any) (*contract.Result, error) {
	t.Helper()
	return mototest.Run(t, w, "isolate-network", handler.New(w.Cfg, w.Env), w.Payload("isolate-network", "isolate", lt, caseID, dry, with, nil))
}

// eniOut is one ENI of the result's outputs.
type eniOut struct {
	ID       string   `json:"id"`
	Previous []string `json:"previousSecurityGroups"`
	Groups   []string `json:"securityGroups"`
	Changed  bool     `json:"changed"`
}

func enis(t *testing.T, r *contract.Result) []eniOut {
	t.Helper()
	b, _ := json.Marshal(r.Outputs["enis"])
	var out []eniOut
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// snapshot is the VPC's groups (with rules and tags) and the world's ENIs
// (groups and tags) as JSON, to compare before and after.
func snapshot(t *testing.T, w *mototest.World) string {
	t.Helper()
	c := ec2.NewFromConfig(w.Cfg)
	ctx := context.Background()
	sgs, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{w.VpcID}}}})
	if err != nil {
		t.Fatal(err)
	}
	nis, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{w.FargateENI, w.InstanceENI}})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(sgs.SecurityGroups, func(i, j int) bool { return *sgs.SecurityGroups[i].GroupId < *sgs.SecurityGroups[j].GroupId })
	b, _ := json.Marshal([]any{sgs.SecurityGroups, nis.NetworkInterfaces})
	return string(b)
}

func without(ids []string, drop string) []string {
	var out []string
	for _, id := range ids {
		if id != drop {
			out = append(out, id)
		}
	}
	return out
}

func quarantineGroups(t *testing.T, w *mototest.World, name string) []ec2types.SecurityGroup {
	t.Helper()
	out, err := ec2.NewFromConfig(w.Cfg).DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{w.VpcID}}, {Name: aws.String("group-name"), Values: []string{name}}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.SecurityGroups
}

func eniState(t *testing.T, w *mototest.World, id string) (groups []string, tags map[string]string) {
	t.Helper()
	out, err := ec2.NewFromConfig(w.Cfg).DescribeNetworkInterfaces(context.Background(), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	tags = map[string]string{}
	for _, g := range out.NetworkInterfaces[0].Groups {
		groups = append(groups, aws.ToString(g.GroupId))
	}
	for _, tg := range out.NetworkInterfaces[0].TagSet {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return groups, tags
}

func TestMotoIsolateBothLaunchTypesTwice(t *testing.T) {
	w := mototest.Seed(t)
	// moto reports an instance-attached ENI's groups as its own plus the
	// instance's launch groups, in set order (NetworkInterface.group_set in
	// moto/ec2), so the instance ENI still lists the app group after the swap
	// and the second run swaps again; it must still keep the originals.
	tests := []struct {
		lt, eni, summary string
		motoUnion        bool
	}{
		{"FARGATE", w.FargateENI, "task (awsvpc", false},
		{"EC2", w.InstanceENI, "every task on the instance", true},
	}
	for _, tt := range tests {
		t.Run(tt.lt, func(t *testing.T) {
			caseID := mototest.Unique("case-isolate")
			first, err := run(t, w, tt.lt, caseID, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			q := quarantineGroups(t, w, "irflow-quarantine")
			if len(q) != 1 {
				t.Fatalf("%d quarantine groups in the VPC; want 1", len(q))
			}
			qid := aws.ToString(q[0].GroupId)
			if len(q[0].IpPermissionsEgress) != 0 || len(q[0].IpPermissions) != 0 {
				t.Errorf("quarantine group rules: egress %v, ingress %v", q[0].IpPermissionsEgress, q[0].IpPermissions)
			}
			groups, tags := eniState(t, w, tt.eni)
			if tt.motoUnion {
				groups = without(groups, w.AppSG)
			}
			if !reflect.DeepEqual(groups, []string{qid}) || tags["irflow:previous-security-groups"] != w.AppSG {
				t.Errorf("ENI %s groups %v tags %v", tt.eni, groups, tags)
			}
			e := enis(t, first)
			if first.Status != "OK" || !e[0].Changed || !reflect.DeepEqual(e[0].Previous, []string{w.AppSG}) || !strings.Contains(first.Summary, tt.summary) {
				t.Errorf("first run: %s %q %+v", first.Status, first.Summary, e)
			}

			before := snapshot(t, w)
			second, err := run(t, w, tt.lt, caseID, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			e = enis(t, second)
			already := !e[0].Changed && strings.HasPrefix(second.Summary, "already isolated")
			if second.Status != "OK" || !reflect.DeepEqual(e[0].Previous, []string{w.AppSG}) || (!already && !tt.motoUnion) {
				t.Errorf("second run: %s %q %+v", second.Status, second.Summary, e)
			}
			if after := snapshot(t, w); after != before {
				t.Errorf("second run changed the world:\n%s\n%s", before, after)
			}
			recs := mototest.VerifyAudit(t, w, caseID, 4)
			if !strings.Contains(recs[3].Detail, w.AppSG) {
				t.Errorf("the audited result does not carry the old groups: %s", recs[3].Detail)
			}
		})
	}
}

func TestMotoIsolateDryRun(t *testing.T) {
	w := mototest.Seed(t)
	for _, lt := range []string{"FARGATE", "EC2"} {
		before := snapshot(t, w)
		caseID := mototest.Unique("case-dry")
		res, err := run(t, w, lt, caseID, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		if after := snapshot(t, w); after != before {
			t.Errorf("%s dry run changed the world", lt)
		}
		e := enis(t, res)
		if res.Status != "DRY_RUN" || len(e) != 1 || !reflect.DeepEqual(e[0].Previous, []string{w.AppSG}) || e[0].Groups[0] != "irflow-quarantine" {
			t.Errorf("%s dry run: %s %q %+v", lt, res.Status, res.Summary, e)
		}
		mototest.VerifyAudit(t, w, caseID, 2)
	}
}

// addEndpoints creates the SSM interface endpoints and an S3 gateway
// endpoint in the world's VPC and returns the endpoint ENIs' addresses.
func addEndpoints(t *testing.T, w *mototest.World) []string {
	t.Helper()
	c := ec2.NewFromConfig(w.Cfg)
	ctx := context.Background()
	var enis []string
	for _, svc := range []string{"ssm", "ssmmessages", "ec2messages"} {
		out, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String(w.VpcID), ServiceName: aws.String("com.amazonaws.us-east-1." + svc),
			VpcEndpointType: ec2types.VpcEndpointTypeInterface, SubnetIds: []string{w.SubnetID}, PrivateDnsEnabled: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		enis = append(enis, out.VpcEndpoint.NetworkInterfaceIds...)
	}
	rts, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{w.VpcID}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String(w.VpcID), ServiceName: aws.String("com.amazonaws.us-east-1.s3"),
		VpcEndpointType: ec2types.VpcEndpointTypeGateway, RouteTableIds: []string{aws.ToString(rts.RouteTables[0].RouteTableId)}}); err != nil {
		t.Fatal(err)
	}
	nis, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: enis})
	if err != nil {
		t.Fatal(err)
	}
	var ips []string
	for _, ni := range nis.NetworkInterfaces {
		ips = append(ips, aws.ToString(ni.PrivateIpAddress)+"/32")
	}
	return ips
}

func TestMotoIsolateAllowSsm(t *testing.T) {
	w := mototest.Seed(t)
	with := map[string]any{"allowSsm": true}

	// Without endpoints: fail closed, before anything changes.
	before := snapshot(t, w)
	caseID := mototest.Unique("case-ssm")
	_, err := run(t, w, "FARGATE", caseID, false, with)
	if contract.ErrorName(err) != "PreconditionFailedError" || !strings.Contains(err.Error(), "ssm, ssmmessages, ec2messages") {
		t.Fatalf("no endpoints: %v", err)
	}
	if snapshot(t, w) != before {
		t.Error("a failed precondition changed the world")
	}
	mototest.VerifyAudit(t, w, caseID, 2)

	ips := addEndpoints(t, w)
	for i := 0; i < 2; i++ {
		res, err := run(t, w, "FARGATE", caseID, false, with)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(res.Summary, "and S3") {
			t.Errorf("run %d: %q", i+1, res.Summary)
		}
		q := quarantineGroups(t, w, "irflow-quarantine-ssm")
		if len(q) != 1 || len(quarantineGroups(t, w, "irflow-quarantine")) != 0 {
			t.Fatalf("run %d: %d -ssm groups", i+1, len(q))
		}
		var got []string
		for _, p := range q[0].IpPermissionsEgress {
			if aws.ToString(p.IpProtocol) != "tcp" || aws.ToInt32(p.FromPort) != 443 || aws.ToInt32(p.ToPort) != 443 {
				t.Errorf("egress rule %+v is not HTTPS", p)
			}
			for _, r := range p.IpRanges {
				got = append(got, aws.ToString(r.CidrIp))
			}
			for _, r := range p.PrefixListIds {
				got = append(got, aws.ToString(r.PrefixListId)[:3])
			}
		}
		want := append(append([]string{}, ips...), "pl-")
		sort.Strings(got)
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("run %d: egress to %v; want %v", i+1, got, want)
		}
		if groups, _ := eniState(t, w, w.FargateENI); !reflect.DeepEqual(groups, []string{aws.ToString(q[0].GroupId)}) {
			t.Errorf("run %d: ENI groups %v", i+1, groups)
		}
	}
	mototest.VerifyAudit(t, w, caseID, 6)
}

func TestMotoIsolateTightensHalfMadeGroup(t *testing.T) {
	w := mototest.Seed(t)
	c := ec2.NewFromConfig(w.Cfg)
	// What a run cut short right after CreateSecurityGroup leaves behind.
	g, err := c.CreateSecurityGroup(context.Background(), &ec2.CreateSecurityGroupInput{GroupName: aws.String("irflow-quarantine"), Description: aws.String("q"),
		VpcId: aws.String(w.VpcID), TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup,
			Tags: []ec2types.Tag{{Key: aws.String("irflow:quarantine"), Value: aws.String("true")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := run(t, w, "FARGATE", mototest.Unique("case-half"), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := quarantineGroups(t, w, "irflow-quarantine")
	if len(q) != 1 || aws.ToString(q[0].GroupId) != aws.ToString(g.GroupId) || len(q[0].IpPermissionsEgress) != 0 {
		t.Errorf("groups %+v", q)
	}
	if !strings.Contains(res.Summary, "revoked 1 stray rule") {
		t.Errorf("summary %q", res.Summary)
	}
}
