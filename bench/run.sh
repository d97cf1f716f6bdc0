#!/usr/bin/env bash
# bench/run.sh - `make bench`: generate data, check winnow's results against the
# generator's truth, then measure winnow and the tools people would otherwise use on the
# same data in the same run; print a table and write bench/RESULTS.md.
#
# Environment: WINNOW (binary), NORM (bench/norm), BENCH_RECORDS (default 2000000), BENCH_DIR (default
# bench/out), BENCH_LOOKUPS (random gets, default 20000), BENCH_FORMAT_RECORDS (records
# for the CSV and SQLite comparisons, default 1000000), BENCH_XML_RELEASES (Discogs
# releases for the XML and gzip figures, bench/xml.sh, default 60000).
set -euo pipefail
cd "$(dirname "$0")/.."
WINNOW=${WINNOW:-build-bench/winnow}
NORM=${NORM:-build-bench/bench/norm}
CTRUTH=${CTRUTH:-build-bench/bench/ctruth}
GEN=${GEN:-bench/gen}
N=${BENCH_RECORDS:-2000000}
D=${BENCH_DIR:-bench/out}
LOOKUPS=${BENCH_LOOKUPS:-20000}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 2; }
rm -rf "$D" && mkdir -p "$D"
RES=$D/results.tsv
: >"$RES"

. bench/lib.sh

echo "== data: $N generated track records (seed 1), Spotify API layout"
"$TIME" -f '%e' -o "$D/.gentime" "$GEN" --count "$N" --seed 1 --truth "$D/truth.json" >/dev/null
GEN_S=$(cat "$D/.gentime")
"$GEN" --count "$N" --seed 1 -o "$D/tracks.jsonl" --cluster-facts "$D/tracks.facts"
"$CTRUTH" "$D/tracks.facts" >"$D/cluster-truth.json"
BYTES=$(stat -c %s "$D/tracks.jsonl")
printf '  generator alone: %.2f s (%.0f lines/s to /dev/null)\n' "$GEN_S" "$(echo "$N / $GEN_S" | bc -l)"
cat "$D/tracks.jsonl" >/dev/null   # page cache: every tool reads from memory

echo "== winnow ingest (zstd level 3, default settings)"
settle
measure "winnow ingest" "$N" "$BYTES" -- "$WINNOW" ingest -q -C "$D/cat" --json "$D/tracks.jsonl" >"$D/ingest.json"
for k in kept duplicates revisions rejected; do
	[ "$(jget "$D/ingest.json" $k)" = "$(jget "$D/truth.json" $k)" ] ||
		fail "$k: winnow $(jget "$D/ingest.json" $k), generator $(jget "$D/truth.json" $k)"
done
[ "$(jget "$D/ingest.json" read)" = "$N" ] || fail "read"
echo "  counts match the generator's truth: kept $(jget "$D/truth.json" kept), duplicates $(jget "$D/truth.json" duplicates), revisions $(jget "$D/truth.json" revisions), rejected $(jget "$D/truth.json" rejected)"

echo "== winnow ingest of the same input again (incremental: all duplicates)"
settle
measure "winnow ingest, second run" "$N" "$BYTES" -- "$WINNOW" ingest -q -C "$D/cat" --json "$D/tracks.jsonl" >"$D/ingest2.json"
[ "$(jget "$D/ingest2.json" kept)" = 0 ] || fail "second run kept records"

echo "== winnow export"
KEPT=$(jget "$D/truth.json" kept)
measure "winnow export" "$KEPT" "$BYTES" -- sh -c "'$WINNOW' export -C '$D/cat' >'$D/export.jsonl'"
[ "$(wc -l <"$D/export.jsonl")" = "$KEPT" ] || fail "export has $(wc -l <"$D/export.jsonl") records, want $KEPT"

echo "== winnow verify, beside xxhsum -c and zstd -t (the catalog's files from the page cache)"
VER_FILES=$(sed -n 's/^XXH128 (\(.*\)) = .*/\1/p' "$D/cat/MANIFEST" | tr '\n' ' ')
VER_BYTES=$(cd "$D/cat" && cat $VER_FILES | wc -c)          # (and into the page cache)
VER_LINES=$(cd "$D/cat" && zstd -q -dc $VER_FILES | wc -l)  # records, ledger and reject entries
# correctness first: both modes must say clean and have read everything
"$WINNOW" verify -C "$D/cat" --json >"$D/verify.json" || fail "verify: $(head -c 300 "$D/verify.json")"
[ "$(jget "$D/verify.json" bytes_checked)" = "$VER_BYTES" ] || fail "verify read $(jget "$D/verify.json" bytes_checked) bytes, want $VER_BYTES"
"$WINNOW" verify -C "$D/cat" --deep -j 2 --json >"$D/verify-deep.json" || fail "verify --deep: $(head -c 300 "$D/verify-deep.json")"
[ "$(jget "$D/verify-deep.json" records_checked)" = "$VER_LINES" ] ||
	fail "verify --deep decoded $(jget "$D/verify-deep.json" records_checked) lines, want $VER_LINES"
(cd "$D/cat" && xxhsum -c --quiet MANIFEST) || fail "xxhsum -c MANIFEST"
echo "  verify says clean (fast and deep), and so does xxhsum -c: $VER_BYTES bytes, $VER_LINES lines in $(echo $VER_FILES | wc -w) files"
# the fast checks take a fraction of a second: five runs each
measure "winnow verify (fast; 5 runs)" $((5 * VER_LINES)) $((5 * VER_BYTES)) -- \
	sh -c "for i in 1 2 3 4 5; do '$WINNOW' verify -C '$D/cat' >/dev/null || exit 1; done"
measure "xxhsum -c MANIFEST (5 runs)" $((5 * VER_LINES)) $((5 * VER_BYTES)) -- \
	sh -c "cd '$D/cat' && for i in 1 2 3 4 5; do xxhsum -c --quiet MANIFEST || exit 1; done"
measure "winnow verify --deep -j 2" "$VER_LINES" "$VER_BYTES" -- sh -c "'$WINNOW' verify -C '$D/cat' --deep -j 2 >/dev/null"
measure "zstd -t (every data file)" "$VER_LINES" "$VER_BYTES" -- sh -c "cd '$D/cat' && zstd -q -t $VER_FILES"

echo "== winnow get: $LOOKUPS random ids, one process"
# the record's own id is the first "id" member of the line in both layouts
awk 'NR % 7 == 1 && match($0, /"id":"[0-9A-Za-z]+"/) { print substr($0, RSTART + 6, RLENGTH - 7) }' "$D/export.jsonl" |
	shuf -n "$LOOKUPS" --random-source=<(yes) >"$D/ids.txt"
measure "winnow get (random ids)" "$(wc -l <"$D/ids.txt")" 0 -- sh -c "xargs '$WINNOW' get -C '$D/cat' <'$D/ids.txt' >'$D/got.jsonl'"
[ "$(wc -l <"$D/got.jsonl")" = "$(wc -l <"$D/ids.txt")" ] || fail "get returned $(wc -l <"$D/got.jsonl") of $(wc -l <"$D/ids.txt")"
# the same ids on standard input: one process, batches of 65536; the same records in the same order
measure "winnow get - (random ids on stdin)" "$(wc -l <"$D/ids.txt")" 0 -- sh -c "'$WINNOW' get -C '$D/cat' - <'$D/ids.txt' >'$D/got-stdin.jsonl'"
cmp -s "$D/got.jsonl" "$D/got-stdin.jsonl" || fail "get - gave other records than get with the ids as arguments"
# one id per process, warm: what a single lookup costs, process start included
ONE=$(head -n 1 "$D/ids.txt")
"$WINNOW" get -C "$D/cat" "$ONE" >"$D/one.jsonl" && [ "$(head -n 1 "$D/got.jsonl")" = "$(cat "$D/one.jsonl")" ] || fail "get of one id"
measure "winnow get (one id, warm; 200 processes)" 200 0 -- \
	sh -c "for i in \$(seq 200); do '$WINNOW' get -C '$D/cat' '$ONE' >/dev/null || exit 1; done"

echo "== winnow reindex: the index built again from the data files, in place"
# correctness first: after a reindex the catalog answers as before
"$WINNOW" stats -C "$D/cat" | grep -v '^index: ' >"$D/stats.before"
"$WINNOW" reindex -C "$D/cat" -q || fail "reindex"
"$WINNOW" export -C "$D/cat" | cmp -s - "$D/export.jsonl" || fail "export after reindex differs"
"$WINNOW" stats -C "$D/cat" | grep -v '^index: ' | cmp -s - "$D/stats.before" || fail "stats after reindex differ"
"$WINNOW" verify -C "$D/cat" --deep -j 2 >/dev/null || fail "verify --deep after reindex"
echo "  after a reindex: export and stats as before, verify --deep clean"
measure "winnow reindex" "$KEPT" 0 -- sh -c "'$WINNOW' reindex -C '$D/cat' -q"

echo "== winnow cluster: same-recording clusters of the kept tracks"
measure "winnow cluster --rebuild" "$KEPT" 0 -- sh -c "'$WINNOW' cluster -C '$D/cat' --rebuild --json >'$D/cluster.json'"
CL_RECS=$(jget "$D/cluster.json" records)
[ "$CL_RECS" = "$KEPT" ] || fail "cluster covers $CL_RECS records, want $KEPT"
[ $(($(jget "$D/cluster.json" clusters) + $(jget "$D/cluster.json" merged))) = "$KEPT" ] || fail "clusters + merged != kept"
for k in records clusters merged candidates blocks_capped; do
	[ "$(jget "$D/cluster.json" $k)" = "$(jget "$D/cluster-truth.json" $k)" ] ||
		fail "cluster $k: winnow $(jget "$D/cluster.json" $k), the generator's truth (bench/ctruth) $(jget "$D/cluster-truth.json" $k)"
done
[ "$(sed -n 's/.*"edges":\({[^}]*}\).*/\1/p' "$D/cluster.json")" = "$(sed -n 's/.*"edges":\({[^}]*}\).*/\1/p' "$D/cluster-truth.json")" ] ||
	fail "cluster edges differ from the generator's truth (bench/ctruth)"
echo "  cluster counts match the generator's truth: $(cat "$D/cluster-truth.json")"
"$WINNOW" dups -C "$D/cat" >"$D/dups.jsonl" || fail "dups"
# the incremental case: 99% clustered, then 1% more records ingested and clustered
N99=$((N * 99 / 100))
head -n "$N99" "$D/tracks.jsonl" >"$D/t99.jsonl"
tail -n +"$((N99 + 1))" "$D/tracks.jsonl" >"$D/t01.jsonl"
"$WINNOW" ingest -q -C "$D/inc" "$D/t99.jsonl" >/dev/null && "$WINNOW" cluster -C "$D/inc" >/dev/null &&
	"$WINNOW" ingest -q -C "$D/inc" "$D/t01.jsonl" >/dev/null || fail "the 99% catalog"
measure "winnow cluster (incremental, +1% records)" "$(($(jget "$D/cluster.json" records) / 100))" 0 -- \
	sh -c "'$WINNOW' cluster -C '$D/inc' --json >'$D/cluster-inc.json'"
cp "$D/inc/clusters/track.bin" "$D/inc.bin"
"$WINNOW" cluster -C "$D/inc" --rebuild >/dev/null || fail "rebuild of the 99% + 1% catalog"
cmp -s "$D/inc/clusters/track.bin" "$D/inc.bin" || fail "incremental clusters differ from a rebuild"
CL_EDGES=$(sed -n 's/.*"edges":\({[^}]*}\).*/\1/p' "$D/cluster.json")
CLUSTER_LINE="clusters (\`winnow cluster --rebuild\` on the $KEPT kept tracks, equal to the generator's truth, \`bench/ctruth\`): $(jget "$D/cluster.json" clusters) clusters, $(jget "$D/cluster.json" merged) merged, edges $CL_EDGES, $(jget "$D/cluster.json" candidates) candidates (the generator made $(jget "$D/truth.json" near_dups) near-duplicate titles and $(jget "$D/truth.json" isrc_reuses) ISRC re-uses; the rest are its unrelated records that share artist, title and duration within 2 s); clusters + merged = kept, and the incremental run after 1% more records (added $(jget "$D/cluster-inc.json" added)) wrote the same state, byte for byte, as a rebuild"
echo "  $CLUSTER_LINE"

echo "== matching keys (lib/norm.c): the titles of the same input, one thread"
"$NORM" --min-seconds 2 "$D/tracks.jsonl" | tee "$D/norm.txt"
NORM_LINE=$(sed -n 's/^norm: //p' "$D/norm.txt")
[ -n "$NORM_LINE" ] || fail "bench/norm printed no summary"

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

echo "== input formats: the same records as JSONL and as CSV; SQLite in the dump's layout"
NF=${BENCH_FORMAT_RECORDS:-1000000}
# CSV: the generator's flat dump-layout rows without its bad lines, as JSONL and as CSV
"$GEN" --count "$NF" --seed 1 --layout dump --truth "$D/dump-truth.json" -o "$D/dump-all.jsonl"
NCSV=$(python3 bench/formats.py csv "$D/dump-all.jsonl" "$D/dump.csv" "$D/dump.jsonl")
rm -f "$D/dump-all.jsonl"
cat "$D/dump.jsonl" "$D/dump.csv" >/dev/null
settle
measure "winnow ingest, dump-layout JSONL" "$NCSV" "$(stat -c %s "$D/dump.jsonl")" -- \
	"$WINNOW" ingest -q -C "$D/cat-jsonl" --json "$D/dump.jsonl" >"$D/ingest-jsonl.json"
settle
measure "winnow ingest, the same records as CSV" "$NCSV" "$(stat -c %s "$D/dump.csv")" -- \
	"$WINNOW" ingest -q -C "$D/cat-csv" --json --map id=id "$D/dump.csv" >"$D/ingest-csv.json"
for k in kept duplicates revisions; do
	[ "$(jget "$D/ingest-jsonl.json" $k)" = "$(jget "$D/dump-truth.json" $k)" ] ||
		fail "dump-layout JSONL $k: winnow $(jget "$D/ingest-jsonl.json" $k), generator $(jget "$D/dump-truth.json" $k)"
done
for k in read kept duplicates revisions rejected; do
	[ "$(jget "$D/ingest-csv.json" $k)" = "$(jget "$D/ingest-jsonl.json" $k)" ] ||
		fail "CSV $k: $(jget "$D/ingest-csv.json" $k), JSONL of the same records $(jget "$D/ingest-jsonl.json" $k)"
done
echo "  CSV counts == JSONL counts == the generator's truth: kept $(jget "$D/ingest-csv.json" kept) of $NCSV rows"
# SQLite: tracks, albums, artists and track_artists from the same generator (--clean)
"$GEN" --count "$NF" --seed 1 --clean --layout dump -o "$D/sq-dump.jsonl"
"$GEN" --count "$NF" --seed 1 --clean --layout api -o "$D/sq-api.jsonl"
python3 bench/formats.py sqlite "$D/sq-dump.jsonl" "$D/sq-api.jsonl" "$D/dump.sqlite3" >/dev/null
rm -f "$D/sq-dump.jsonl" "$D/sq-api.jsonl"
cat "$D/dump.sqlite3" >/dev/null
settle
measure "winnow ingest, SQLite (dump layout, denormalised)" "$NF" "$(stat -c %s "$D/dump.sqlite3")" -- \
	"$WINNOW" ingest -q -C "$D/cat-sqlite" --json --sqlite-join "$D/dump.sqlite3" >"$D/ingest-sqlite.json"
[ "$(jget "$D/ingest-sqlite.json" kept)" = "$NF" ] || fail "SQLite: kept $(jget "$D/ingest-sqlite.json" kept) tracks, want $NF"
"$WINNOW" export -C "$D/cat-sqlite" >"$D/sqlite.jsonl"
[ "$(grep -c '"artists":\[{"id":"[^"]*","name":.*"album":{"id":' "$D/sqlite.jsonl")" = "$NF" ] ||
	fail "SQLite: not every track record has its artists and album"
echo "  SQLite: $NF tracks kept, each with its artists and album"
settle
measure "winnow ingest, the SQLite records as JSONL" "$NF" "$(stat -c %s "$D/sqlite.jsonl")" -- \
	"$WINNOW" ingest -q -C "$D/cat-sqlite-jsonl" --json "$D/sqlite.jsonl" >"$D/ingest-sqlite-jsonl.json"
[ "$(jget "$D/ingest-sqlite-jsonl.json" kept)" = "$NF" ] || fail "SQLite records as JSONL: kept $(jget "$D/ingest-sqlite-jsonl.json" kept)"

# ---- Discogs XML, and gzip input beside gzip -dc | winnow ingest - ----
. bench/xml.sh

# ---- summary ----
WIN_S=$(awk -F'\t' '$1 == "winnow ingest" { print $2 }' "$RES")
WIN_RSS=$(awk -F'\t' '$1 == "winnow ingest" { print $3 }' "$RES")
"$WINNOW" stats -C "$D/cat" --json --top 0 >"$D/stats.json"
IDX=$(jget "$D/stats.json" index_bytes_per_record)
CAT_BYTES=$(du -sb "$D/cat" | cut -f1)
echo "== summary"
printf '  winnow ingest: %.0f records/s, %.0f MB/s, peak RSS %.0f MiB, catalog %.0f MiB, index %s bytes/record\n' \
	"$(echo "$N / $WIN_S" | bc -l)" "$(echo "$BYTES / $WIN_S / 1000000" | bc -l)" "$(echo "$WIN_RSS / 1024" | bc -l)" \
	"$(echo "$CAT_BYTES / 1048576" | bc -l)" "$IDX"
# each peer's counterpart in winnow: its records/s over the peer's (valid-line peers
# count the lines they were given)
counterpart() {
	case "$1" in
	"zstd -3"* | "sort -u"* | "mlr "* | "duckdb"*) echo "winnow ingest" ;;
	"xxhsum -c"*) echo "winnow verify (fast; 5 runs)" ;;
	"zstd -t"*) echo "winnow verify --deep -j 2" ;;
	esac
}
ratio_of() {   # ratio_of PEER: winnow's records/s / the peer's, or empty
	local w; w=$(counterpart "$1")
	[ -n "$w" ] || return 0
	awk -F'\t' -v p="$1" -v w="$w" '$1 == p { pr = $4 / $2 } $1 == w { wr = $4 / $2 } END { if (pr > 0 && wr > 0) printf "%.2f", wr / pr }' "$RES"
}
RATIOS=$(cut -f1 "$RES" | while IFS= read -r name; do
	r=$(ratio_of "$name")
	[ -z "$r" ] || printf '%s: %sx (%s)\n' "$(counterpart "$name")" "$r" "$name"
done)
echo "  winnow / peer, records per second:"
printf '%s\n' "$RATIOS" | sed 's/^/    /'
sed -n 's/.*"stage_seconds":\({[^}]*}\).*/  stage seconds: \1/p' "$D/ingest.json"
rate() { awk -F'\t' -v n="$1" -v k="$2" '$1 == n { printf "%.2f", k == "gb" ? $5 / $2 / 1e9 : $4 / $2 }' "$RES"; }
VERIFY_LINE=$(printf 'winnow verify: fast %s GB/s (xxhsum -c %s GB/s); deep -j 2 %.0f records/s (zstd -t %.0f records/s)' \
	"$(rate "winnow verify (fast; 5 runs)" gb)" "$(rate "xxhsum -c MANIFEST (5 runs)" gb)" \
	"$(rate "winnow verify --deep -j 2" rec)" "$(rate "zstd -t (every data file)" rec)")
echo "  $VERIFY_LINE"
FORMATS_LINE=$(printf 'input formats: CSV %.0f records/s, JSONL of the same records %.0f records/s (CSV takes %.2fx the time); SQLite %.0f denormalised tracks/s, JSONL of the same records %.0f records/s' \
	"$(rate "winnow ingest, the same records as CSV" rec)" "$(rate "winnow ingest, dump-layout JSONL" rec)" \
	"$(echo "$(rate "winnow ingest, dump-layout JSONL" rec) / $(rate "winnow ingest, the same records as CSV" rec)" | bc -l)" \
	"$(rate "winnow ingest, SQLite (dump layout, denormalised)" rec)" "$(rate "winnow ingest, the SQLite records as JSONL" rec)")
echo "  $FORMATS_LINE"
echo "  $XML_LINE"
echo "  $GZIP_LINE"

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
	echo "| what | seconds | records/s | MB/s | peak RSS MiB | winnow / peer |"
	echo "|---|---:|---:|---:|---:|---|"
	while IFS=$'\t' read -r name secs rss recs bytes; do
		r=$(ratio_of "$name")
		[ -z "$r" ] || r="${r}x ($(counterpart "$name"))"
		awk -v name="$name" -v s="$secs" -v rss="$rss" -v n="$recs" -v b="$bytes" -v r="$r" 'BEGIN {
			rate = 0; mbs = 0; if (s > 0) { rate = n / s; mbs = b / s / 1e6 }
			gsub(/\|/, "\\|", name); printf "| %s | %.2f | %.0f | %.0f | %.0f | %s |\n", name, s, rate, mbs, rss / 1024, r }'
	done <"$RES"
	echo
	echo "winnow ingest: catalog $(echo "$CAT_BYTES / 1048576" | bc) MiB, index $IDX bytes per kept record, stage seconds $(sed -n 's/.*"stage_seconds":\({[^}]*}\).*/\1/p' "$D/ingest.json")"
	echo
	echo "$VERIFY_LINE; over the catalog after both ingest runs: $VER_BYTES bytes, $VER_LINES lines (records, ledger and reject entries), verified clean before timing."
	echo
	echo "$CLUSTER_LINE."
	echo
	echo "matching keys (\`$NORM --min-seconds 2 tracks.jsonl\`, lib/norm.c, norm version 1): $NORM_LINE; two workspaces agreed on every key before timing."
	echo
	echo "$FORMATS_LINE. CSV: \`bench/gen --count $NF --seed 1 --layout dump\` without its bad lines, $NCSV rows, written as CSV by \`bench/formats.py csv\` and ingested with \`--map id=id\` (values as strings); counts equal to the JSONL run's and the generator's. SQLite: \`bench/formats.py sqlite\` from \`bench/gen --clean\` (dump and api layouts, $NF tracks), the dump's tables without an index, ingested with \`--sqlite-join\`; every record checked to have its artists and album."
	echo
	echo "$XML_LINE. $XML_NOTE"
	echo
	echo "$GZIP_LINE. $GZIP_NOTE"
	echo
	echo "Commands: \`$WINNOW ingest -C CAT --json tracks.jsonl\`; \`winnow verify -C CAT\` and \`--deep -j 2\`, \`xxhsum -c MANIFEST\`, \`zstd -t\` on every data file; \`zstd -3 -T2\`; \`LC_ALL=C sort -u -S 1G --parallel=2 | zstd -3 -T2\`; \`mlr --ijsonl --ojsonl head -n 1 -g id\` (valid JSON lines only); each timed with GNU time (wall clock, maximum RSS)."
} >bench/RESULTS.md
echo "== wrote bench/RESULTS.md"
