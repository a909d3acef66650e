// Package demo is the local incident-response bench behind `make demo` and
// cmd/irflow-demo: it seeds an ECS world in moto server, runs a playbook on
// it with the real task handlers, decides the gates through the real
// approval API and checks what the response left behind.
package demo
