# --- capture-memory (constant) -----------------------------------------------
# Downloads AVML, refuses it unless its SHA-256 is the pinned one, captures
# memory to a file under IRFLOW_ROOT, then uploads it in parts of at most
# IRFLOW_PART_BYTES (a presigned PUT takes at most 5 GB).

irflow_run() {
	irflow_need awk df dd stat
	_mem_kb=$(awk '/^MemTotal:/ {print $2}' "$IRFLOW_MEMINFO")
	case $_mem_kb in '' | *[!0-9]*) irflow_fail "cannot read MemTotal from $IRFLOW_MEMINFO" ;; esac
	_avail_kb=$(df -Pk "$IRFLOW_WORK" | awk 'NR == 2 {print $4}')
	_part_kb=$((IRFLOW_PART_BYTES / 1024))
	if [ "$IRFLOW_COMPRESS" = 1 ]; then
		_need_kb=$((_mem_kb / 2 + _part_kb))
	else
		_need_kb=$((_mem_kb + _part_kb))
		[ $((_mem_kb * 1024)) -le $((IRFLOW_PART_BYTES * IRFLOW_MAX_PARTS)) ] ||
			irflow_fail "memory of ${_mem_kb} KiB exceeds the $IRFLOW_MAX_PARTS presigned parts of $IRFLOW_PART_BYTES bytes; capture with compress: true"
	fi
	[ "${_avail_kb:-0}" -ge "$_need_kb" ] ||
		irflow_fail "not enough free disk under $IRFLOW_ROOT: ${_avail_kb:-0} KiB free, $_need_kb KiB needed for a ${_mem_kb} KiB memory"

	_avml="$IRFLOW_WORK/avml"
	curl --fail --silent --show-error --retry 3 --retry-delay 2 -o "$_avml" "$IRFLOW_AVML_URL" ||
		irflow_fail "could not download AVML"
	_got=$(sha256sum "$_avml" | cut -d' ' -f1)
	[ "$_got" = "$IRFLOW_AVML_SHA256" ] ||
		irflow_fail "AVML hash mismatch: downloaded $_got, pinned $IRFLOW_AVML_SHA256; refusing to run it"
	chmod 700 "$_avml"
	irflow_info avml-sha256 "$_got"

	_img="$IRFLOW_WORK/$IRFLOW_IMAGE"
	if [ "$IRFLOW_COMPRESS" = 1 ]; then
		"$_avml" --compress "$_img" >&2
	else
		"$_avml" "$_img" >&2
	fi
	_rc=$?
	rm -f "$_avml"
	[ "$_rc" -eq 0 ] && [ -s "$_img" ] || irflow_fail "avml failed (exit $_rc)"

	_size=$(stat -c %s "$_img")
	_parts=$(((_size + IRFLOW_PART_BYTES - 1) / IRFLOW_PART_BYTES))
	[ "$_parts" -le "$IRFLOW_MAX_PARTS" ] ||
		irflow_fail "image of $_size bytes needs $_parts parts; $IRFLOW_MAX_PARTS were presigned"
	irflow_info image "$IRFLOW_IMAGE"
	irflow_info image-sha256 "$(sha256sum "$_img" | cut -d' ' -f1)"
	irflow_info image-bytes "$_size"
	irflow_info parts "$_parts"

	if [ "$_parts" -eq 1 ]; then
		irflow_put "$IRFLOW_IMAGE.part000" "$_img"
	else
		_mb=$((IRFLOW_PART_BYTES / 1048576))
		_i=0
		while [ "$_i" -lt "$_parts" ]; do
			_n=$(printf '%s.part%03d' "$IRFLOW_IMAGE" "$_i")
			dd if="$_img" of="$IRFLOW_WORK/$_n" bs=1048576 skip=$((_i * _mb)) count="$_mb" 2>/dev/null ||
				irflow_fail "cannot cut part $_i of the image"
			irflow_put "$_n" "$IRFLOW_WORK/$_n"
			rm -f "$IRFLOW_WORK/$_n"
			_i=$((_i + 1))
		done
	fi
	rm -f "$_img"
}
