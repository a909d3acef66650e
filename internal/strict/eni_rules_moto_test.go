package strict

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/internal/flowmodel"
	"github.com/irflow/irflow/internal/mototest"
)

// vpcWorld is a VPC like the bench's fargate world, seeded in moto through
// the layer: 10.0.0.0/16 with a public subnet (10.0.0.0/24, the NAT
// gateway, routed to the internet gateway), an app subnet (10.0.1.0/24,
// routed to the NAT gateway, an interface endpoint for SSM), a load balancer
// subnet (10.0.2.0/24, public, the load balancer node's ENI), a Fargate task
// in the app subnet and a Fargate task with assignPublicIp ENABLED in the
// public subnet.
type vpcWorld struct {
	Subnets                        map[string]netip.Prefix // subnet ID -> CIDR
	Public, App, LB                string                  // subnet IDs
	NAT, NATENI, Endpoint, EPENI   string
	LBENI, Cluster                 string
	Task, TaskENI, PubTask, PubENI string
	LBGroup, AppGroup, EndpointsSG string
	PublicACL                      string // the public subnet's own network ACL
	strictEC2, directEC2           *ec2.Client
	strictECS                      *ecs.Client
}

// seedVPCWorld seeds the world in region: a test that reads a whole
// region's network (flowmodel.Gather) takes one no other test writes to.
func seedVPCWorld(t *testing.T, url, region string) *vpcWorld {
	t.Helper()
	direct := mototest.Config(t)
	direct.Region = region
	c, e := ec2.NewFromConfig(sdkIn(url, region)), ecs.NewFromConfig(sdkIn(url, region))
	w := &vpcWorld{Subnets: map[string]netip.Prefix{}, strictEC2: c, strictECS: e, directEC2: ec2.NewFromConfig(direct)}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	n := mototest.NewNet(t, c, "10.0.0.0/16")
	vpcID := aws.String(n.VPC)
	n.DNSHostnames()
	subnet := func(cidr string) string {
		id := n.Subnet(cidr)
		w.Subnets[id] = netip.MustParsePrefix(cidr)
		return id
	}
	w.Public, w.App, w.LB = subnet("10.0.0.0/24"), subnet("10.0.1.0/24"), subnet("10.0.2.0/24")
	igw := n.InternetGateway()
	nat := n.NATGateway(w.Public)
	w.NAT = aws.ToString(nat.NatGatewayId)
	w.NATENI = aws.ToString(nat.NatGatewayAddresses[0].NetworkInterfaceId)
	n.DefaultRoute(&ec2.CreateRouteInput{GatewayId: aws.String(igw)}, w.Public, w.LB)
	n.DefaultRoute(&ec2.CreateRouteInput{NatGatewayId: nat.NatGatewayId}, w.App)
	group := n.Group
	tcp := func(port int32, cidr, group string) ec2types.IpPermission {
		p := ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port)}
		if group != "" {
			p.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: aws.String(group)}}
		} else {
			p.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(cidr)}}
		}
		return p
	}
	w.LBGroup = group("lb", tcp(443, "0.0.0.0/0", ""))
	w.AppGroup = group("app", tcp(8080, "", w.LBGroup))
	w.EndpointsSG = group("endpoints", tcp(443, "10.0.0.0/16", ""))
	ep, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: vpcID, ServiceName: aws.String("com.amazonaws." + region + ".ssm"),
		VpcEndpointType: ec2types.VpcEndpointTypeInterface, SubnetIds: []string{w.App}, SecurityGroupIds: []string{w.EndpointsSG}, PrivateDnsEnabled: aws.Bool(true)})
	must(err)
	w.Endpoint, w.EPENI = aws.ToString(ep.VpcEndpoint.VpcEndpointId), ep.VpcEndpoint.NetworkInterfaceIds[0]
	lb, err := c.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(w.LB), Groups: []string{w.LBGroup},
		Description: aws.String("ELB app/" + mototest.Unique("alb") + "/50dc6c495c0c9188")})
	must(err)
	w.LBENI = aws.ToString(lb.NetworkInterface.NetworkInterfaceId)
	// The public subnet (the NAT gateway's) gets a network ACL of its own
	// that allows everything.
	acl, err := c.CreateNetworkAcl(ctx, &ec2.CreateNetworkAclInput{VpcId: vpcID})
	must(err)
	w.PublicACL = aws.ToString(acl.NetworkAcl.NetworkAclId)
	for _, egress := range []bool{false, true} {
		_, err = c.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(w.PublicACL), RuleNumber: aws.Int32(100),
			Protocol: aws.String("-1"), RuleAction: ec2types.RuleActionAllow, Egress: aws.Bool(egress), CidrBlock: aws.String("0.0.0.0/0")})
		must(err)
	}
	acls, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []ec2types.Filter{{Name: aws.String("association.subnet-id"), Values: []string{w.Public}}}})
	must(err)
	for _, a := range acls.NetworkAcls {
		for _, as := range a.Associations {
			if aws.ToString(as.SubnetId) == w.Public {
				_, err = c.ReplaceNetworkAclAssociation(ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: as.NetworkAclAssociationId, NetworkAclId: aws.String(w.PublicACL)})
				must(err)
			}
		}
	}

	w.Cluster = mototest.Unique("fidelity")
	_, err = e.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(w.Cluster)})
	must(err)
	td, err := e.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(mototest.Unique("api")),
		NetworkMode: ecstypes.NetworkModeAwsvpc, RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("api"), Image: aws.String("api:1"), Memory: aws.Int32(512)}}})
	must(err)
	run := func(subnet, group string, assign ecstypes.AssignPublicIp) (string, string) {
		out, err := e.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(w.Cluster), TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
			LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
				Subnets: []string{subnet}, SecurityGroups: []string{group}, AssignPublicIp: assign}}})
		must(err)
		if len(out.Tasks) != 1 {
			t.Fatalf("RunTask: %+v", out.Failures)
		}
		for _, d := range out.Tasks[0].Attachments[0].Details {
			if aws.ToString(d.Name) == "networkInterfaceId" {
				return aws.ToString(out.Tasks[0].TaskArn), aws.ToString(d.Value)
			}
		}
		t.Fatal("RunTask: no ENI")
		return "", ""
	}
	w.Task, w.TaskENI = run(w.App, w.AppGroup, ecstypes.AssignPublicIpDisabled)
	w.PubTask, w.PubENI = run(w.Public, w.AppGroup, ecstypes.AssignPublicIpEnabled)
	return w
}

func (w *vpcWorld) eni(t *testing.T, c *ec2.Client, id string) ec2types.NetworkInterface {
	t.Helper()
	out, err := c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{id}})
	if err != nil || len(out.NetworkInterfaces) != 1 {
		t.Fatalf("DescribeNetworkInterfaces %s: %v", id, err)
	}
	return out.NetworkInterfaces[0]
}

// TestMotoENIsWhereAWSPutsThem: moto places the task, NAT gateway and
// endpoint ENIs outside their subnets and leaves the service ENIs
// "available"; through the layer each is in its subnet, in every answer
// that shows it, and the service ENIs are typed, in use and refuse changes;
// the public task has Amazon's public address.
func TestMotoENIsWhereAWSPutsThem(t *testing.T) {
	l, url := serve(t, mototest.Endpoint(t), Config{})
	w := seedVPCWorld(t, url, "us-east-1")
	raw := w.eni(t, w.directEC2, w.TaskENI)
	if w.Subnets[w.App].Contains(addr(t, raw.PrivateIpAddress)) {
		t.Errorf("moto placed the task ENI in its subnet (%s): the rule would be moot", aws.ToString(raw.PrivateIpAddress))
	}
	for _, id := range []string{w.TaskENI, w.PubENI, w.NATENI, w.EPENI, w.LBENI} {
		ni := w.eni(t, w.strictEC2, id)
		a, cidr := addr(t, ni.PrivateIpAddress), w.Subnets[aws.ToString(ni.SubnetId)]
		if !cidr.Contains(a) || reservedAddr(cidr, a) {
			t.Errorf("%s shown at %s, not a usable address of its subnet %s", id, a, cidr)
		}
		if ni.Status != ec2types.NetworkInterfaceStatusInUse || !aws.ToBool(ni.RequesterManaged) {
			t.Errorf("%s: status %s, requester-managed %v", id, ni.Status, aws.ToBool(ni.RequesterManaged))
		}
	}
	taskAddr := addr(t, w.eni(t, w.strictEC2, w.TaskENI).PrivateIpAddress)
	d, err := w.strictECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(w.Cluster), Tasks: []string{w.Task, w.PubTask}})
	if err != nil || len(d.Tasks) != 2 {
		t.Fatalf("DescribeTasks: %v", err)
	}
	for _, tk := range d.Tasks {
		eni, want := w.TaskENI, taskAddr
		if aws.ToString(tk.TaskArn) == w.PubTask {
			eni, want = w.PubENI, addr(t, w.eni(t, w.strictEC2, w.PubENI).PrivateIpAddress)
		}
		att := tk.Attachments[0]
		if !hasDetail(att, "networkInterfaceId", eni) || !hasDetail(att, "privateIPv4Address", want.String()) ||
			!hasDetail(att, "privateDnsName", "ip-"+strings.ReplaceAll(want.String(), ".", "-")+".ec2.internal") {
			t.Errorf("task %s attachment %+v; its ENI is shown at %s", aws.ToString(tk.TaskArn), att.Details, want)
		}
		if nis := tk.Containers[0].NetworkInterfaces; len(nis) != 1 || aws.ToString(nis[0].PrivateIpv4Address) != want.String() {
			t.Errorf("task %s container networkInterfaces %+v", aws.ToString(tk.TaskArn), nis)
		}
		pub := hasDetail(att, "publicIPv4Address", publicAddr(w.PubENI).String())
		if pub != (eni == w.PubENI) {
			t.Errorf("task %s attachment public address: %+v", aws.ToString(tk.TaskArn), att.Details)
		}
	}
	as := w.eni(t, w.strictEC2, w.PubENI).Association
	if as == nil || aws.ToString(as.PublicIp) != publicAddr(w.PubENI).String() || aws.ToString(as.IpOwnerId) != "amazon" || as.AllocationId != nil {
		t.Errorf("public task ENI association %+v", as)
	}
	if w.eni(t, w.directEC2, w.PubENI).Association != nil {
		t.Error("moto now assigns public IPs to tasks: the rule would be moot")
	}

	natENI := w.eni(t, w.strictEC2, w.NATENI)
	nats, err := w.strictEC2.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{w.NAT}})
	if err != nil || aws.ToString(nats.NatGateways[0].NatGatewayAddresses[0].PrivateIp) != aws.ToString(natENI.PrivateIpAddress) {
		t.Errorf("DescribeNatGateways %+v %v; the NAT ENI is shown at %s", nats, err, aws.ToString(natENI.PrivateIpAddress))
	}
	if natENI.InterfaceType != "nat_gateway" || aws.ToString(natENI.Description) != "Interface for NAT Gateway "+w.NAT {
		t.Errorf("NAT ENI shown as %s %q", natENI.InterfaceType, aws.ToString(natENI.Description))
	}
	epENI := w.eni(t, w.strictEC2, w.EPENI)
	if epENI.InterfaceType != ec2types.NetworkInterfaceTypeVpcEndpoint || aws.ToString(epENI.Description) != "VPC Endpoint Interface "+w.Endpoint ||
		len(epENI.Groups) != 1 || aws.ToString(epENI.Groups[0].GroupId) != w.EndpointsSG {
		t.Errorf("endpoint ENI shown as %s %q groups %+v", epENI.InterfaceType, aws.ToString(epENI.Description), epENI.Groups)
	}
	if lb := w.eni(t, w.strictEC2, w.LBENI); aws.ToString(lb.RequesterId) != "amazon-elb" || lb.InterfaceType != ec2types.NetworkInterfaceTypeInterface {
		t.Errorf("load balancer ENI shown as %s by %s", lb.InterfaceType, aws.ToString(lb.RequesterId))
	}
	if raw := w.eni(t, w.directEC2, w.NATENI); raw.Status != ec2types.NetworkInterfaceStatusAvailable || raw.InterfaceType != ec2types.NetworkInterfaceTypeInterface {
		t.Errorf("moto now shows the NAT ENI as %s %s: the rule would be moot", raw.Status, raw.InterfaceType)
	}

	// A presented address finds its ENI; moto's own finds nothing.
	byAddr := func(a string) []ec2types.NetworkInterface {
		out, err := w.strictEC2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{
			{Name: aws.String("private-ip-address"), Values: []string{a}}, {Name: aws.String("subnet-id"), Values: []string{w.App}}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.NetworkInterfaces
	}
	if got := byAddr(taskAddr.String()); len(got) != 1 || aws.ToString(got[0].NetworkInterfaceId) != w.TaskENI {
		t.Errorf("private-ip-address=%s: %d ENIs; want the task's", taskAddr, len(got))
	}
	if got := byAddr(aws.ToString(raw.PrivateIpAddress)); len(got) != 0 {
		t.Errorf("moto's own address of the task ENI finds %d ENIs", len(got))
	}

	// The service ENIs refuse changes; moto takes them.
	_, err = w.strictEC2.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(w.NATENI),
		SourceDestCheck: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}})
	wantRefused(t, l, err, http.StatusBadRequest, "AuthFailure", ruleRequesterManaged.id)
	_, err = w.strictEC2.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(w.EPENI)})
	wantRefused(t, l, err, http.StatusBadRequest, "AuthFailure", ruleRequesterManaged.id)
	_, err = w.strictEC2.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(w.LBENI),
		Groups: []string{w.AppGroup}})
	wantRefused(t, l, err, http.StatusBadRequest, "AuthFailure", ruleRequesterManaged.id)
	if _, err := w.directEC2.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(w.NATENI),
		SourceDestCheck: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Errorf("moto refused it too (the rule would be moot): %v", err)
	}
}

// TestMotoFlowsThroughLayer: the flow model, fed through the layer, judges
// the world as AWS would run it: the task reaches the internet through the
// NAT gateway and the SSM endpoint, the load balancer node reaches the task,
// the public task reaches the internet through the internet gateway; a
// network ACL deny of the task's /32 (its address as the layer shows it) in
// the NAT gateway's subnet cuts the task off; after StopTask the task's ENI
// is gone, in moto too, and every flow on it has ended.
func TestMotoFlowsThroughLayer(t *testing.T) {
	_, url := serve(t, mototest.Endpoint(t), Config{})
	w := seedVPCWorld(t, url, "eu-west-1")
	network := func(c *ec2.Client) *flowmodel.Network {
		t.Helper()
		state, err := flowmodel.Gather(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		n, err := flowmodel.FromEC2(state)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	internet, peer := netip.MustParseAddr("203.0.113.66"), netip.MustParseAddr("198.51.100.7")
	flows := []flowmodel.Flow{
		{Name: "task-to-internet", Src: flowmodel.Endpoint{ENI: w.TaskENI}, Dst: flowmodel.Endpoint{IP: internet}, Protocol: "tcp", DstPort: 4444},
		{Name: "lb-to-task", Src: flowmodel.Endpoint{ENI: w.LBENI}, Dst: flowmodel.Endpoint{ENI: w.TaskENI}, Protocol: "tcp", DstPort: 8080},
		{Name: "task-to-ssm-endpoint", Src: flowmodel.Endpoint{ENI: w.TaskENI}, Dst: flowmodel.Endpoint{ENI: w.EPENI}, Protocol: "tcp", DstPort: 443},
		{Name: "public-task-to-internet", Src: flowmodel.Endpoint{ENI: w.PubENI}, Dst: flowmodel.Endpoint{IP: peer}, Protocol: "tcp", DstPort: 443},
	}
	verdicts := func(n *flowmodel.Network) map[string]flowmodel.Verdict {
		t.Helper()
		out := map[string]flowmodel.Verdict{}
		for _, f := range flows {
			v, err := n.Evaluate(f)
			if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			out[f.Name] = v
		}
		return out
	}
	strict := network(w.strictEC2)
	for name, v := range verdicts(strict) {
		if !v.Allowed {
			t.Errorf("through the layer %s is blocked: %s", name, v.Reason)
		}
	}
	task := strict.ENIs[w.TaskENI]
	if task == nil || !w.Subnets[w.App].Contains(task.PrivateIPs[0]) || strict.ENIs[w.NATENI].Kind != flowmodel.KindNATGateway ||
		strict.ENIs[w.EPENI].Kind != flowmodel.KindInterfaceEndpoint || strict.ENIs[w.LBENI].Kind != flowmodel.KindALB {
		t.Errorf("the model's ENIs: task %+v, NAT %+v, endpoint %+v, LB %+v", task, strict.ENIs[w.NATENI], strict.ENIs[w.EPENI], strict.ENIs[w.LBENI])
	}
	// moto alone: the service ENIs are down, the task outside the VPC.
	direct := network(w.directEC2)
	for _, name := range []string{"lb-to-task", "task-to-ssm-endpoint", "public-task-to-internet"} {
		if v, err := direct.Evaluate(flowByName(flows, name)); err == nil && v.Allowed {
			t.Errorf("on moto's own data %s is allowed: the layer would be moot", name)
		}
	}

	// A network ACL deny of the task's /32 in the NAT gateway's subnet:
	// inbound rules there see the task as the source.
	_, err := w.strictEC2.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(w.PublicACL), RuleNumber: aws.Int32(10),
		Protocol: aws.String("-1"), RuleAction: ec2types.RuleActionDeny, Egress: aws.Bool(false), CidrBlock: aws.String(task.PrivateIPs[0].String() + "/32")})
	if err != nil {
		t.Fatal(err)
	}
	contained := verdicts(network(w.strictEC2))
	if v := contained["task-to-internet"]; v.Allowed {
		t.Errorf("the /32 deny of %s did not cut the task off: %s", task.PrivateIPs[0], v.Reason)
	}
	if v := contained["lb-to-task"]; !v.Allowed {
		t.Errorf("the /32 deny in the NAT subnet cut the load balancer's flow: %s", v.Reason)
	}

	// StopTask: the task's ENI is gone, through the layer and in moto.
	stop, err := w.strictECS.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(w.Cluster), Task: aws.String(w.Task)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(stop.Task.Attachments[0].Status) != "DELETED" {
		t.Errorf("StopTask answered attachment status %s", aws.ToString(stop.Task.Attachments[0].Status))
	}
	for _, c := range []*ec2.Client{w.strictEC2, w.directEC2} {
		_, err = c.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{w.TaskENI}})
		wantNotFound(t, err, w.TaskENI)
	}
	d, err := w.strictECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(w.Cluster), Tasks: []string{w.Task}})
	if err != nil || aws.ToString(d.Tasks[0].LastStatus) != "STOPPED" || aws.ToString(d.Tasks[0].Attachments[0].Status) != "DELETED" ||
		!hasDetail(d.Tasks[0].Attachments[0], "privateIPv4Address", task.PrivateIPs[0].String()) {
		t.Errorf("DescribeTasks after the stop: %+v %v", d, err)
	}
	after := network(w.strictEC2)
	if _, ok := after.ENIs[w.TaskENI]; ok {
		t.Error("the stopped task's ENI is still in the model")
	}
	if v, err := after.Evaluate(flowByName(flows, "lb-to-task")); err != nil || v.Allowed {
		t.Errorf("after the stop lb-to-task: %+v %v; want blocked", v, err)
	}
}

func flowByName(flows []flowmodel.Flow, name string) flowmodel.Flow {
	for _, f := range flows {
		if f.Name == name {
			return f
		}
	}
	panic(name)
}

// sdkIn is sdk in another region.
func sdkIn(url, region string) aws.Config {
	cfg := sdk(url)
	cfg.Region = region
	return cfg
}
