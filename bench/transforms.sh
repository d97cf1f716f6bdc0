#!/usr/bin/env bash
# bench/transforms.sh - what three transforms cost an ingest (issue: "transforms cost <= 10%
# of ingest"): the same generated tracks ingested plain and with --rename, --drop and
# --pseudonymise, alternating, each run into a fresh catalog; the minimum of each is
# compared. Appends its section to bench/RESULTS.md (run after bench/run.sh).
set -eu
WINNOW=${WINNOW:-build-bench/winnow}
GEN=${GEN:-bench/gen}
N=${BENCH_TRANSFORM_RECORDS:-1000000}
RUNS=${BENCH_TRANSFORM_RUNS:-3}
D=${BENCH_DIR:-bench/out}/transforms
mkdir -p "$D"
[ -s "$D/tracks.jsonl" ] && [ "$(wc -l <"$D/tracks.jsonl")" -eq "$N" ] || "$GEN" --count "$N" --seed 3 --clean >"$D/tracks.jsonl"
head -c 32 /dev/urandom >"$D/key"
XF=(--rename popularity=pop --drop fetched_at --pseudonymise artists[].name --key-file "$D/key")
one() {   # one NAME ARGS...: seconds of one ingest into a fresh catalog
	rm -rf "$D/cat"
	local t0 t1
	t0=$(date +%s.%N)
	"$WINNOW" ingest -q -C "$D/cat" --json "$@" "$D/tracks.jsonl" >"$D/out.json"
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
cat "$D/tracks.jsonl" >/dev/null   # into the page cache
plain=999999 xf=999999
for _ in $(seq "$RUNS"); do
	p=$(one); x=$(one "${XF[@]}")
	plain=$(awk -v a="$p" -v b="$plain" 'BEGIN { print (a < b ? a : b) }')
	xf=$(awk -v a="$x" -v b="$xf" 'BEGIN { print (a < b ? a : b) }')
done
# correctness: the pseudonymised names are not in the catalog, the counts are the plain run's
kept=$(grep -o '"kept":[0-9]*' "$D/out.json" | cut -d: -f2)
name=$(head -n 1 "$D/tracks.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["artists"][0]["name"])')
"$WINNOW" export -C "$D/cat" | grep -qF "\"name\":\"$name\"" && { echo "bench: a pseudonymised name is stored" >&2; exit 1; }
ratio=$(awk -v a="$xf" -v b="$plain" 'BEGIN { printf "%.3f", a / b }')
line=$(printf 'transforms: %d tracks, ingest %.2f s plain, %.2f s with --rename, --drop and --pseudonymise artists[].name (%.0f vs %.0f records/s): %.3fx the time (target <= 1.10); %s kept' \
	"$N" "$plain" "$xf" "$(awk -v n="$N" -v t="$plain" 'BEGIN { print n / t }')" "$(awk -v n="$N" -v t="$xf" 'BEGIN { print n / t }')" "$ratio" "$kept")
echo "$line"
if [ "${BENCH_RECORD:-0}" = 1 ] && [ -f bench/RESULTS.md ]; then { echo; echo "$line. Command: \`bench/transforms.sh\` (\`winnow ingest -q -C CAT ${XF[*]/$D\/key/KEY} tracks.jsonl\` against the same without the transforms; minimum of $RUNS alternating runs, wall clock, the file in the page cache)."; } >>bench/RESULTS.md; fi
