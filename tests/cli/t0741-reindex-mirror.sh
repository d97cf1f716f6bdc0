#!/usr/bin/env bash
# t0741-reindex-mirror.sh - winnow reindex --from: a catalog made of a bare folder of
# data files, as a torrent delivers them (MANIFEST.json and the shards; no ledger, no
# rejects, no catalog.json), answers export and get as the original does. A shard
# absent from the mirror is exit 1 naming it; with --ignore-missing the catalog is made
# of what is there and knows what is not: get of a record of the absent shard and export
# name the shard and its ordinals (export --ignore-missing writes the rest), verify
# reports the absent files and is otherwise clean.
. "$(dirname "$0")/lib.sh"

"$GEN" --count 30000 --seed 7 -o "$T/in.jsonl"
C=$T/orig
"$WINNOW" ingest -C "$C" -q --shard-size 1M --frame-size 64K "$T/in.jsonl" >/dev/null 2>&1
is "ingest exits 0" "$?" 0
"$WINNOW" export -C "$C" >"$T/all.jsonl"
idof() { sed -n "${1}p" "$T/all.jsonl" | grep -ao '^{"id":"[^"]*"' | cut -d'"' -f4; }

# the mirror: MANIFEST.json and the shards only
M=$T/mirror
mkdir -p "$M/shards"
cp "$C/MANIFEST.json" "$M/"
cp "$C"/shards/* "$M/shards/"
N=$T/new
"$WINNOW" reindex -C "$N" --from "$M" >"$T/out" 2>"$T/err"
is "reindex --from a folder of MANIFEST.json and shards exits 0" "$?" 0
grep -q "note: ledger/track-000001.jsonl.zst is missing" "$T/err"
is "... noting the ledger it did not get" "$?" 0
"$WINNOW" export -C "$N" | cmp -s - "$T/all.jsonl"
is "... and export of the new catalog is the original's" "$?" 0
ids="$(idof 1) $(idof 5000) $(idof 20000)"
"$WINNOW" get -C "$C" $ids >"$T/get.orig"
"$WINNOW" get -C "$N" $ids >"$T/get.new"
is "... and so is get" "$(cmp -s "$T/get.orig" "$T/get.new"; echo $?)" 0
"$WINNOW" stats -C "$C" | head -n 1 >"$T/stats.orig"
"$WINNOW" stats -C "$N" | head -n 1 >"$T/stats.new"
is "... and the counts in stats (MANIFEST.json's)" "$(cat "$T/stats.new")" "$(cat "$T/stats.orig")"
[ "$(stat -c %i "$M/shards/track-000001.jsonl.zst")" = "$(stat -c %i "$N/shards/track-000001.jsonl.zst")" ]
is "... whose shards are hard links to the mirror's" "$?" 0
"$WINNOW" verify -C "$N" --deep >"$T/v" 2>&1
grep -q "^missing: ledger/track-000001.jsonl.zst" "$T/v" && ! grep -v "^missing: \(ledger\|rejects\)/\|^damaged:" "$T/v" | grep -q .
is "... and verify --deep reports only the ledger and rejects it lacks" "$?" 0
check "rerun of reindex --from exits 0" "$WINNOW" reindex -C "$N" --from "$M" -q
"$WINNOW" export -C "$N" | cmp -s - "$T/all.jsonl"
is "... with the same catalog" "$?" 0

# a partial mirror: shard 3 absent
S3=shards/track-000003.jsonl.zst
recs() { grep -o "\"path\":\"$1\"[^}]*" "$C/MANIFEST.json" | grep -o "\"$2\":[0-9]*" | cut -d: -f2; }
first=$(recs $S3 first_ordinal)
last=$(recs $S3 last_ordinal)
rm "$M/$S3"
P=$T/part
must_fail "reindex --from a mirror without shard 3 exits 1" 1 "$WINNOW" reindex -C "$P" --from "$M"
grep -q "$S3 is missing: it holds track records $first-$last" "$T/.err"
is "... naming the shard and its records" "$?" 0
[ ! -e "$P/index/data.mdb" ] && ok "... and makes no index" || not_ok "... and makes no index"
"$WINNOW" reindex -C "$P" --from "$M" --ignore-missing >"$T/out" 2>"$T/err"
is "with --ignore-missing it exits 0" "$?" 0
grep -q "note: $S3 is missing: track records $first-$last are not in the catalog" "$T/err"
is "... noting the records it lacks" "$?" 0
must_fail "export of the partial catalog exits 1" 1 "$WINNOW" export -C "$P"
grep -qxF "winnow: $S3 is missing: it holds track records $first-$last" "$T/.err"
is "... naming the absent shard and its records" "$?" 0
before=$(wc -l <"$T/.out")
"$WINNOW" export -C "$P" --ignore-missing >"$T/present" 2>"$T/err"
is "export --ignore-missing exits 0" "$?" 0
surv=$(sed -n "s/^winnow: skipped $(echo $S3 | sed 's,/,\\/,g'): missing (records $first-$last, \([0-9]*\) of them surviving)$/\1/p" "$T/err")
[ -n "$surv" ] && ok "... naming what it skipped" || { not_ok "... naming what it skipped"; diag "$(cat "$T/err")"; }
{ head -n "$before" "$T/all.jsonl"; tail -n +"$((before + ${surv:-0} + 1))" "$T/all.jsonl"; } | cmp -s - "$T/present"
is "... and writing every record of the shards that are there" "$?" 0
inside=$(idof $((before + 1)))
must_fail "get of a record of the absent shard exits 1" 1 "$WINNOW" get -C "$P" "$inside"
grep -q "is not in the shards that are here, and $S3 is missing (it holds track records $first-$last)" "$T/.err"
is "... naming the shard and its ordinals, not 'not found'" "$?" 0
"$WINNOW" get -C "$P" "$(idof 1)" >"$T/one"
is "get of a record of a shard that is there exits 0" "$?" 0
"$WINNOW" verify -C "$P" --deep >"$T/v" 2>&1
grep -q "^missing: $S3" "$T/v" && ! grep -v "^missing: \|^damaged:" "$T/v" | grep -q .
is "verify --deep reports the absent files and nothing else" "$?" 0
check "verify --deep --ignore-missing is clean" "$WINNOW" verify -C "$P" --deep --ignore-missing

# a partial mirror with its ledger, of a catalog with revisions that won and lost: the
# ledger names ids and ordinals of the absent shard, which is not damage
R=$T/rev
"$GEN" --count 20000 --seed 9 --revision-rate 0.1 -o "$T/r1.jsonl"
"$GEN" --count 20000 --seed 10 --revision-rate 0.2 -o "$T/r2.jsonl"
"$WINNOW" ingest -C "$R" -q --shard-size 1M --frame-size 64K "$T/r1.jsonl" >/dev/null 2>&1 &&
	"$WINNOW" ingest -C "$R" -q --on-conflict last --shard-size 1M --frame-size 64K "$T/r2.jsonl" >/dev/null 2>&1
is "a catalog with revisions that won and lost" "$?" 0
RM=$T/rev-mirror
cp -a "$R" "$RM"
rm -rf "$RM/index" "$RM/shards/track-000001.jsonl.zst"
check "reindex --from its mirror without shard 1 --ignore-missing exits 0" "$WINNOW" reindex -C "$T/rev-part" --from "$RM" --ignore-missing -q
is "... with the original's counts" "$("$WINNOW" stats -C "$T/rev-part" | head -n 1)" "$("$WINNOW" stats -C "$R" | head -n 1)"
"$WINNOW" export -C "$R" --ignore-missing >"$T/rev.all" 2>/dev/null
"$WINNOW" export -C "$T/rev-part" --ignore-missing 2>/dev/null | cmp -s - <(grep -vxFf <(zstd -dc "$R/shards/track-000001.jsonl.zst") "$T/rev.all")
is "... and export --ignore-missing writes the survivors of the other shards" "$?" 0
check "... and verify --deep --ignore-missing is clean" "$WINNOW" verify -C "$T/rev-part" --deep --ignore-missing
