#!/usr/bin/env bash
# t0520-verify-bare.sh - a bare folder of data files (what a torrent or a partial mirror
# delivers: no index) checked against its MANIFEST: clean, partial (--ignore-missing),
# damaged, with MANIFEST elsewhere; and the unsealed files of an interrupted run are
# notes, not damage.
. "$(dirname "$0")/lib.sh"

IN=$T/tracks.jsonl
"$GEN" --count 5000 --seed 11 -o "$IN"
C=$T/cat
"$WINNOW" ingest -C "$C" -q --shard-size 64K --frame-size 8K "$IN" >/dev/null 2>&1
is "ingest exits 0" "$?" 0
bare() { rm -rf "$T/$1"; mkdir -p "$T/$1"; B=$T/$1; cp -r "$C/shards" "$C/ledger" "$C/rejects" "$C"/MANIFEST* "$C/catalog.json" "$B/"; }

bare clean
check "bare folder, fast: clean" "$WINNOW" verify --manifest "$B/MANIFEST" "$B"
check "bare folder, deep: clean" "$WINNOW" verify --manifest "$B/MANIFEST" --deep "$B"
grep -q '5000 records decoded' "$T/.out"
is "deep: every line decoded" "$?" 0

# MANIFEST kept elsewhere (MANIFEST.json is looked for beside it, as MANIFEST.json)
mkdir -p "$T/elsewhere"
mv "$B/MANIFEST" "$B/MANIFEST.json" "$T/elsewhere/"
check "MANIFEST in another folder" "$WINNOW" verify --manifest "$T/elsewhere/MANIFEST" --deep "$B"

# a partial mirror
bare partial
rm "$B"/ledger/track-000002.jsonl.zst "$B"/shards/track-000003.jsonl.zst
must_fail "partial mirror: exit 1" 1 "$WINNOW" verify --manifest "$B/MANIFEST" "$B"
is "both absent files are reported missing" "$(grep -c '^missing: ' "$T/.out")" 2
check "partial mirror with --ignore-missing: exit 0" "$WINNOW" verify --manifest "$B/MANIFEST" --ignore-missing "$B"
grep -q '^note: 2 listed files ([0-9]* bytes) not checked (missing)' "$T/.out"
is "--ignore-missing says how much was skipped" "$?" 0
check "partial mirror, deep, --ignore-missing: exit 0" "$WINNOW" verify --manifest "$B/MANIFEST" --ignore-missing --deep "$B"

# damage in a bare folder, located without an index
bare flip
f=$B/shards/track-000002.jsonl.zst
b=$(od -An -tu1 -j 500 -N 1 "$f" | tr -d ' ')
printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$f" bs=1 seek=500 conv=notrunc 2>/dev/null
must_fail "bare folder, flipped byte, fast: exit 1" 1 "$WINNOW" verify --manifest "$B/MANIFEST" "$B"
grep -q '^checksum: shards/track-000002.jsonl.zst: XXH128 is ' "$T/.out"
is "fast: checksum, the file named" "$?" 0
must_fail "bare folder, flipped byte, deep: exit 1" 1 "$WINNOW" verify --manifest "$B/MANIFEST" --deep "$B"
grep -q '^frame-corrupt: shards/track-000002.jsonl.zst frame 0 bytes 0-' "$T/.out"
is "deep: frame-corrupt, frame 0 and its bytes" "$?" 0

bare extra
echo '{"id":"x"}' >"$B/shards/stray.jsonl"
must_fail "bare folder, an extra file: exit 1" 1 "$WINNOW" verify --manifest "$B/MANIFEST" "$B"
grep -q '^extra: shards/stray.jsonl: ' "$T/.out"
is "the extra file is named" "$?" 0

bare count
sed -i '/"path":"ledger\/track-000001.jsonl.zst"/s/"records":\([0-9]*\)/"records":1\1/' "$B/MANIFEST.json"
must_fail "bare folder, a count changed in MANIFEST.json, deep: exit 1" 1 "$WINNOW" verify --manifest "$B/MANIFEST" --deep "$B"
grep -q '^count: ledger/track-000001.jsonl.zst: MANIFEST.json says 1[0-9]* records, the file holds ' "$T/.out"
is "the recount names the file" "$?" 0

# an interrupted run: kill -9 in the middle, then open for writing without completing a
# run (a refused option), which rewrites the manifests with "interrupted_run": true
K=$T/killed
"$GEN" --count 200000 --seed 12 -o "$T/big.jsonl"
got=0
for try in 1 2 3 4 5; do
	rm -rf "$K"
	"$WINNOW" ingest -C "$K" -q --checkpoint 2000 --shard-size 256K --frame-size 16K "$T/big.jsonl" >/dev/null 2>&1 &
	pid=$!
	sleep "0.$((2 + try))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	"$WINNOW" ingest -C "$K" -q --ignore-field no_such_field "$IN" >/dev/null 2>&1
	if grep -q '"interrupted_run":true' "$K/catalog.json" 2>/dev/null; then got=1; break; fi
done
if [ "$got" = 1 ]; then
	check "interrupted run, catalog: exit 0 (unsealed files are not damage)" "$WINNOW" verify -C "$K" --deep
	grep -q '^note: .*unsealed' "$T/.out"
	is "catalog: the unsealed files are notes" "$?" 0
	bare_k=$T/killed-bare
	mkdir -p "$bare_k"
	cp -r "$K/shards" "$K/ledger" "$K/rejects" "$K"/MANIFEST* "$K/catalog.json" "$bare_k/"
	check "interrupted run, bare folder: exit 0" "$WINNOW" verify --manifest "$bare_k/MANIFEST" "$bare_k"
	grep -q '^note: .*interrupted run' "$T/.out"
	is "bare folder: the unsealed files are notes" "$?" 0
else
	skip "an interrupted run" "the run could not be caught in the middle"
fi
