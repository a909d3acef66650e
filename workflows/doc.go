// Package workflows holds irflow's playbook library: the YAML playbooks in
// this folder, which the CDK app deploys and `irflow validate` checks, and
// the tests that keep the library honest. The tests compile every playbook
// strictly, measure how much of GuardDuty's ECS runtime finding list the
// triggers cover, compare each launch type's plan with the hand-written
// scenarios in testdata/scenarios.json, and regenerate docs/playbooks (one
// page per playbook with its Mermaid graph, and the index): a page that no
// longer matches its playbook fails the build, and
// `go test ./workflows -update` rewrites them.
//
// The package has no Go API: a playbook is data, and this package exists so
// that `go test ./...` reaches those tests.
package workflows
