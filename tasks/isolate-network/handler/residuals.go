package handler

import (
	"fmt"
	"sort"
	"strings"
)

// Isolation levels (outputs.isolation).
const (
	isolationComplete = "complete"
	isolationPartial  = "partial"
	isolationNone     = "none"
)

// Flow classes of outputs.residuals.
const (
	flowSameSubnet  = "same-subnet"
	flowPublicIP    = "internet-gateway"
	flowDNS         = "dns"
	flowMetadata    = "instance-metadata"
	flowCredentials = "container-credentials"
	flowNATTracked  = "nat-gateway-tracked"
	flowECSAgent    = "ecs-agent"
)

// residual is a class of flows the isolation does not cut, and why
// (outputs.residuals): the approver and the playbook see what is left.
type residual struct {
	FlowClass string `json:"flowClass"`
	Reason    string `json:"reason"`
	// Partial says the class keeps the isolation partial: a path the
	// attacker may still use that irflow cannot close. The link-local
	// services no network control filters, and the ECS agent's path kept
	// open on purpose, do not.
	Partial bool `json:"partial"`
}

// residuals lists, per flow class, what the planned isolation leaves open.
// The reasons are AWS's documented behaviour:
//   - "Network ACLs ... don't evaluate traffic within a subnet" and do not
//     filter the Route 53 Resolver, instance metadata, the ECS task
//     metadata and credentials endpoint (Network ACL basics —
//     https://docs.aws.amazon.com/vpc/latest/userguide/nacl-basics.html);
//     security groups do not filter them either (Control traffic to your
//     AWS resources using security groups —
//     https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html).
//   - Through an internet gateway, traffic crosses only the ENI's own
//     subnet's ACL, whose inbound rules see the remote source and outbound
//     rules the remote destination: no rule names the task.
//   - Flows through a NAT gateway are always tracked, so a group change
//     does not end them (Amazon EC2 security group connection tracking,
//     "Automatically tracked connections" —
//     https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-connection-tracking.html).
func residuals(pl *plan, nis []eniInfo) []residual {
	out := []residual{}
	add := func(class string, partial bool, format string, args ...any) {
		out = append(out, residual{FlowClass: class, Reason: fmt.Sprintf(format, args...), Partial: partial})
	}
	var naclSubnets, public []string
	swapped := false
	for _, ni := range nis {
		switch ni.treatment {
		case treatNACL:
			if s := ni.ni.SubnetId; s != nil {
				naclSubnets = append(naclSubnets, *s)
			}
			if ip := ni.publicIP(); ip != "" {
				public = append(public, ip)
			}
			if _, v6 := ni.addresses(); len(v6) > 0 {
				public = append(public, v6...)
			}
		case treatGroups:
			swapped = true
		}
	}
	naclSubnets = uniq(naclSubnets)
	if len(naclSubnets) > 0 {
		add(flowSameSubnet, true, "other ENIs in subnet %s reach the task without crossing a network ACL, and ECS owns the task ENI's security groups: "+
			"same-subnet peers stay connected until the task stops", strings.Join(naclSubnets, ", "))
	}
	if len(public) > 0 {
		add(flowPublicIP, true, "the task's public address %s is reached through an internet gateway, where only the task subnet's network ACL applies and its rules see "+
			"the remote address: no rule can name the task, so its internet flows stay open until the task stops", strings.Join(public, ", "))
	}
	if swapped {
		add(flowNATTracked, true, "connections of instance %s through a NAT gateway are always tracked: established sessions survive the security-group swap "+
			"until they idle out (TCP: 5 days by default) or the task stops; new ones are blocked", pl.instanceID)
		agent(pl, nis, add)
	}
	add(flowDNS, false, "DNS to the Route 53 Resolver (VPC+2, 169.254.169.253) is filtered by neither security groups nor network ACLs")
	if pl.launchType == "EC2" {
		add(flowMetadata, false, "the instance metadata service (169.254.169.254) is filtered by neither security groups nor network ACLs; "+
			"tasks reach it unless the ECS agent blocks it (ECS_AWSVPC_BLOCK_IMDS, iptables)")
	}
	add(flowCredentials, false, "the container credentials endpoint (169.254.170.2) is filtered by neither security groups nor network ACLs: "+
		"revoke-task-role-sessions cuts what those credentials can do")
	return out
}

// agent says what the quarantine leaves of the ECS agent's path. Without
// ECS interface endpoints the agent reaches ECS's public endpoint: through
// a NAT gateway its connection is tracked and survives the swap; through
// the internet gateway (the instance has a public IP) it is untracked by
// the transit step and cut.
func agent(pl *plan, nis []eniInfo, add func(string, bool, string, ...any)) {
	var vpcs []string
	for v := range pl.ecsEndpoints {
		vpcs = append(vpcs, v)
	}
	sort.Strings(vpcs)
	if len(vpcs) > 0 {
		var found []string
		for _, v := range vpcs {
			found = append(found, v+" ("+strings.Join(pl.ecsEndpoints[v], ", ")+")")
		}
		add(flowECSAgent, false, "HTTPS from the instance to the ECS interface endpoints of %s stays allowed on purpose: ECS delivers stop-task and "+
			"draining through the container agent", strings.Join(found, "; "))
		return
	}
	for _, ni := range nis {
		if ip := ni.publicIP(); ni.treatment == treatGroups && ip != "" {
			add(flowECSAgent, false, "the VPC has no ECS interface endpoints and the instance has a public IP (%s): its agent reaches ECS through the internet gateway, "+
				"and the quarantine cuts that: ECS accepts stops and drains but the agent never gets them (stop-task says StopNotDeliveredError); "+
				"create the ecs, ecs-agent and ecs-telemetry interface endpoints", ip)
			return
		}
	}
	add(flowECSAgent, false, "the VPC has no ECS interface endpoints: the agent's established connection to ECS goes through a NAT gateway and stays tracked, "+
		"so stop-task still reaches it; if it drops, a new one is blocked and stops are held (stop-task says StopNotDeliveredError)")
}

// level is outputs.isolation: none when nothing of the target's was (or
// would be) contained, partial when a residual keeps a path open,
// complete otherwise.
func level(pl *plan) string {
	contained := false
	for _, ep := range pl.enis {
		contained = contained || ep.Treatment == treatGroups || ep.Treatment == treatNACL
	}
	if !contained {
		return isolationNone
	}
	for _, r := range pl.residuals {
		if r.Partial {
			return isolationPartial
		}
	}
	return isolationComplete
}

func uniq(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
