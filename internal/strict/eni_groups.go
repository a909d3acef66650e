package strict

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// The security groups of an instance's ENIs.
//
// On AWS an ENI has one set of security groups, and
// ModifyNetworkInterfaceAttribute replaces it: "Changes the security groups
// for the network interface. The new set of groups you specify replaces the
// current set." (ModifyNetworkInterfaceAttribute, Groups —
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyNetworkInterfaceAttribute.html).
// An instance's security groups are those of its primary network interface
// (device index 0): ModifyInstanceAttribute's GroupId "Replaces the security
// groups of the instance with the specified security groups"
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyInstanceAttribute.html),
// and the EC2 user guide's "Change the security groups for your instance"
// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/changing-security-group.html)
// says the change is made to the primary network interface's groups.
//
// moto 5.2.5 keeps the groups set on the ENI (NetworkInterface._group_set)
// apart from the instance's (Instance.security_groups, the launch groups)
// and answers every ENI attached to an instance with the union of the two
// (moto/ec2/models/elastic_network_interfaces.py, NetworkInterface.group_set):
// after a swap of an instance ENI's groups the old launch groups still read
// back, in DescribeNetworkInterfaces and in DescribeInstances'
// networkInterfaceSet; a secondary ENI shows the instance's groups too; and
// ModifyInstanceAttribute changes the instance's groups but not its primary
// ENI's own.
//
// The layer presents each instance ENI's own groups, which moto does keep
// exactly and evaluates the group-id filter of DescribeNetworkInterfaces on
// (NetworkInterface.get_filter_value): asked by ENI and group-id, moto
// tells which of the groups it shows are the ENI's own (ownGroups). So the
// presentation needs no state of its own: it holds across a layer restart
// and for a change made to moto directly. A ModifyInstanceAttribute with
// GroupId that moto accepts is carried to the primary ENI in moto, and a
// ModifyNetworkInterfaceAttribute with groups on a primary ENI to its
// instance (syncGroups), so that moto's own record of both, and the
// group-id filters it evaluates on them, agree with AWS; the instance-level
// groupSet of DescribeInstances is presented as its primary ENI's groups.

// syncGroups carries a group change moto accepted between an instance and
// its primary ENI, in moto, as AWS has them one set: the groups
// ModifyInstanceAttribute (GroupId.N) gave the instance go to its primary
// ENI, and the groups ModifyNetworkInterfaceAttribute (SecurityGroupId.N)
// gave a primary ENI go to its instance. The calls go to moto directly:
// they are no request of the caller's and are not recorded.
func (l *Layer) syncGroups(ctx context.Context, c caller, op string, groups []string, id string) error {
	if len(groups) == 0 || id == "" {
		return nil
	}
	api := l.look.ec2(c)
	switch op {
	case "ModifyInstanceAttribute":
		out, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			return fmt.Errorf("instance %s: %w", id, err)
		}
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				for _, ni := range in.NetworkInterfaces {
					if ni.Attachment == nil || aws.ToInt32(ni.Attachment.DeviceIndex) != 0 {
						continue
					}
					if _, err := api.ModifyNetworkInterfaceAttribute(ctx, &ec2.ModifyNetworkInterfaceAttributeInput{
						NetworkInterfaceId: ni.NetworkInterfaceId, Groups: groups}); err != nil {
						return fmt.Errorf("the groups of %s's primary ENI: %w", id, err)
					}
				}
			}
		}
	case "ModifyNetworkInterfaceAttribute":
		out, err := api.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{id}})
		if err != nil {
			return fmt.Errorf("ENI %s: %w", id, err)
		}
		for _, ni := range out.NetworkInterfaces {
			a := ni.Attachment
			if a == nil || aws.ToString(a.InstanceId) == "" || aws.ToInt32(a.DeviceIndex) != 0 {
				continue
			}
			if _, err := api.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: a.InstanceId, Groups: groups}); err != nil {
				return fmt.Errorf("the groups of %s, whose primary ENI is %s: %w", aws.ToString(a.InstanceId), id, err)
			}
		}
	}
	return nil
}

// ownGroups returns, of each ENI's groups as moto shows them (shown, ENI →
// group IDs), the ones moto holds on the ENI itself. Only an ENI showing
// more than one group can show a group that is not its own (an ENI always
// has one of its own), so only those are asked about: one
// DescribeNetworkInterfaces per group they show, filtered by their IDs and
// that group-id. An ENI moto no longer lists is left out.
func (l *Layer) ownGroups(ctx context.Context, c caller, shown map[string][]string) (map[string]map[string]bool, error) {
	byGroup := map[string][]string{}
	for eni, gs := range shown {
		if len(gs) < 2 {
			continue
		}
		for _, g := range gs {
			byGroup[g] = append(byGroup[g], eni)
		}
	}
	own := map[string]map[string]bool{}
	for _, g := range slices.Sorted(maps.Keys(byGroup)) {
		enis := byGroup[g]
		slices.Sort(enis)
		in := &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{
			{Name: aws.String("network-interface-id"), Values: enis},
			{Name: aws.String("group-id"), Values: []string{g}},
		}}
		for {
			out, err := l.look.ec2(c).DescribeNetworkInterfaces(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("strict: the ENIs whose own groups include %s: %w", g, err)
			}
			for _, ni := range out.NetworkInterfaces {
				id := aws.ToString(ni.NetworkInterfaceId)
				if own[id] == nil {
					own[id] = map[string]bool{}
				}
				own[id][g] = true
			}
			if aws.ToString(out.NextToken) == "" {
				break
			}
			in.NextToken = out.NextToken
		}
	}
	return own, nil
}

// groupIDs returns the group IDs of an ENI element's groupSet.
func groupIDs(n *xnode) []string {
	var out []string
	for _, g := range n.items("groupSet") {
		out = append(out, g.value("groupId"))
	}
	return out
}

// presentGroups presents the own groups of the instance ENIs among the ENI
// elements (DescribeNetworkInterfaces items, an instance's
// networkInterfaceSet items): moto's other groups are dropped from their
// groupSet. An element without an attachment to an instance in moto's
// answer is left alone: moto shows an unattached ENI's own groups.
func (l *Layer) presentGroups(ctx context.Context, c caller, nodes []*xnode, attached func(*xnode) bool) error {
	shown := map[string][]string{}
	for _, n := range nodes {
		if id := n.value("networkInterfaceId"); id != "" && attached(n) {
			shown[id] = groupIDs(n)
		}
	}
	own, err := l.ownGroups(ctx, c, shown)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		id := n.value("networkInterfaceId")
		if len(shown[id]) < 2 || len(own[id]) == 0 {
			continue
		}
		n.child("groupSet").drop(func(k *xnode) bool { return k.name.Local == "item" && !own[id][k.value("groupId")] })
	}
	return nil
}

// presentInstanceGroups gives an instance element of DescribeInstances (or
// RunInstances) the groupSet of its primary ENI (device index 0), as
// presented.
func presentInstanceGroups(inst *xnode) {
	for _, ni := range inst.items("networkInterfaceSet") {
		if ni.child("attachment").value("deviceIndex") != "0" || ni.child("groupSet") == nil {
			continue
		}
		set := inst.set("groupSet", "")
		for _, g := range ni.items("groupSet") {
			set.kids = append(set.kids, g.clone())
		}
		return
	}
}

// clone is a deep copy of n.
func (n *xnode) clone() *xnode {
	c := &xnode{name: n.name, attrs: slices.Clone(n.attrs), text: n.text}
	for _, k := range n.kids {
		c.kids = append(c.kids, k.clone())
	}
	return c
}

// formList returns the values of a Query list parameter (prefix.1,
// prefix.2, ...), in order.
func formList(form url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v := form.Get(fmt.Sprintf("%s.%d", prefix, i))
		if v == "" {
			return out
		}
		out = append(out, v)
	}
}

// rewriteENIAttribute presents an ENI's own groups in a
// DescribeNetworkInterfaceAttribute answer for groupSet.
func (l *Layer) rewriteENIAttribute(ctx context.Context, c caller, body []byte) ([]byte, error) {
	root, err := parseXML(body)
	if err != nil {
		return nil, err
	}
	if root.child("groupSet") == nil || root.value("networkInterfaceId") == "" {
		return body, nil
	}
	if err := l.presentGroups(ctx, c, []*xnode{root}, func(*xnode) bool { return true }); err != nil {
		return nil, err
	}
	return root.bytes(), nil
}
