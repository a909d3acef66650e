# --- collect-host-artifacts (constant) ---------------------------------------
# For each container of the task (found by runtime id or ECS labels, and
# checked against the task ARN label), one file per artifact; then the ECS
# agent's logs. An artifact that cannot be produced is recorded as skipped,
# with the reason, and the rest are still collected.

irflow_want() {
	case " $IRFLOW_INCLUDE " in *" $1 "*) return 0 ;; esac
	return 1
}

# irflow_file ARTIFACT KEY: the file name of a container's artifact.
irflow_file() {
	case $1 in
	docker-inspect) printf '%s.%s.json\n' "$1" "$2" ;;
	docker-logs) printf '%s.%s.log\n' "$1" "$2" ;;
	*) printf '%s.%s.txt\n' "$1" "$2" ;;
	esac
}

irflow_docker_logs() {
	docker logs --timestamps --tail "$IRFLOW_MAX_LOG_LINES" "$1" 2>&1
}

# irflow_netconns ID: sockets seen from inside the container's network
# namespace (for host network mode, that is the host's).
irflow_netconns() {
	_pid=$(irflow_pid "$1") || {
		echo "container is not running" >&2
		return 1
	}
	nsenter -t "$_pid" -n ss -tunap
}

irflow_agent_logs() {
	[ -d "$IRFLOW_ECS_LOGS" ] || {
		echo "no $IRFLOW_ECS_LOGS on this host" >&2
		return 1
	}
	tar -czf - -C "$IRFLOW_ECS_LOGS" .
	# GNU tar exits 1 when a log grew while it was read: still a good archive.
	[ $? -le 1 ]
}

# irflow_container NAME KEY RUNTIME_ID, called by irflow_targets.
irflow_container() {
	if ! _cid=$(irflow_find_container "$1" "$3"); then
		for _a in docker-inspect docker-diff docker-logs process-list network-connections; do
			irflow_want "$_a" && irflow_skip "$(irflow_file "$_a" "$2")" "container $1 of the task is not on this host"
		done
		return 0
	fi
	irflow_info "container.$2" "$_cid"
	irflow_want docker-inspect && irflow_collect "$(irflow_file docker-inspect "$2")" docker inspect "$_cid"
	irflow_want docker-diff && irflow_collect "$(irflow_file docker-diff "$2")" docker diff "$_cid"
	irflow_want docker-logs && irflow_collect "$(irflow_file docker-logs "$2")" irflow_docker_logs "$_cid"
	irflow_want process-list && irflow_collect "$(irflow_file process-list "$2")" docker top "$_cid" -eo pid,ppid,user,lstart,args
	irflow_want network-connections && irflow_collect "$(irflow_file network-connections "$2")" irflow_netconns "$_cid"
	return 0
}

irflow_run() {
	if [ "$IRFLOW_INCLUDE" != ecs-agent-logs ]; then
		irflow_need docker
		irflow_targets
	fi
	if irflow_want ecs-agent-logs; then
		irflow_collect ecs-agent-logs.tar.gz irflow_agent_logs
	fi
	return 0
}
