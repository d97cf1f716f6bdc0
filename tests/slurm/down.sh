#!/usr/bin/env bash
# tests/slurm/down.sh DIR - stop the daemons tests/slurm/up.sh DIR started, by the PIDs
# it recorded in DIR/pids (slurmd, slurmctld, then munged), never by name: a PID is
# signalled only while its command line still names DIR, so a PID reused by another
# process is left alone. SIGTERM, then SIGKILL after 10 s. The jobs still in that
# Slurm (all of them are the tests', it is a Slurm of its own) are cancelled first, so
# that no job step outlives the daemons. Always exits 0.
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
ctld=$(awk '$1 == "slurmctld" { print $2 }' "$dir/pids")
if [ -f "$dir/slurm.conf" ] && [ -n "$ctld" ] && ours "$ctld"; then
	export SLURM_CONF=$dir/slurm.conf
	jobs=$(timeout 10 squeue -h -o %A 2>/dev/null)
	if [ -n "$jobs" ]; then
		# shellcheck disable=SC2086
		timeout 10 scancel $jobs 2>/dev/null
		for _ in $(seq 100); do
			[ -z "$(timeout 10 squeue -h -t PD,R,CG,S -o %A 2>/dev/null)" ] && break
			sleep 0.1
		done
	fi
fi
for name in slurmd slurmctld munged; do
	for pid in $(awk -v n="$name" '$1 == n { print $2 }' "$dir/pids"); do stop "$pid"; done
done
exit 0
