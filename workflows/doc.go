// Package workflows holds irflow's playbook library: the YAML playbooks in
// this folder, which the CDK app deploys and `irflow validate` checks, and
// the tests that keep the library honest. The tests compile every playbook
// strictly, measure how much of GuardDuty's ECS runtime finding list the
// triggers cover, hold each playbook to having scenarios (<name>.test.yaml,
// which irflow test runs: make test runs `irflow test workflows`) that pass
// on both launch types, and regenerate docs/playbooks (one
// page per playbook with its Mermaid graph, and the index): a page that no
// longer matches its playbook fails the build, and
// `go test ./workflows -update` rewrites them.
//
// The package has no Go API: a playbook is data, and this package exists so
// that `go test ./...` reaches those tests.
package workflows
