#!/usr/bin/env bash
# t0685-jsonl-bom.sh - a UTF-8 byte-order mark at the start of a JSONL input (plain,
# .gz, .zst) and of a JSON document is dropped: the same records and fingerprints as
# the file without it, lines numbered as ever, offsets counting its 3 bytes, and a run
# killed in such a file resumed; a BOM elsewhere stays data.
. "$(dirname "$0")/lib.sh"

rejects() { zstd -dc "$1"/rejects/*.zst 2>/dev/null; }
bom() { printf '\357\273\277'; cat "$1"; }

"$GEN" --count 3000 --seed 11 -o "$T/t.jsonl"
"$WINNOW" ingest -C "$T/plain" -q --json "$T/t.jsonl" >"$T/plain.json" 2>/dev/null
"$WINNOW" export -C "$T/plain" >"$T/plain.out"
want=$(counts "$T/plain.json")
bom "$T/t.jsonl" >"$T/b.jsonl"

# ---- JSONL, plain and compressed ----
cp "$T/b.jsonl" "$T/bz.jsonl" && zstd -q -f "$T/bz.jsonl" -o "$T/bz.jsonl.zst"
gzip -c "$T/b.jsonl" >"$T/bg.jsonl.gz"
for f in b.jsonl bz.jsonl.zst bg.jsonl.gz; do
	check "$f (a BOM first): ingested" "$WINNOW" ingest -C "$T/c-$f" -q --json "$T/$f"
	is "$f: the counts of the file without the BOM" "$(counts "$T/.out")" "$want"
	"$WINNOW" export -C "$T/c-$f" >"$T/$f.out"
	cmp -s "$T/plain.out" "$T/$f.out"; is "$f: the same records, byte for byte" "$?" 0
	check "$f into the catalog of the file without the BOM" "$WINNOW" ingest -C "$T/plain" -q --json "$T/$f"
	r=$(json_get "$T/.out" read) d=$(json_get "$T/.out" duplicates) j=$(json_get "$T/.out" rejected)
	is "$f: ... every record not rejected is a duplicate (the same fingerprints)" "$d" "$((r - j))"
done
# the rejects of both runs name the same lines, their offsets 3 bytes further on
rejects "$T/c-b.jsonl" | grep -o '"line":[0-9]*,"offset":[0-9]*' >"$T/rl.bom"
zstd -dc "$T"/plain/rejects/*.zst | head -n "$(wc -l <"$T/rl.bom")" | grep -o '"line":[0-9]*,"offset":[0-9]*' >"$T/rl.plain"
[ -s "$T/rl.bom" ]; is "the generator's bad lines are rejected in the BOM file too" "$?" 0
awk -F'[:,]' '{ print $1 ":" $2 "," $3 ":" $4 + 3 }' "$T/rl.plain" >"$T/rl.want"
cmp -s "$T/rl.want" "$T/rl.bom"; is "... on the same lines, at offsets counting the BOM's 3 bytes" "$?" 0

# ---- a small file: line numbers and offsets exactly ----
printf '\357\273\277{"id":"a"}\n{"id":"b"\n{"id":"c"}\n' >"$T/s.jsonl"
check "a small JSONL with a BOM and a broken line 2" "$WINNOW" ingest -C "$T/s" -q --json "$T/s.jsonl"
is "... counts" "$(counts "$T/.out")" "3 2 0 0 1"
is "... the first record without the BOM" "$("$WINNOW" export -C "$T/s" | head -n 1)" '{"id":"a"}'
rejects "$T/s" | grep -q '"line":2,"offset":14,' ; is "... the reject on line 2 at offset 14 (3 + 11)" "$?" 0
check "... its ledger" "$WINNOW" ingest -C "$T/s" -q --json "$T/s.jsonl"
zstd -dc "$T"/s/ledger/*.zst | grep -q '"line":1,"match":"duplicate","id":"a"'; is "... the duplicate of line 1 in the ledger" "$?" 0

# a BOM elsewhere is data: a line that starts with one is rejected, as before
printf '{"id":"a"}\n\357\273\277{"id":"b"}\n' >"$T/mid.jsonl"
check "a BOM at the start of line 2" "$WINNOW" ingest -C "$T/mid" -q --json "$T/mid.jsonl"
is "... that line rejected" "$(counts "$T/.out")" "2 1 0 0 1"

# ---- a JSON document ----
printf '\357\273\277[{"id":"a","n":1},\n {"id":"b","n":2}]\n' >"$T/d.json"
printf '[{"id":"a","n":1},\n {"id":"b","n":2}]\n' >"$T/d0.json"
check "a JSON document with a BOM" "$WINNOW" ingest -C "$T/d" -q --json "$T/d.json"
is "... its two records" "$(counts "$T/.out")" "2 2 0 0 0"
check "... and the same document without it, into the same catalog" "$WINNOW" ingest -C "$T/d" -q --json "$T/d0.json"
is "... duplicates: the same fingerprints" "$(counts "$T/.out")" "2 0 2 0 0"
printf '\357\273\277{"items":[{"id":"a"}]}' | gzip -c >"$T/o.json.gz"
check "a .json.gz document (an object, --records-path) with a BOM" "$WINNOW" ingest -C "$T/o" -q --json --records-path 'items[]' "$T/o.json.gz"
is "... its record" "$("$WINNOW" export -C "$T/o")" '{"id":"a"}'

# ---- kill -9 in a BOM file: the rerun resumes at an offset in the file ----
"$GEN" --count 300000 --seed 12 -o "$T/big0.jsonl"
bom "$T/big0.jsonl" >"$T/big.jsonl" && rm -f "$T/big0.jsonl"
"$WINNOW" ingest -C "$T/ref" -q --json "$T/big.jsonl" >"$T/ref.json" 2>/dev/null
kill_after_checkpoint "$T/k" 300 "$WINNOW" ingest -C "$T/k" -q --checkpoint 20000 "$T/big.jsonl"
if [ $killed = 1 ]; then
	"$WINNOW" ingest -C "$T/k" -q --json --checkpoint 20000 "$T/big.jsonl" >"$T/k.json" 2>/dev/null
	r=$(json_get "$T/k.json" resumed)
	if [ -n "$r" ] && [ "$r" -gt 0 ]; then ok "killed in a BOM file: the rerun resumed after $r records"
	else not_ok "killed in a BOM file: the rerun resumed ($r)"; fi
	is "... with the totals of one clean run" "$(counts "$T/k.json")" "$(counts "$T/ref.json")"
	"$WINNOW" export -C "$T/ref" >"$T/ref.out"; "$WINNOW" export -C "$T/k" >"$T/k.out"
	cmp -s "$T/ref.out" "$T/k.out"; is "... the same records" "$?" 0
	check "... and verify --deep passes" "$WINNOW" verify -C "$T/k" --deep
else
	skip "resume in a BOM file" "no run was killed after a checkpoint in 10 tries"
fi
