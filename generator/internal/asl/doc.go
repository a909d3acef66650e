// Package asl models the subset of the Amazon States Language (JSONPath query
// language) that irflow emits and simulates: one file per state kind, an
// ordered States map, deterministic JSON, and a structural verifier.
package asl
