#!/usr/bin/env bash
# Runs every unit test binary given as arguments and every tests/cli/t*.sh script,
# each of which prints TAP; counts the results and ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
export WINNOW="$PWD/$B/winnow" GEN="$PWD/bench/gen" CTRUTH="$PWD/$B/bench/ctruth" TOP="$PWD"
passed=0 failed=0 skipped=0
tmpout=$(mktemp)
run_one() {
	local name=$1; shift
	local t0=$SECONDS
	"$@" >"$tmpout" 2>&1
	local rc=$? secs=$((SECONDS - t0))
	local p f s
	p=$(grep -cE '^ok ' "$tmpout")
	s=$(grep -cE '^ok .*# *(SKIP|skip)' "$tmpout")
	f=$(grep -cE '^not ok ' "$tmpout")
	p=$((p - s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1; echo "not ok - $name exited with status $rc" >>"$tmpout"
	fi
	if ! grep -qE '^1\.\.[0-9]+' "$tmpout"; then
		f=$((f + 1)); echo "not ok - $name ended without a plan line (crashed?)" >>"$tmpout"
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	if [ "$f" -gt 0 ]; then
		echo "FAIL $name ($p passed, $f failed; ${secs} s)"; sed 's/^/    /' "$tmpout"
	else
		printf 'ok   %-40s %d passed%s (%d s)\n' "$name" "$p" "$([ "$s" -gt 0 ] && echo ", $s skipped")" "$secs"
	fi
}
for t in "$@"; do run_one "unit/$(basename "$t")" "$t"; done
for t in tests/cli/t[0-9]*.sh; do [ -e "$t" ] && run_one "cli/$(basename "$t")" bash "$t"; done
rm -f "$tmpout"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
