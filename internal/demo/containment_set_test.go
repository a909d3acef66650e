//go:build !matrix

package demo

// containmentPlaybooks are the playbooks TestContainment runs in `make
// test`: the two whose Fargate branch isolates before its gate. `make
// containment` (-tags matrix) runs every shipped playbook.
var containmentPlaybooks = []string{"crypto-mining", "reverse-shell-c2"}
