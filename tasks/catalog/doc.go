// Package catalog is the action catalog: the one source of truth for what each
// task Lambda does, where it may run, what it may touch and how it is retried.
//
// The generator checks playbooks against it, the CDK app derives every
// function's IAM role from it, `irflow actions` prints it and the README's
// action table is generated from it. Nothing here imports AWS or CDK code, so
// every consumer can afford to import it.
package catalog
