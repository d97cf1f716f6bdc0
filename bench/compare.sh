#!/usr/bin/env bash
# bench/compare.sh - `make bench-compare`: the same ingest and verify --deep, run with two
# winnow binaries side by side on the same generated input, alternating run by run so that
# both see the same machine (page cache, other load, thermal state); prints the median of
# each and the ratio new/old. A change that must keep the speed of the code before it is
# checked with this, never with a timed test.
#
# Environment: OLD (the binary before), NEW (default build-bench/winnow), COMPARE_RECORDS
# (default 2000000), COMPARE_RUNS (default 5), COMPARE_DIR (default bench/out-compare).
# Build the old binary from a commit with e.g.
#   git archive REV | tar -x -C /tmp/old && make -C /tmp/old B=build-bench OPT="-O3 -march=native" build-bench/winnow
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=${OLD:?set OLD to the winnow binary to compare against}
NEW=${NEW:-build-bench/winnow}
N=${COMPARE_RECORDS:-2000000}
RUNS=${COMPARE_RUNS:-5}
D=${COMPARE_DIR:-bench/out-compare}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench-compare: needs GNU time (apt-get install time)" >&2; exit 2; }
rm -rf "$D" && mkdir -p "$D"
bench/gen --count "$N" --seed 1 -o "$D/in.jsonl"
cat "$D/in.jsonl" >/dev/null
: >"$D/times"
for r in $(seq "$RUNS"); do
	for v in old new; do
		bin=$OLD; [ "$v" = new ] && bin=$NEW
		rm -rf "$D/cat-$v"; sync; sleep 1
		"$TIME" -f "$v ingest %e" -a -o "$D/times" "$bin" ingest -q -C "$D/cat-$v" "$D/in.jsonl" >/dev/null
		sync; sleep 1
		"$TIME" -f "$v verify %e" -a -o "$D/times" "$bin" verify --deep -C "$D/cat-$v" >/dev/null
	done
done
# the two catalogs must be the same before their speeds mean anything
diff "$D/cat-old/MANIFEST" "$D/cat-new/MANIFEST" | sed -n 's/^> XXH128 (\(.*\)) = .*/\1/p' |
	while read -r f; do echo "bench-compare: note: the two binaries wrote different $f" >&2; done || true
median() { grep "^$1 $2 " "$D/times" | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-8s %10s %10s %8s   (%s records, median of %s alternating runs)\n' stage old new new/old "$N" "$RUNS"
for s in ingest verify; do
	o=$(median old $s) n=$(median new $s)
	printf '%-8s %9.2fs %9.2fs %8.3f\n' "$s" "$o" "$n" "$(echo "$n / $o" | bc -l)"
done
