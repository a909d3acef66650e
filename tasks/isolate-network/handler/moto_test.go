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
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/isolate-network/handler"
	"github.com/irflow/irflow/tasks/ledger"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// world is the mototest world seeded through the strict layer, with an
// incidents table keyed by pk for the ledger.
func world(t *testing.T) (*mototest.World, *stricttest.Layer) {
	t.Helper()
	w, l := stricttest.Seed(t)
	w.Env.IncidentsTable = stricttest.IncidentsTable(t, w.Cfg)
	return w, l
}

// run invokes the action the way Lambda does, with the world's audit chain.
func run(t *testing.T, w *mototest.World, lt, caseID string, dry bool, with map[string]any) (*contract.Result, error) {
	t.Helper()
	return mototest.Run(t, w, "isolate-network", handler.New(w.Cfg, w.Env), w.Payload("isolate-network", "isolate", lt, caseID, dry, with, nil))
}

// eniOut is one ENI of the result's outputs.
type eniOut struct {
	ID        string   `json:"id"`
	Treatment string   `json:"treatment"`
	Previous  []string `json:"previousSecurityGroups"`
	Groups    []string `json:"securityGroups"`
	Changed   bool     `json:"changed"`
}

func decode[T any](t *testing.T, v any) T {
	t.Helper()
	b, _ := json.Marshal(v)
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// snapshot is the VPC's groups (with rules and tags), network ACLs and the
// world's ENIs (groups and tags) as JSON, read from moto past the layer.
func snapshot(t *testing.T, w *mototest.World, l *stricttest.Layer) string {
	t.Helper()
	c := ec2.NewFromConfig(l.Direct)
	ctx := context.Background()
	vpc := []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{w.VpcID}}}
	sgs, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: vpc})
	if err != nil {
		t.Fatal(err)
	}
	acls, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: vpc})
	if err != nil {
		t.Fatal(err)
	}
	nis, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{w.FargateENI, w.InstanceENI}})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(sgs.SecurityGroups, func(i, j int) bool { return *sgs.SecurityGroups[i].GroupId < *sgs.SecurityGroups[j].GroupId })
	sort.Slice(acls.NetworkAcls, func(i, j int) bool { return *acls.NetworkAcls[i].NetworkAclId < *acls.NetworkAcls[j].NetworkAclId })
	b, _ := json.Marshal([]any{sgs.SecurityGroups, acls.NetworkAcls, nis.NetworkInterfaces})
	return string(b)
}

// denies reads every network ACL of the VPC from moto: per ACL, its deny
// entries other than the default ones and its lowest allow rule number per
// direction.
func denies(t *testing.T, w *mototest.World, l *stricttest.Layer) map[string][]string {
	t.Helper()
	out, err := ec2.NewFromConfig(l.Direct).DescribeNetworkAcls(context.Background(), &ec2.DescribeNetworkAclsInput{
		Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{w.VpcID}}}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, a := range out.NetworkAcls {
		lowest := map[bool]int32{}
		for _, e := range a.Entries {
			n := aws.ToInt32(e.RuleNumber)
			if e.RuleAction == ec2types.RuleActionAllow && (lowest[aws.ToBool(e.Egress)] == 0 || n < lowest[aws.ToBool(e.Egress)]) {
				lowest[aws.ToBool(e.Egress)] = n
			}
		}
		for _, e := range a.Entries {
			n := aws.ToInt32(e.RuleNumber)
			if e.RuleAction != ec2types.RuleActionDeny || n == 32767 {
				continue
			}
			dir := map[bool]string{false: "in", true: "out"}[aws.ToBool(e.Egress)]
			ahead := "ahead"
			if n >= lowest[aws.ToBool(e.Egress)] {
				ahead = "BEHIND"
			}
			got[aws.ToString(a.NetworkAclId)] = append(got[aws.ToString(a.NetworkAclId)], dir+" "+aws.ToString(e.CidrBlock)+" "+ahead)
		}
		sort.Strings(got[aws.ToString(a.NetworkAclId)])
	}
	return got
}

func fargateIP(t *testing.T, w *mototest.World, l *stricttest.Layer) string {
	t.Helper()
	// Through the layer: it shows every ENI at an address of its subnet, as
	// AWS does (moto picks addresses anywhere), and the handler read it so.
	out, err := ec2.NewFromConfig(l.Cfg).DescribeNetworkInterfaces(context.Background(), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{w.FargateENI}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.NetworkInterfaces[0].PrivateIpAddress)
}

// TestMotoIsolateFargateTwice: through the strict layer (which refuses any
// change to the ECS-managed task ENI), the Fargate task is cut off by deny
// entries of its address ahead of the allows in every network ACL of the
// VPC, read back from moto; the ledger holds them; the second run changes
// nothing; nothing was refused.
func TestMotoIsolateFargateTwice(t *testing.T) {
	w, l := world(t)
	extra := addACL(t, w, l, 200)
	caseID := mototest.Unique("case-isolate")
	first, err := run(t, w, "FARGATE", caseID, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	ip := fargateIP(t, w, l)
	got := denies(t, w, l)
	if len(got) < 2 || !reflect.DeepEqual(got[extra], []string{"in " + ip + "/32 ahead", "out " + ip + "/32 ahead"}) {
		t.Fatalf("denies %v; want %s in and out ahead of the allows in every ACL", got, ip)
	}
	for acl, d := range got {
		if !reflect.DeepEqual(d, []string{"in " + ip + "/32 ahead", "out " + ip + "/32 ahead"}) {
			t.Errorf("%s denies %v", acl, d)
		}
	}
	e := decode[[]eniOut](t, first.Outputs["enis"])
	if first.Status != "OK" || first.Outputs["isolation"] != "partial" || len(e) != 1 || e[0].Treatment != "nacl" {
		t.Errorf("first run: %s %v %+v %q", first.Status, first.Outputs["isolation"], e, first.Summary)
	}
	lg, err := ledger.NewStore(w.Cfg, w.Env.IncidentsTable).Read(context.Background(), caseID)
	if err != nil || len(lg.Active(ledger.KindNACLEntry)) != 2*len(got) {
		t.Fatalf("ledger %+v %v; want %d network ACL entries", lg, err, 2*len(got))
	}
	before := snapshot(t, w, l)
	second, err := run(t, w, "FARGATE", caseID, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, w, l); after != before || !strings.Contains(second.Summary, "already denied") {
		t.Errorf("second run changed the world or did not say so: %q", second.Summary)
	}
	l.NoRefusals(t)
	mototest.VerifyAudit(t, w, caseID, 4)
}

// TestMotoIsolateEC2Twice: the bridge task's instance ENI goes through the
// transit group to the quarantine group; the originals are on its tag and
// in the ledger; the second run keeps them.
func TestMotoIsolateEC2Twice(t *testing.T) {
	w, l := world(t)
	caseID := mototest.Unique("case-isolate-ec2")
	first, err := run(t, w, "EC2", caseID, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := groupsNamed(t, l, w, "irflow-quarantine")
	tr := groupsNamed(t, l, w, "irflow-quarantine-transit")
	if len(q) != 1 || len(tr) != 1 || len(q[0].IpPermissions) != 0 {
		t.Fatalf("groups: quarantine %+v transit %+v", q, tr)
	}
	groups, tags := eniState(t, l, w.InstanceENI)
	// moto reports an instance-attached ENI's groups as its own plus the
	// instance's launch groups (NetworkInterface.group_set in moto/ec2).
	if !contains(groups, aws.ToString(q[0].GroupId)) || tags["irflow:previous-security-groups"] != w.AppSG {
		t.Errorf("instance ENI groups %v tags %v", groups, tags)
	}
	e := decode[[]eniOut](t, first.Outputs["enis"])
	if len(e) != 1 || e[0].Treatment != "security-groups" || !reflect.DeepEqual(e[0].Previous, []string{w.AppSG}) {
		t.Errorf("outputs %+v", e)
	}
	lg, err := ledger.NewStore(w.Cfg, w.Env.IncidentsTable).Read(context.Background(), caseID)
	var d ledger.SecurityGroupsData
	if err != nil || len(lg.Entries) != 1 || lg.Entries[0].Decode(&d) != nil || !reflect.DeepEqual(d.PreviousGroups, []string{w.AppSG}) {
		t.Fatalf("ledger %+v %v", lg, err)
	}
	second, err := run(t, w, "EC2", caseID, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := decode[[]eniOut](t, second.Outputs["enis"]); !reflect.DeepEqual(e[0].Previous, []string{w.AppSG}) {
		t.Errorf("second run lost the originals: %+v", e)
	}
	l.NoRefusals(t)
	mototest.VerifyAudit(t, w, caseID, 4)
}

func TestMotoIsolateDryRun(t *testing.T) {
	w, l := world(t)
	for _, lt := range []string{"FARGATE", "EC2"} {
		before := snapshot(t, w, l)
		caseID := mototest.Unique("case-dry")
		res, err := run(t, w, lt, caseID, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		if after := snapshot(t, w, l); after != before {
			t.Errorf("%s dry run changed the world", lt)
		}
		if lg, err := ledger.NewStore(w.Cfg, w.Env.IncidentsTable).Read(context.Background(), caseID); err != nil || len(lg.Entries) != 0 {
			t.Errorf("%s dry run wrote the ledger: %+v %v", lt, lg, err)
		}
		if res.Status != "DRY_RUN" || res.Outputs["isolation"] != "partial" {
			t.Errorf("%s dry run: %s %q", lt, res.Status, res.Summary)
		}
		mototest.VerifyAudit(t, w, caseID, 2)
	}
}

// TestMotoIsolateFailsClosed: a network ACL whose allow is rule 1 leaves
// no room ahead of it: the isolation fails before anything changes.
func TestMotoIsolateFailsClosed(t *testing.T) {
	w, l := world(t)
	full := addACL(t, w, l, 1)
	before := snapshot(t, w, l)
	caseID := mototest.Unique("case-full")
	_, err := run(t, w, "FARGATE", caseID, false, nil)
	if contract.ErrorName(err) != contract.ErrPreconditionFailed || !strings.Contains(err.Error(), full) {
		t.Fatalf("error %v; want PreconditionFailedError naming %s", err, full)
	}
	if snapshot(t, w, l) != before {
		t.Error("failing closed changed the world")
	}
	if rs := l.Refusals(t); len(rs) != 0 {
		t.Errorf("strict refusals %+v: the plan must fail before AWS refuses anything", rs)
	}
	mototest.VerifyAudit(t, w, caseID, 2)
}

// addEndpoints creates interface endpoints for the services and an S3
// gateway endpoint in the world's VPC and returns the endpoint ENIs'
// addresses.
func addEndpoints(t *testing.T, w *mototest.World, services ...string) []string {
	t.Helper()
	c := ec2.NewFromConfig(w.Cfg)
	ctx := context.Background()
	var enis []string
	for _, svc := range services {
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

// TestMotoIsolateAllowSsm: without SSM endpoints allowSsm falls back to
// the deny-all quarantine and says so; once the VPC has them (and ECS's),
// the -ssm group allows exactly HTTPS to the endpoint ENIs and the S3
// prefix list, twice without duplicates.
func TestMotoIsolateAllowSsm(t *testing.T) {
	w, l := world(t)
	with := map[string]any{"allowSsm": true}
	caseID := mototest.Unique("case-ssm")
	res, err := run(t, w, "EC2", caseID, false, with)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["ssmFallback"] == nil || len(groupsNamed(t, l, w, "irflow-quarantine")) != 1 {
		t.Fatalf("no fallback: %v %q", res.Outputs["ssmFallback"], res.Summary)
	}
	ips := addEndpoints(t, w, "ssm", "ssmmessages", "ec2messages", "ecs", "ecs-agent", "ecs-telemetry")
	for i := 0; i < 2; i++ {
		res, err := run(t, w, "EC2", caseID, false, with)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outputs["ssmFallback"] != nil {
			t.Errorf("run %d fell back: %v", i+1, res.Outputs["ssmFallback"])
		}
		q := groupsNamed(t, l, w, "irflow-quarantine-ssm")
		if len(q) != 1 {
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
	}
	l.NoRefusals(t)
	mototest.VerifyAudit(t, w, caseID, 6)
}

// addACL creates a network ACL in the world's VPC allowing everything at
// rule allowAt both ways, associated with no subnet, and returns its id.
func addACL(t *testing.T, w *mototest.World, l *stricttest.Layer, allowAt int32) string {
	t.Helper()
	c := ec2.NewFromConfig(w.Cfg)
	ctx := context.Background()
	acl, err := c.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(w.VpcID)})
	if err != nil {
		t.Fatal(err)
	}
	for _, egress := range []bool{false, true} {
		if _, err := c.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: acl.NetworkAcl.NetworkAclId, RuleNumber: aws.Int32(allowAt),
			Protocol: aws.String("-1"), RuleAction: ec2types.RuleActionAllow, Egress: aws.Bool(egress), CidrBlock: aws.String("0.0.0.0/0")}); err != nil {
			t.Fatal(err)
		}
	}
	return aws.ToString(acl.NetworkAcl.NetworkAclId)
}

func groupsNamed(t *testing.T, l *stricttest.Layer, w *mototest.World, name string) []ec2types.SecurityGroup {
	t.Helper()
	out, err := ec2.NewFromConfig(l.Direct).DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{w.VpcID}}, {Name: aws.String("group-name"), Values: []string{name}}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.SecurityGroups
}

func eniState(t *testing.T, l *stricttest.Layer, id string) (groups []string, tags map[string]string) {
	t.Helper()
	out, err := ec2.NewFromConfig(l.Direct).DescribeNetworkInterfaces(context.Background(), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{id}})
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

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
