// Package worlds seeds the named ECS worlds of the test bench (irflow-demo)
// in moto: a VPC with its subnets, gateways, route tables, network ACLs and
// security groups; a cluster with the compromised task and its neighbours;
// and the named flows that exist before the response (the miner's session
// to its pool, the load balancer's connection, a same-subnet peer, the ECS
// agent's connection). The bench judges those flows with the flow model
// (internal/flowmodel) before and after the response, over the world's
// final state as moto holds it.
//
// Every world shares one shape (docs/design.md, "Test worlds"): a VPC
// 10.0.0.0/16 with a public subnet holding the NAT gateway, an app subnet
// for the tasks and container instances, and a load balancer subnet; the
// worlds differ in what a response has to get right (network mode, a public
// IP, shared or full network ACLs, VPC endpoints, ECS Exec).
package worlds
