# --- irflow common functions (constant; POSIX sh) ---------------------------
# Only the manifest goes to stdout: IRFLOW-EVIDENCE <name> <sha256> <bytes>,
# IRFLOW-SKIP <name> <reason>, IRFLOW-INFO <key> <value>, IRFLOW-DONE <count>.
# Everything else goes to stderr, which SSM keeps for the check's error.

irflow_fail() {
	printf 'irflow: %s\n' "$*" >&2
	exit 1
}

# irflow_clean TEXT: one line of at most 200 harmless characters.
irflow_clean() {
	printf '%s' "$1" | tr -c 'A-Za-z0-9 ._:/=+-' ' ' | cut -c1-200
}

irflow_info() {
	printf 'IRFLOW-INFO %s %s\n' "$1" "$(irflow_clean "$2")" >>"$IRFLOW_MANIFEST"
}

irflow_skip() {
	printf 'IRFLOW-SKIP %s %s\n' "$1" "$(irflow_clean "$2")" >>"$IRFLOW_MANIFEST"
}

irflow_need() {
	for _t in "$@"; do
		command -v "$_t" >/dev/null 2>&1 || irflow_fail "$_t is not installed on this host"
	done
}

# irflow_md5 FILE: base64 MD5 for Content-MD5, which S3 requires on uploads
# to a bucket with default Object Lock retention.
irflow_md5() {
	if command -v openssl >/dev/null 2>&1; then
		openssl dgst -md5 -binary "$1" | base64
	elif command -v python3 >/dev/null 2>&1; then
		python3 -c 'import base64, hashlib, sys
h = hashlib.md5()
with open(sys.argv[1], "rb") as f:
    for b in iter(lambda: f.read(1 << 20), b""):
        h.update(b)
print(base64.b64encode(h.digest()).decode())' "$1"
	else
		return 1
	fi
}

# irflow_put NAME FILE: hashes FILE, uploads it to NAME's presigned URL and
# records it in the manifest. The hash is taken on the host, before upload.
irflow_put() {
	_url=$(irflow_url "$1") || irflow_fail "no upload URL for $1"
	[ -f "$2" ] || irflow_fail "$1: $2 is missing"
	_sha=$(sha256sum "$2" | cut -d' ' -f1)
	_bytes=$(wc -c <"$2" | tr -d ' ')
	_md5=$(irflow_md5 "$2") && [ -n "$_md5" ] || irflow_fail "cannot compute Content-MD5 (neither openssl nor python3)"
	curl --fail --silent --show-error --retry 3 --retry-delay 2 \
		-H "Content-MD5: $_md5" --upload-file "$2" "$_url" >/dev/null ||
		irflow_fail "upload of $1 failed"
	printf 'IRFLOW-EVIDENCE %s %s %s\n' "$1" "$_sha" "$_bytes" >>"$IRFLOW_MANIFEST"
}

# irflow_collect NAME COMMAND...: runs COMMAND into a file and uploads it, or
# records why it could not.
irflow_collect() {
	_n=$1
	shift
	_f="$IRFLOW_WORK/$_n"
	if "$@" >"$_f" 2>"$_f.err"; then
		irflow_put "$_n" "$_f"
	else
		_why=$(head -c 200 "$_f.err")
		[ -n "$_why" ] || _why=$(head -c 200 "$_f")
		irflow_skip "$_n" "${_why:-exit status not zero}"
	fi
	rm -f "$_f" "$_f.err"
}

# irflow_find_container NAME RUNTIME_ID: prints the Docker id of the task's
# container NAME (by runtime id, else by ECS labels) after checking that it
# carries the task's ARN label.
irflow_find_container() {
	_id=""
	if [ -n "$2" ]; then
		_id=$(docker inspect --format '{{.Id}}' "$2" 2>/dev/null) || _id=""
	fi
	if [ -z "$_id" ]; then
		_id=$(docker ps -a -q --no-trunc \
			--filter "label=com.amazonaws.ecs.task-arn=$IRFLOW_TASK_ARN" \
			--filter "label=com.amazonaws.ecs.container-name=$1" 2>/dev/null | head -n 1)
	fi
	case $_id in '' | *[!a-f0-9]*) return 1 ;; esac
	_arn=$(docker inspect --format '{{index .Config.Labels "com.amazonaws.ecs.task-arn"}}' "$_id" 2>/dev/null)
	[ "$_arn" = "$IRFLOW_TASK_ARN" ] || return 1
	printf '%s\n' "$_id"
}

# irflow_pid ID: the host pid of a running container, or failure.
irflow_pid() {
	_p=$(docker inspect --format '{{.State.Pid}}' "$1" 2>/dev/null)
	case $_p in '' | 0 | *[!0-9]*) return 1 ;; esac
	printf '%s\n' "$_p"
}

# irflow_begin takes the case/step lock. A second command for the same case
# and step waits for the first, then replays its manifest instead of
# collecting again.
irflow_begin() {
	umask 077
	irflow_need flock sha256sum curl
	mkdir -p "$IRFLOW_ROOT" || irflow_fail "cannot create $IRFLOW_ROOT"
	IRFLOW_STATE="$IRFLOW_ROOT/$IRFLOW_CASE.$IRFLOW_STEP"
	exec 9>"$IRFLOW_STATE.lock" || irflow_fail "cannot open $IRFLOW_STATE.lock"
	flock 9 || irflow_fail "cannot lock $IRFLOW_STATE.lock"
	if [ -s "$IRFLOW_STATE.manifest" ]; then
		echo "irflow: case $IRFLOW_CASE step $IRFLOW_STEP already collected on this host; replaying its manifest" >&2
		cat "$IRFLOW_STATE.manifest"
		exit 0
	fi
	IRFLOW_WORK="$IRFLOW_STATE.work"
	rm -rf "$IRFLOW_WORK"
	mkdir -m 700 "$IRFLOW_WORK" || irflow_fail "cannot create $IRFLOW_WORK"
	trap 'rm -rf "$IRFLOW_WORK"' EXIT
	IRFLOW_MANIFEST="$IRFLOW_WORK/manifest"
	: >"$IRFLOW_MANIFEST"
}

# irflow_end seals the manifest as the done marker and prints it.
irflow_end() {
	_n=$(grep -c '^IRFLOW-EVIDENCE ' "$IRFLOW_MANIFEST")
	printf 'IRFLOW-DONE %s\n' "$_n" >>"$IRFLOW_MANIFEST"
	mv "$IRFLOW_MANIFEST" "$IRFLOW_STATE.manifest" || irflow_fail "cannot write $IRFLOW_STATE.manifest"
	cat "$IRFLOW_STATE.manifest"
}
# --- end of irflow common functions ------------------------------------------
