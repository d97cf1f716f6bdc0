#!/usr/bin/env bash
# t0710-export-partial.sh - a partial mirror: a catalog whose second shard is missing.
# export stops there with exit 1, naming the shard and the ordinals of its records
# (never a bare "No such file or directory", never exit 3); export --ignore-missing
# writes every record of the shards that are there, names the shard it skipped with its
# ordinals and surviving records, and exits 0. get of a record in the missing shard
# names the shard the same way (exit 1); get of a record elsewhere still works.
. "$(dirname "$0")/lib.sh"

IN=$T/in.jsonl
"$GEN" --count 5000 --seed 3 -o "$IN"
C=$T/cat
"$WINNOW" ingest -C "$C" -q --shard-size 128K --frame-size 16K "$IN" >/dev/null 2>&1
is "ingest exits 0" "$?" 0
"$WINNOW" export -C "$C" >"$T/all.jsonl"
S1=shards/track-000001.jsonl.zst S2=shards/track-000002.jsonl.zst
[ -f "$C/$S2" ] && [ -f "$C/shards/track-000003.jsonl.zst" ] && ok "three shards or more" || not_ok "three shards or more"
# the ordinals of shard 2, from MANIFEST.json
recs() { grep "\"path\":\"$1\"" "$C/MANIFEST.json" | grep -o '"records":[0-9]*' | cut -d: -f2; }
first=$(recs $S1)
last=$((first + $(recs $S2) - 1))
P=$T/part
cp -a "$C" "$P"
rm "$P/$S2"

must_fail "export of a partial mirror exits 1" 1 "$WINNOW" export -C "$P"
cp "$T/.out" "$T/before.jsonl"
grep -qxF "winnow: $S2 is missing: it holds track records $first-$last" "$T/.err"
is "... naming the missing shard and its ordinals $first-$last" "$?" 0
grep -q -- "--ignore-missing" "$T/.err"
is "... and the way to export the rest" "$?" 0
grep -q "No such file" "$T/.err"
is "... with no bare OS error" "$?" 1
x=$(wc -l <"$T/before.jsonl" | tr -d ' ')
head -n "$x" "$T/all.jsonl" | cmp -s - "$T/before.jsonl"
is "... after writing the records before it" "$?" 0

"$WINNOW" export -C "$P" --ignore-missing >"$T/present.jsonl" 2>"$T/err"
is "export --ignore-missing exits 0" "$?" 0
line=$(grep "^winnow: skipped $S2: missing (records $first-$last, [0-9]* of them surviving)$" "$T/err")
is "... and names the skipped shard with its ordinals" "$?" 0
surv=$(echo "$line" | sed 's/.*, \([0-9]*\) of them.*/\1/')
grep -qx "winnow: 1 missing shard skipped: $surv surviving records not exported" "$T/err"
is "... and sums up what it skipped" "$?" 0
{ head -n "$x" "$T/all.jsonl"; tail -n +"$((x + surv + 1))" "$T/all.jsonl"; } | cmp -s - "$T/present.jsonl"
is "... and writes every record of the shards that are there" "$?" 0
is "... all but the $surv of the missing shard" "$(wc -l <"$T/present.jsonl" | tr -d ' ')" "$(($(wc -l <"$T/all.jsonl") - surv))"

# get: a record of the missing shard, and one of another shard
idof() { sed -n "${1}p" "$T/all.jsonl" | grep -o '^{"id":"[^"]*"' | cut -d'"' -f4; }
must_fail "get of a record in the missing shard exits 1" 1 "$WINNOW" get -C "$P" "$(idof $((x + 1)))"
grep -qxF "winnow: $S2 is missing: it holds track records $first-$last" "$T/.err"
is "... naming the shard and its ordinals" "$?" 0
grep -q "No such file\|no track with id" "$T/.err"
is "... neither a bare OS error nor 'not found'" "$?" 1
"$WINNOW" get -C "$P" "$(idof 1)" "$(idof $((x + surv + 1)))" >"$T/two"
is "get of records in the shards that are there exits 0" "$?" 0
{ sed -n 1p "$T/all.jsonl"; sed -n "$((x + surv + 1))p" "$T/all.jsonl"; } | cmp -s - "$T/two"
is "... with their records" "$?" 0
"$WINNOW" export --help | grep -q -- "--ignore-missing"
is "export --ignore-missing is documented in --help" "$?" 0
