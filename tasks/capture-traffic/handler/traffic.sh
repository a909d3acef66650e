# --- capture-traffic, mode tcpdump (constant) --------------------------------
# One tcpdump per network namespace of the task's containers, run inside the
# namespace (nsenter -n), so the capture holds exactly the task's packets,
# before NAT and without the duplicates a capture on docker0 and the veth
# would give. Containers sharing a namespace (awsvpc) are captured once. A
# capture stops after IRFLOW_DURATION seconds or at IRFLOW_MAX_PCAP_BYTES.

irflow_container() {
	_pcap="traffic.$2.pcap"
	if ! _cid=$(irflow_find_container "$1" "$3"); then
		irflow_skip "$_pcap" "container $1 of the task is not on this host"
		return 0
	fi
	if ! _pid=$(irflow_pid "$_cid"); then
		irflow_skip "$_pcap" "container $1 is not running"
		return 0
	fi
	_ns=$(readlink "/proc/$_pid/ns/net") || {
		irflow_skip "$_pcap" "cannot read the network namespace of container $1"
		return 0
	}
	case " $IRFLOW_SEEN_NS " in
	*" $_ns "*)
		irflow_skip "$_pcap" "shares its network namespace with a container captured already"
		return 0
		;;
	esac
	IRFLOW_SEEN_NS="$IRFLOW_SEEN_NS $_ns"
	irflow_info "container.$2" "$_cid"
	timeout "$IRFLOW_DURATION" nsenter -t "$_pid" -n \
		tcpdump -i any -n -U -Z root -s "$IRFLOW_SNAPLEN" -w "$IRFLOW_WORK/$_pcap" >"$IRFLOW_WORK/$_pcap.log" 2>&1 &
	IRFLOW_CAPTURES="$IRFLOW_CAPTURES $!:$2"
}

# irflow_watch waits for every capture, stopping one that reaches the size cap.
irflow_watch() {
	_stopped=""
	while :; do
		_alive=0
		for _c in $IRFLOW_CAPTURES; do
			_p=${_c%%:*}
			_k=${_c#*:}
			kill -0 "$_p" 2>/dev/null || continue
			_alive=1
			_sz=$(stat -c %s "$IRFLOW_WORK/traffic.$_k.pcap" 2>/dev/null || echo 0)
			if [ "$_sz" -ge "$IRFLOW_MAX_PCAP_BYTES" ]; then
				case " $_stopped " in *" $_k "*) ;; *)
					kill -TERM "$_p" 2>/dev/null
					_stopped="$_stopped $_k"
					irflow_info "truncated.$_k" "stopped at $_sz bytes"
					;;
				esac
			fi
		done
		[ "$_alive" = 1 ] || break
		sleep 1
	done
	wait
}

irflow_run() {
	irflow_need docker nsenter tcpdump timeout stat readlink
	IRFLOW_SEEN_NS=""
	IRFLOW_CAPTURES=""
	irflow_targets
	irflow_watch
	for _c in $IRFLOW_CAPTURES; do
		_k=${_c#*:}
		_f="$IRFLOW_WORK/traffic.$_k.pcap"
		if [ -s "$_f" ]; then
			_n=$(grep -o '[0-9]* packets captured' "$_f.log" | cut -d' ' -f1)
			irflow_info "packets.$_k" "${_n:-unknown}"
			irflow_put "traffic.$_k.pcap" "$_f"
		else
			irflow_skip "traffic.$_k.pcap" "tcpdump wrote nothing: $(head -c 150 "$_f.log")"
		fi
		rm -f "$_f" "$_f.log"
	done
	return 0
}
