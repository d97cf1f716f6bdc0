#!/usr/bin/env bash
# bench/transforms.sh - what three transforms cost an ingest (issue: "transforms cost <= 10%
# of ingest"): the same generated tracks ingested plain and with --rename, --drop and
# --pseudonymise, alternating, each run into a fresh catalog; the minimum of each is
# compared. Appends its section to bench/RESULTS.md (run after bench/run.sh).
set -eu
WINNOW=${WINNOW:-build-bench/winnow}
GEN=${GEN:-bench/gen}
N=${BENCH_TRANSFORM_RECORDS:-1000000}
RUNS=${BENCH_TRANSFORM_RUNS:-5}
D=${BENCH_DIR:-bench/out}/transforms
mkdir -p "$D"
[ -s "$D/tracks.jsonl" ] && [ "$(wc -l <"$D/tracks.jsonl")" -eq "$N" ] || "$GEN" --count "$N" --seed 3 --clean >"$D/tracks.jsonl"
head -c 32 /dev/urandom >"$D/key"
XF=(--rename popularity=pop --drop fetched_at --pseudonymise artists[].name --key-file "$D/key")
one() {   # one ARGS...: "wall user+sys" seconds of one ingest into a fresh catalog
	rm -rf "$D/cat"
	sync   # the last run's catalog written back, not while this one runs
	local TIMEFORMAT='%R %U %S' t
	t=$( { time "$WINNOW" ingest -q -C "$D/cat" --json "$@" "$D/tracks.jsonl" >"$D/out.json"; } 2>&1)
	awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.3f %.3f", a[1], a[2] + a[3] }'
}
cat "$D/tracks.jsonl" >/dev/null   # into the page cache
plain=999999 xf=999999 plain_cpu=999999 xf_cpu=999999
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }
for _ in $(seq "$RUNS"); do
	read -r p pc <<<"$(one)"
	read -r x xc <<<"$(one "${XF[@]}")"
	plain=$(min "$p" "$plain") xf=$(min "$x" "$xf") plain_cpu=$(min "$pc" "$plain_cpu") xf_cpu=$(min "$xc" "$xf_cpu")
done
# correctness: the pseudonymised names are not in the catalog, the counts are the plain run's
kept=$(grep -o '"kept":[0-9]*' "$D/out.json" | cut -d: -f2)
name=$(head -n 1 "$D/tracks.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["artists"][0]["name"])')
"$WINNOW" export -C "$D/cat" | grep -qF "\"name\":\"$name\"" && { echo "bench: a pseudonymised name is stored" >&2; exit 1; }
ratio=$(awk -v a="$xf" -v b="$plain" 'BEGIN { printf "%.3f", a / b }')
cpu_ratio=$(awk -v a="$xf_cpu" -v b="$plain_cpu" 'BEGIN { printf "%.3f", a / b }')
line=$(printf 'transforms: %d tracks, ingest %.2f s plain, %.2f s with --rename, --drop and --pseudonymise artists[].name (%.0f vs %.0f records/s): %.3fx the time (target <= 1.10), %.3fx the CPU (%.2f vs %.2f s); %s kept' \
	"$N" "$plain" "$xf" "$(awk -v n="$N" -v t="$plain" 'BEGIN { print n / t }')" "$(awk -v n="$N" -v t="$xf" 'BEGIN { print n / t }')" "$ratio" "$cpu_ratio" "$plain_cpu" "$xf_cpu" "$kept")
echo "$line"
if [ "${BENCH_RECORD:-0}" = 1 ] && [ -f bench/RESULTS.md ]; then { echo; echo "$line. Command: \`bench/transforms.sh\` (\`winnow ingest -q -C CAT ${XF[*]/$D\/key/KEY} tracks.jsonl\` against the same without the transforms; minimum of $RUNS alternating runs, wall clock and CPU time (user + system), each after a sync, the file in the page cache)."; } >>bench/RESULTS.md; fi
