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
