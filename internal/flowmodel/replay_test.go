package flowmodel

import (
	"strings"
	"testing"
)

func TestReplay(t *testing.T) {
	quarantine := SetENIGroups{ENI: "eni-pub", Groups: []string{"sg-quarantine"}}
	runbook := func(eni string) []Change {
		return []Change{
			SetENIGroups{ENI: eni, Groups: []string{"sg-open"}},
			SetENIGroups{ENI: eni, Groups: []string{"sg-quarantine"}},
		}
	}
	tests := []struct {
		name         string
		mod          func(n *Network)
		flow         Flow
		changes      []Change
		wantAllowed  bool
		wantCutAt    int
		wantText     string // substring of After.Reason when cut, of Residual when not
		wantResidual bool
	}{
		{"untracked (allow-all both ways) is cut by a swap",
			func(n *Network) { n.ENIs["eni-pub"].Groups = []string{"sg-open"} },
			toInternet("shell", "eni-pub", 443), []Change{quarantine},
			false, 0, "no egress rule of eni-pub's security groups [sg-quarantine] allows tcp/443 to 198.51.100.7", false},
		{"tracked (restrictive) survives a swap", nil,
			toInternet("shell", "eni-pub", 443), []Change{quarantine},
			true, -1, "tracked connection on eni-pub survives the security group change", true},
		{"temporary allow-all then quarantine cuts a non-NAT flow", nil,
			toInternet("shell", "eni-pub", 443), runbook("eni-pub"),
			false, 1, "[sg-quarantine]", false},
		{"temporary allow-all then quarantine leaves a NAT-gateway flow tracked", nil,
			toInternet("shell", "eni-task", 443), runbook("eni-task"),
			true, -1, "automatically tracked (NAT gateway nat-1), so no security group can make it untracked", true},
		{"an ALB flow is not automatically tracked: the runbook's two swaps cut it", nil,
			Flow{Name: "web", Src: Endpoint{ENI: "eni-alb"}, Dst: Endpoint{ENI: "eni-task"}, Protocol: "tcp", DstPort: 8080},
			runbook("eni-task"), false, 1, "no ingress rule of eni-task's security groups [sg-quarantine] allows tcp/8080 from 10.0.3.11", false},
		{"revoking the 0.0.0.0/0 rule of an untracked flow cuts it (the SSH example)",
			func(n *Network) {
				n.SecurityGroups["sg-open"].Ingress = []SGRule{tcp(22, 22, "0.0.0.0/0")}
				n.ENIs["eni-pub"].Groups = []string{"sg-open"}
			},
			Flow{Name: "ssh", Src: Endpoint{IP: internet}, Dst: Endpoint{ENI: "eni-pub", IP: ip("3.3.3.3")}, Protocol: "tcp", DstPort: 22},
			[]Change{Revoke{Group: "sg-open", Rules: []SGRule{tcp(22, 22, "0.0.0.0/0")}}},
			false, 0, "no ingress rule of eni-pub's security groups [sg-open] allows tcp/22 from 198.51.100.7", false},
		{"revoking a narrow rule of a tracked flow does not cut it",
			func(n *Network) {
				n.SecurityGroups["sg-peer"].Ingress = []SGRule{tcp(22, 22, "198.51.100.7/32")}
				n.ENIs["eni-pub"].Groups = []string{"sg-peer"}
			},
			Flow{Name: "ssh", Src: Endpoint{IP: internet}, Dst: Endpoint{ENI: "eni-pub", IP: ip("3.3.3.3")}, Protocol: "tcp", DstPort: 22},
			[]Change{Revoke{Group: "sg-peer", Rules: []SGRule{tcp(22, 22, "198.51.100.7/32")}}},
			true, -1, "tracked connection on eni-pub", true},
		{"a NACL deny cuts a tracked flow at once", nil,
			toInternet("shell", "eni-task", 443),
			[]Change{CreateNACLEntry{ACL: "acl-default", Entry: deny(90, false, "10.0.1.5/32")}},
			false, 0, "network ACL acl-default (subnet subnet-pub, inbound) rule 90 denies 10.0.1.5/32", false},
		{"a NACL deny later deleted lets the flow resume", nil,
			toInternet("shell", "eni-task", 443),
			[]Change{CreateNACLEntry{ACL: "acl-default", Entry: deny(90, false, "10.0.1.5/32")}, DeleteNACLEntry{ACL: "acl-default", Rule: 90}},
			true, 0, "the rules in force still allow it", true},
		{"replacing the subnet's ACL association with an empty ACL cuts it", nil,
			toInternet("shell", "eni-task", 443),
			[]Change{CreateNACL{ID: "acl-block", VPC: "vpc-1"}, ReplaceNACLAssociation{Association: "aclassoc-app", ACL: "acl-block", NewAssociation: "aclassoc-new"}},
			false, 1, "network ACL acl-block (subnet subnet-app, outbound) rule * (32767) denies", false},
		{"task /32 denies cannot cut a public-IP flow through the IGW", nil,
			toInternet("shell", "eni-pub", 443),
			[]Change{CreateNACLEntry{ACL: "acl-default", Entry: deny(90, false, "10.0.0.20/32")}, CreateNACLEntry{ACL: "acl-default", Entry: deny(90, true, "10.0.0.20/32")}},
			true, -1, "reaches the internet through igw-1 with public IP 3.3.3.3: only subnet subnet-pub's network ACL is crossed", true},
		{"same-subnet peers survive any NACL", nil,
			Flow{Name: "lateral", Src: Endpoint{ENI: "eni-task"}, Dst: Endpoint{ENI: "eni-peer"}, Protocol: "tcp", DstPort: 22},
			[]Change{ReplaceNACLEntry{ACL: "acl-app", Entry: deny(100, false, "0.0.0.0/0")}, ReplaceNACLEntry{ACL: "acl-app", Entry: deny(100, true, "0.0.0.0/0")}},
			true, -1, "same subnet subnet-app: traffic between its ENIs crosses no network ACL", true},
		{"link-local survives quarantine", nil,
			Flow{Name: "imds", Src: Endpoint{ENI: "eni-pub"}, Dst: Endpoint{IP: ip("169.254.169.254")}, Protocol: "tcp", DstPort: 80},
			[]Change{quarantine}, true, -1, "link-local: not filtered by security groups or network ACLs", true},
		{"ENIDown ends the flow for good", nil,
			toInternet("shell", "eni-task", 443),
			[]Change{ENIDown{ENI: "eni-task"}},
			false, 0, "endpoint eni-task stopped/deleted", false},
		{"deleting the NAT gateway ends the flow", nil,
			toInternet("shell", "eni-task", 443),
			[]Change{DeleteNATGateway{ID: "nat-1"}},
			false, 0, "NAT gateway nat-1 is deleted or not available", false},
		{"a new more specific route moves the flow and breaks it", nil,
			toInternet("shell", "eni-task", 443),
			[]Change{routeChange{"rtb-private", Route{Dest: pfx("198.51.100.0/24"), Target: "tgw-1"}}},
			false, 0, "the path changed from nat-1>igw-1 to tgw-1", false},
		{"a pointer to a group swap untracks like the value", nil,
			toInternet("shell", "eni-pub", 443),
			[]Change{&SetENIGroups{ENI: "eni-pub", Groups: []string{"sg-open"}}, &SetENIGroups{ENI: "eni-pub", Groups: []string{"sg-quarantine"}}},
			false, 1, "[sg-quarantine]", false},
		{"a flow never allowed stays blocked", nil,
			toInternet("shell", "eni-task", 80), nil,
			false, -1, "never established: no egress rule", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := testNet()
			if tt.mod != nil {
				tt.mod(n)
			}
			before := n.Clone()
			_, out, err := Replay(n, []Flow{tt.flow}, tt.changes)
			if err != nil {
				t.Fatalf("Replay: %v", err)
			}
			o := out[0]
			text := o.After.Reason
			if tt.wantResidual {
				text = o.Residual
			}
			if o.After.Allowed != tt.wantAllowed || o.CutAt != tt.wantCutAt || !strings.Contains(text, tt.wantText) || (o.Residual != "") != tt.wantResidual {
				t.Errorf("got allowed=%v cutAt=%d reason %q residual %q; want allowed=%v cutAt=%d text containing %q",
					o.After.Allowed, o.CutAt, o.After.Reason, o.Residual, tt.wantAllowed, tt.wantCutAt, tt.wantText)
			}
			if got, want := n.ENIs["eni-pub"].Groups, before.ENIs["eni-pub"].Groups; strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("Replay changed its input: groups %v; want %v", got, want)
			}
		})
	}
}

// routeChange adds a route: a Change defined outside the package's list, to
// show Replay works with any Change and catches a path moving.
type routeChange struct {
	table string
	route Route
}

func (c routeChange) Apply(n *Network) error {
	rt := n.RouteTables[c.table]
	rt.Routes = append(rt.Routes, c.route)
	return nil
}

func (c routeChange) String() string { return "add route to " + c.table }

func TestReplayErrorNamesTheChange(t *testing.T) {
	tests := []struct {
		name    string
		changes []Change
		want    string
	}{
		{"unknown group", []Change{SetENIGroups{ENI: "eni-task", Groups: []string{"sg-nope"}}}, "change 0 (set eni-task groups to sg-nope): eni-task: no security group sg-nope"},
		{"revoke of a rule the model lacks", []Change{Revoke{Group: "sg-task", Rules: []SGRule{tcp(1, 1, "1.2.3.4/32")}}}, "change 0"},
		{"duplicate NACL rule", []Change{CreateNACLEntry{ACL: "acl-app", Entry: deny(100, false, "0.0.0.0/0")}}, "already has rule 100"},
		{"unknown association", []Change{ReplaceNACLAssociation{Association: "aclassoc-x", ACL: "acl-app"}}, "no subnet holds network ACL association aclassoc-x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Replay(testNet(), []Flow{toInternet("f", "eni-task", 443)}, tt.changes)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want an error containing %q", err, tt.want)
			}
		})
	}
}
