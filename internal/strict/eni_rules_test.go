package strict

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

// fakeECS answers ECS for the ENI rules' tests with task documents in
// moto 5.2.5's shape for awsvpc tasks.
type fakeECS struct {
	mu       sync.Mutex
	tasks    map[string]map[string]any // ARN -> document
	order    []string
	services map[string]string // service name -> assignPublicIp
}

const cluster1 = "arn:aws:ecs:us-east-1:123456789012:cluster/c1"

// addTask adds a RUNNING awsvpc task whose ENI moto placed at addr.
func (fc *fakeECS) addTask(id, eni, subnet, addr, launchType, group string) string {
	arn := "arn:aws:ecs:us-east-1:123456789012:task/c1/" + id
	t := map[string]any{"taskArn": arn, "clusterArn": cluster1, "lastStatus": "RUNNING", "desiredStatus": "RUNNING",
		"launchType": launchType, "group": group, "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/" + id + ":1",
		"containers": []any{map[string]any{"name": "app", "containerArn": arn + "/app", "networkInterfaces": []any{}}},
		"attachments": []any{map[string]any{"id": "att-" + id, "type": "ElasticNetworkInterface", "status": "ATTACHED", "details": []any{
			map[string]any{"name": "subnetId", "value": subnet},
			map[string]any{"name": "networkInterfaceId", "value": eni},
			map[string]any{"name": "macAddress", "value": "02:00:00:00:00:01"},
			map[string]any{"name": "privateDnsName", "value": "ip-" + strings.ReplaceAll(addr, ".", "-") + ".ec2.internal"},
			map[string]any{"name": "privateIPv4Address", "value": addr},
		}}}}
	if launchType == "EC2" {
		t["containerInstanceArn"] = ciArn
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.tasks == nil {
		fc.tasks = map[string]map[string]any{}
	}
	fc.tasks[arn] = t
	fc.order = append(fc.order, arn)
	return arn
}

// stop stops a task in the fake, as moto does, past the layer.
func (fc *fakeECS) stop(arn string) map[string]any {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	t := fc.tasks[arn]
	t["lastStatus"], t["desiredStatus"] = "STOPPED", "STOPPED"
	return t
}

func (fc *fakeECS) install(f *fakeMoto) {
	f.onECS("DescribeTasks", func(in map[string]any) any {
		fc.mu.Lock()
		defer fc.mu.Unlock()
		var out []any
		for _, a := range in["tasks"].([]any) {
			if t := fc.tasks[a.(string)]; t != nil {
				out = append(out, t)
			}
		}
		return map[string]any{"tasks": out, "failures": []any{}}
	})
	f.onECS("ListClusters", func(map[string]any) any { return map[string]any{"clusterArns": []any{cluster1}} })
	f.onECS("ListTasks", func(map[string]any) any {
		fc.mu.Lock()
		defer fc.mu.Unlock()
		return map[string]any{"taskArns": fc.order}
	})
	f.onECS("RunTask", func(in map[string]any) any {
		fc.mu.Lock()
		defer fc.mu.Unlock()
		// The task definition's family names the task added for it.
		id := strings.TrimSuffix(in["taskDefinition"].(string), ":1")
		return map[string]any{"tasks": []any{fc.tasks["arn:aws:ecs:us-east-1:123456789012:task/c1/"+id]}, "failures": []any{}}
	})
	f.onECS("StopTask", func(in map[string]any) any { return map[string]any{"task": fc.stop(in["task"].(string))} })
	f.onECS("DescribeServices", func(in map[string]any) any {
		fc.mu.Lock()
		defer fc.mu.Unlock()
		var out []any
		for _, s := range in["services"].([]any) {
			if v, ok := fc.services[s.(string)]; ok {
				out = append(out, map[string]any{"serviceName": s, "networkConfiguration": map[string]any{
					"awsvpcConfiguration": map[string]any{"subnets": []any{"subnet-app"}, "assignPublicIp": v}}})
			}
		}
		return map[string]any{"services": out, "failures": []any{}}
	})
	f.onECS("DescribeContainerInstances", func(map[string]any) any {
		return map[string]any{"containerInstances": []any{map[string]any{"containerInstanceArn": ciArn, "ec2InstanceId": "i-1", "agentConnected": true}}}
	})
}

// ruleWorld is a fake VPC with moto's misplacements: subnet-app
// (10.0.1.0/24) holds an ENI of the account moto placed well, two task ENIs
// moto placed outside the subnet, an ENI on a reserved address, two ENIs on
// one address, an instance on a reserved address, and an interface
// endpoint's ENI; subnet-pub (10.0.0.0/24) holds the NAT gateway's ENI and
// two load balancer ENIs.
type ruleWorld struct {
	f   *fakeMoto
	ec2 *fakeEC2
	ecs *fakeECS
}

func newRuleWorld(t *testing.T) *ruleWorld {
	t.Helper()
	f := newFakeMoto(t)
	fe := &fakeEC2{subnets: map[string]string{"subnet-app": "10.0.1.0/24", "subnet-pub": "10.0.0.0/24"}, enis: []*fakeENI{
		{ID: "eni-own", Subnet: "subnet-app", Addr: "10.0.1.9", DNS: true},
		{ID: "eni-task", Subnet: "subnet-app", Addr: "10.77.3.4", Desc: motoECSDescription, DNS: true},
		{ID: "eni-task2", Subnet: "subnet-app", Addr: "10.203.9.8", Desc: motoECSDescription, DNS: true},
		{ID: "eni-ec2task", Subnet: "subnet-app", Addr: "10.19.1.1", Desc: motoECSDescription, DNS: true},
		{ID: "eni-reserved", Subnet: "subnet-app", Addr: "10.0.1.2"},
		{ID: "eni-dup-a", Subnet: "subnet-app", Addr: "10.0.1.20"},
		{ID: "eni-dup-b", Subnet: "subnet-app", Addr: "10.0.1.20"},
		{ID: "eni-inst", Subnet: "subnet-app", Addr: "10.0.1.255", Instance: "i-9", DNS: true},
		{ID: "eni-vpce", Subnet: "subnet-app", Addr: "10.61.156.156", Status: "available"},
		{ID: "eni-nat", Subnet: "subnet-pub", Addr: "10.48.200.151", Status: "available", EIP: "127.43.17.45"},
		{ID: "eni-alb", Subnet: "subnet-pub", Addr: "10.0.0.77", Status: "available", Desc: "ELB app/web/50dc6c495c0c9188"},
		{ID: "eni-nlb", Subnet: "subnet-pub", Addr: "10.0.0.78", Status: "available", Desc: "ELB net/edge/1a2b3c4d5e6f7890"},
	},
		nats:      []fakeNAT{{ID: "nat-1", Subnet: "subnet-pub", ENI: "eni-nat", State: "available"}},
		endpoints: []fakeEndpoint{{ID: "vpce-1", ENIs: []string{"eni-vpce"}, Groups: [][2]string{{"sg-endpoints", "endpoints"}}}},
		instances: []fakeInstance{{ID: "i-9", ENI: "eni-inst"}},
	}
	fe.install(f)
	fc := &fakeECS{services: map[string]string{"payments": "ENABLED", "ledger": "DISABLED"}}
	fc.addTask("t1", "eni-task", "subnet-app", "10.77.3.4", "FARGATE", "service:payments")
	fc.addTask("t2", "eni-task2", "subnet-app", "10.203.9.8", "FARGATE", "family:batch")
	fc.addTask("t3", "eni-ec2task", "subnet-app", "10.19.1.1", "EC2", "service:payments")
	fc.install(f)
	return &ruleWorld{f: f, ec2: fe, ecs: fc}
}

func enisByID(t *testing.T, c *ec2.Client, in *ec2.DescribeNetworkInterfacesInput) map[string]ec2types.NetworkInterface {
	t.Helper()
	out, err := c.DescribeNetworkInterfaces(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]ec2types.NetworkInterface{}
	for _, ni := range out.NetworkInterfaces {
		m[aws.ToString(ni.NetworkInterfaceId)] = ni
	}
	return m
}

func addr(t *testing.T, s *string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(aws.ToString(s))
	if err != nil {
		t.Fatalf("address %q: %v", aws.ToString(s), err)
	}
	return a
}

// TestENIAddressInSubnet: every ENI shows an address of its subnet, none
// of the five reserved, none shown twice; moto's address stands where it
// already is one; the addresses are stable across calls and across a
// layer restart; and every answer that carries one shows the same.
func TestENIAddressInSubnet(t *testing.T) {
	w := newRuleWorld(t)
	_, u := serve(t, w.f.srv.URL, Config{})
	c := ec2.NewFromConfig(sdk(u))
	all := enisByID(t, c, &ec2.DescribeNetworkInterfacesInput{})
	cidrs := map[string]netip.Prefix{"subnet-app": netip.MustParsePrefix("10.0.1.0/24"), "subnet-pub": netip.MustParsePrefix("10.0.0.0/24")}
	shown := map[string]netip.Addr{}
	seen := map[netip.Addr]string{}
	for id, ni := range all {
		a, cidr := addr(t, ni.PrivateIpAddress), cidrs[aws.ToString(ni.SubnetId)]
		if !cidr.Contains(a) || reservedAddr(cidr, a) {
			t.Errorf("%s shown at %s: not a usable address of %s", id, a, cidr)
		}
		if other, dup := seen[a]; dup {
			t.Errorf("%s and %s both shown at %s", id, other, a)
		}
		seen[a], shown[id] = id, a
		if len(ni.PrivateIpAddresses) != 1 || aws.ToString(ni.PrivateIpAddresses[0].PrivateIpAddress) != a.String() {
			t.Errorf("%s: privateIpAddressesSet %+v disagrees with %s", id, ni.PrivateIpAddresses, a)
		}
		if dns := aws.ToString(ni.PrivateDnsName); dns != "" && dns != "ip-"+strings.ReplaceAll(a.String(), ".", "-")+".ec2.internal" {
			t.Errorf("%s: privateDnsName %s for %s", id, dns, a)
		}
	}
	for id, want := range map[string]string{"eni-own": "10.0.1.9", "eni-dup-a": "10.0.1.20", "eni-alb": "10.0.0.77", "eni-nlb": "10.0.0.78"} {
		if shown[id].String() != want {
			t.Errorf("%s: moto's well-placed %s became %s", id, want, shown[id])
		}
	}
	for _, id := range []string{"eni-task", "eni-reserved", "eni-dup-b", "eni-vpce", "eni-nat"} {
		if off, _, _ := offsetIn(cidrs[aws.ToString(all[id].SubnetId)], shown[id]); off < 128 {
			t.Errorf("%s moved to %s, below the upper half of its subnet (where moto puts instances)", id, shown[id])
		}
	}

	// Stable across calls and across a restart (a new layer on the same moto).
	_, u2 := serve(t, w.f.srv.URL, Config{})
	for _, cl := range []*ec2.Client{c, ec2.NewFromConfig(sdk(u2))} {
		again := enisByID(t, cl, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-task", "eni-nat", "eni-dup-b"}})
		for id, ni := range again {
			if addr(t, ni.PrivateIpAddress) != shown[id] {
				t.Errorf("%s shown at %s, then at %s", id, shown[id], aws.ToString(ni.PrivateIpAddress))
			}
		}
	}

	// The same address in the task's documents.
	e := ecs.NewFromConfig(sdk(u))
	d, err := e.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: []string{"arn:aws:ecs:us-east-1:123456789012:task/c1/t1"}})
	if err != nil || len(d.Tasks) != 1 {
		t.Fatalf("DescribeTasks: %v", err)
	}
	details := map[string]string{}
	for _, kv := range d.Tasks[0].Attachments[0].Details {
		details[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
	}
	if details["privateIPv4Address"] != shown["eni-task"].String() ||
		details["privateDnsName"] != "ip-"+strings.ReplaceAll(shown["eni-task"].String(), ".", "-")+".ec2.internal" {
		t.Errorf("task attachment details %v; the ENI is shown at %s", details, shown["eni-task"])
	}
	nis := d.Tasks[0].Containers[0].NetworkInterfaces
	if len(nis) != 1 || aws.ToString(nis[0].PrivateIpv4Address) != shown["eni-task"].String() || aws.ToString(nis[0].AttachmentId) != "att-t1" {
		t.Errorf("container networkInterfaces %+v", nis)
	}
	// ... in DescribeNatGateways, DescribeAddresses and DescribeInstances.
	nat, err := c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{})
	if err != nil || aws.ToString(nat.NatGateways[0].NatGatewayAddresses[0].PrivateIp) != shown["eni-nat"].String() {
		t.Errorf("DescribeNatGateways: %+v %v; the NAT ENI is shown at %s", nat, err, shown["eni-nat"])
	}
	eips, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
	if err != nil || aws.ToString(eips.Addresses[0].PrivateIpAddress) != shown["eni-nat"].String() {
		t.Errorf("DescribeAddresses: %+v %v", eips, err)
	}
	insts, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	inst := insts.Reservations[0].Instances[0]
	if aws.ToString(inst.PrivateIpAddress) != shown["eni-inst"].String() || aws.ToString(inst.NetworkInterfaces[0].PrivateIpAddress) != shown["eni-inst"].String() ||
		aws.ToString(inst.PrivateDnsName) != "ip-"+strings.ReplaceAll(shown["eni-inst"].String(), ".", "-")+".ec2.internal" {
		t.Errorf("instance shown at %s (%s), ENI at %s; want %s", aws.ToString(inst.PrivateIpAddress), aws.ToString(inst.PrivateDnsName),
			aws.ToString(inst.NetworkInterfaces[0].PrivateIpAddress), shown["eni-inst"])
	}
}

// TestENIAddressFilters: filters on private addresses name the addresses
// the layer shows, as on AWS; moto's own address of a moved ENI finds
// nothing.
func TestENIAddressFilters(t *testing.T) {
	w := newRuleWorld(t)
	_, u := serve(t, w.f.srv.URL, Config{})
	c := ec2.NewFromConfig(sdk(u))
	// A new layer: the filter itself must find where the ENI is shown.
	want, _, err := func() (netip.Addr, bool, error) {
		l, _ := serve(t, w.f.srv.URL, Config{})
		return l.presentedAddr(ctx, caller{AccessKey: "testing", Region: "us-east-1"}, "subnet-app", "eni-task")
	}()
	if err != nil {
		t.Fatal(err)
	}
	byAddr := func(name, a string) []string {
		out, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{{Name: aws.String(name), Values: []string{a}}}})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, ni := range out.NetworkInterfaces {
			ids = append(ids, aws.ToString(ni.NetworkInterfaceId))
		}
		return ids
	}
	for _, name := range []string{"private-ip-address", "addresses.private-ip-address"} {
		if got := byAddr(name, want.String()); len(got) != 1 || got[0] != "eni-task" {
			t.Errorf("%s=%s: %v; want [eni-task]", name, want, got)
		}
		if got := byAddr(name, "10.77.3.4"); len(got) != 0 {
			t.Errorf("%s=moto's own 10.77.3.4: %v; want nothing", name, got)
		}
		if got := byAddr(name, "10.0.1.9"); len(got) != 1 || got[0] != "eni-own" {
			t.Errorf("%s=10.0.1.9: %v; want [eni-own]", name, got)
		}
	}
	inst := enisByID(t, c, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-inst"}})["eni-inst"]
	for a, n := range map[string]int{aws.ToString(inst.PrivateIpAddress): 1, "10.0.1.255": 0} {
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("private-ip-address"), Values: []string{a}}}})
		if err != nil || len(out.Reservations) != n {
			t.Errorf("DescribeInstances private-ip-address=%s: %+v %v; want %d reservations", a, out, err, n)
		}
	}
}

// TestServiceENIs: the ENIs of a NAT gateway, an interface endpoint and
// load balancers show as AWS shows them, and refuse every change but tags.
func TestServiceENIs(t *testing.T) {
	w := newRuleWorld(t)
	l, u := serve(t, w.f.srv.URL, Config{})
	c := ec2.NewFromConfig(sdk(u))
	got := enisByID(t, c, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-nat", "eni-vpce", "eni-alb", "eni-nlb", "eni-own"}})
	tests := []struct {
		eni, typ, requester, desc, owner string
	}{
		{"eni-nat", "nat_gateway", DefaultNATRequesterID, "Interface for NAT Gateway nat-1", "amazon-aws"},
		{"eni-vpce", "vpc_endpoint", DefaultEndpointRequesterID, "VPC Endpoint Interface vpce-1", "amazon-aws"},
		{"eni-alb", "interface", "amazon-elb", "ELB app/web/50dc6c495c0c9188", "amazon-elb"},
		{"eni-nlb", "network_load_balancer", "amazon-elb", "ELB net/edge/1a2b3c4d5e6f7890", "amazon-elb"},
	}
	for _, tt := range tests {
		ni := got[tt.eni]
		if string(ni.InterfaceType) != tt.typ || ni.Status != ec2types.NetworkInterfaceStatusInUse || !aws.ToBool(ni.RequesterManaged) ||
			aws.ToString(ni.RequesterId) != tt.requester || aws.ToString(ni.Description) != tt.desc || ni.Attachment == nil ||
			aws.ToString(ni.Attachment.InstanceOwnerId) != tt.owner || ni.Attachment.Status != ec2types.AttachmentStatusAttached ||
			!strings.HasPrefix(aws.ToString(ni.Attachment.AttachmentId), "ela-attach-") {
			t.Errorf("%s shown as type %s status %s managed %v by %s %q, attachment %+v", tt.eni, ni.InterfaceType, ni.Status,
				aws.ToBool(ni.RequesterManaged), aws.ToString(ni.RequesterId), aws.ToString(ni.Description), ni.Attachment)
		}
	}
	if g := got["eni-vpce"].Groups; len(g) != 1 || aws.ToString(g[0].GroupId) != "sg-endpoints" || aws.ToString(g[0].GroupName) != "endpoints" {
		t.Errorf("endpoint ENI groups %+v; want the endpoint's", g)
	}
	if aws.ToBool(got["eni-nat"].SourceDestCheck) || aws.ToString(got["eni-nat"].Association.PublicIp) != "127.43.17.45" {
		t.Errorf("NAT ENI: sourceDestCheck %v, association %+v", aws.ToBool(got["eni-nat"].SourceDestCheck), got["eni-nat"].Association)
	}
	if own := got["eni-own"]; aws.ToBool(own.RequesterManaged) || own.Attachment != nil {
		t.Errorf("the account's ENI rewritten: %+v", own)
	}

	_, err := c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String("eni-nat"), Groups: []string{"sg-q"}})
	wantRefused(t, l, err, http.StatusBadRequest, "AuthFailure", ruleRequesterManaged.id)
	_, err = c.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String("eni-vpce")})
	wantRefused(t, l, err, http.StatusBadRequest, "AuthFailure", ruleRequesterManaged.id)
	_, err = c.DetachNetworkInterface(ctx, &ec2.DetachNetworkInterfaceInput{AttachmentId: got["eni-alb"].Attachment.AttachmentId})
	wantRefused(t, l, err, http.StatusBadRequest, "AuthFailure", ruleRequesterManaged.id)
	if w.f.saw("ModifyNetworkInterfaceAttribute")+w.f.saw("DetachNetworkInterface") != 0 || w.ec2.eni("eni-vpce") == nil {
		t.Error("a refused change reached moto")
	}
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"eni-nat"}, Tags: []ec2types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Errorf("tagging a NAT gateway's ENI: %v", err)
	}

	// The NAT gateway deleted: AWS deletes its ENI.
	w.ec2.mu.Lock()
	w.ec2.nats[0].State = "deleted"
	w.ec2.mu.Unlock()
	_, err = c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-nat"}})
	wantNotFound(t, err, "eni-nat")
	if w.ec2.eni("eni-nat") != nil {
		t.Error("the deleted NAT gateway's ENI is still in moto")
	}
}

// wantNotFound checks that err is EC2's answer for an ENI that does not
// exist, as the SDK parses it.
func wantNotFound(t *testing.T, err error, eni string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidNetworkInterfaceID.NotFound" ||
		api.ErrorMessage() != "The networkInterface ID '"+eni+"' does not exist" {
		t.Errorf("error %v; want InvalidNetworkInterfaceID.NotFound for %s", err, eni)
	}
}

// TestAssignPublicIP: a Fargate task run with assignPublicIp ENABLED, or
// of a service with it, gets an Amazon public address on its ENI and in its
// attachment; other tasks get none.
func TestAssignPublicIP(t *testing.T) {
	w := newRuleWorld(t)
	_, u := serve(t, w.f.srv.URL, Config{})
	e, c := ecs.NewFromConfig(sdk(u)), ec2.NewFromConfig(sdk(u))
	run := func(td string, assign ecstypes.AssignPublicIp) map[string]string {
		out, err := e.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c1"), TaskDefinition: aws.String(td + ":1"),
			NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
				Subnets: []string{"subnet-app"}, AssignPublicIp: assign}}})
		if err != nil || len(out.Tasks) != 1 {
			t.Fatalf("RunTask %s: %v", td, err)
		}
		d := map[string]string{}
		for _, kv := range out.Tasks[0].Attachments[0].Details {
			d[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
		}
		return d
	}
	// t2 is a standalone task run with ENABLED; t1 is the payments
	// service's (ENABLED on the service), run here without saying.
	if d := run("t2", ecstypes.AssignPublicIpEnabled); d["publicIPv4Address"] != publicAddr("eni-task2").String() {
		t.Errorf("t2 run with assignPublicIp ENABLED: details %v", d)
	}
	if d := run("t3", ecstypes.AssignPublicIpEnabled); d["publicIPv4Address"] != "" {
		t.Errorf("an EC2 task got a public IP: %v", d)
	}
	got := enisByID(t, c, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-task", "eni-task2", "eni-ec2task"}})
	for _, id := range []string{"eni-task", "eni-task2"} {
		as := got[id].Association
		pub := publicAddr(id)
		if as == nil || aws.ToString(as.PublicIp) != pub.String() || aws.ToString(as.IpOwnerId) != "amazon" || as.AllocationId != nil ||
			aws.ToString(as.PublicDnsName) != "ec2-"+strings.ReplaceAll(pub.String(), ".", "-")+".compute-1.amazonaws.com" {
			t.Errorf("%s association %+v; want Amazon's %s", id, as, pub)
		}
		if pa := got[id].PrivateIpAddresses[0].Association; pa == nil || aws.ToString(pa.PublicIp) != pub.String() {
			t.Errorf("%s primary address association %+v", id, pa)
		}
		if !publicIPv4Range.Contains(pub) || pub.IsPrivate() {
			t.Errorf("%s: %s is not a public address of %s", id, pub, publicIPv4Range)
		}
	}
	if got["eni-ec2task"].Association != nil {
		t.Errorf("EC2 task ENI association %+v", got["eni-ec2task"].Association)
	}
	// The service's setting survives a restart; a standalone task's does not.
	_, u2 := serve(t, w.f.srv.URL, Config{})
	again := enisByID(t, ec2.NewFromConfig(sdk(u2)), &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-task", "eni-task2"}})
	if as := again["eni-task"].Association; as == nil || aws.ToString(as.PublicIp) != publicAddr("eni-task").String() {
		t.Errorf("after a restart the service task's association is %+v", as)
	}
	if again["eni-task2"].Association != nil {
		t.Log("a standalone task's public address survived a restart: doc.go says it does not")
	}
}

// TestTaskENIDeletedOnStop: a task's ENI is deleted once the task is
// STOPPED as the layer presents it: stopped through the layer, or past it;
// a stop held for an unreachable agent keeps it.
func TestTaskENIDeletedOnStop(t *testing.T) {
	w := newRuleWorld(t)
	oracle := &fakeOracle{} // the agent on i-1 is cut off
	_, u := serve(t, w.f.srv.URL, Config{Agents: oracle})
	e, c := ecs.NewFromConfig(sdk(u)), ec2.NewFromConfig(sdk(u))
	before := enisByID(t, c, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-task", "eni-ec2task"}})

	// The EC2 task's agent is cut off: the stop is held, the ENI stays.
	t3 := "arn:aws:ecs:us-east-1:123456789012:task/c1/t3"
	if _, err := e.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c1"), Task: aws.String(t3)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-ec2task"}}); err != nil {
		t.Errorf("a held stop deleted the ENI: %v", err)
	}
	held, err := e.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: []string{t3}})
	if err != nil || aws.ToString(held.Tasks[0].Attachments[0].Status) != "ATTACHED" ||
		!hasDetail(held.Tasks[0].Attachments[0], "privateIPv4Address", aws.ToString(before["eni-ec2task"].PrivateIpAddress)) {
		t.Errorf("the held task's attachment: %+v %v", held, err)
	}

	// The Fargate task stops through the layer: its ENI is gone.
	t1 := "arn:aws:ecs:us-east-1:123456789012:task/c1/t1"
	stop, err := e.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c1"), Task: aws.String(t1)})
	if err != nil {
		t.Fatal(err)
	}
	if w.ec2.eni("eni-task") != nil {
		t.Error("the stopped task's ENI is still in moto")
	}
	_, err = c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-task"}})
	wantNotFound(t, err, "eni-task")
	if _, ok := enisByID(t, c, &ec2.DescribeNetworkInterfacesInput{})["eni-task"]; ok {
		t.Error("an unfiltered describe lists the stopped task's ENI")
	}
	att := stop.Task.Attachments[0]
	if aws.ToString(att.Status) != "DELETED" || !hasDetail(att, "privateIPv4Address", aws.ToString(before["eni-task"].PrivateIpAddress)) {
		t.Errorf("StopTask's answer: attachment %+v; want DELETED, the address it was shown at", att)
	}
	d, err := e.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: []string{t1}})
	if err != nil || aws.ToString(d.Tasks[0].Attachments[0].Status) != "DELETED" {
		t.Errorf("DescribeTasks after the stop: %+v %v", d, err)
	}
	_, err = c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String("eni-task"), Groups: []string{"sg-q"}})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidNetworkInterfaceID.NotFound" {
		t.Errorf("changing the deleted ENI: %v; want InvalidNetworkInterfaceID.NotFound", err)
	}

	// The agent reconnects: the held stop is delivered, the ENI goes.
	oracle.up.Store(true)
	if _, err := e.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: []string{t3}}); err != nil {
		t.Fatal(err)
	}
	if w.ec2.eni("eni-ec2task") != nil {
		t.Error("the ENI of a task whose held stop was delivered is still in moto")
	}

	// A task stopped past the layer: its ENI goes when next described.
	w.ecs.stop("arn:aws:ecs:us-east-1:123456789012:task/c1/t2")
	if _, ok := enisByID(t, c, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{
		{Name: aws.String("subnet-id"), Values: []string{"subnet-app"}}}})["eni-task2"]; ok {
		t.Error("a filtered describe lists the ENI of a task moto shows STOPPED")
	}
	if w.ec2.eni("eni-task2") != nil {
		t.Error("the ENI of a task stopped past the layer is still in moto")
	}
}

func hasDetail(a ecstypes.Attachment, name, value string) bool {
	for _, kv := range a.Details {
		if aws.ToString(kv.Name) == name && aws.ToString(kv.Value) == value {
			return true
		}
	}
	return false
}

// TestAddressesAfterRestart: a new layer derives from moto's list (in
// creation order) the addresses the live layer assigned one refresh at a
// time, even when moto later put an ENI on an address the layer had shown
// for a moved one, and when two moved ENIs hash to one slot.
func TestAddressesAfterRestart(t *testing.T) {
	cidr, key := netip.MustParsePrefix("10.0.1.0/24"), "us-east-1/subnet-app"
	// Two IDs whose probes start at the same slot of the upper half.
	var a, b string
	slots := map[uint64]string{}
	for i := 0; a == ""; i++ {
		id := "eni-" + strings.Repeat("0", 3) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26))
		slot := hash64(id) % 127
		if prev, ok := slots[slot]; ok {
			a, b = prev, id
		}
		slots[slot] = id
	}
	m := func(id, ip string) motoENI { return motoENI{id: id, primary: netip.MustParseAddr(ip)} }
	live := &addrBook{}
	live.merge(key, cidr, []motoENI{m(a, "10.9.9.9")})
	shownA, _ := live.lookup(key, a)
	// moto then puts an instance on shownA, and a second task ENI elsewhere.
	all := []motoENI{m(a, "10.9.9.9"), m("eni-inst", shownA.String()), m(b, "10.7.7.7")}
	live.merge(key, cidr, all)
	fresh := &addrBook{}
	fresh.merge(key, cidr, all)
	seen := map[netip.Addr]bool{}
	for _, e := range all {
		x, _ := live.lookup(key, e.id)
		y, _ := fresh.lookup(key, e.id)
		if x != y {
			t.Errorf("%s: live layer %s, restarted layer %s", e.id, x, y)
		}
		if seen[x] {
			t.Errorf("%s shown at %s twice", e.id, x)
		}
		seen[x] = true
	}
	if x, _ := live.lookup(key, a); x != shownA {
		t.Errorf("%s moved from %s to %s when moto reused its address", a, shownA, x)
	}
}
