package flowmodel

import (
	"errors"
	"strings"
	"testing"
)

func TestEvaluate(t *testing.T) {
	taskToDB := Flow{Name: "task-db", Src: Endpoint{ENI: "eni-task"}, Dst: Endpoint{ENI: "eni-db"}, Protocol: "tcp", DstPort: 5432}
	tests := []struct {
		name        string
		mod         func(n *Network)
		flow        Flow
		wantAllowed bool
		wantTracked bool
		wantReason  string // substring of Verdict.Reason
	}{
		{"NAT egress allowed and automatically tracked", nil, toInternet("f", "eni-task", 443), true, true, "automatically: NAT gateway nat-1"},
		{"egress port not allowed by the group", nil, toInternet("f", "eni-task", 80), false, false, "no egress rule of eni-task's security groups [sg-task] allows tcp/80 to 198.51.100.7"},
		{"group reference allows the member", nil, taskToDB, true, true, "allowed: 10.0.1.5 to 10.0.2.7 tcp/5432"},
		{"group reference refuses a non-member",
			func(n *Network) {
				n.SecurityGroups["sg-peer"].Egress = append(n.SecurityGroups["sg-peer"].Egress, tcp(5432, 5432, "10.0.2.0/24"))
			},
			Flow{Name: "f", Src: Endpoint{ENI: "eni-peer"}, Dst: Endpoint{ENI: "eni-db"}, Protocol: "tcp", DstPort: 5432},
			false, false, "no ingress rule of eni-db's security groups [sg-db] allows tcp/5432 from 10.0.1.6"},
		{"NACL deny at 90 wins over allow at 100",
			func(n *Network) {
				n.NACLs["acl-default"].Entries = append(n.NACLs["acl-default"].Entries, deny(90, false, "10.0.1.5/32"))
			},
			taskToDB, false, false, "network ACL acl-default (subnet subnet-db, inbound) rule 90 denies 10.0.1.5/32"},
		{"NACL allow at 80 wins over deny at 90",
			func(n *Network) {
				a := n.NACLs["acl-default"]
				a.Entries = append(a.Entries, deny(90, false, "10.0.1.5/32"), allowAll(80, false, "10.0.1.0/24"))
			},
			taskToDB, true, true, "allowed"},
		{"the * rule denies what no entry matches",
			func(n *Network) { n.NACLs["acl-app"].Entries = nil },
			taskToDB, false, false, "network ACL acl-app (subnet subnet-app, outbound) rule * (32767) denies"},
		{"associated ACL, not the default, filters the subnet",
			func(n *Network) {
				n.NACLs["acl-app"].Entries = []NACLEntry{deny(10, true, "10.0.2.0/24"), allowAll(100, true, "0.0.0.0/0"), allowAll(100, false, "0.0.0.0/0")}
			},
			taskToDB, false, false, "acl-app (subnet subnet-app, outbound) rule 10 denies 10.0.2.0/24"},
		{"subnet without association uses the default ACL",
			func(n *Network) {
				n.NACLs["acl-default"].Entries = []NACLEntry{deny(5, false, "10.0.1.0/24"), allowAll(100, false, "0.0.0.0/0"), allowAll(100, true, "0.0.0.0/0")}
			},
			taskToDB, false, false, "acl-default (subnet subnet-db, inbound) rule 5 denies 10.0.1.0/24"},
		{"outbound rules match the destination: a deny on the task's own address in its subnet's outbound rules does not stop its packets",
			func(n *Network) {
				n.NACLs["acl-app"].Entries = append(n.NACLs["acl-app"].Entries, deny(90, true, "10.0.1.5/32"))
			},
			toInternet("f", "eni-task", 443), true, true, "through nat-1 and igw-1"},
		{"inbound rules match the source: a deny on the internet host cuts the response",
			func(n *Network) {
				n.NACLs["acl-app"].Entries = append(n.NACLs["acl-app"].Entries, deny(90, false, "198.51.100.7/32"))
			},
			toInternet("f", "eni-task", 443), false, false, "network ACL acl-app (subnet subnet-app, inbound) rule 90 denies 198.51.100.7/32"},
		{"an IPv6 deny does not match IPv4 packets",
			func(n *Network) {
				n.NACLs["acl-default"].Entries = append(n.NACLs["acl-default"].Entries, deny(1, false, "::/0"))
			},
			taskToDB, true, true, "allowed"},
		{"an IPv6 deny matches IPv6 packets",
			func(n *Network) {
				n.NACLs["acl-default"].Entries = append(n.NACLs["acl-default"].Entries, deny(1, false, "::/0"))
			},
			Flow{Name: "f", Src: Endpoint{ENI: "eni-pub", IP: ip("2600:1f18::20")}, Dst: Endpoint{IP: internetV6}, Protocol: "tcp", DstPort: 443},
			false, false, "network ACL acl-default (subnet subnet-pub, inbound) rule 1 denies ::/0"},
		{"deny of the task /32 inbound in the NAT subnet's ACL cuts egress through the NAT",
			func(n *Network) {
				n.NACLs["acl-default"].Entries = append(n.NACLs["acl-default"].Entries, deny(90, false, "10.0.1.5/32"))
			},
			toInternet("f", "eni-task", 443), false, false, "network ACL acl-default (subnet subnet-pub, inbound) rule 90 denies 10.0.1.5/32"},
		{"shared ACL: a task /32 outbound deny cuts the NAT's response to the task",
			func(n *Network) {
				n.Subnets["subnet-app"].NACL = ""
				n.NACLs["acl-default"].Entries = append(n.NACLs["acl-default"].Entries, deny(90, true, "10.0.1.5/32"))
			},
			toInternet("f", "eni-task", 443), false, false, "network ACL acl-default (subnet subnet-pub, outbound) rule 90 denies 10.0.1.5/32"},
		{"shared ACL: a task /32 inbound deny cuts the request entering the NAT subnet",
			func(n *Network) {
				n.Subnets["subnet-app"].NACL = ""
				n.NACLs["acl-default"].Entries = append(n.NACLs["acl-default"].Entries, deny(90, false, "10.0.1.5/32"))
			},
			toInternet("f", "eni-task", 443), false, false, "network ACL acl-default (subnet subnet-pub, inbound) rule 90 denies 10.0.1.5/32"},
		{"the internet reaches a public IP through the IGW; the ENI's own /32 inbound deny does not match",
			func(n *Network) {
				n.SecurityGroups["sg-task"].Ingress = append(n.SecurityGroups["sg-task"].Ingress, tcp(22, 22, "0.0.0.0/0"))
				n.NACLs["acl-default"].Entries = append(n.NACLs["acl-default"].Entries, deny(90, false, "10.0.0.20/32"))
			},
			Flow{Name: "f", Src: Endpoint{IP: internet}, Dst: Endpoint{ENI: "eni-pub"}, Protocol: "tcp", DstPort: 22},
			true, true, "allowed: 198.51.100.7 to 3.3.3.3 tcp/22 through igw-1"},
		{"same-subnet peers cross no network ACL",
			func(n *Network) { n.NACLs["acl-app"].Entries = nil },
			Flow{Name: "f", Src: Endpoint{ENI: "eni-task"}, Dst: Endpoint{ENI: "eni-peer"}, Protocol: "tcp", DstPort: 22},
			true, true, "within subnet subnet-app (no network ACL)"},
		{"public IP through the IGW is not cut by denies on the task's /32",
			func(n *Network) {
				n.NACLs["acl-default"].Entries = append(n.NACLs["acl-default"].Entries, deny(90, false, "10.0.0.20/32"), deny(90, true, "10.0.0.20/32"),
					deny(91, false, "3.3.3.3/32"), deny(91, true, "3.3.3.3/32"))
			},
			toInternet("f", "eni-pub", 443), true, true, "through igw-1"},
		{"public IP through the IGW is cut by a deny on the remote address",
			func(n *Network) {
				n.NACLs["acl-default"].Entries = append(n.NACLs["acl-default"].Entries, deny(90, true, "198.51.100.0/24"))
			},
			toInternet("f", "eni-pub", 443), false, false, "rule 90 denies 198.51.100.0/24"},
		{"no public IPv4: the internet gateway drops it",
			func(n *Network) { n.ENIs["eni-pub"].PublicIP = ip("0.0.0.0").Prev() },
			toInternet("f", "eni-pub", 443), false, false, "eni-pub has no public IPv4 address"},
		{"instance metadata is never filtered",
			func(n *Network) {
				n.ENIs["eni-task"].Groups = []string{"sg-quarantine"}
				n.NACLs["acl-app"].Entries = nil
			},
			Flow{Name: "f", Src: Endpoint{ENI: "eni-task"}, Dst: Endpoint{IP: ip("169.254.169.254")}, Protocol: "tcp", DstPort: 80},
			true, false, "link-local: not filtered by security groups or network ACLs (instance metadata service 169.254.169.254)"},
		{"DNS at VPC+2 is never filtered",
			func(n *Network) {
				n.ENIs["eni-task"].Groups = []string{"sg-quarantine"}
				n.NACLs["acl-app"].Entries = nil
			},
			Flow{Name: "f", Src: Endpoint{ENI: "eni-task"}, Dst: Endpoint{IP: ip("10.0.0.2")}, Protocol: "udp", DstPort: 53},
			true, false, "Route 53 Resolver at VPC+2 10.0.0.2"},
		{"DNS with enableDnsSupport off gets no answer",
			func(n *Network) { n.VPCs["vpc-1"].DNSDisabled = true },
			Flow{Name: "f", Src: Endpoint{ENI: "eni-task"}, Dst: Endpoint{IP: ip("169.254.169.253")}, Protocol: "udp", DstPort: 53},
			false, false, "enableDnsSupport is false"},
		{"the ECS credentials endpoint is never filtered",
			func(n *Network) { n.ENIs["eni-task"].Groups = []string{"sg-quarantine"} },
			Flow{Name: "f", Src: Endpoint{ENI: "eni-task"}, Dst: Endpoint{IP: ip("169.254.170.2")}, Protocol: "tcp", DstPort: 80},
			true, false, "ECS task metadata and credentials endpoint"},
		{"a stopped task ends every flow, link-local included",
			func(n *Network) { n.ENIs["eni-task"].Down = true },
			Flow{Name: "f", Src: Endpoint{ENI: "eni-task"}, Dst: Endpoint{IP: ip("169.254.169.254")}, Protocol: "tcp", DstPort: 80},
			false, false, "endpoint eni-task stopped/deleted"},
		{"a deleted ENI ends every flow",
			func(n *Network) { delete(n.ENIs, "eni-db") },
			taskToDB, false, false, "endpoint eni-db stopped/deleted"},
		{"no route to the destination drops it",
			func(n *Network) { n.RouteTables["rtb-private"].Routes = n.RouteTables["rtb-private"].Routes[:1] },
			toInternet("f", "eni-task", 443), false, false, "route table rtb-private (subnet subnet-app) has no route to 198.51.100.7"},
		{"a NAT subnet without a route to the IGW drops it",
			func(n *Network) { n.RouteTables["rtb-public"].Routes = n.RouteTables["rtb-public"].Routes[:1] },
			toInternet("f", "eni-task", 443), false, false, "route table rtb-public (NAT subnet subnet-pub) has no route"},
		{"longest prefix wins over the default route",
			func(n *Network) {
				n.RouteTables["rtb-private"].Routes = append(n.RouteTables["rtb-private"].Routes, Route{Dest: pfx("198.51.100.0/24"), Target: "pcx-1"})
			},
			toInternet("f", "eni-task", 443), true, true, "through pcx-1"},
		{"the internet cannot open a connection through the NAT gateway", nil,
			Flow{Name: "f", Src: Endpoint{IP: internet}, Dst: Endpoint{ENI: "eni-task"}, Protocol: "tcp", DstPort: 8080},
			false, false, "NAT gateway nat-1 does not accept connections opened from outside"},
		{"ALB to task is tracked by the restrictive groups", nil,
			Flow{Name: "f", Src: Endpoint{ENI: "eni-alb"}, Dst: Endpoint{ENI: "eni-task"}, Protocol: "tcp", DstPort: 8080},
			true, true, "allowed: 10.0.3.11 to 10.0.1.5 tcp/8080; tracked"},
		{"NLB to task is automatically tracked",
			func(n *Network) { n.ENIs["eni-task"].Groups = []string{"sg-open"} },
			Flow{Name: "f", Src: Endpoint{ENI: "eni-nlb"}, Dst: Endpoint{ENI: "eni-task"}, Protocol: "tcp", DstPort: 8080},
			true, true, "automatically: Network Load Balancer eni-nlb"},
		{"interface endpoint (PrivateLink) is automatically tracked",
			func(n *Network) { n.ENIs["eni-task"].Groups = []string{"sg-open"} },
			Flow{Name: "f", Src: Endpoint{ENI: "eni-task"}, Dst: Endpoint{ENI: "eni-vpce"}, Protocol: "tcp", DstPort: 443},
			true, true, "automatically: interface VPC endpoint (PrivateLink) eni-vpce"},
		{"allow-all both ways through the IGW is untracked",
			func(n *Network) { n.ENIs["eni-pub"].Groups = []string{"sg-open"} },
			toInternet("f", "eni-pub", 443), true, false, "untracked on eni-pub"},
		{"allow-all egress without all-ports ingress is tracked",
			func(n *Network) {
				n.SecurityGroups["sg-open"].Ingress = []SGRule{tcp(443, 443, "0.0.0.0/0")}
				n.ENIs["eni-pub"].Groups = []string{"sg-open"}
			},
			toInternet("f", "eni-pub", 443), true, true, "; tracked"},
		{"ICMP is always tracked",
			func(n *Network) { n.ENIs["eni-pub"].Groups = []string{"sg-open"} },
			Flow{Name: "f", Src: Endpoint{ENI: "eni-pub"}, Dst: Endpoint{IP: internet}, Protocol: "icmp"},
			true, true, "icmp type 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := testNet()
			if tt.mod != nil {
				tt.mod(n)
			}
			v := evalOK(t, n, tt.flow)
			if v.Allowed != tt.wantAllowed || v.Tracked != tt.wantTracked || !strings.Contains(v.Reason, tt.wantReason) {
				t.Errorf("got allowed=%v tracked=%v reason %q; want allowed=%v tracked=%v reason containing %q\npath: %+v",
					v.Allowed, v.Tracked, v.Reason, tt.wantAllowed, tt.wantTracked, tt.wantReason, v.Path)
			}
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	tests := []struct {
		name       string
		flow       Flow
		notModeled bool
	}{
		{"no end inside the model", Flow{Name: "f", Src: Endpoint{IP: internet}, Dst: Endpoint{IP: internetV6}, Protocol: "tcp", DstPort: 1}, false},
		{"unknown protocol", Flow{Name: "f", Src: Endpoint{ENI: "eni-task"}, Dst: Endpoint{IP: internet}, Protocol: "sctp", DstPort: 1}, false},
		{"address not on the ENI", Flow{Name: "f", Src: Endpoint{ENI: "eni-task", IP: ip("10.0.9.9")}, Dst: Endpoint{IP: internet}, Protocol: "tcp", DstPort: 443}, false},
		{"hairpin to a public address", Flow{Name: "f", Src: Endpoint{ENI: "eni-task"}, Dst: Endpoint{ENI: "eni-pub", IP: ip("3.3.3.3")}, Protocol: "tcp", DstPort: 443}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := testNet().Evaluate(tt.flow)
			if err == nil || errors.Is(err, ErrNotModeled) != tt.notModeled {
				t.Errorf("got %v; want an error (not modeled: %v)", err, tt.notModeled)
			}
		})
	}
}
