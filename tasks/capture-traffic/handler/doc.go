// Package handler is the logic of the capture-traffic action, in one of two
// modes (with.mode).
//
// tcpdump (the default) is asynchronous, like the other host actions
// (tasks/hostcmd): mode start sends a script with SSM Run Command that runs
// tcpdump for durationSeconds inside the network namespace of each of the
// task's containers (nsenter -n), and mode check reads the outcome. Entering
// the namespace is how the capture is "filtered to the task": in bridge mode
// each container has its own namespace behind a veth pair, so its capture
// holds exactly its packets, addressed as the container saw them (before
// the host's NAT), without the duplicates a host-side capture on docker0 and
// the veth gives, and without depending on an IP address Docker may hand to
// the next container. awsvpc containers share one namespace and are
// captured once; in host mode the namespace is the host's, so the capture
// holds the whole host's traffic (outputs.scope says so). Each pcap is
// capped at 4 GiB (the presigned PUT limit is 5 GB) and hashed on the host.
//
// mirror starts a VPC traffic-mirror session from each of the target's
// ENIs to with.mirrorTargetId through with.mirrorFilterId, tagged with the
// case, and returns done at once: the session mirrors until someone deletes
// it. In bridge and host mode the ENI is the instance's, so every task on
// the instance is mirrored. Sessions are found again by their case and
// step tags on the ENI, never created twice.
package handler
