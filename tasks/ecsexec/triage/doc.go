// Package triage is what irflow's exec-triage action runs inside a
// container through ECS Exec, and what it makes of the output: a fixed,
// read-only collector script (collect.sh, embedded) and the Lambda-side
// Decode and Analyze that turn its output into hashed evidence.
//
// # Why a POSIX-sh collector that only streams raw bytes
//
// ECS Exec hands the command to the SSM agent, which splits it with shlex
// and executes it directly, in a pty (see package ecsexec). So the
// collector has to be a program already in the image, and its output has
// to survive a terminal. Three designs were weighed:
//
//   - A Go helper streamed over stdin and executed from a tmpfs: stdin goes
//     through the pty's line discipline (echo, 4095-byte lines, ^C/^D/^S
//     interpreted), so it would need a decoder in the container anyway, a
//     writable and executable mount, and it writes to the evidence. Images
//     that set readonlyRootFilesystem rarely run ECS Exec at all (its agent
//     needs writable /managed-agents and /var/lib/amazon/ssm,
//     aws/containers-roadmap#1359), but /tmp is often noexec. Rejected.
//   - A shell script that parses /proc itself: parsing in ash/dash is slow
//     and fragile, and every value it prints raw is attacker-controlled
//     bytes in a terminal. Rejected.
//   - A POSIX-sh script that only reads and encodes: it uses dd (bounded
//     reads), base64 or od (encoding), readlink, stat, sha256sum and ls
//     when present, with fallbacks; it writes no file (no temp files, no
//     here-documents), reads no input, and prints nothing but its framing
//     and encoded bytes, so command lines with newlines or escape bytes,
//     FIFOs, symlink loops and huge files cannot disturb it. All parsing
//     (stat, status, cmdline, net tables, fd links), the socket-to-process
//     mapping and the hashing of copied binaries happen here. Chosen.
//
// The target (pid, executable path, SHA-256 from the GuardDuty finding) is
// validated and passed as separate argv words, never spliced into the
// script, and the command string is shlex-quoted; tests split it back with
// the agent's own shlex library.
//
// # Images
//
// It runs with /bin/sh from busybox, dash or bash, and /busybox/sh
// (distroless debug images); see Shells. Busybox's applets cover every
// tool; without base64 it falls back to od hex, without readlink to ls -l,
// without stat to ls -lLn (no mtime), without sha256sum to no in-container
// hashes. The tests run it with dash and coreutils and with busybox in
// those reduced tool sets, against a fake /proc tree with hostile content.
//
// With no shell at all (distroless static, scratch) nothing can be run:
// the agent executes one binary from the image with fixed arguments, the
// only binaries guaranteed there are the SSM agent's own (bind-mounted
// under /managed-agents), and none of them reads files for a caller.
// Analyze then reports CollectorNotStartedError with the agent's message,
// and the honest result is "skipped: no shell in the image".
//
// # Output format
//
// Lines, each prefixed with a record tag and the run's random nonce:
//
//	@H <nonce> irflow-triage/1 enc=b64|hex rl=0|1 stat=0|1 sha=0|1
//	@B <nonce> <id> <kind> key=value...   (values only [0-9A-Za-z._:-])
//	<base64 lines, or od -An -tx1 lines>
//	@E <nonce> <id> <exit status of the reading command>
//	@T <nonce> end
//
// Kinds: procstat, net (proto=tcp|tcp6|udp|udp6|raw|raw6), and per pid
// stat, status, cmdline, exe (with size, sha256, mtime, mode, uid, ino of
// the binary), cwd, fds (NUL-separated "fd<TAB>target"); maps of the
// target pid; bin (binary copies: from=exe|path|sha256, or skip=reason);
// xfile (executables in /tmp, /dev/shm, /var/tmp to depth 3 and in each
// working directory; content is the path). Decode drops the pty's "\r",
// ignores foreign lines outside blocks, and reports foreign lines inside
// blocks, unended blocks, repeated ids and a missing trailer.
//
// # What it cannot do
//
// Hashes of process binaries and executables in writable directories are
// computed by the container's own sha256sum: claims, unless a binary copy
// (hashed here) confirms them. It sees what the exec session's user may
// read (the agent's user, root in most images), only the container's pid
// namespace and network namespace, and files as they are during the run,
// not memory. It does not collect environments (they hold secrets).
package triage
