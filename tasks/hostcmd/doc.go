// Package hostcmd is the shared machinery of irflow's asynchronous host
// actions (capture-memory, collect-host-artifacts, capture-traffic): they run
// a shell script on the container instance with SSM Run Command
// (AWS-RunShellScript), the script uploads what it collects to presigned PUT
// URLs, and the action's check mode reads the outcome back with
// GetCommandInvocation.
//
// Three rules keep the scripts safe and the evidence trustworthy:
//
//   - A script is an action's constant body (an embedded .sh file) plus a
//     preamble that Render generates from validated values only: every value
//     matches a strict pattern and is single-quoted, and names are checked
//     against their own patterns. No playbook or input string reaches the
//     shell any other way.
//   - The instance uploads with curl to presigned URLs (one per object, with
//     Content-MD5, which a bucket with default Object Lock retention
//     requires), valid for the step's timeout only, so its role needs no
//     access to the evidence bucket. The script hashes each file (SHA-256)
//     before the upload and prints a manifest; Poll accepts only objects
//     the start presigned. The host's word is not the evidence: Bind reads
//     each object back (its version id and size), streams that version
//     through SHA-256 in the Lambda and compares, so other bytes than the
//     host reports, or a later PUT, cannot become the recorded evidence.
//     A presigned PUT cannot make S3 check a checksum the host sends (S3
//     refuses x-amz-* headers the URL did not sign, and the hash is not
//     known when the URL is signed), hence the server-side hash.
//   - A start is idempotent per case and step, twice over: Start looks in the
//     case's audit chain for a command this step already sent and reuses it
//     unless it failed, and on the host a lock plus a done marker under
//     Paths.Root make a duplicate command wait for the first and replay its
//     manifest instead of collecting again.
package hostcmd
