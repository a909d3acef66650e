package strict

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// fakeEC2 is the EC2 side of fakeMoto: ENIs, subnets, NAT gateways,
// interface endpoints and instances, answered in moto 5.2.5's XML shapes
// (element names and order as moto writes them).
type fakeEC2 struct {
	mu        sync.Mutex
	enis      []*fakeENI
	subnets   map[string]string // ID -> CIDR
	nats      []fakeNAT
	endpoints []fakeEndpoint
	instances []fakeInstance
}

type fakeENI struct {
	ID, Subnet, Addr, Desc string
	Status, Type           string // "" is in-use / interface
	DNS                    bool   // the VPC has DNS hostnames: moto writes privateDnsName
	EIP                    string // an Elastic IP moto associated
	Instance               string // attached to this instance (device index 0)
	// Groups are the groups set on the ENI itself (moto's _group_set);
	// nil is sg-1. moto shows an ENI attached to an instance with the
	// instance's groups added (see fakeEC2.shownGroups).
	Groups  []string
	deleted bool
}

type fakeNAT struct{ ID, Subnet, ENI, State string }

type fakeEndpoint struct {
	ID     string
	ENIs   []string
	Groups [][2]string // ID, name
}

// fakeInstance is an instance with its primary ENI; Groups are moto's
// Instance.security_groups (the launch groups), nil for none.
type fakeInstance struct {
	ID, ENI string
	Groups  []string
}

const xmlHead = `<?xml version="1.0" encoding="utf-8"?>` + "\n"

// fakeNotFound is the answer a fake handler gives for an unknown ID.
func fakeNotFound(code, format string, id string) string {
	return "!error " + code + " " + fmt.Sprintf(format, id)
}

func (fe *fakeEC2) eni(id string) *fakeENI {
	for _, e := range fe.enis {
		if e.ID == id && !e.deleted {
			return e
		}
	}
	return nil
}

// values returns the values of the filter named name, or nil.
func filterValues(form url.Values, name string) (vals []string, ok bool) {
	for k, v := range form {
		if strings.HasPrefix(k, "Filter.") && strings.HasSuffix(k, ".Name") && len(v) > 0 && v[0] == name {
			prefix := strings.TrimSuffix(k, "Name")
			for vk, vv := range form {
				if strings.HasPrefix(vk, prefix+"Value.") {
					vals = append(vals, vv...)
				}
			}
			ok = true
		}
	}
	return vals, ok
}

// ownGroups are the groups set on the ENI itself.
func (e *fakeENI) ownGroups() []string {
	if e.Groups == nil {
		return []string{"sg-1"}
	}
	return e.Groups
}

// shownGroups are the groups moto 5.2.5 answers for e: its own, plus the
// instance's when it is attached to one (NetworkInterface.group_set).
func (fe *fakeEC2) shownGroups(e *fakeENI) []string {
	gs := slices.Clone(e.ownGroups())
	for _, in := range fe.instances {
		if in.ID == e.Instance {
			for _, g := range in.Groups {
				if !slices.Contains(gs, g) {
					gs = append(gs, g)
				}
			}
		}
	}
	return gs
}

func groupSetXML(gs []string) string {
	var b strings.Builder
	b.WriteString("<groupSet>")
	for _, g := range gs {
		name := "app"
		if g != "sg-1" {
			name = "name-" + g
		}
		b.WriteString("<item><groupId>" + g + "</groupId><groupName>" + name + "</groupName></item>")
	}
	b.WriteString("</groupSet>")
	return b.String()
}

func (e *fakeENI) xml(groups []string) string {
	status, typ := e.Status, e.Type
	if status == "" {
		status = "in-use"
	}
	if typ == "" {
		typ = "interface"
	}
	dns := ""
	if e.DNS {
		dns = "<privateDnsName>ip-" + strings.ReplaceAll(e.Addr, ".", "-") + ".ec2.internal</privateDnsName>"
	}
	assoc := ""
	if e.EIP != "" {
		assoc = "<association><allocationId>eipalloc-1</allocationId><associationId>eipassoc-1</associationId><ipOwnerId>123456789012</ipOwnerId><publicIp>" + e.EIP + "</publicIp></association>"
	}
	att := ""
	if e.Instance != "" {
		att = "<attachment><attachmentId>eni-attach-" + e.ID + "</attachmentId><deleteOnTermination>true</deleteOnTermination><deviceIndex>0</deviceIndex><instanceId>" + e.Instance + "</instanceId><instanceOwnerId>123456789012</instanceOwnerId><status>attached</status></attachment>"
	}
	return "<item>" + assoc + att + "<availabilityZone>us-east-1a</availabilityZone><description>" + e.Desc + "</description>" +
		groupSetXML(groups) + "<interfaceType>" + typ + "</interfaceType>" +
		"<ipv6AddressesSet/><macAddress>02:00:00:00:00:01</macAddress><networkInterfaceId>" + e.ID + "</networkInterfaceId><ownerId>123456789012</ownerId>" +
		dns + "<privateIpAddress>" + e.Addr + "</privateIpAddress><privateIpAddressesSet><item><primary>true</primary>" + dns +
		"<privateIpAddress>" + e.Addr + "</privateIpAddress></item></privateIpAddressesSet><requesterId>AIDAIT2UOQQY3AUEMOTO</requesterId>" +
		"<requesterManaged>false</requesterManaged><sourceDestCheck>true</sourceDestCheck><status>" + status + "</status><subnetId>" + e.Subnet +
		"</subnetId><tagSet/><vpcId>vpc-1</vpcId></item>"
}

func ok(op string) string {
	return xmlHead + `<` + op + `Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><return>true</return></` + op + `Response>`
}

// onENI makes f answer op on the ENI the request names, under fe's lock;
// an ENI fe does not have is InvalidNetworkInterfaceID.NotFound.
func (fe *fakeEC2) onENI(f *fakeMoto, op string, answer func(e *fakeENI, form url.Values) string) {
	f.onEC2(op, func(form url.Values) string {
		fe.mu.Lock()
		defer fe.mu.Unlock()
		id := form.Get("NetworkInterfaceId")
		e := fe.eni(id)
		if e == nil {
			return fakeENINotFound(id)
		}
		return answer(e, form)
	})
}

// fakeENINotFound is moto's answer about an ENI it does not have, in the
// words the layer uses (eniNotFound).
func fakeENINotFound(id string) string {
	e := eniNotFound(id)
	return "!error " + e.Code + " " + e.Message
}

// onDescribe makes f answer op, an EC2 Describe action, under fe's lock:
// the response's set element is set, its items what items writes.
func (fe *fakeEC2) onDescribe(f *fakeMoto, op, set string, items func(b *strings.Builder, form url.Values)) {
	f.onEC2(op, func(form url.Values) string {
		fe.mu.Lock()
		defer fe.mu.Unlock()
		var b strings.Builder
		b.WriteString(xmlHead + `<` + op + `Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15"><` + set + `>`)
		items(&b, form)
		b.WriteString(`</` + set + `><requestId>request-id</requestId></` + op + `Response>`)
		return b.String()
	})
}

// install makes f answer the EC2 actions from fe.
func (fe *fakeEC2) install(f *fakeMoto) {
	f.onEC2("DescribeNetworkInterfaces", func(form url.Values) string {
		fe.mu.Lock()
		defer fe.mu.Unlock()
		ids := formList(form, "NetworkInterfaceId")
		for _, id := range ids {
			if fe.eni(id) == nil {
				return fakeENINotFound(id)
			}
		}
		var b strings.Builder
		b.WriteString(xmlHead + `<DescribeNetworkInterfacesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15"><networkInterfaceSet>`)
		for _, e := range fe.enis {
			if e.deleted || (len(ids) > 0 && !slices.Contains(ids, e.ID)) {
				continue
			}
			keep := true
			if vs, ok := filterValues(form, "group-id"); ok && !slices.ContainsFunc(e.ownGroups(), func(g string) bool { return slices.Contains(vs, g) }) {
				keep = false // moto filters on the ENI's own groups
			}
			att := ""
			if e.Instance != "" {
				att = "eni-attach-" + e.ID
			}
			for name, val := range map[string]string{"subnet-id": e.Subnet, "description": e.Desc, "private-ip-address": e.Addr,
				"addresses.private-ip-address": e.Addr, "attachment.instance-id": e.Instance, "attachment.attachment-id": att,
				"network-interface-id": e.ID} {
				if vs, ok := filterValues(form, name); ok && !slices.Contains(vs, val) {
					keep = false
				}
			}
			if keep {
				b.WriteString(e.xml(fe.shownGroups(e)))
			}
		}
		b.WriteString(`</networkInterfaceSet><requestId>request-id</requestId></DescribeNetworkInterfacesResponse>`)
		return b.String()
	})
	fe.onENI(f, "DeleteNetworkInterface", func(e *fakeENI, _ url.Values) string {
		e.deleted = true
		return ok("DeleteNetworkInterface")
	})
	fe.onDescribe(f, "DescribeSubnets", "subnetSet", func(b *strings.Builder, form url.Values) {
		ids := formList(form, "SubnetId")
		for _, id := range slices.Sorted(maps.Keys(fe.subnets)) {
			if len(ids) == 0 || slices.Contains(ids, id) {
				fmt.Fprintf(b, `<item><subnetId>%s</subnetId><state>available</state><vpcId>vpc-1</vpcId><cidrBlock>%s</cidrBlock></item>`, id, fe.subnets[id])
			}
		}
	})
	fe.onDescribe(f, "DescribeNatGateways", "natGatewaySet", func(b *strings.Builder, form url.Values) {
		ids := formList(form, "NatGatewayId")
		for _, g := range fe.nats {
			if len(ids) > 0 && !slices.Contains(ids, g.ID) {
				continue
			}
			addr := ""
			for _, e := range fe.enis {
				if e.ID == g.ENI {
					addr = e.Addr
				}
			}
			b.WriteString(`<item><createTime>2026-12-02T20:00:25.000Z</createTime><natGatewayAddressSet><item><allocationId>eipalloc-1</allocationId><networkInterfaceId>` + g.ENI +
				`</networkInterfaceId><privateIp>` + addr + `</privateIp><publicIp>127.43.17.45</publicIp><associationId>eipassoc-1</associationId></item></natGatewayAddressSet><natGatewayId>` +
				g.ID + `</natGatewayId><state>` + g.State + `</state><subnetId>` + g.Subnet + `</subnetId><vpcId>vpc-1</vpcId><tagSet/></item>`)
		}
	})
	fe.onDescribe(f, "DescribeVpcEndpoints", "vpcEndpointSet", func(b *strings.Builder, _ url.Values) {
		for _, ep := range fe.endpoints {
			b.WriteString(`<item><vpcEndpointId>` + ep.ID + `</vpcEndpointId><vpcEndpointType>Interface</vpcEndpointType><vpcId>vpc-1</vpcId><groupSet>`)
			for _, g := range ep.Groups {
				b.WriteString(`<item><groupId>` + g[0] + `</groupId><groupName>` + g[1] + `</groupName></item>`)
			}
			b.WriteString(`</groupSet><networkInterfaceIdSet>`)
			for _, e := range ep.ENIs {
				b.WriteString(`<item>` + e + `</item>`)
			}
			b.WriteString(`</networkInterfaceIdSet></item>`)
		}
	})
	fe.onDescribe(f, "DescribeInstances", "reservationSet", func(b *strings.Builder, form url.Values) {
		ids := formList(form, "InstanceId")
		for _, in := range fe.instances {
			if len(ids) > 0 && !slices.Contains(ids, in.ID) {
				continue
			}
			e := fe.eni(in.ENI)
			if vs, ok := filterValues(form, "private-ip-address"); ok && !slices.Contains(vs, e.Addr) {
				continue
			}
			dashed := strings.ReplaceAll(e.Addr, ".", "-")
			b.WriteString(`<item><reservationId>r-1</reservationId><ownerId>123456789012</ownerId><groupSet/><instancesSet><item>` + groupSetXML(in.Groups) + `<networkInterfaceSet><item><association/>` +
				`<attachment><attachmentId>eni-attach-1</attachmentId><deleteOnTermination>false</deleteOnTermination><deviceIndex>0</deviceIndex><status>attached</status></attachment>` +
				`<networkInterfaceId>` + e.ID + `</networkInterfaceId><privateIpAddress>` + e.Addr + `</privateIpAddress><privateIpAddressesSet><item><primary>true</primary><privateIpAddress>` +
				e.Addr + `</privateIpAddress></item></privateIpAddressesSet>` + groupSetXML(fe.shownGroups(e)) + `<status>in-use</status><subnetId>` + e.Subnet + `</subnetId><vpcId>vpc-1</vpcId></item></networkInterfaceSet>` +
				`<instanceId>` + in.ID + `</instanceId><instanceState><code>16</code><name>running</name></instanceState><privateDnsName>ip-` + dashed +
				`.ec2.internal</privateDnsName><subnetId>` + e.Subnet + `</subnetId><vpcId>vpc-1</vpcId><privateIpAddress>` + e.Addr + `</privateIpAddress></item></instancesSet></item>`)
		}
	})
	fe.onDescribe(f, "DescribeAddresses", "addressesSet", func(b *strings.Builder, _ url.Values) {
		for _, e := range fe.enis {
			if e.EIP != "" && !e.deleted {
				b.WriteString(`<item><allocationId>eipalloc-1</allocationId><associationId>eipassoc-1</associationId><domain>vpc</domain><networkInterfaceId>` + e.ID +
					`</networkInterfaceId><networkInterfaceOwnerId>123456789012</networkInterfaceOwnerId><privateIpAddress>` + e.Addr + `</privateIpAddress><tagSet/><instanceId/><publicIp>` +
					e.EIP + `</publicIp></item>`)
			}
		}
	})
	f.onEC2("ModifyNetworkInterfaceAttribute", func(form url.Values) string {
		fe.mu.Lock()
		defer fe.mu.Unlock()
		if id := form.Get("NetworkInterfaceId"); fe.eni(id) == nil && strings.HasPrefix(id, "eni-") && len(fe.enis) > 0 {
			return fakeENINotFound(id)
		}
		if e := fe.eni(form.Get("NetworkInterfaceId")); e != nil {
			if gs := formList(form, "SecurityGroupId"); len(gs) > 0 {
				e.Groups = gs
			}
		}
		return ok("ModifyNetworkInterfaceAttribute")
	})
	fe.onENI(f, "DescribeNetworkInterfaceAttribute", func(e *fakeENI, _ url.Values) string {
		return xmlHead + `<DescribeNetworkInterfaceAttributeResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><networkInterfaceId>` + e.ID +
			`</networkInterfaceId>` + groupSetXML(fe.shownGroups(e)) + `<requestId>r</requestId></DescribeNetworkInterfaceAttributeResponse>`
	})
	f.onEC2("ModifyInstanceAttribute", func(form url.Values) string {
		fe.mu.Lock()
		defer fe.mu.Unlock()
		for i := range fe.instances {
			if gs := formList(form, "GroupId"); len(gs) > 0 && fe.instances[i].ID == form.Get("InstanceId") {
				fe.instances[i].Groups = gs // moto: the instance's groups, not its ENI's
			}
		}
		return ok("ModifyInstanceAttribute")
	})
	for _, op := range []string{"CreateTags", "CreateNetworkAclEntry"} {
		f.onEC2(op, func(url.Values) string { return ok(op) })
	}
}
