// Package flowmodel decides, from a VPC's configuration alone, whether a
// network flow is allowed, and whether an already established flow survives
// a sequence of configuration changes (security-group swaps, network ACL
// entries, tasks stopping).
//
// irflow's tests run against moto, which models no networking. The test
// bench uses this package to prove containment ("after isolation the reverse
// shell is blocked") instead of trusting what a handler says it did. The
// model therefore follows AWS's documented behaviour, not what would be
// convenient: where AWS keeps a flow alive (a tracked connection after a
// security-group change, a NAT-gateway flow, a same-subnet peer, a public IP
// that no network ACL can name), the model keeps it alive and says why.
//
// The package makes no AWS calls. A Network is plain data: build it by hand,
// or from the outputs of the EC2 Describe calls with FromEC2 (Gather makes
// those calls through any client). Evaluate judges a new connection;
// Replay carries established flows through a list of Changes, which
// ChangesFromCalls derives from the EC2 Query-protocol requests a server
// accepted.
//
// Every rule is cited beside its code. The pages used are:
//   - "Amazon EC2 security group connection tracking" (EC2 User Guide,
//     security-group-connection-tracking.html): tracked and untracked flows,
//     automatically tracked connections, idle timeouts.
//   - "Control traffic to your AWS resources using security groups" (VPC
//     User Guide, vpc-security-groups.html): the services security groups
//     do not filter.
//   - "Network ACL basics" and "Network ACL rules" (VPC User Guide,
//     nacl-basics.html, nacl-rules.html): stateless, per subnet, ascending
//     rule number, the * rule, evaluated when traffic enters and leaves a
//     subnet and not within it, the services network ACLs do not filter.
//   - "Configure route tables" / "Route priority" (VPC User Guide,
//     VPC_Route_Tables.html): local route, longest prefix match, IPv4 and
//     IPv6 routes independent.
//   - "NAT gateways" (VPC User Guide, vpc-nat-gateway.html), "Enable
//     internet access for a VPC using an internet gateway" (VPC User Guide,
//     VPC_Internet_Gateway.html), "Egress-only internet gateways".
//   - "AWSSupport-ContainEC2Instance" (Systems Manager Automation runbook
//     reference): original groups, then a temporary all-access group, then
//     the containment group.
//
// What the model leaves out is listed in the package README section of
// limits.go.
package flowmodel
