package strict

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/irflow/irflow/internal/mototest"
)

// TestMotoInstanceENIGroups: moto answers an instance's ENIs with the
// instance's groups added to their own; through the layer each shows its
// own groups, as AWS does, in DescribeNetworkInterfaces (also filtered by
// group-id), DescribeNetworkInterfaceAttribute and DescribeInstances (each
// ENI's groupSet, and the instance's, which is its primary ENI's): after
// the swap isolate-network makes, for a secondary ENI, after a change made
// in moto directly, and after ModifyInstanceAttribute.
func TestMotoInstanceENIGroups(t *testing.T) {
	w := mototest.Seed(t)
	_, url := serve(t, mototest.Endpoint(t), Config{})
	strict, direct := ec2.NewFromConfig(sdk(url)), ec2.NewFromConfig(w.Cfg)
	group := func(name string) string {
		out, err := direct.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(mototest.Unique(name)),
			Description: aws.String(name), VpcId: aws.String(w.VpcID)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.GroupId)
	}
	quarantine, db, hand := group("quarantine"), group("db"), group("by-hand")
	sorted := func(gs ...string) []string { gs = slices.Clone(gs); slices.Sort(gs); return gs }
	groups := func(c *ec2.Client, eni string) []string {
		t.Helper()
		return sorted(groupsOf(t, c, eni)...)
	}
	instance := func(c *ec2.Client) (inst []string, enis map[string][]string) {
		t.Helper()
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{w.InstanceID}})
		if err != nil || len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
			t.Fatalf("DescribeInstances: %v", err)
		}
		in := out.Reservations[0].Instances[0]
		for _, g := range in.SecurityGroups {
			inst = append(inst, aws.ToString(g.GroupId))
		}
		enis = map[string][]string{}
		for _, ni := range in.NetworkInterfaces {
			var gs []string
			for _, g := range ni.Groups {
				gs = append(gs, aws.ToString(g.GroupId))
			}
			enis[aws.ToString(ni.NetworkInterfaceId)] = sorted(gs...)
		}
		return sorted(inst...), enis
	}
	check := func(when string, primary, secondary []string, secondaryENI string) {
		t.Helper()
		if got := groups(strict, w.InstanceENI); !slices.Equal(got, primary) {
			t.Errorf("%s: the primary ENI shows %v; want %v", when, got, primary)
		}
		if got := groups(strict, secondaryENI); !slices.Equal(got, secondary) {
			t.Errorf("%s: the secondary ENI shows %v; want %v", when, got, secondary)
		}
		inst, enis := instance(strict)
		if !slices.Equal(inst, primary) || !slices.Equal(enis[w.InstanceENI], primary) || !slices.Equal(enis[secondaryENI], secondary) {
			t.Errorf("%s: DescribeInstances shows the instance's groups %v, its ENIs' %v; want %v, %s %v, %s %v",
				when, inst, enis, primary, w.InstanceENI, primary, secondaryENI, secondary)
		}
		attr, err := strict.DescribeNetworkInterfaceAttribute(ctx, &ec2.DescribeNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(w.InstanceENI),
			Attribute: ec2types.NetworkInterfaceAttributeGroupSet})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range attr.Groups {
			got = append(got, aws.ToString(g.GroupId))
		}
		if got = sorted(got...); !slices.Equal(got, primary) {
			t.Errorf("%s: DescribeNetworkInterfaceAttribute groupSet of the primary ENI: %v; want %v", when, got, primary)
		}
		for _, g := range []string{w.AppSG, quarantine, db, hand} {
			out, err := strict.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{
				{Name: aws.String("group-id"), Values: []string{g}}, {Name: aws.String("vpc-id"), Values: []string{w.VpcID}}}})
			if err != nil {
				t.Fatal(err)
			}
			for _, eni := range []string{w.InstanceENI, secondaryENI} {
				want := slices.Contains(groups(strict, eni), g)
				listed := slices.ContainsFunc(out.NetworkInterfaces, func(ni ec2types.NetworkInterface) bool { return aws.ToString(ni.NetworkInterfaceId) == eni })
				if listed != want {
					t.Errorf("%s: group-id %s lists %s: %v; want %v", when, g, eni, listed, want)
				}
			}
		}
	}

	// A secondary ENI with a group of its own, attached to the instance.
	ni, err := direct.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(w.SubnetID), Groups: []string{db}})
	if err != nil {
		t.Fatal(err)
	}
	secondary := aws.ToString(ni.NetworkInterface.NetworkInterfaceId)
	if _, err := direct.AttachNetworkInterface(ctx, &ec2.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(secondary),
		InstanceId: aws.String(w.InstanceID), DeviceIndex: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if got := groups(direct, secondary); !slices.Equal(got, sorted(db, w.AppSG)) {
		t.Fatalf("moto shows the secondary ENI's groups as %v, not its own plus the instance's: the presentation is moot", got)
	}
	check("attached", []string{w.AppSG}, []string{db}, secondary)

	// isolate-network's swap, through the layer.
	if _, err := strict.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(w.InstanceENI),
		Groups: []string{quarantine}}); err != nil {
		t.Fatal(err)
	}
	check("after the swap", []string{quarantine}, []string{db}, secondary)

	// A change made in moto directly: moto shows the instance's groups too.
	if _, err := direct.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(w.InstanceENI),
		Groups: []string{hand}}); err != nil {
		t.Fatal(err)
	}
	if got := groups(direct, w.InstanceENI); !slices.Equal(got, sorted(hand, quarantine)) {
		t.Errorf("moto shows the primary ENI changed directly as %v; want %v (its own and the instance's)", got, sorted(hand, quarantine))
	}
	check("after a change in moto", []string{hand}, []string{db}, secondary)

	// ModifyInstanceAttribute sets the primary ENI's groups.
	if _, err := strict.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(w.InstanceID),
		Groups: []string{w.AppSG, quarantine}}); err != nil {
		t.Fatal(err)
	}
	check("after ModifyInstanceAttribute", sorted(w.AppSG, quarantine), []string{db}, secondary)
}
