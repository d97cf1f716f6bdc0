# tests/cli/lib.sh - sourced by every tests/cli/tNNNN-*.sh script.
#
# Prints TAP: "ok N - what", "not ok N - what", "ok N - what # SKIP why", then "1..N" at
# exit; the script exits 1 if anything failed. $WINNOW is the winnow binary, $GEN the
# data generator, $TOP the source tree, $SHARED the shared data folder (may be absent),
# $T a fresh scratch folder removed at exit (kept when KEEP_TMP=1).
set -u
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
WINNOW=${WINNOW:-$TOP/build/winnow}
GEN=${GEN:-$TOP/bench/gen}
CTRUTH=${CTRUTH:-$TOP/build/bench/ctruth}
SHARED=${SHARED:-$TOP/../shared/data/real}
T=$(mktemp -d "${TMPDIR:-/tmp}/winnow-test.XXXXXX")
_n=0 _failed=0
_finish() {
	echo "1..$_n"
	[ "${KEEP_TMP:-0}" = 1 ] && echo "# scratch kept in $T" || rm -rf "$T"
	[ "$_failed" -eq 0 ]
}
trap '_finish; exit $?' EXIT

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $*"; }
skip() { _n=$((_n + 1)); echo "ok $_n - $1 # SKIP $2"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# check "what" command...: passes when the command exits 0
check() {
	local what=$1; shift
	if "$@" >"$T/.out" 2>"$T/.err"; then ok "$what"; else not_ok "$what"; diag "command: $*" "$(tail -n 20 "$T/.err")"; fi
}
# must_fail "what" STATUS command...: passes when the command exits with STATUS
must_fail() {
	local what=$1 want=$2; shift 2
	"$@" >"$T/.out" 2>"$T/.err"
	local got=$?
	if [ "$got" -eq "$want" ]; then ok "$what"; else not_ok "$what"; diag "command: $*" "exit $got, wanted $want" "$(tail -n 20 "$T/.err")"; fi
}
# is "what" GOT WANT
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "got:  $2" "want: $3"; fi
}
# json_get FILE KEY: an integer (or true/false) value of a top-level key in a one-line JSON object
json_get() {
	grep -o "\"$2\":[a-z0-9.-]*" "$1" | head -n 1 | cut -d: -f2
}
have() { command -v "$1" >/dev/null 2>&1; }

# counts FILE: "read kept duplicates revisions rejected" of an ingest's --json output
counts() { echo "$(json_get "$1" read) $(json_get "$1" kept) $(json_get "$1" duplicates) $(json_get "$1" revisions) $(json_get "$1" rejected)"; }
# adds_up FILE "what": every record read is accounted for
adds_up() {
	local r k d v j
	read -r r k d v j <<<"$(counts "$1")"
	case "$r$k$d$v$j" in '' | *[!0-9]*) not_ok "$2: counts are integers"; return ;; esac
	is "$2: read == kept + duplicates + revisions + rejected" "$r" "$((k + d + v + j))"
}
# killed_mid_run STATUS CAT: the run was killed (-9) before it finished the catalog
killed_mid_run() { [ "$1" -eq 137 ] && ! "$WINNOW" stats -C "$2" --json 2>/dev/null | grep -q '"generation":[1-9]'; }
# has_checkpoint CAT [KIND]: a killed run had committed a checkpoint (a rerun has something to
# resume); with KIND, one that holds records of that kind
has_checkpoint() {
	if [ -n "${2:-}" ]; then "$WINNOW" stats -C "$1" --json 2>/dev/null | grep -q "\"$2\":{\"records\":[0-9]*,\"read\":[1-9]"
	else "$WINNOW" stats -C "$1" --json 2>/dev/null | grep -q '"read":[1-9]'; fi
}
# kill_mid_runs CAT DUR_MS KILLS MAX_TRIES NEED_CKPT command...: start the ingest command
# (which writes CAT) again and again, killing it with -9 at a random moment within the
# first 3/4 of DUR_MS, until KILLS runs were killed mid-run (and, if NEED_CKPT is 1, CAT
# holds a checkpoint) or MAX_TRIES is reached; a run that finished first starts over on a
# fresh CAT. Sets kills and iter.
kill_mid_runs() {
	local cat=$1 dur=$2 want=$3 max=$4 need=$5 pid ms
	shift 5
	kills=0 iter=0
	while { [ $kills -lt "$want" ] || { [ "$need" = 1 ] && ! has_checkpoint "$cat"; }; } && [ $iter -lt "$max" ]; do
		iter=$((iter + 1))
		"$@" >/dev/null 2>&1 &
		pid=$!
		ms=$((RANDOM % (dur * 3 / 4 + 1)))
		sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		if killed_mid_run $? "$cat"; then kills=$((kills + 1)); else rm -rf "$cat"; fi
	done
}
# kill_after_checkpoint CAT POLLS command...: run the ingest command (which writes CAT, its
# output to stderr dropped) and kill -9 it as soon as CAT holds a checkpoint, waiting up to
# POLLS x 10 ms; up to 10 tries, each on a fresh CAT (a run may finish first). Sets killed
# to 1 when a run was killed after a checkpoint, else 0. With CKPT_FROM=DIR, each try's CAT
# starts as a copy of the catalog DIR instead of empty; with CKPT_KIND=KIND, the checkpoint
# must hold records of KIND (the kind the command ingests).
kill_after_checkpoint() {
	local cat=$1 polls=$2 pid st
	shift 2
	killed=0
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		rm -rf "$cat"
		[ -z "${CKPT_FROM:-}" ] || cp -r "$CKPT_FROM" "$cat"
		"$@" 2>/dev/null &
		pid=$!
		for _ in $(seq "$polls"); do has_checkpoint "$cat" "${CKPT_KIND:-}" && break; sleep 0.01; done
		kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; st=$?
		if [ $st -eq 137 ] && has_checkpoint "$cat" "${CKPT_KIND:-}"; then killed=1; return; fi
	done
}
# crash_mid_input CAT FILE ARGS...: ingest FILE into CAT (with ARGS) through a pipe that
# stays open, wait for a checkpoint, then kill -9 the ingest: CAT is left as a crash leaves
# it, with unsealed files
crash_mid_input() {
	local cat=$1 in=$2 pid
	shift 2
	rm -f "$T/.feed" && mkfifo "$T/.feed"
	"$WINNOW" ingest -C "$cat" -q "$@" - <"$T/.feed" >/dev/null 2>&1 &
	pid=$!
	exec 7>"$T/.feed"
	cat "$in" >&7
	for _ in $(seq 200); do has_checkpoint "$cat" && break; sleep 0.1; done
	sleep 0.2
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	exec 7>&-
	rm -f "$T/.feed"
}
# unsealed_shard CAT: the last shard that MANIFEST does not list (relative to CAT)
unsealed_shard() { (cd "$1" && for f in shards/*.zst; do grep -qF "($f)" MANIFEST || echo "$f"; done | tail -n 1); }
