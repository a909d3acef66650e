package strict

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/irflow/irflow/internal/awsproxy"
)

// rewriteENIs makes the ENIs of a DescribeNetworkInterfaces (or
// CreateNetworkInterface) answer show what AWS shows.
//
// ENIs Amazon ECS manages: for a task ENI (Fargate, and awsvpc tasks on
// EC2) that is requesterManaged true with the requester's ID, the ECS
// attachment ARN as description ("arn:aws:ecs:region:account:attachment/id",
// seen on every task ENI in published DescribeNetworkInterfaces answers), and
// an attachment: device index 1, not deleted on termination, owned by the
// Fargate fleet's account for Fargate, and attached to the container
// instance for EC2 ("Each Amazon ECS task that uses the awsvpc network mode
// receives its own elastic network interface (ENI), which is attached to the
// Amazon EC2 instance that hosts it"; "Amazon ECS creates the ENI and
// attaches it to the host Amazon EC2 instance" — Amazon ECS task networking
// for tasks hosted on Amazon EC2 instances,
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking-awsvpc.html);
// and its public address when the task was started with assignPublicIp
// ENABLED (eni_public.go). Trunk and branch ENIs show their interface type
// ("The trunk network is fully managed by Amazon ECS", same page).
//
// ENIs of NAT gateways, interface endpoints and load balancers show as
// their services' (eni_service.go). Every ENI shows an address of its
// subnet (eni_addr.go), and an instance's ENI its own security groups
// (eni_groups.go). The ENI of a STOPPED task, and of a deleted NAT
// gateway, is deleted in moto and left out; named by ID, it is
// InvalidNetworkInterfaceID.NotFound (eni_reap.go).
//
// A query filtered by attachment.instance-id alone also gets the awsvpc task
// ENIs moto left unattached: on AWS they are attached to that instance. A
// query filtered by address was translated to moto's addresses
// (translateAddrFilters) and is filtered again here on the addresses shown.
func (l *Layer) rewriteENIs(ctx context.Context, c caller, form url.Values, filters []addrFilter, body []byte) ([]byte, *awsproxy.Error, error) {
	root, err := parseXML(body)
	if err != nil {
		return nil, nil, err
	}
	var items []*xnode
	set := root.child("networkInterfaceSet")
	switch {
	case set != nil:
		if instances := instanceFilter(form); len(instances) > 0 {
			if err := l.addInstanceENIs(ctx, c, set, instances); err != nil {
				return nil, nil, err
			}
		}
		for _, k := range set.kids {
			if k.name.Local == "item" {
				items = append(items, k)
			}
		}
	case root.child("networkInterface") != nil:
		items = []*xnode{root.child("networkInterface")}
	default:
		return body, nil, nil
	}
	// Before the task ENIs get their attachments: moto's own attachment
	// says which ENIs it shows with their instance's groups added.
	if err := l.presentGroups(ctx, c, items, func(n *xnode) bool { return n.child("attachment").value("instanceId") != "" }); err != nil {
		return nil, nil, err
	}
	ids := make([]string, 0, len(items))
	inUse := map[string]bool{}
	for _, it := range items {
		ids = append(ids, it.value("networkInterfaceId"))
		inUse[it.value("networkInterfaceId")] = it.value("status") == "in-use"
	}
	svc, err := l.serviceENIs(ctx, c, ids, func(eni string) bool { return inUse[eni] })
	if err != nil {
		return nil, nil, err
	}
	kinds := map[string]string{}
	var taskENIIDs []string
	for _, it := range items {
		id := it.value("networkInterfaceId")
		kinds[id] = l.kindOfItem(it, svc[id])
		if kinds[id] == "ecs" {
			taskENIIDs = append(taskENIIDs, id)
		}
	}
	stopped := map[string]bool{}
	if len(taskENIIDs) > 0 {
		if stopped, err = l.stoppedTaskENIs(ctx, c, taskENIIDs); err != nil {
			return nil, nil, err
		}
	}
	gone := map[string]bool{}
	for _, it := range items {
		id := it.value("networkInterfaceId")
		if (kinds[id] == "ecs" && stopped[id]) || (kinds[id] == "nat" && svc[id].Gone) {
			if err := l.reapENI(ctx, c, it.value("subnetId"), id); err != nil {
				return nil, nil, err
			}
			gone[id] = true
		}
	}
	if len(gone) > 0 {
		for i := 1; ; i++ {
			named := form.Get(fmt.Sprintf("NetworkInterfaceId.%d", i))
			if named == "" {
				break
			}
			if gone[named] {
				e := eniNotFound(named)
				return nil, &e, nil
			}
		}
		set.drop(func(k *xnode) bool { return gone[k.value("networkInterfaceId")] })
	}
	for _, it := range items {
		id := it.value("networkInterfaceId")
		if gone[id] {
			continue
		}
		switch kind := kinds[id]; kind {
		case "ecs":
			t, err := l.taskOfENI(ctx, c, id)
			if err != nil {
				return nil, nil, err
			}
			l.decorateTaskENI(it, c, t)
			pub, ok, err := l.publicIPOf(ctx, c, id, t)
			if err != nil {
				return nil, nil, err
			}
			if ok {
				l.presentPublicNode(c, it, pub)
			}
		case "trunk", "branch":
			it.set("interfaceType", kind)
			it.set("requesterManaged", "true")
			it.set("requesterId", l.cfg.ECSRequesterID)
		case "nat", "vpce", "elb":
			l.decorateServiceENI(it, kind, svc[id])
		}
		if err := l.presentENINode(ctx, c, it); err != nil {
			return nil, nil, err
		}
	}
	if len(filters) > 0 && set != nil {
		set.drop(func(k *xnode) bool { return k.name.Local == "item" && !matchENIFilters(k, filters) })
	}
	return root.bytes(), nil, nil
}

// kindOfItem says who manages the ENI of a DescribeNetworkInterfaces item:
// "ecs" (a task ENI), "trunk" or "branch", "nat", "vpce", "elb", or "" for
// the account.
func (l *Layer) kindOfItem(item *xnode, s svcENI) string {
	eni := item.value("networkInterfaceId")
	if k := l.tasks.trunkKind(eni); k != "" {
		return k
	}
	if l.tasks.task(eni) != nil || item.value("description") == motoECSDescription {
		return "ecs"
	}
	if t := item.value("interfaceType"); t == "trunk" || t == "branch" {
		return t
	}
	if s.Kind != "" {
		return s.Kind
	}
	if isELBDescription(item.value("description")) {
		return "elb"
	}
	return ""
}

func (l *Layer) decorateTaskENI(item *xnode, c caller, t *taskInfo) {
	item.set("requesterManaged", "true")
	item.set("requesterId", l.cfg.ECSRequesterID)
	item.set("interfaceType", "interface")
	if t == nil {
		return // the task is gone from moto: nothing to name
	}
	item.set("description", fmt.Sprintf("arn:aws:ecs:%s:%s:attachment/%s", c.Region, t.account(), t.AttachmentID))
	att := item.set("attachment", "")
	att.set("attachmentId", synthAttachment(item.value("networkInterfaceId")))
	att.set("attachTime", t.Seen.Format("2006-01-02T15:04:05.000Z"))
	att.set("deleteOnTermination", "false")
	att.set("deviceIndex", "1")
	att.set("networkCardIndex", "0")
	att.set("status", "attached")
	if t.onEC2() && t.InstanceID != "" {
		att.set("instanceId", t.InstanceID)
		att.set("instanceOwnerId", t.account())
	} else {
		att.set("instanceOwnerId", l.cfg.FargateOwnerID)
	}
}

// instanceFilter returns the instance IDs of a DescribeNetworkInterfaces
// whose only filter is attachment.instance-id and that names no ENI.
func instanceFilter(form url.Values) []string {
	var ids []string
	for k, v := range form {
		switch {
		case strings.HasPrefix(k, "NetworkInterfaceId."):
			return nil
		case strings.HasPrefix(k, "Filter.") && strings.HasSuffix(k, ".Name"):
			if len(v) == 0 || v[0] != "attachment.instance-id" {
				return nil
			}
			prefix := strings.TrimSuffix(k, "Name")
			for vk, vv := range form {
				if strings.HasPrefix(vk, prefix+"Value.") {
					ids = append(ids, vv...)
				}
			}
		}
	}
	return ids
}

// addInstanceENIs appends to set the task ENIs of awsvpc tasks running on
// the instances, as moto describes them.
func (l *Layer) addInstanceENIs(ctx context.Context, c caller, set *xnode, instances []string) error {
	if err := l.scanTasks(ctx, c); err != nil {
		return err
	}
	want := map[string]bool{}
	for _, i := range instances {
		want[i] = true
	}
	have := map[string]bool{}
	for _, item := range set.kids {
		have[item.value("networkInterfaceId")] = true
	}
	q := url.Values{"Action": {"DescribeNetworkInterfaces"}}
	n := 0
	for _, eni := range l.tasks.enis() {
		t, err := l.taskOfENI(ctx, c, eni)
		if err != nil {
			return err
		}
		if t != nil && t.onEC2() && want[t.InstanceID] && !have[eni] {
			n++
			q.Set(fmt.Sprintf("NetworkInterfaceId.%d", n), eni)
		}
	}
	if n == 0 {
		return nil
	}
	raw, err := l.look.ec2Raw(ctx, c, q)
	if err != nil {
		return err
	}
	extra, err := parseXML(raw)
	if err != nil {
		return err
	}
	set.kids = append(set.kids, extra.child("networkInterfaceSet").kidsOrNil()...)
	return nil
}
