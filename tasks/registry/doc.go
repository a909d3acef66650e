// Package registry maps every catalog action to its handler, so code that
// runs the real task logic in process — `irflow simulate --aws-endpoint`
// against moto server, end-to-end tests — needs no Lambda. Each handler is
// wrapped in the same taskrt.Runtime a Lambda uses (payload validation,
// audit chain, named errors), so a simulated run leaves the same audit
// records as a deployed one.
package registry
