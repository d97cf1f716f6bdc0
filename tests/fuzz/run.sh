#!/usr/bin/env bash
# Fuzzes each target given (build-fuzz/fuzz_*) for SECONDS, starting from a copy of its
# corpus in tests/fuzz/corpus/<target>/ (the saved corpus is not changed). Prints a TAP
# line per target; a crash, leak, timeout or sanitizer report is "not ok", and its input
# is kept in build-fuzz/findings/<target>/ to be fixed and then added to the corpus.
# Usage: bash tests/fuzz/run.sh SECONDS build-fuzz/fuzz_json ...
set -u
cd "$(dirname "$0")/../.."
secs=$1; shift
n=0 bad=0
for t in "$@"; do
	name=$(basename "$t")
	work=$(mktemp -d)
	mkdir -p "build-fuzz/findings/$name"
	cp -r "tests/fuzz/corpus/$name/." "$work/" 2>/dev/null
	n=$((n + 1))
	if "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="build-fuzz/findings/$name/" "$work" >"build-fuzz/$name.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build-fuzz/$name.log")
		echo "ok $n - $name: ${runs:-?} runs in ${secs} s, no finding"
	else
		bad=$((bad + 1))
		echo "not ok $n - $name: a finding, see build-fuzz/$name.log and build-fuzz/findings/$name/"
		grep -m3 -E 'ERROR|SUMMARY|fuzz_.*\.c:[0-9]+' "build-fuzz/$name.log" | sed 's/^/#   /'
	fi
	rm -rf "$work"
done
echo "1..$n"
[ "$bad" -eq 0 ]
