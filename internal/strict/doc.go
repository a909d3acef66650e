// Package strict is the AWS-strict layer: an http.Handler in front of moto
// server that enforces documented AWS behaviour moto lacks, serves the AWS
// APIs moto lacks, and answers every refusal in the service's own error
// shape, so irflow's tests stop believing things that fail on real AWS.
//
// moto is far more permissive than AWS: it lets an account change the
// security groups of a Fargate task's ENI, delivers StopTask to a task whose
// container agent is cut off from the network, lets two conditional puts of
// one key both succeed, and has no GuardDuty findings or ECS Exec at all.
// Every rule here names, beside its code, the AWS documentation page it
// comes from; every refusal is recorded and readable over the control API.
//
// # Rules
//
//   - requester-managed-eni: ENIs another service manages accept tags and
//     nothing else: ModifyNetworkInterfaceAttribute, Detach/Attach/
//     DeleteNetworkInterface, Assign/Unassign private and IPv6 addresses and
//     AssociateAddress answer AuthFailure. The layer recognises them without
//     state: Amazon ECS task ENIs (every awsvpc task's, Fargate and EC2) by
//     the description "moto ECS" moto gives them, also learnt from RunTask,
//     StartTask and DescribeTasks answers; trunk and branch ENIs as the
//     world registers them; NAT gateway ENIs from DescribeNatGateways;
//     interface endpoint ENIs from DescribeVpcEndpoints; load balancer ENIs
//     by the description Elastic Load Balancing gives them ("ELB app/...",
//     "ELB net/...", "ELB <name>"). DescribeNetworkInterfaces shows them as
//     AWS does: requesterManaged, requesterId, status in-use, the service's
//     description (the ECS attachment ARN, "Interface for NAT Gateway
//     nat-...", "VPC Endpoint Interface vpce-...") and interface type
//     (nat_gateway, vpc_endpoint, network_load_balancer, ...), an
//     attachment (to the Fargate fleet or the container instance for a task;
//     to "amazon-aws" or "amazon-elb" for the others), and for an endpoint's
//     ENI the endpoint's security groups (moto gives it the VPC's default
//     group). Requester-managed network interfaces —
//     https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/requester-managed-eni.html.
//   - eni-address-in-subnet: every ENI is shown at a private address of its
//     subnet that is none of the five AWS reserves and no other live ENI's.
//     moto gives ECS task ENIs, NAT gateway ENIs and endpoint ENIs a random
//     10.x.x.x outside their subnet, and ENIs created without an address a
//     random one of the subnet (possibly reserved or taken); moto's address
//     stands where it is already such an address, and an ENI that needs one
//     gets the slot its ID hashes to in the upper half of the subnet (clear
//     of the instances moto numbers upwards from base+4), probing on. The
//     address (and the ip-a-b-c-d private DNS name) is rewritten in
//     DescribeNetworkInterfaces, CreateNetworkInterface, DescribeNatGateways
//     and CreateNatGateway (natGatewayAddressSet.privateIp),
//     DescribeInstances and RunInstances (an instance's ENIs and its own
//     address), DescribeAddresses, and RunTask, StartTask, StopTask and
//     DescribeTasks (attachment details privateIPv4Address and
//     privateDnsName; containers' networkInterfaces, which moto leaves
//     empty). The filters private-ip-address and
//     addresses.private-ip-address of DescribeNetworkInterfaces and
//     private-ip-address of DescribeInstances are translated to moto's
//     addresses and the answer filtered again on the addresses shown.
//     Subnet CIDR blocks —
//     https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html.
//   - Instance ENI security groups: an ENI attached to an instance shows its
//     own groups (moto adds the instance's launch groups to every attached
//     ENI), in DescribeNetworkInterfaces, DescribeNetworkInterfaceAttribute
//     and DescribeInstances, where the instance's groupSet is its primary
//     ENI's. moto keeps the ENI's own groups and filters group-id on them,
//     so the layer asks it which shown groups are the ENI's own: nothing is
//     kept. A group change of an instance (ModifyInstanceAttribute GroupId)
//     or of its primary ENI (ModifyNetworkInterfaceAttribute) is carried to
//     the other in moto, as AWS has them one set (eni_groups.go).
//     ModifyNetworkInterfaceAttribute —
//     https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyNetworkInterfaceAttribute.html.
//   - ecs-assign-public-ip: a Fargate task started with assignPublicIp
//     ENABLED (RunTask, StartTask, or a service's task: group "service:<name>"
//     of a service whose network configuration says so) has a public IPv4
//     address on its ENI (association with publicIp, publicDnsName and
//     ipOwnerId "amazon", no allocation ID) and in its attachment details
//     (publicIPv4Address). The address is the one the ENI ID hashes to in
//     44.192.0.0/11: public, and outside the RFC 5737 ranges the worlds use
//     for internet hosts. An address moto holds for the ENI (an Elastic IP
//     associated past the layer) is shown instead. Amazon ECS task
//     networking options for Fargate —
//     https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html.
//   - ecs-task-eni-deleted: once a task is STOPPED as the layer presents it
//     (a stop held for an unreachable agent is not a stop), its ENI no longer
//     exists: the layer deletes it in moto when a StopTask it forwards or a
//     held stop it delivers is carried out, when a task document shows the
//     task STOPPED, and when a DescribeNetworkInterfaces answer or a change
//     names the ENI of a task moto shows STOPPED. DescribeNetworkInterfaces
//     by ID then answers InvalidNetworkInterfaceID.NotFound ("The
//     networkInterface ID 'eni-...' does not exist"), filtered describes
//     (and the flow model's Gather) leave it out, and the task's attachment
//     shows status DELETED with the address it had. A deleted NAT gateway's
//     ENI goes the same way (moto keeps it). Amazon ECS task lifecycle
//     (DEPROVISIONING) —
//     https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle.html.
//   - network-acl-rule-quota, network-acl-rule-number,
//     security-groups-per-eni: 20 rules per direction and IP family per
//     network ACL, the default deny rule included (so 19 of one's own),
//     rule numbers 1 to 32766, 5 security groups per ENI
//     (ModifyNetworkInterfaceAttribute, ModifyInstanceAttribute,
//     CreateNetworkInterface, RunInstances). moto already
//     enforces 60 rules per security group and refuses duplicate ACL rule
//     numbers.
//   - DynamoDB conditional writes are atomic: the layer forwards PutItem,
//     UpdateItem, DeleteItem, BatchWriteItem and TransactWriteItems one
//     table at a time.
//   - ecs-exec-*: ExecuteCommand is served (moto has none) for running tasks
//     started with enableExecuteCommand, interactively only, with the session
//     of a pluggable ExecBackend. DescribeTasks shows enableExecuteCommand
//     and the ExecuteCommandAgent.
//   - ecs-agent-unreachable: StopTask of a task on a container instance whose
//     agent cannot reach Amazon ECS is accepted and not carried out until it
//     can (AgentOracle; the default reads the flow model, package flowmodel,
//     over every EC2 change moto accepted through the layer).
//     DescribeContainerInstances shows agentConnected false meanwhile.
//   - guardduty-*: ListDetectors and GetFindings are served from a finding
//     store fed over the control API; moto has no GuardDuty findings.
//   - Flow logs into a bucket's folder: CreateFlowLogs with an S3
//     destination arn:aws:s3:::bucket/folder/ is accepted, as EC2 does
//     (moto reads "bucket/folder/" as a bucket's name and refuses it); moto
//     is sent the bucket, and DescribeFlowLogs shows the destination asked
//     for (flowlogs.go).
//
// # What a restart of the layer keeps
//
// moto holds the state of record; what the layer adds is derived from it
// where it can be:
//   - Who manages an ENI: derived (moto's "moto ECS" description, its NAT
//     gateways and endpoints, ELB descriptions), except trunk and branch
//     ENIs, which the world registers.
//   - Addresses: derived from moto's ENIs of the subnet in moto's order
//     (creation order), which reproduces what the live layer showed, unless
//     an ENI deleted since held an address a later ENI had to avoid. A
//     deleted ENI's address (shown in its stopped task's attachment) is
//     kept by the live layer; after a restart it is re-derived among the
//     live addresses and may differ.
//   - Public addresses: the address is derived from the ENI ID; whether a
//     task has one is derived for a service's tasks (DescribeServices) and
//     lost for a standalone RunTask or StartTask.
//   - Deleted task ENIs: deleted in moto, so nothing to keep.
//   - Instance ENI groups: derived (moto's group-id filter), and the
//     instance/primary-ENI carry is made in moto, so nothing to keep.
//   - ECS Exec settings of tasks, pending stops, GuardDuty findings, flow
//     log folders, the world and the recorded calls: lost.
//
// # Control API
//
// Under /irflow-strict/, never forwarded: POST world, POST findings,
// GET refusals, GET ec2-calls, GET requests?since=N (every AWS request
// served: start, end, service, operation, status, DynamoDB table and the
// StepHeader a harness sent; the bench counts round trips from it),
// POST reset (Client wraps them).
//
// # Not enforced
//
// Each is a documented AWS behaviour moto lacks that the layer does not
// emulate:
//   - DescribeNetworkInterfaces filters on the rewritten fields other than
//     the addresses (requester-managed, requester-id, description,
//     interface-type, status, group-id of an endpoint's ENI, attachment.*
//     other than attachment.instance-id alone) are evaluated by moto on its
//     own data: requester-managed=true finds nothing, status=available finds
//     the NAT gateway's, endpoints' and load balancers' ENIs.
//   - DescribeInstances filters instance.group-id and group-id are moto's,
//     on the instance's groups: right after a change made through the layer
//     (carried between instance and primary ENI), stale after a change of
//     a primary ENI's groups made in moto directly.
//   - ExecuteCommand and GuardDuty are per layer process (see What a
//     restart of the layer keeps).
//   - Addresses: only an ENI's primary private address is moved; secondary
//     addresses are moto's, and one assigned later
//     (AssignPrivateIpAddresses on the account's ENI) is not checked against
//     the addresses shown. An explicit address in CreateNetworkInterface or
//     RunInstances that another ENI is shown at is not refused (AWS would):
//     moto places the new ENI there and the layer then moves the newcomer.
//     Requests that name a shown address other than the translated filters
//     (AssociateAddress and Assign/UnassignPrivateIpAddresses PrivateIpAddress,
//     CreateNetworkInterface PrivateIpAddress) reach moto unchanged; for
//     the ENIs the layer moves (other services') they are refused anyway.
//     moto answers HTTP 500 to the private-dns-name filter and to
//     DescribeInstances' network-interface.addresses.private-ip-address, and
//     evaluates addresses.private-ip-address on the primary address only. An
//     answer filtered again by address may hold fewer items than MaxResults.
//     DescribeNetworkInterfaceAttribute shows moto's description and
//     attachment. awsvpc task ENIs on EC2 are not listed in
//     DescribeInstances' networkInterfaceSet.
//   - Public addresses: EC2 launch type tasks with assignPublicIp ENABLED
//     are not refused (ECS offers public addresses to Fargate tasks only; the
//     layer gives them none); the association.public-ip filters know only
//     moto's addresses; two task ENIs may hash to one address (about 1 in
//     400 for a hundred public tasks).
//   - The ENI of a task stopped past the layer lingers in moto until the
//     layer next sees the task or its ENI (CreateTags on it succeeds until
//     then). RequesterId values of NAT gateway and endpoint ENIs are ones
//     published answers show for some regions (Config overrides them).
//   - Draining (UpdateContainerInstancesState) is not held back for an
//     unreachable agent, ListTasks with desiredStatus STOPPED does not list a
//     pending stop, and ExecuteCommand does not consult the agent oracle.
//   - Services started with enableExecuteCommand do not pass it to their
//     tasks: tasks learn it from RunTask/StartTask or World.ExecEnabledTasks.
//   - Fargate tasks are exempt from the agent rule. AWS does not document
//     the path of the Fargate platform's control channel: "Starting with
//     platform version 1.4.0, all Amazon ECS on Fargate tasks receive a
//     single elastic network interface (referred to as the task ENI) and all
//     network traffic flows through that ENI within your VPC" (Migrating to
//     Linux platform version 1.4.0 on Amazon ECS —
//     https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-version-migration.html)
//     could be read either way.
//   - The flow oracle replays only what flowmodel models: once an EC2
//     mutation it does not model (RunInstances, CreateRoute, ...) was
//     accepted after the world was registered, it cannot tell, and StopTask
//     falls back to moto's behaviour, recorded as
//     ecs-agent-reachability-unknown.
//   - The serialization of DynamoDB writes and ACL entries holds in one
//     layer process; two layers in front of one moto do not share locks.
//   - Security-group rule quotas are moto's (60, counting IPv4 and IPv6
//     together where AWS counts them apart).
//
// IRFLOW_AWS_STRICT=0 turns the layer off (Start then returns moto's URL):
// for debugging only.
package strict
