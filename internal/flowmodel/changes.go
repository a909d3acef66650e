package flowmodel

import (
	"fmt"
	"slices"
	"strings"
)

// Change is one configuration change, applied to a Network in place. Apply
// fails when the change names something the network does not have: the
// model and the account have diverged, and a silent no-op would hide it.
type Change interface {
	Apply(n *Network) error
	String() string
}

// SetENIGroups replaces an ENI's security groups
// (ModifyNetworkInterfaceAttribute). Replay also untracks the ENI's tracked
// flows that the new groups would not track: see Replay.
type SetENIGroups struct {
	ENI    string
	Groups []string
}

// SetInstanceGroups replaces the groups of an instance's primary ENI
// (ModifyInstanceAttribute GroupId.N).
type SetInstanceGroups struct {
	Instance string
	Groups   []string
}

// Authorize adds rules to a group's ingress or egress rules.
type Authorize struct {
	Group  string
	Egress bool
	Rules  []SGRule
}

// Revoke removes rules from a group; each must exist.
type Revoke struct {
	Group  string
	Egress bool
	Rules  []SGRule
}

// CreateGroup creates a security group. "By default, a new security group
// ... has an outbound rule that allows all outbound IPv4 traffic" (Create a
// security group); the rule is added here as AWS adds it.
type CreateGroup struct{ ID, VPC, Name string }

// DeleteGroup deletes a security group.
type DeleteGroup struct{ ID string }

// CreateNACL creates a custom network ACL, which "denies all inbound and
// outbound traffic until you add rules" (Network ACL basics).
type CreateNACL struct{ ID, VPC string }

// DeleteNACL deletes a network ACL.
type DeleteNACL struct{ ID string }

// CreateNACLEntry adds an entry; ReplaceNACLEntry replaces the entry with
// the same rule number and direction; DeleteNACLEntry removes one.
type (
	CreateNACLEntry struct {
		ACL   string
		Entry NACLEntry
	}
	ReplaceNACLEntry struct {
		ACL   string
		Entry NACLEntry
	}
	DeleteNACLEntry struct {
		ACL    string
		Rule   int
		Egress bool
	}
)

// ReplaceNACLAssociation moves the subnet holding Association to ACL under
// the NewAssociation ID.
type ReplaceNACLAssociation struct{ Association, ACL, NewAssociation string }

// ENIDown ends every flow on an ENI: the task stopped, or the ENI was
// deleted or detached.
type ENIDown struct{ ENI string }

// DetachENI is ENIDown by attachment ID (DetachNetworkInterface).
type DetachENI struct{ Attachment string }

// InstanceDown takes down every ENI attached to a stopped or terminated
// instance.
type InstanceDown struct{ Instance string }

// DeleteNATGateway removes a NAT gateway; flows through it end.
type DeleteNATGateway struct{ ID string }

// SetVPCDNS turns the VPC's Route 53 Resolver on or off (enableDnsSupport).
type SetVPCDNS struct {
	VPC     string
	Enabled bool
}

// AddInterfaceEndpoint records a new interface VPC endpoint. Its ENIs and
// their addresses are not in the request: flows to it can be judged only
// on a new FromEC2 snapshot. No existing flow's path changes.
type AddInterfaceEndpoint struct{ ID, VPC, Service string }

func (c AddInterfaceEndpoint) Apply(n *Network) error {
	if n.Endpoints[c.ID] != nil {
		return fmt.Errorf("VPC endpoint %s exists", c.ID)
	}
	n.Endpoints[c.ID] = &VPCEndpoint{ID: c.ID, VPC: c.VPC, Service: c.Service}
	return nil
}

func (c AddInterfaceEndpoint) String() string { return "add interface endpoint " + c.ID }

func (c SetENIGroups) Apply(n *Network) error {
	e := n.ENIs[c.ENI]
	if e == nil {
		return fmt.Errorf("no ENI %s", c.ENI)
	}
	if len(c.Groups) == 0 {
		return fmt.Errorf("%s: an ENI has at least one security group", c.ENI)
	}
	for _, g := range c.Groups {
		if n.SecurityGroups[g] == nil {
			return fmt.Errorf("%s: no security group %s", c.ENI, g)
		}
	}
	e.Groups = slices.Clone(c.Groups)
	return nil
}

func (c SetInstanceGroups) Apply(n *Network) error {
	e := n.primaryENI(c.Instance)
	if e == nil {
		return fmt.Errorf("no ENI at device index 0 of instance %s", c.Instance)
	}
	return SetENIGroups{ENI: e.ID, Groups: c.Groups}.Apply(n)
}

func (n *Network) primaryENI(instance string) *ENI {
	for _, e := range n.ENIs {
		if instance != "" && e.Instance == instance && e.DeviceIndex == 0 {
			return e
		}
	}
	return nil
}

// groupRules is the ingress or egress rule list of a security group.
func (n *Network) groupRules(group string, egress bool) (*[]SGRule, error) {
	g := n.SecurityGroups[group]
	if g == nil {
		return nil, fmt.Errorf("no security group %s", group)
	}
	if egress {
		return &g.Egress, nil
	}
	return &g.Ingress, nil
}

func (c Authorize) Apply(n *Network) error {
	rules, err := n.groupRules(c.Group, c.Egress)
	if err != nil {
		return err
	}
	for _, r := range c.Rules {
		if !slices.Contains(*rules, r) {
			*rules = append(*rules, r)
		}
	}
	return nil
}

func (c Revoke) Apply(n *Network) error {
	rules, err := n.groupRules(c.Group, c.Egress)
	if err != nil {
		return err
	}
	for _, r := range c.Rules {
		i := slices.Index(*rules, r)
		if i < 0 {
			return fmt.Errorf("security group %s has no rule %+v to revoke", c.Group, r)
		}
		*rules = slices.Delete(*rules, i, i+1)
	}
	return nil
}

func (c CreateGroup) Apply(n *Network) error {
	if n.SecurityGroups[c.ID] != nil {
		return fmt.Errorf("security group %s exists", c.ID)
	}
	n.SecurityGroups[c.ID] = &SecurityGroup{ID: c.ID, VPC: c.VPC, Name: c.Name,
		Egress: []SGRule{{Protocol: protoAll, FromPort: -1, ToPort: -1, CIDR: allV4}}}
	return nil
}

func (c DeleteGroup) Apply(n *Network) error {
	if n.SecurityGroups[c.ID] == nil {
		return fmt.Errorf("no security group %s", c.ID)
	}
	delete(n.SecurityGroups, c.ID)
	return nil
}

func (c CreateNACL) Apply(n *Network) error {
	if n.NACLs[c.ID] != nil {
		return fmt.Errorf("network ACL %s exists", c.ID)
	}
	n.NACLs[c.ID] = &NACL{ID: c.ID, VPC: c.VPC}
	return nil
}

func (c DeleteNACL) Apply(n *Network) error {
	if n.NACLs[c.ID] == nil {
		return fmt.Errorf("no network ACL %s", c.ID)
	}
	delete(n.NACLs, c.ID)
	return nil
}

func (c CreateNACLEntry) Apply(n *Network) error {
	a := n.NACLs[c.ACL]
	if a == nil {
		return fmt.Errorf("no network ACL %s", c.ACL)
	}
	if a.entry(c.Entry.Rule, c.Entry.Egress) >= 0 {
		return fmt.Errorf("network ACL %s already has rule %d (egress=%t)", c.ACL, c.Entry.Rule, c.Entry.Egress)
	}
	a.Entries = append(a.Entries, c.Entry)
	return nil
}

func (c ReplaceNACLEntry) Apply(n *Network) error {
	a := n.NACLs[c.ACL]
	if a == nil {
		return fmt.Errorf("no network ACL %s", c.ACL)
	}
	i := a.entry(c.Entry.Rule, c.Entry.Egress)
	if i < 0 {
		return fmt.Errorf("network ACL %s has no rule %d (egress=%t) to replace", c.ACL, c.Entry.Rule, c.Entry.Egress)
	}
	a.Entries[i] = c.Entry
	return nil
}

func (c DeleteNACLEntry) Apply(n *Network) error {
	a := n.NACLs[c.ACL]
	if a == nil {
		return fmt.Errorf("no network ACL %s", c.ACL)
	}
	i := a.entry(c.Rule, c.Egress)
	if i < 0 {
		return fmt.Errorf("network ACL %s has no rule %d (egress=%t) to delete", c.ACL, c.Rule, c.Egress)
	}
	a.Entries = slices.Delete(a.Entries, i, i+1)
	return nil
}

func (a *NACL) entry(rule int, egress bool) int {
	return slices.IndexFunc(a.Entries, func(e NACLEntry) bool { return e.Rule == rule && e.Egress == egress })
}

func (c ReplaceNACLAssociation) Apply(n *Network) error {
	if n.NACLs[c.ACL] == nil {
		return fmt.Errorf("no network ACL %s", c.ACL)
	}
	for _, s := range n.Subnets {
		if s.NACLAssociation == c.Association {
			s.NACL, s.NACLAssociation = c.ACL, c.NewAssociation
			return nil
		}
	}
	return fmt.Errorf("no subnet holds network ACL association %s", c.Association)
}

func (c ENIDown) Apply(n *Network) error {
	e := n.ENIs[c.ENI]
	if e == nil {
		return fmt.Errorf("no ENI %s", c.ENI)
	}
	e.Down = true
	return nil
}

func (c DetachENI) Apply(n *Network) error {
	for _, e := range n.ENIs {
		if c.Attachment != "" && e.Attachment == c.Attachment {
			e.Down = true
			return nil
		}
	}
	return fmt.Errorf("no ENI has attachment %s", c.Attachment)
}

func (c InstanceDown) Apply(n *Network) error {
	found := false
	for _, e := range n.ENIs {
		if c.Instance != "" && e.Instance == c.Instance {
			e.Down, found = true, true
		}
	}
	if !found {
		return fmt.Errorf("no ENI is attached to instance %s", c.Instance)
	}
	return nil
}

func (c DeleteNATGateway) Apply(n *Network) error {
	g := n.NATGateways[c.ID]
	if g == nil {
		return fmt.Errorf("no NAT gateway %s", c.ID)
	}
	g.Down = true
	if e := n.ENIs[g.ENI]; e != nil {
		e.Down = true
	}
	return nil
}

func (c SetVPCDNS) Apply(n *Network) error {
	v := n.VPCs[c.VPC]
	if v == nil {
		return fmt.Errorf("no VPC %s", c.VPC)
	}
	v.DNSDisabled = !c.Enabled
	return nil
}

func (c SetENIGroups) String() string {
	return fmt.Sprintf("set %s groups to %s", c.ENI, strings.Join(c.Groups, ","))
}
func (c SetInstanceGroups) String() string {
	return fmt.Sprintf("set instance %s groups to %s", c.Instance, strings.Join(c.Groups, ","))
}
func (c Authorize) String() string {
	return fmt.Sprintf("authorize %d %s rule(s) in %s", len(c.Rules), dirWord(c.Egress), c.Group)
}
func (c Revoke) String() string {
	return fmt.Sprintf("revoke %d %s rule(s) in %s", len(c.Rules), dirWord(c.Egress), c.Group)
}
func (c CreateGroup) String() string { return "create security group " + c.ID }
func (c DeleteGroup) String() string { return "delete security group " + c.ID }
func (c CreateNACL) String() string  { return "create network ACL " + c.ID }
func (c DeleteNACL) String() string  { return "delete network ACL " + c.ID }
func (c CreateNACLEntry) String() string {
	return fmt.Sprintf("create %s rule %d in %s", dirWord(c.Entry.Egress), c.Entry.Rule, c.ACL)
}
func (c ReplaceNACLEntry) String() string {
	return fmt.Sprintf("replace %s rule %d in %s", dirWord(c.Entry.Egress), c.Entry.Rule, c.ACL)
}
func (c DeleteNACLEntry) String() string {
	return fmt.Sprintf("delete %s rule %d in %s", dirWord(c.Egress), c.Rule, c.ACL)
}
func (c ReplaceNACLAssociation) String() string {
	return fmt.Sprintf("associate %s in place of association %s", c.ACL, c.Association)
}
func (c ENIDown) String() string          { return c.ENI + " down" }
func (c DetachENI) String() string        { return "detach " + c.Attachment }
func (c InstanceDown) String() string     { return "instance " + c.Instance + " down" }
func (c DeleteNATGateway) String() string { return "delete NAT gateway " + c.ID }
func (c SetVPCDNS) String() string        { return fmt.Sprintf("%s enableDnsSupport=%t", c.VPC, c.Enabled) }

func dirWord(egress bool) string {
	if egress {
		return "egress"
	}
	return "ingress"
}
