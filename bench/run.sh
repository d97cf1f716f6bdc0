#!/usr/bin/env bash
# bench/run.sh - `make bench`: generate data, check winnow's results against the
# generator's truth, then measure winnow and the tools people would otherwise use on the
# same data in the same run; print a table and write bench/RESULTS.md.
#
# Environment: WINNOW (binary), BENCH_RECORDS (default 2000000), BENCH_DIR (default
# bench/out), BENCH_LOOKUPS (random gets, default 20000).
set -euo pipefail
cd "$(dirname "$0")/.."
WINNOW=${WINNOW:-build-bench/winnow}
GEN=${GEN:-bench/gen}
N=${BENCH_RECORDS:-2000000}
D=${BENCH_DIR:-bench/out}
LOOKUPS=${BENCH_LOOKUPS:-20000}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 2; }
rm -rf "$D" && mkdir -p "$D"
RES=$D/results.tsv
: >"$RES"

exec 3>&1
# measure NAME RECORDS BYTES -- command...: wall seconds and peak RSS of a command
measure() {
	local name=$1 recs=$2 bytes=$3; shift 4
	"$TIME" -f '%e %M' -o "$D/.time" "$@"
	read -r secs rss <"$D/.time"
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$secs" "$rss" "$recs" "$bytes" >>"$RES"
	printf '  %-44s %7.2f s %9.0f rec/s %7.0f MB/s %6.0f MiB RSS\n' "$name" "$secs" >&3 \
		"$(echo "$recs / $secs" | bc -l)" "$(echo "$bytes / $secs / 1000000" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
}
jget() { grep -o "\"$2\":[0-9.]*" "$1" | head -n 1 | cut -d: -f2; }
fail() { echo "bench: CORRECTNESS CHECK FAILED: $*" >&2; exit 1; }

echo "== data: $N generated track records (seed 1), Spotify API layout"
"$TIME" -f '%e' -o "$D/.gentime" "$GEN" --count "$N" --seed 1 --truth "$D/truth.json" >/dev/null
GEN_S=$(cat "$D/.gentime")
"$GEN" --count "$N" --seed 1 -o "$D/tracks.jsonl"
BYTES=$(stat -c %s "$D/tracks.jsonl")
printf '  generator alone: %.2f s (%.0f lines/s to /dev/null)\n' "$GEN_S" "$(echo "$N / $GEN_S" | bc -l)"
cat "$D/tracks.jsonl" >/dev/null   # page cache: every tool reads from memory

echo "== winnow ingest (zstd level 3, default settings)"
measure "winnow ingest" "$N" "$BYTES" -- "$WINNOW" ingest -q -C "$D/cat" --json "$D/tracks.jsonl" >"$D/ingest.json"
for k in kept duplicates revisions rejected; do
	[ "$(jget "$D/ingest.json" $k)" = "$(jget "$D/truth.json" $k)" ] ||
		fail "$k: winnow $(jget "$D/ingest.json" $k), generator $(jget "$D/truth.json" $k)"
done
[ "$(jget "$D/ingest.json" read)" = "$N" ] || fail "read"
echo "  counts match the generator's truth: kept $(jget "$D/truth.json" kept), duplicates $(jget "$D/truth.json" duplicates), revisions $(jget "$D/truth.json" revisions), rejected $(jget "$D/truth.json" rejected)"

echo "== winnow ingest of the same input again (incremental: all duplicates)"
measure "winnow ingest, second run" "$N" "$BYTES" -- "$WINNOW" ingest -q -C "$D/cat" --json "$D/tracks.jsonl" >"$D/ingest2.json"
[ "$(jget "$D/ingest2.json" kept)" = 0 ] || fail "second run kept records"

echo "== winnow export"
KEPT=$(jget "$D/truth.json" kept)
measure "winnow export" "$KEPT" "$BYTES" -- sh -c "'$WINNOW' export -C '$D/cat' >'$D/export.jsonl'"
[ "$(wc -l <"$D/export.jsonl")" = "$KEPT" ] || fail "export has $(wc -l <"$D/export.jsonl") records, want $KEPT"

echo "== winnow get: $LOOKUPS random ids, one process"
# the record's own id is the first "id" member of the line in both layouts
awk 'NR % 7 == 1 && match($0, /"id":"[0-9A-Za-z]+"/) { print substr($0, RSTART + 6, RLENGTH - 7) }' "$D/export.jsonl" |
	shuf -n "$LOOKUPS" --random-source=<(yes) >"$D/ids.txt"
measure "winnow get (random ids)" "$(wc -l <"$D/ids.txt")" 0 -- sh -c "xargs '$WINNOW' get -C '$D/cat' <'$D/ids.txt' >'$D/got.jsonl'"
[ "$(wc -l <"$D/got.jsonl")" = "$(wc -l <"$D/ids.txt")" ] || fail "get returned $(wc -l <"$D/got.jsonl") of $(wc -l <"$D/ids.txt")"

echo "== peers on the same input"
measure "zstd -3 -T2 (compression only)" "$N" "$BYTES" -- sh -c "zstd -q -3 -T2 -c '$D/tracks.jsonl' >'$D/peer.zst'"
measure "sort -u | zstd -3 -T2 (line dedup)" "$N" "$BYTES" -- sh -c "LC_ALL=C sort -u -S 1G --parallel=2 '$D/tracks.jsonl' | zstd -q -3 -T2 >'$D/peer-sort.zst'"
# JSON tools stop at the first malformed line: give them the valid lines only (the
# lines winnow rejected, by number, are left out)
zstd -dc "$D"/cat/rejects/*.zst | grep -o '"line":[0-9]*' | cut -d: -f2 >"$D/rejected-lines.txt"
awk 'NR == FNR { bad[$1] = 1; next } !(FNR in bad)' "$D/rejected-lines.txt" "$D/tracks.jsonl" >"$D/valid.jsonl"
VALID=$(wc -l <"$D/valid.jsonl")
VBYTES=$(stat -c %s "$D/valid.jsonl")
if command -v mlr >/dev/null; then
	measure "mlr head -n 1 -g id (id dedup, valid lines)" "$VALID" "$VBYTES" -- sh -c "mlr --ijsonl --ojsonl head -n 1 -g id '$D/valid.jsonl' >'$D/peer-mlr.jsonl'"
	[ "$(wc -l <"$D/peer-mlr.jsonl")" = "$(jget "$D/truth.json" kept)" ] || echo "  note: mlr kept $(wc -l <"$D/peer-mlr.jsonl") records (winnow: $(jget "$D/truth.json" kept))"
else
	echo "  mlr: not installed (apt-get install miller), skipped"
fi
# DuckDB from npm (@duckdb/node-api ships a prebuilt library); skipped with a note if it
# cannot be installed here
DUCK=bench/.duckdb
if command -v node >/dev/null && { [ -d "$DUCK/node_modules/@duckdb/node-api" ] ||
	{ mkdir -p "$DUCK" && npm install --silent --prefix "$DUCK" @duckdb/node-api >/dev/null 2>&1; }; }; then
	cp bench/duckdb-dedup.mjs "$DUCK/"
	measure "duckdb: one row per id -> jsonl.zst (valid lines)" "$VALID" "$VBYTES" -- \
		node "$DUCK/duckdb-dedup.mjs" "$PWD/$D/valid.jsonl" "$PWD/$D/peer-duckdb.jsonl.zst" 2 >"$D/duckdb.json"
	[ "$(jget "$D/duckdb.json" rows)" = "$(jget "$D/truth.json" kept)" ] ||
		echo "  note: duckdb kept $(jget "$D/duckdb.json" rows) rows (winnow: $(jget "$D/truth.json" kept); it keys on id alone and reads only valid JSON)"
else
	echo "  duckdb: node/npm or @duckdb/node-api not available here, skipped"
fi

# ---- summary ----
WIN_S=$(awk -F'\t' '$1 == "winnow ingest" { print $2 }' "$RES")
WIN_RSS=$(awk -F'\t' '$1 == "winnow ingest" { print $3 }' "$RES")
SORT_S=$(awk -F'\t' '$1 ~ /^sort -u/ { print $2 }' "$RES")
"$WINNOW" stats -C "$D/cat" --json --top 0 >"$D/stats.json"
IDX=$(jget "$D/stats.json" index_bytes_per_record)
CAT_BYTES=$(du -sb "$D/cat" | cut -f1)
echo "== summary"
printf '  winnow ingest: %.0f records/s, %.0f MB/s, peak RSS %.0f MiB, catalog %.0f MiB, index %s bytes/record\n' \
	"$(echo "$N / $WIN_S" | bc -l)" "$(echo "$BYTES / $WIN_S / 1000000" | bc -l)" "$(echo "$WIN_RSS / 1024" | bc -l)" \
	"$(echo "$CAT_BYTES / 1048576" | bc -l)" "$IDX"
printf '  winnow / (sort -u | zstd): %.2fx the speed\n' "$(echo "$SORT_S / $WIN_S" | bc -l)"
sed -n 's/.*"stage_seconds":\({[^}]*}\).*/  stage seconds: \1/p' "$D/ingest.json"

# ---- RESULTS.md ----
{
	echo "# Benchmark results"
	echo
	echo "Produced by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%d)."
	echo
	echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, $(uname -sr)"
	echo "- versions: $("$WINNOW" --version), $(zstd --version | head -n 1), $(command -v mlr >/dev/null && mlr --version)"
	echo "- data: \`bench/gen --count $N --seed 1\`: $N lines, $BYTES bytes ($(jget "$D/truth.json" mean_line_bytes) bytes a line), read from the page cache"
	echo "- truth: kept $(jget "$D/truth.json" kept), duplicates $(jget "$D/truth.json" duplicates), revisions $(jget "$D/truth.json" revisions), rejected $(jget "$D/truth.json" rejected); winnow's counts matched exactly before any speed was taken"
	echo
	echo "| what | seconds | records/s | MB/s | peak RSS MiB |"
	echo "|---|---:|---:|---:|---:|"
	awk -F'\t' '{ r = $2 > 0 ? $4 / $2 : 0; m = $2 > 0 ? $5 / $2 / 1e6 : 0; name = $1; gsub(/\|/, "\\|", name)
		printf "| %s | %.2f | %.0f | %.0f | %.0f |\n", name, $2, r, m, $3 / 1024 }' "$RES"
	echo
	echo "winnow ingest: catalog $(echo "$CAT_BYTES / 1048576" | bc) MiB, index $IDX bytes per kept record, stage seconds $(sed -n 's/.*"stage_seconds":\({[^}]*}\).*/\1/p' "$D/ingest.json")"
	echo
	echo "Commands: \`$WINNOW ingest -C CAT --json tracks.jsonl\`; \`zstd -3 -T2\`; \`LC_ALL=C sort -u -S 1G --parallel=2 | zstd -3 -T2\`; \`mlr --ijsonl --ojsonl head -n 1 -g id\` (valid JSON lines only); each timed with GNU time (wall clock, maximum RSS)."
} >bench/RESULTS.md
echo "== wrote bench/RESULTS.md"
