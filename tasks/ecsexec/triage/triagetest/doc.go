// Package triagetest is a fake compromised container for exec-triage's
// tests and for the bench (internal/demo): a container root on disk with a
// /proc tree (an application, a crypto miner whose binary was deleted from
// /tmp after it started, their sockets in /proc/net and their descriptors),
// and a fakeagent.Container that runs irflow's real collector against it in
// a real pty.
//
// # The test seam
//
// The collector takes the container's root as its sixth word (triage's
// Command always passes "-", meaning "/"). The fake container rewrites that
// one word to the root directory before it executes the command, and
// nothing else: the handler, the command string, the data channel and the
// analysis are production code, unaware of the fake. The fake container
// runs nothing but irflow's collector (argv[3] must be "irflow-triage"),
// so a session never runs arbitrary commands on the machine running the
// tests.
//
// Two more pieces stand in for what the kernel does inside a container:
//
//   - readlink: /proc/<pid>/exe, cwd and fd links in the tree point into
//     the root directory, so readlink would print host paths. A readlink
//     wrapper, first in the container's PATH, prints them as the container
//     sees them (the root's prefix stripped), as /proc does.
//   - deleted files: a process whose binary was deleted still has it at
//     /proc/<pid>/exe, and readlink says "<path> (deleted)". The tree keeps
//     such bytes outside the root (so no walk of /tmp finds them) under a
//     directory whose path, stripped, reads as "<path> (deleted)".
//
// # Images
//
// Options.Image decides which shells exist: Debian (/bin/sh, the host's
// dash, with coreutils), Busybox (only /busybox/sh, as distroless debug
// images have, with busybox's applets as the tools) or NoShell (distroless
// static, scratch). A shell the image lacks fails the way the agent's exec
// does, so the handler's fallback and its "no shell" skip are exercised.
// The Busybox image's /busybox/sh is the host's dash: busybox's own sh runs
// its applets in preference to PATH, which would bypass the readlink
// stand-in; the collector under busybox sh itself is tested in package
// triage, against its own fake tree.
package triagetest
