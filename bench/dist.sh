#!/usr/bin/env bash
# bench/dist.sh - the scale-out on one machine: DIST_RECORDS (default 10M) generated tracks
# in a file in the page cache, ingested once by `winnow ingest`, and once as a 2-partition
# plan: `winnow plan`, the 2 map tasks side by side, the 2 reduce tasks side by side, then
# `winnow merge`, each stage timed. The counts of both are checked against the
# generator's truth, and the merged catalog's exports against the single ingest's, before
# any figure is reported. Targets (issue 16): end to end <= 1.2x the single ingest, merge
# <= 10% of the total. The machine is shared: one run, noisy figures; the ratios are of the
# same run. Writes the "Scale-out" section at the end of bench/RESULTS-scale.md (run after
# bench/scale.sh, which writes the file; `make bench-scale` runs both, `make bench-dist`
# this one alone).
#
# Environment: WINNOW (binary), GEN, DIST_RECORDS, DIST_PARTS (default 2), BENCH_DIR
# (default bench/out-dist; needs about 1.4 GB per million records).
set -euo pipefail
cd "$(dirname "$0")/.."
WINNOW=${WINNOW:-build-bench/winnow}
GEN=${GEN:-bench/gen}
N=${DIST_RECORDS:-10000000}
PARTS=${DIST_PARTS:-2}
D=${BENCH_DIR:-bench/out-dist}
R=bench/RESULTS-scale.md
rm -rf "$D"
mkdir -p "$D"
jget() { grep -o "\"$2\":[0-9.]*" "$1" | head -n 1 | cut -d: -f2; }
settle() { sync; sleep 2; }
now() { date +%s.%N; }
fail() { echo "bench-dist: CORRECTNESS CHECK FAILED: $*" >&2; exit 1; }

load0=$(cut -d' ' -f1 /proc/loadavg)
echo "== generating $N records"
"$GEN" --count "$N" --seed 11 --truth "$D/truth.json" -o "$D/in.jsonl"
cat "$D/in.jsonl" >/dev/null
bytes=$(stat -c %s "$D/in.jsonl")
settle

echo "== single ingest"
t0=$(now)
"$WINNOW" ingest -q -C "$D/single" --json "$D/in.jsonl" >"$D/single.json"
t1=$(now)
single=$(echo "$t1 - $t0" | bc -l)
truth() { if [ "$1" = read ]; then jget "$D/truth.json" lines; else jget "$D/truth.json" "$1"; fi; }
for k in read kept duplicates revisions rejected; do
	[ "$(jget "$D/single.json" $k)" = "$(truth $k)" ] ||
		fail "single ingest: $k $(jget "$D/single.json" $k), truth $(truth $k)"
done
stages=$(grep -o '"stage_seconds":{[^}]*}' "$D/single.json" | sed 's/"stage_seconds":{//; s/}//; s/"//g; s/,/, /g')
settle

echo "== $PARTS-partition pipeline"
W=$D/work
t0=$(now)
m=$("$WINNOW" plan -C "$W" --parts "$PARTS" --tasks "$PARTS" "$D/in.jsonl")
t1=$(now)
pids=()
for ((i = 0; i < m; i++)); do "$WINNOW" map -C "$W" --task $i -q & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || fail "a map task failed"; done
t2=$(now)
pids=()
for ((p = 0; p < PARTS; p++)); do "$WINNOW" reduce -C "$W" --part $p -q & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || fail "a reduce task failed"; done
t3=$(now)
"$WINNOW" merge -C "$W" -o "$D/merged" >"$D/merge.out"
t4=$(now)
index_s=$(sed -n 's/.*(the index \([0-9.]*\) s).*/\1/p' "$D/merge.out")
plan_s=$(echo "$t1 - $t0" | bc -l)
map_s=$(echo "$t2 - $t1" | bc -l)
reduce_s=$(echo "$t3 - $t2" | bc -l)
merge_s=$(echo "$t4 - $t3" | bc -l)
total=$(echo "$t4 - $t0" | bc -l)

echo "== checking the merged catalog"
"$WINNOW" stats -C "$D/merged" --json >"$D/merged.stats"
for k in read kept duplicates revisions rejected; do
	[ "$(jget "$D/merged.stats" $k)" = "$(truth $k)" ] ||
		fail "merged: $k $(jget "$D/merged.stats" $k), truth $(truth $k)"
done
cmp -s <("$WINNOW" export -C "$D/single") <("$WINNOW" export -C "$D/merged") ||
	fail "the merged catalog's export is not the single ingest's"
runs=$(du -sm "$W/map" | cut -f1)

ratio=$(echo "$total / $single" | bc -l)
share=$(echo "100 * $merge_s / $total" | bc -l)
met() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo met; else echo "not met"; fi; }
printf '  single ingest %.2f s; plan %.2f, map %.2f, reduce %.2f, merge %.2f: total %.2f s = %.2fx; merge %.0f%%\n' \
	"$single" "$plan_s" "$map_s" "$reduce_s" "$merge_s" "$total" "$ratio" "$share"

# the section replaces an older one
if [ -f "$R" ]; then
	awk '/^## Scale-out/ { skip = 1 } /^## / && !/^## Scale-out/ { skip = 0 } !skip' "$R" >"$R.tmp" && mv "$R.tmp" "$R"
fi
{
	echo
	echo "## Scale-out"
	echo
	echo "Produced by bench/dist.sh (\`make bench-scale\`, or \`make bench-dist\` alone) on $(date -u +%Y-%m-%d): $(nproc) cores,"
	echo "winnow $("$WINNOW" --version | cut -d' ' -f2). $N generated tracks (\`bench/gen --count $N --seed 11\`, $((bytes / 1000000)) MB) in a file"
	echo "in the page cache; one \`winnow ingest\`, then a $PARTS-partition plan on the same machine: the $m map tasks side"
	echo "by side, the $PARTS reduce tasks side by side, then the merge. Both catalogs' counts matched the generator's"
	echo "truth, and their exports were byte for byte the same, before any figure was taken. One run on a machine"
	echo "shared with other work: the figures are noisy, the ratios are of the same run (load average $load0 at the"
	echo "start, $(cut -d' ' -f1 /proc/loadavg) at the end, on $(nproc) cores)."
	echo "The model of the 256M-track dump on 1, 8 and 64 nodes, from per-stage costs like these, is in"
	echo "DEVELOPERS.md (\"Scale-out: the dump on 1, 8 and 64 nodes\")."
	echo
	printf -- '- end to end: %.2f s against %.2f s for one ingest: %.2fx (target <= 1.2x: %s)\n' "$total" "$single" "$ratio" \
		"$(met "$ratio <= 1.2")"
	printf -- '- merge: %.2f s, %.0f%% of the total (target <= 10%%: %s)\n' "$merge_s" "$share" "$(met "$share <= 10")"
	echo
	echo "| stage | seconds | what bounds it |"
	echo "|---|---:|---|"
	printf '| single ingest | %.2f | CPU: parse, dedup and compression on both cores (%s) |\n' "$single" "$stages"
	printf '| plan | %.2f | reads 64 KiB of each input and a few bytes at each cut |\n' "$plan_s"
	printf '| map (%d tasks) | %.2f | CPU: a full parse of every record to find its id; writes the runs (%s MB) |\n' "$m" "$map_s" "$runs"
	printf '| reduce (%d tasks) | %.2f | CPU: the ingest of its partition (parse again, dedup, compress at zstd level 1), its keys written |\n' "$PARTS" "$reduce_s"
	printf '| merge | %.2f | CPU: decompress and compress again every record at the plan'"'"'s level; then the index from the partitions'"'"' keys (%.2f s of it, no parse) |\n' "$merge_s" "$index_s"
	printf '| total | %.2f | |\n' "$total"
} >>"$R"
echo "== wrote the Scale-out section of $R"
