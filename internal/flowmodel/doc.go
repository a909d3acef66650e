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
// that no network ACL can name), the model keeps it alive and says why in
// Outcome.Residual.
//
// The package makes no AWS calls. A Network is plain data: build it by hand,
// or from the outputs of the EC2 Describe calls with FromEC2 (Gather makes
// those calls through any client). Network.Evaluate judges a new
// connection; Replay carries established flows through a list of Changes,
// which ChangesFromCalls derives from the EC2 Query-protocol requests a
// server accepted. A flow or change that needs something the model does not
// represent is an error wrapping ErrNotModeled, never a guessed verdict.
//
// # Sources
//
// Every rule is cited beside its code. The pages are:
//   - "Amazon EC2 security group connection tracking" (EC2 User Guide,
//     security-group-connection-tracking.html): tracked and untracked flows,
//     automatically tracked connections, idle timeouts.
//   - "Control traffic to your AWS resources using security groups" (VPC
//     User Guide, vpc-security-groups.html): allow-only rules, the services
//     security groups do not filter.
//   - "Network ACL basics" and "Network ACL rules" (VPC User Guide,
//     nacl-basics.html, nacl-rules.html): stateless, one ACL per subnet,
//     default ACL, ascending rule number and first match, the * rule,
//     evaluated when traffic enters and leaves a subnet and not within it,
//     inbound rules by source and outbound by destination, the services
//     network ACLs do not filter.
//   - "Configure route tables" (VPC User Guide, VPC_Route_Tables.html):
//     local route, main route table, longest prefix match, static before
//     prefix-list routes, IPv4 and IPv6 routes independent.
//   - "NAT gateways" (VPC User Guide, vpc-nat-gateway.html), internet
//     gateways and egress-only internet gateways (VPC User Guide).
//   - "AWSSupport-ContainEC2Instance" (Systems Manager Automation runbook
//     reference): the ENIs move from their groups to a temporary all-access
//     group, then to the containment group.
//
// # Rules worth knowing before reading a verdict
//
//   - A flow is untracked on an ENI only for TCP or UDP, only when a rule
//     of the ENI's groups allows it to or from all addresses of its family
//     (0.0.0.0/0 or ::/0; that rule may name just the flow's port) AND a
//     rule in the other direction allows all addresses on every port. ICMP
//     and other protocols are always tracked.
//   - Paths through a NAT gateway, an egress-only internet gateway, a
//     transit gateway, a DynamoDB gateway endpoint, or to or from an NLB,
//     GWLB, GWLB endpoint, interface endpoint or Lambda Hyperplane ENI are
//     always tracked. ALB and Classic Load Balancer flows are not.
//   - A network ACL port range is the packet's destination port: a
//     response travels to the ephemeral port, so an inbound deny of "tcp
//     443 from X" does not touch the responses of a connection to X:443.
//   - Within one subnet no network ACL applies. Through an internet gateway
//     only the ENI's own subnet's ACL is crossed, and there inbound rules see
//     the remote source and outbound rules the remote destination: no rule
//     can name the ENI's own address.
//   - Amazon DNS (VPC+2, 169.254.169.253), instance metadata, the ECS task
//     metadata and credentials endpoint (169.254.170.2), the Time Sync
//     Service and the subnet router are filtered by neither security groups
//     nor network ACLs.
//
// # What is not modeled
//
//   - Time. Tracked connections never idle out; the TCP established timeout
//     (432000 s by default, 350 s on Nitro v6 instance types) and the UDP
//     timeouts are reported in prose, not applied. Connection-tracking
//     allowance exhaustion is ignored.
//   - Cross-VPC paths between modeled ENIs (peering, transit gateway), and
//     hairpin to a modeled ENI's public address: errors. A route to a
//     transit gateway, peering connection or virtual private gateway is
//     followed out of the VPC; the far side is not judged.
//   - Routes to ENIs or instances (middlebox routing), Gateway Load Balancer
//     endpoints as route targets, local and carrier gateways, Network
//     Firewall, ingress routing on the internet gateway's edge: errors.
//   - Route changes in ChangesFromCalls (CreateRoute and the like) and
//     gateway endpoint creation: errors; take a new FromEC2 snapshot. A
//     Change that adds a route is still honoured by Replay, which ends an
//     established flow whose gateways change.
//   - Load balancers are their ENIs: the LB-to-target leg only; the
//     client-to-LB leg, listeners, and client IP preservation are not
//     modeled.
//   - ICMP flows are echo request/reply only; other protocol numbers are
//     matched by number only. ICMP error messages relating to a flow are
//     not modeled.
//   - Source ports: a flow without one uses DefaultEphemeralPort; the port a
//     NAT gateway picks is taken to be the same.
//   - IMDS options (hop limit, IMDS disabled), DNS Firewall and Resolver
//     rules, VPC Block Public Access, prefix-list versions, the security
//     group quota of five per ENI (only "at least one" is enforced),
//     security-group rule IDs (a revoke by SecurityGroupRuleId is an
//     error), references to groups by name, and stale references across
//     peering.
//   - Whether a mid-connection packet of an untracked flow starts tracking
//     when the rules change: AWS does not document it; the model assumes it
//     does, which keeps the flow alive rather than claiming containment.
package flowmodel
