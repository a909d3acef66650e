// Package handler is the logic of the exec-triage action: live triage
// inside a running container through ECS Exec, the only way into a Fargate
// task, whose processes, connections and deleted binaries are gone once it
// stops.
//
// For each container it looks into (with.container; else the containers
// the GuardDuty finding lists; else every essential container of the task
// definition) it calls ecs:ExecuteCommand with irflow's fixed, read-only
// collector (package triage: the command never holds anything from input
// but validated argv words of the finding's pid, path and hash), tries
// /bin/sh and then /busybox/sh, speaks the Session Manager data channel
// itself (package ecsexec) within the invocation's time, analyzes the
// output and stores every artifact with its SHA-256: the raw stream,
// processes, connections, open files, executables, the binary copies and
// triage.json, the report that lists them all.
//
// # What it does not do, and says so
//
// A task started without enableExecuteCommand, an ExecuteCommandAgent that
// is not RUNNING, an agent ECS cannot reach (TargetNotConnectedException:
// the task role lacks the ssmmessages permissions, or the task has no route
// to ssmmessages), access denied, a cluster that encrypts sessions with
// KMS, an image without a shell: the step ends SKIPPED, not failed, and
// outputs.notCollected says per container what was not collected and why.
//
// A session that ends in a way irflow cannot trust (frames that are not
// the protocol, a broken sequence, no acknowledgements, a stalled
// handshake, silence, a peer that never closes) fails the step with
// ExecSessionError and stores nothing; a dropped connection or an
// unreachable stream URL is a RetryableError wrapping one (a new session
// is harmless). A run cut by its own budget (the output limit, or the
// invocation's deadline) is kept: what arrived is stored, marked
// incomplete, and the step is OK.
//
// # Why not asynchronous
//
// The data channel is a websocket held by the invocation that opened it:
// no later invocation can pick it up (ssm:ResumeSession reconnects, but
// the agent only resends frames it still holds, and the output read so
// far lives in the first invocation's memory). A Wait/check loop would buy
// nothing, so the action is synchronous and its limits fit one invocation:
// by default at most 16 MiB per copied binary and 96 MiB of output, within
// the catalog's 10-minute Lambda timeout.
//
// # Dry run
//
// ExecuteCommand is not a read: it starts processes inside the compromised
// container (which an attacker may watch) and, with the cluster's default
// exec logging, writes the session's output to the task's log group. A dry
// run therefore only describes the task and reports which containers a
// real run would triage, or why it would skip them.
//
// # Evidence keys
//
// cases/<caseId>/<step>/<run>-<container>-<artifact>, where run is the UTC
// start second and 8 random hex digits: a second triage of the same task
// (a retry, a second execution) is a new session and a new snapshot, and
// never overwrites the first.
package handler
