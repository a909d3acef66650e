package strict

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// groupWorld: instance i-1 launched with sg-app, its primary ENI eni-p, and
// an unattached ENI eni-u with two groups of its own.
func groupWorld(t *testing.T) (*fakeMoto, *fakeEC2, *ec2.Client) {
	t.Helper()
	f := newFakeMoto(t)
	fe := &fakeEC2{subnets: map[string]string{"subnet-app": "10.0.1.0/24"}, enis: []*fakeENI{
		{ID: "eni-p", Subnet: "subnet-app", Addr: "10.0.1.4", Instance: "i-1", Groups: []string{"sg-app"}},
		{ID: "eni-u", Subnet: "subnet-app", Addr: "10.0.1.200", Status: "available", Groups: []string{"sg-a", "sg-b"}},
	}, instances: []fakeInstance{{ID: "i-1", ENI: "eni-p", Groups: []string{"sg-app"}}}}
	fe.install(f)
	(&fakeECS{}).install(f)
	_, url := serve(t, f.srv.URL, Config{})
	return f, fe, ec2.NewFromConfig(sdk(url))
}

func eniGroups(t *testing.T, c *ec2.Client, in *ec2.DescribeNetworkInterfacesInput) map[string][]string {
	t.Helper()
	out, err := c.DescribeNetworkInterfaces(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	for _, ni := range out.NetworkInterfaces {
		var gs []string
		for _, g := range ni.Groups {
			gs = append(gs, aws.ToString(g.GroupId))
		}
		slices.Sort(gs)
		m[aws.ToString(ni.NetworkInterfaceId)] = gs
	}
	return m
}

// instanceGroups returns an instance's groupSet and its primary ENI's, as
// DescribeInstances shows them.
func instanceGroups(t *testing.T, c *ec2.Client, id string) (inst, eni []string) {
	t.Helper()
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("DescribeInstances %s: %v", id, err)
	}
	in := out.Reservations[0].Instances[0]
	for _, g := range in.SecurityGroups {
		inst = append(inst, aws.ToString(g.GroupId))
	}
	for _, ni := range in.NetworkInterfaces {
		if ni.Attachment != nil && aws.ToInt32(ni.Attachment.DeviceIndex) == 0 {
			for _, g := range ni.Groups {
				eni = append(eni, aws.ToString(g.GroupId))
			}
		}
	}
	slices.Sort(inst)
	slices.Sort(eni)
	return inst, eni
}

// TestInstanceENIGroups: moto shows an instance ENI with its instance's
// launch groups added; through the layer it shows its own groups only, in
// DescribeNetworkInterfaces, in DescribeInstances (the ENI's groupSet and
// the instance's) and in a group-id filter, also after a change made in
// moto directly; an unattached ENI keeps all of its groups.
func TestInstanceENIGroups(t *testing.T) {
	f, fe, c := groupWorld(t)
	// Someone swaps the primary ENI's groups in moto directly: moto shows
	// the launch group beside the new one.
	fe.mu.Lock()
	fe.eni("eni-p").Groups = []string{"sg-q"}
	fe.mu.Unlock()
	if direct := fe.shownGroups(fe.eni("eni-p")); len(direct) != 2 {
		t.Fatalf("the fake shows %v: it no longer models moto's union", direct)
	}
	all := eniGroups(t, c, &ec2.DescribeNetworkInterfacesInput{})
	if !slices.Equal(all["eni-p"], []string{"sg-q"}) || !slices.Equal(all["eni-u"], []string{"sg-a", "sg-b"}) {
		t.Errorf("groups through the layer: %v; want eni-p [sg-q], eni-u [sg-a sg-b]", all)
	}
	if inst, eni := instanceGroups(t, c, "i-1"); !slices.Equal(inst, []string{"sg-q"}) || !slices.Equal(eni, []string{"sg-q"}) {
		t.Errorf("DescribeInstances shows the instance's groups %v, its primary ENI's %v; want [sg-q] both", inst, eni)
	}
	for g, want := range map[string]bool{"sg-q": true, "sg-app": false} {
		got := eniGroups(t, c, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{g}}}})
		if _, ok := got["eni-p"]; ok != want {
			t.Errorf("group-id %s lists eni-p: %v; want %v", g, ok, want)
		}
	}
	attr, err := c.DescribeNetworkInterfaceAttribute(ctx, &ec2.DescribeNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String("eni-p"),
		Attribute: ec2types.NetworkInterfaceAttributeGroupSet})
	if err != nil {
		t.Fatal(err)
	}
	if len(attr.Groups) != 1 || aws.ToString(attr.Groups[0].GroupId) != "sg-q" {
		t.Errorf("DescribeNetworkInterfaceAttribute groupSet: %+v; want [sg-q]", attr.Groups)
	}
	if n := f.saw("DescribeNetworkInterfaces"); n == 0 {
		t.Error("the layer asked moto nothing: the own groups were not looked up")
	}
}

// TestInstanceGroupSync: a group change through the layer is carried
// between an instance and its primary ENI in moto, as AWS has them one set.
func TestInstanceGroupSync(t *testing.T) {
	_, fe, c := groupWorld(t)
	if _, err := c.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String("eni-p"),
		Groups: []string{"sg-q"}}); err != nil {
		t.Fatal(err)
	}
	fe.mu.Lock()
	launch := slices.Clone(fe.instances[0].Groups)
	fe.mu.Unlock()
	if !slices.Equal(launch, []string{"sg-q"}) {
		t.Errorf("moto's instance groups after the ENI swap: %v; want [sg-q]", launch)
	}
	if inst, eni := instanceGroups(t, c, "i-1"); !slices.Equal(inst, []string{"sg-q"}) || !slices.Equal(eni, []string{"sg-q"}) {
		t.Errorf("after the ENI swap DescribeInstances shows the instance's groups %v, its primary ENI's %v; want [sg-q] both", inst, eni)
	}

	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String("i-1"), Groups: []string{"sg-x", "sg-y"}}); err != nil {
		t.Fatal(err)
	}
	fe.mu.Lock()
	own := slices.Clone(fe.eni("eni-p").Groups)
	fe.mu.Unlock()
	if !slices.Equal(own, []string{"sg-x", "sg-y"}) {
		t.Errorf("moto's primary ENI groups after ModifyInstanceAttribute: %v; want [sg-x sg-y]", own)
	}
	if got := eniGroups(t, c, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{"eni-p"}}); !slices.Equal(got["eni-p"], []string{"sg-x", "sg-y"}) {
		t.Errorf("eni-p after ModifyInstanceAttribute: %v; want [sg-x sg-y]", got["eni-p"])
	}
	// A change of other attributes carries nothing.
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String("i-1"),
		DisableApiTermination: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if inst, eni := instanceGroups(t, c, "i-1"); !slices.Equal(inst, []string{"sg-x", "sg-y"}) || !slices.Equal(eni, []string{"sg-x", "sg-y"}) {
		t.Errorf("after termination protection DescribeInstances shows %v, %v; want [sg-x sg-y] both", inst, eni)
	}
}
