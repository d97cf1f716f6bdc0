#!/usr/bin/env bash
# t0975-slurm.sh - winnow slurm: plan, then map, reduce and merge as Slurm array jobs.
#
# Always: usage errors, and a missing sbatch, without Slurm; then, with stand-ins for
# sbatch, scontrol and scancel that only record their arguments, the scripts written
# and the three submissions (arrays, afterok dependencies, --kill-on-invalid-dep=yes,
# Slurm options as #SBATCH lines), and a failed submission cancelling the jobs before it.
# With root (or sudo without a password) and Debian's slurm-wlm and munge, a
# single-node Slurm of its own (tests/slurm/up.sh, stopped by PID at exit whatever
# happens; or the one .ci/run started, named by WINNOW_TEST_SLURM) runs a 4-partition
# pipeline on generated data with --wait; the catalog must equal a single-machine
# ingest of the same files (sorted exports, counts) and pass verify --deep and
# xxhsum -c MANIFEST. Then a second run has one map task cancelled and, when it is
# rerun by the command winnow reported, one reduce task killed -9, both caught mid-run
# (stopped with SIGSTOP first, so the kill cannot come after the end); each time the
# report must name exactly that task, and the rerun by the reported commands must give
# the same catalog again.
. "$(dirname "$0")/lib.sh"

# the scripts name WORK and winnow by their real paths (no symbolic link in them)
T=$(cd "$T" && pwd -P)
WREAL=$(readlink -f "$WINNOW")
W=$T/work
mkdir -p "$T/in"
"$GEN" -n 240k -s 975 -o "$T/all.jsonl"
(cd "$T/in" && split -n l/4 -d --additional-suffix=.jsonl "$T/all.jsonl" part)
IN=$(ls "$T"/in/part*.jsonl)

# ---- usage, without Slurm ----
must_fail "no -C is a usage error" 2 "$WINNOW" slurm --parts 4 $IN
must_fail "no --parts is a usage error" 2 "$WINNOW" slurm -C "$W" $IN
must_fail "--parts 0 is a usage error" 2 "$WINNOW" slurm -C "$W" --parts 0 $IN
must_fail "--parts abc is a usage error" 2 "$WINNOW" slurm -C "$W" --parts abc $IN
must_fail "no input file is a usage error" 2 "$WINNOW" slurm -C "$W" --parts 4
must_fail "--resume with --parts is a usage error" 2 "$WINNOW" slurm -C "$W" --resume --parts 4
must_fail "a Slurm option without its dashes is a usage error" 2 "$WINNOW" slurm -C "$W" --parts 4 --sbatch-opt mem=1G $IN
must_fail "a Slurm option with a double quote is a usage error" 2 "$WINNOW" slurm -C "$W" --parts 4 --sbatch-opt '--comment="x"' $IN
must_fail "--partition without a value is a usage error" 2 "$WINNOW" slurm -C "$W" --parts 4 $IN --partition
check "winnow slurm --help exits 0" "$WINNOW" slurm --help
grep -q -- '--sbatch-opt' "$T/.out"
is "--help names --sbatch-opt" "$?" 0

mkdir -p "$T/nobin"
PATH=$T/nobin must_fail "without sbatch in PATH: exit 3" 3 "$WINNOW" slurm -C "$W" --parts 4 $IN
grep -q "sbatch is not in PATH" "$T/.err"
is "... and the message says sbatch is not in PATH" "$?" 0
[ ! -e "$W" ]
is "... before anything is planned (WORK not created)" "$?" 0

# ---- the submissions, with stand-ins that record their arguments ----
fake=$T/fakebin
mkdir -p "$fake"
cat >"$fake/sbatch" <<'EOF'
#!/bin/sh
# records its arguments, prints the next job id; fails the submission number $FAIL_AT
n=$(($(cat "$FAKE_LOG.n" 2>/dev/null || echo 0) + 1))
echo $n >"$FAKE_LOG.n"
echo "sbatch $*" >>"$FAKE_LOG"
[ "$n" = "${FAIL_AT:-0}" ] && { echo "sbatch: error: Batch job submission failed" >&2; exit 1; }
echo $((100 + n))
EOF
cat >"$fake/scontrol" <<'EOF'
#!/bin/sh
# knows no job, or says that each is $FAKE_STATE
echo "scontrol $*" >>"$FAKE_LOG"
[ -n "${FAKE_STATE:-}" ] && { echo "JobId=$5 ArrayJobId=$5 ArrayTaskId=0-1 JobState=$FAKE_STATE Reason=None"; exit 0; }
echo "slurm_load_jobs error: Invalid job id specified" >&2
exit 1
EOF
printf '#!/bin/sh\necho "scancel $*" >>"$FAKE_LOG"\n' >"$fake/scancel"
printf '#!/bin/sh\nexit 0\n' >"$fake/squeue"
chmod +x "$fake"/*
export FAKE_LOG=$T/fake.log
if "$WINNOW" --help 2>/dev/null | grep -q "^  plan "; then
	PATH=$fake:$PATH check "winnow slurm submits (stand-in sbatch)" "$WINNOW" slurm -C "$W" --parts 4 --tasks 3 \
		--partition p1 --time 5:00 --account acct --sbatch-opt=--mem=100M --sbatch-opt "--comment=two words" $IN
	is "it prints the three job ids" "$(tr '\n' ' ' <"$T/.out")" "map job 101 reduce job 102 merge job 103 "
	m=$(sed -n 1p "$FAKE_LOG") r=$(sed -n 2p "$FAKE_LOG") g=$(sed -n 3p "$FAKE_LOG")
	is "map: an array of the 3 map tasks" "$m" "sbatch --parsable --array=0-2 $W/slurm/map.sbatch"
	is "reduce: 4 partitions, afterok on map, killed on an invalid dependency" "$r" \
		"sbatch --parsable --array=0-3 --dependency=afterok:101 --kill-on-invalid-dep=yes $W/slurm/reduce.sbatch"
	is "merge: afterok on reduce, killed on an invalid dependency" "$g" \
		"sbatch --parsable --dependency=afterok:102 --kill-on-invalid-dep=yes $W/slurm/merge.sbatch"
	is "the work folder holds the plan" "$([ -s "$W/plan.json" ] && echo yes)" yes
	for s in map reduce merge; do
		f=$W/slurm/$s.sbatch
		grep -qxF "#SBATCH --partition=p1" "$f" && grep -qxF "#SBATCH --time=5:00" "$f" &&
			grep -qxF "#SBATCH --account=acct" "$f" && grep -qxF "#SBATCH --mem=100M" "$f" &&
			grep -qxF '#SBATCH "--comment=two words"' "$f"
		is "$s.sbatch: the Slurm options as #SBATCH lines, in order, a blank in double quotes" "$?" 0
		grep -q "^exec '$WREAL' $s -C '$W'" "$f"
		is "$s.sbatch: runs this winnow by its absolute path on WORK's absolute path" "$?" 0
		sh -n "$f"
		is "$s.sbatch: is valid sh" "$?" 0
	done
	grep -qx '#SBATCH --array=0-2' "$W/slurm/map.sbatch" && grep -qx '#SBATCH --array=0-3' "$W/slurm/reduce.sbatch"
	is "the scripts submitted again by hand cover every task" "$?" 0
	grep -q -- "--task \"\$SLURM_ARRAY_TASK_ID\"" "$W/slurm/map.sbatch" &&
		grep -q -- "--part \"\$SLURM_ARRAY_TASK_ID\"" "$W/slurm/reduce.sbatch" &&
		grep -q -- "-o '$W/catalog'\$" "$W/slurm/merge.sbatch"
	is "each task takes its index from SLURM_ARRAY_TASK_ID; merge writes WORK/catalog" "$?" 0

	# --resume: Slurm knows none of the jobs (the stand-in scontrol) and no task left its
	# marker, so everything is submitted again, on the scripts as they are
	: >"$FAKE_LOG"
	PATH=$fake:$PATH check "--resume with nothing done submits every stage again" "$WINNOW" slurm -C "$W" --resume
	is "... map, reduce after it, merge after that" "$(grep '^sbatch' "$FAKE_LOG" | sed 's/ [^ ]*slurm\//  /' | tr '\n' '|')" \
		"sbatch --parsable --array=0-2  map.sbatch|sbatch --parsable --array=0-3 --dependency=afterok:104 --kill-on-invalid-dep=yes  reduce.sbatch|sbatch --parsable --dependency=afterok:105 --kill-on-invalid-dep=yes  merge.sbatch|"
	grep -qxF "#SBATCH --partition=p1" "$W/slurm/map.sbatch"
	is "... keeping the first run's Slurm options" "$?" 0
	PATH=$fake:$PATH check "--resume with a Slurm option" "$WINNOW" slurm -C "$W" --resume --partition p2
	grep -qxF "#SBATCH --partition=p2" "$W/slurm/reduce.sbatch" && ! grep -q "p1\|--mem" "$W/slurm/reduce.sbatch"
	is "... writes the scripts again with the new options instead" "$?" 0
	# the tasks' own done-markers (FORMAT.md section 17) count when Slurm has forgotten
	mkdir -p "$W/map/1" "$W/part/0" "$W/part/3"
	touch "$W/map/1/done.json" "$W/part/0/dist.json" "$W/part/3/dist.json"
	: >"$FAKE_LOG"
	PATH=$fake:$PATH check "--resume with some tasks' markers present" "$WINNOW" slurm -C "$W" --resume
	is "... submits only the others" "$(grep -o '^sbatch --parsable --array=[^ ]*' "$FAKE_LOG" | tr '\n' '|')" \
		"sbatch --parsable --array=0,2|sbatch --parsable --array=1-2|"
	rm -rf "$W/map/1" "$W/part/0" "$W/part/3"
	grep -c '^job ' "$W/slurm/jobs" >"$T/njobs"
	is "WORK/slurm/jobs lists every job submitted" "$(cat "$T/njobs")" 12
	PATH=$fake:$PATH must_fail "--wait on a WORK with no jobs: exit 3" 3 "$WINNOW" slurm -C "$T/nowork" --wait
	grep -q "nowork" "$T/.err"
	is "... naming the folder" "$?" 0

	FAKE_STATE=RUNNING PATH=$fake:$PATH must_fail "the same run again while its tasks run: exit 3" 3 \
		"$WINNOW" slurm -C "$W" --parts 4 --tasks 3 $IN
	grep -q "still pending or running" "$T/.err" && [ "$(grep -c '^job ' "$W/slurm/jobs")" = 12 ]
	is "... saying so, and submitting nothing" "$?" 0

	W3=$T/w%x
	PATH=$fake:$PATH check "a work folder with a % in its name" "$WINNOW" slurm -C "$W3" --parts 4 $IN
	grep -qxF "#SBATCH --output=$T/w%%x/slurm/log/map-%A_%a.out" "$W3/slurm/map.sbatch"
	is "... is written %% in the #SBATCH output name (sbatch expands %)" "$?" 0
	PATH=$fake:$PATH must_fail "a work folder with a double quote in its name is a usage error" 2 \
		"$WINNOW" slurm -C "$T/w\"x" --parts 4 $IN
	[ ! -e "$T/w\"x" ]
	is "... found before anything is planned" "$?" 0

	rm -rf "$W" "$W3" "$FAKE_LOG" "$FAKE_LOG.n"
	FAIL_AT=2 PATH=$fake:$PATH must_fail "a refused submission: exit 3" 3 "$WINNOW" slurm -C "$W" --parts 4 $IN
	grep -q "sbatch did not submit" "$T/.err"
	is "... saying which script sbatch refused" "$?" 0
	is "... and the map job submitted before it is cancelled" "$(grep -c '^scancel 101$' "$FAKE_LOG")" 1
	rm -rf "$W"
else
	skip "winnow slurm submits (stand-in sbatch)" "winnow plan is not built in"
fi

# ---- a real single-node Slurm ----
sbin() { have "$1" || [ -x "/usr/sbin/$1" ]; }
why= SUDO=
S=$T/slurm
if [ -n "${WINNOW_TEST_SLURM:-}" ]; then
	# one that .ci/run started (and stops)
	S=$WINNOW_TEST_SLURM
	[ -f "$S/env" ] || why="WINNOW_TEST_SLURM=$S is not a Slurm tests/slurm/up.sh started"
elif [ "$(id -u)" -ne 0 ]; then
	# the daemons need root; the jobs run as whoever submits them
	if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else why="needs root or sudo without a password (to start munged and slurmd)"; fi
fi
if [ -n "$why" ]; then :
elif ! sbin slurmctld || ! sbin slurmd || ! have sbatch || ! sbin munged; then why="slurm-wlm and munge are not installed"
elif ! "$WINNOW" --help 2>/dev/null | grep -q "^  plan "; then why="winnow plan is not built in"
fi
if [ -z "$why" ] && [ -z "${WINNOW_TEST_SLURM:-}" ]; then
	chmod 711 "$T" # munged, as the munge user, must reach its socket in $S
	trap '$SUDO bash "$TOP/tests/slurm/down.sh" "$S"; [ -z "$SUDO" ] || $SUDO rm -rf "$S"; _finish; exit $?' EXIT
	trap 'exit 130' INT TERM
	if ! $SUDO bash "$TOP/tests/slurm/up.sh" "$S" 2>"$T/up.err"; then
		why="the Slurm daemons did not start: $(head -n 1 "$T/up.err")"
		diag "$(cat "$T/up.err")"
	fi
fi
if [ -n "$why" ]; then
	skip "a 4-partition pipeline on Slurm equals a single-machine ingest" "$why"
	exit 0
fi
. "$S/env"

check "the stand-up runs a job (sbatch --wait --wrap)" sbatch --wait -o "$S/wrap.out" --wrap 'echo up'
is "... which wrote its output" "$(cat "$S/wrap.out" 2>/dev/null)" up

"$WINNOW" ingest -C "$T/single" -q --json $IN >"$T/single.json"
"$WINNOW" export -C "$T/single" | sort >"$T/single.sorted"
kind_counts() { "$WINNOW" stats -C "$1" --json | grep -o '"[a-z_]*":{"records":[0-9]*,"read":[^}]*"superseded":[0-9]*'; }
kind_counts "$T/single" >"$T/single.counts"
same_as_single() { # CAT what
	"$WINNOW" export -C "$1" | sort >"$T/cat.sorted"
	cmp -s "$T/cat.sorted" "$T/single.sorted"
	is "$2: the same kept records as a single-machine ingest (sorted exports)" "$?" 0
	is "$2: the same counts (stats)" "$(kind_counts "$1")" "$(cat "$T/single.counts")"
	check "$2: verify --deep is clean" "$WINNOW" verify -C "$1" --deep
	if have xxhsum; then
		(cd "$1" && xxhsum -c MANIFEST) >"$T/.xx" 2>&1
		is "$2: xxhsum -c MANIFEST passes" "$?" 0
	else
		skip "$2: xxhsum -c MANIFEST passes" "xxhsum is not installed"
	fi
}

# ---- the whole pipeline, waited for ----
check "winnow slurm --parts 4 --wait exits 0" "$WINNOW" slurm -C "$W" --parts 4 --tasks 4 -o "$T/cat" --time 10 $IN --wait
grep -qx "merged into $T/cat" "$T/.out"
is "... and says where it merged" "$?" 0
same_as_single "$T/cat" "slurm"
check "--resume when all is done exits 0" "$WINNOW" slurm -C "$W" --resume
grep -q "nothing to rerun" "$T/.out"
is "... and submits nothing" "$?" 0

# ---- a task that fails: its own message is reported ----
# the tasks may start 3 s after submission (--begin): time enough to change an input
# after the plan, which the map task that reads it must refuse
mkdir -p "$T/f"
head -n 500 "$T/in/part00.jsonl" >"$T/f/a.jsonl"
head -n 500 "$T/in/part01.jsonl" >"$T/f/b.jsonl"
check "a run that starts in 3 s is submitted" "$WINNOW" slurm -C "$T/w4" --parts 2 --tasks 2 \
	--sbatch-opt=--begin=now+3 "$T/f/a.jsonl" "$T/f/b.jsonl"
mapjob=$(sed -n 's/^map job //p' "$T/.out")
echo '{"id":"changed"}' >>"$T/f/b.jsonl"
must_fail "an input changed after the plan: --wait exits 3" 3 "$WINNOW" slurm -C "$T/w4" --wait
grep -q "^winnow: map task \([0-9]*\) (job ${mapjob}_\1): winnow map: $T/f/b.jsonl: changed since the plan" "$T/.err"
is "... and shows the failed task's own message, from its batch output" "$?" 0
diag "$(cat "$T/.err")"

# ---- a map task cancelled, then a reduce task killed -9, each mid-run ----
# task_pid STAGE WORK: the PID of a running `winnow STAGE -C WORK ...` and its index, or nothing
task_pid() {
	local f pid args
	for f in $(grep -lsF -- "$2" /proc/[0-9]*/cmdline); do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		args=$(tr '\0' ' ' 2>/dev/null <"$f")
		args=${args% }
		case $args in "$WREAL $1 -C $2 "*) echo "$pid ${args##* }"; return ;; esac
	done
}
# catch STAGE WORK: wait up to 60 s for one of its tasks to run, stop it (SIGSTOP);
# sets pid and idx
catch() {
	pid= idx=
	local r
	for _ in $(seq 3000); do
		r=$(task_pid "$1" "$2")
		[ -n "$r" ] && break
		sleep 0.02
	done
	read -r pid idx <<<"$r"
	[ -n "$pid" ] && kill -STOP "$pid"
}
W2=$T/work2
check "a second run is submitted" "$WINNOW" slurm -C "$W2" --parts 4 --tasks 4 -o "$T/cat2" $IN
mapjob=$(sed -n 's/^map job //p' "$T/.out")
catch map "$W2"
if [ -z "$pid" ]; then
	not_ok "a map task of the second run is caught running"
else
	ok "a map task ($idx) of the second run is caught running"
	scancel "${mapjob}_$idx"
	"$WINNOW" slurm -C "$W2" --wait >"$T/w.out" 2>"$T/w.err"
	is "after scancel of map task $idx, winnow slurm --wait exits 3" "$?" 3
	grep -qx "winnow: map tasks not done (failed, cancelled or never run): $idx of 0-3" "$T/w.err"
	is "... and names map task $idx, only it" "$?" 0
	diag "$(cat "$T/w.err")"
	grep -qx "winnow: reduce tasks not done (they wait for the map tasks): 0-3 of 0-3" "$T/w.err"
	is "... and the reduce tasks, which never ran" "$?" 0
	rerun=$(sed -n 's/^winnow: rerun only them: winnow //p' "$T/w.err")
	is "... with the command that reruns only them" "$rerun" "slurm -C '$W2' --resume --wait"

	# the rerun, with a reduce task killed -9 mid-run
	eval "\"\$WINNOW\" $rerun" >"$T/r.out" 2>"$T/r.err" &
	bg=$!
	catch reduce "$W2"
	if [ -z "$pid" ]; then
		not_ok "a reduce task of the rerun is caught running"
		wait $bg
	else
		ok "a reduce task ($idx) of the rerun is caught running"
		grep -q "^map job " "$T/r.out"
		is "the rerun submitted a map job" "$?" 0
		kill -KILL "$pid"
		wait $bg
		is "after kill -9 of reduce task $idx, the rerun exits 3" "$?" 3
		grep -qx "winnow: reduce tasks not done (failed, cancelled or never run): $idx of 0-3" "$T/r.err"
		is "... and names reduce task $idx, only it" "$?" 0
		grep -q "^winnow: map tasks not done" "$T/r.err"
		is "... and no map task" "$?" 1
		diag "$(cat "$T/r.err")"
		cmd=$(sed -n 's/^winnow: or with sbatch: //p' "$T/r.err")
		is "the sbatch command that reruns only it" "$cmd" \
			"r=\$(sbatch --parsable --array=$idx '$W2/slurm/reduce.sbatch') && sbatch --dependency=afterok:\$r --kill-on-invalid-dep=yes '$W2/slurm/merge.sbatch'"
		(eval "$cmd") >"$T/.out" 2>&1
		is "... is accepted by sbatch" "$?" 0
		check "winnow slurm --wait: the rerun merged" "$WINNOW" slurm -C "$W2" --wait
		same_as_single "$T/cat2" "after the kills and reruns"
	fi
fi
