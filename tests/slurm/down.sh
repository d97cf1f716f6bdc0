#!/usr/bin/env bash
# tests/slurm/down.sh DIR - stop the daemons tests/slurm/up.sh DIR started, by the PIDs
# it recorded in DIR/pids (slurmd, slurmctld, then munged), never by name: a PID is
# signalled only while its command line still names DIR, so a PID reused by another
# process is left alone. SIGTERM, then SIGKILL after 10 s. Always exits 0.
dir=${1:?usage: down.sh DIR}
[ -f "$dir/pids" ] || exit 0
dir=$(cd "$dir" && pwd)
ours() { [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$dir/"; }
stop() {
	local pid=$1
	ours "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 100); do ours "$pid" || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
	for _ in $(seq 20); do ours "$pid" || return 0; sleep 0.1; done
}
for name in slurmd slurmctld munged; do
	for pid in $(awk -v n="$name" '$1 == n { print $2 }' "$dir/pids"); do stop "$pid"; done
done
exit 0
