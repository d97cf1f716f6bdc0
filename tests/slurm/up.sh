#!/usr/bin/env bash
# tests/slurm/up.sh DIR - a single-node Slurm of its own in DIR, for the tests and CI.
#
# From Debian's packages (slurm-wlm, munge), without systemd and without touching a
# Slurm or munge that the machine may already run. munged runs as the munge user with a
# key (made by mungekey), socket, pid and log of its own in DIR/munge, the folder that
# /run/munge is for the packaged service (slurm.conf names the socket: AuthInfo=socket=).
# slurmctld and slurmd read DIR/slurm.conf (ProctrackType=proctrack/linuxproc,
# TaskPlugin=task/none, no accounting, SchedulerParameters=batch_sched_delay=0, one node
# named after `hostname -s` at 127.0.0.1 with the CPUs and memory `slurmd -C` finds) and
# listen on two free ports, with their spool, state and logs in DIR. Needs root. DIR
# must not exist; its parent must be searchable by the munge user (up.sh makes DIR
# itself mode 755).
#
# When it exits 0 the node is idle and DIR/env holds `export SLURM_CONF=DIR/slurm.conf`
# for the client commands (sbatch, squeue, scontrol, scancel). DIR/pids holds
# "name pid" lines of every daemon started; tests/slurm/down.sh DIR stops them by those
# PIDs. On failure it prints why (and the daemons' last log lines) on stderr, stops what
# it started and exits 1.
set -u
dir=${1:?usage: up.sh DIR}
fail() {
	echo "slurm up: $*" >&2
	local l
	for l in "$dir"/munge/munged.out "$dir"/slurmctld.log "$dir"/slurmctld.out "$dir"/slurmd.log "$dir"/slurmd.out; do
		[ -s "$l" ] && { echo "--- $l" >&2; tail -n 8 "$l" >&2; }
	done
	bash "$(dirname "$0")/down.sh" "$dir" >/dev/null 2>&1
	exit 1
}
[ "$(id -u)" -eq 0 ] || { echo "slurm up: needs root" >&2; exit 1; }
for c in munged mungekey setpriv slurmctld slurmd sbatch sinfo; do
	command -v "$c" >/dev/null 2>&1 || { echo "slurm up: $c is not installed (packages slurm-wlm and munge)" >&2; exit 1; }
done
id munge >/dev/null 2>&1 || { echo "slurm up: there is no munge user (package munge)" >&2; exit 1; }
[ ! -e "$dir" ] || { echo "slurm up: $dir exists" >&2; exit 1; }
mkdir -p "$dir" && chmod 755 "$dir" || exit 1
dir=$(cd "$dir" && pwd)
: >"$dir/pids"

# ---- munge: a key of its own, its own socket ----
m=$dir/munge
mkdir -p "$m" && chown munge:munge "$m" && chmod 755 "$m" || fail "cannot make $m"
setpriv --reuid=munge --regid=munge --init-groups mungekey -c -k "$m/munge.key" >/dev/null 2>&1 ||
	fail "mungekey cannot create a key"
sock=$m/munge.socket
setpriv --reuid=munge --regid=munge --init-groups munged -F --socket="$sock" --key-file="$m/munge.key" \
	--pid-file="$m/munged.pid" --seed-file="$m/munged.seed" --log-file="$m/munged.log" \
	</dev/null >>"$m/munged.out" 2>&1 &
echo "munged $!" >>"$dir/pids"
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || fail "munged did not start"

# ---- slurm.conf ----
free_port() { # a TCP port no one listens on (from /proc/net/tcp*, hex)
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		grep -qi ":$(printf %04X $p) " /proc/net/tcp /proc/net/tcp6 2>/dev/null || { echo $p; return; }
	done
}
host=$(hostname -s)
node=$(slurmd -C 2>/dev/null | head -n 1 | sed 's/^NodeName=[^ ]* //')
case $node in *CPUs=*) ;; *) fail "slurmd -C does not describe this machine" ;; esac
cport=$(free_port) dport=$(free_port)
while [ "$dport" = "$cport" ]; do dport=$(free_port); done
mkdir -p "$dir/spool" "$dir/state"
cat >"$dir/slurm.conf" <<CONF
# single-node Slurm for winnow's tests (tests/slurm/up.sh)
ClusterName=winnowtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$cport
SlurmdPort=$dport
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 $node State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
echo "export SLURM_CONF=$dir/slurm.conf" >"$dir/env"
export SLURM_CONF=$dir/slurm.conf

# ---- the daemons, in the foreground of a background job: $! is the daemon ----
slurmctld -D -c -f "$SLURM_CONF" </dev/null >>"$dir/slurmctld.out" 2>&1 &
ctld=$!
echo "slurmctld $ctld" >>"$dir/pids"
slurmd -D -f "$SLURM_CONF" </dev/null >>"$dir/slurmd.out" 2>&1 &
d=$!
echo "slurmd $d" >>"$dir/pids"
state=
for _ in $(seq 150); do
	state=$(sinfo -h -n "$host" -o %T 2>/dev/null)
	case $state in idle*) break ;; esac
	kill -0 "$ctld" 2>/dev/null || fail "slurmctld exited"
	kill -0 "$d" 2>/dev/null || fail "slurmd exited"
	sleep 0.2
done
case $state in idle*) ;; *) fail "the node is not idle after 30 s (state: ${state:-no answer from slurmctld})" ;; esac
exit 0
