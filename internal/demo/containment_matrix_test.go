//go:build matrix

package demo

// containmentPlaybooks are every shipped playbook (`make containment`).
var containmentPlaybooks = []string{"container-escape", "credential-abuse", "crypto-mining", "malicious-execution",
	"malicious-network", "reverse-shell-c2", "suspicious-activity"}
