// Package handler is the logic of the scale-service action.
//
// Stopping a service's task only makes the service start another from the
// same (possibly compromised) image and configuration; scaling the service
// to zero stops that. The original desired count is what restoring the
// service takes, so it is kept in two places: the result's outputs (and so
// the audit chain) and the service's own tags, irflow:previous-desired-count
// with irflow:scaled-by-case naming the case that wrote it. The tag is
// written before the count changes, and a later run of the same case never
// overwrites it, so a retry (or a run after auto scaling nudged the count)
// still reports the count the service had before the incident. A run of
// another case records the count it finds. The scaling and its record are
// ecsservice.Scale, which pin-service's scale-to-zero mode shares, so both
// leave the same record and one restore undoes either.
package handler
