#!/usr/bin/env bash
# t0742-reindex-crash.sh - winnow reindex is crash-safe and refuses damaged data: killed
# (kill -9) at any moment, it leaves the catalog with its old index or the new one, never
# without one or with half of one, and running it again finishes; a shard whose bytes
# changed, a truncated one, a MANIFEST.json entry without its counts, and a data file
# MANIFEST.json does not list are refused (exit 1, naming the file), and the catalog keeps
# the index it had.
. "$(dirname "$0")/lib.sh"

"$GEN" --count 300000 --seed 31 -o "$T/in.jsonl"
C=$T/cat
"$WINNOW" ingest -C "$C" -q --frame-size 64K --shard-size 16M "$T/in.jsonl" >/dev/null 2>&1
is "ingest of 300000 records exits 0" "$?" 0
"$WINNOW" export -C "$C" | md5sum >"$T/export.md5"
"$WINNOW" stats -C "$C" | grep -v '^index: ' >"$T/stats"
answers() {   # answers CAT: export and stats are the original's
	[ "$("$WINNOW" export -C "$1" 2>/dev/null | md5sum)" = "$(cat "$T/export.md5")" ] &&
		[ "$("$WINNOW" stats -C "$1" 2>/dev/null | grep -v '^index: ')" = "$(cat "$T/stats")" ]
}

# ---- kill -9 at moments through the run ----
bad=0 killed=0
for ms in 30 80 150 250 400 600 900 1300; do
	"$WINNOW" reindex -C "$C" -q >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%03d' "$ms")"
	kill -9 $pid 2>/dev/null && killed=$((killed + 1))
	wait $pid 2>/dev/null
	answers "$C" || { bad=$((bad + 1)); diag "after a kill at ${ms} ms the catalog does not answer as before"; }
done
[ "$killed" -ge 3 ] && ok "reindex was killed mid-run $killed times" || not_ok "reindex was killed mid-run ($killed times)"
is "after every kill the catalog answers as before (old index or new)" "$bad" 0
check "a rerun after the kills exits 0" "$WINNOW" reindex -C "$C" -q
answers "$C"
is "... and the catalog answers as before" "$?" 0
[ ! -e "$C/index.reindex" ] && ok "... and nothing is left beside the index" || not_ok "... and nothing is left beside the index"
check "... and verify --deep is clean" "$WINNOW" verify -C "$C" --deep

# killed with no index at all: the rerun makes one
rm -rf "$C/index"
"$WINNOW" reindex -C "$C" -q >/dev/null 2>&1 &
pid=$!
sleep 0.3
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
check "killed without an old index, a rerun exits 0" "$WINNOW" reindex -C "$C" -q
answers "$C"
is "... and the catalog answers as before" "$?" 0

# ---- damaged data files are refused ----
S=shards/track-000002.jsonl.zst
refused() {   # refused WHAT PATTERN: reindex of $D exits 1 naming it, and $D keeps its index
	local before
	before=$(mdb_dump -a "$D/index" | md5sum)
	must_fail "$1: reindex exits 1" 1 "$WINNOW" reindex -C "$D"
	if grep -q -- "$2" "$T/.err"; then ok "... naming it ($2)"; else not_ok "... naming it ($2)"; diag "$(cat "$T/.err")"; fi
	[ "$(mdb_dump -a "$D/index" | md5sum)" = "$before" ] && [ ! -e "$D/index.reindex" ]
	is "... and the catalog keeps its index" "$?" 0
}
D=$T/dmg
cp -a "$C" "$D"
printf 'Z' | dd of="$D/$S" bs=1 seek=5000 conv=notrunc 2>/dev/null
refused "a flipped byte in a shard" "$S: XXH128 .* the file is damaged; refused"
"$WINNOW" export -C "$D" >/dev/null 2>&1
is "(export of the damaged shard fails too)" "$?" 1
rm -rf "$D"
cp -a "$C" "$D"
truncate -s -100 "$D/$S"
refused "a truncated shard" "$S: [0-9]* bytes, MANIFEST.json says [0-9]*: refused"
rm -rf "$D"
cp -a "$C" "$D"
sed -i 's/"records":[0-9]*,//' "$D/MANIFEST.json"
refused "MANIFEST.json entries without records" 'files\[0\] (ledger/track-000001.jsonl.zst): no usable "records"'
rm -rf "$D"
cp -a "$C" "$D"
cp "$D/$S" "$D/shards/track-000099.jsonl.zst"
refused "a shard MANIFEST.json does not list" "track-000099.jsonl.zst is not in MANIFEST.json"
rm -rf "$D"
cp -a "$C" "$D"
ln -sf "$C/$S" "$D/shards/track-000001.jsonl.zst"
refused "a shard that is a symbolic link" "track-000001.jsonl.zst: a symbolic link: refused"

# ---- one writer at a time ----
flock "$C/index/writer.lock" -c "'$WINNOW' reindex -C '$C' -q" >/dev/null 2>"$T/err"
is "reindex while another winnow writes exits 3" "$?" 3
grep -q "another winnow is writing" "$T/err"
is "... and says why" "$?" 0

# ---- a catalog whose ingest was interrupted: its unsealed files are not listed ----
I=$T/int
for i in 1 2 3 4 5 6 7 8; do
	"$WINNOW" ingest -C "$I" -q --checkpoint 20000 --frame-size 64K "$T/in.jsonl" >/dev/null 2>&1 &
	pid=$!
	sleep 0.$((2 + i))
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	has_checkpoint "$I" && ! "$WINNOW" stats -C "$I" --json 2>/dev/null | grep -q '"generation":[1-9]' && break
	rm -rf "$I"
done
if [ -d "$I" ]; then
	# a writer open cuts the unsealed file back to its committed length and rewrites the manifests
	"$WINNOW" verify -C "$I" >/dev/null 2>&1
	D=$I
	refused "an interrupted ingest's unsealed file" "is not in MANIFEST.json: an unsealed file of an interrupted ingest"
	check "... and the ingest, run again, finishes" "$WINNOW" ingest -C "$I" -q --checkpoint 20000 --frame-size 64K "$T/in.jsonl"
	check "... after which reindex exits 0" "$WINNOW" reindex -C "$I" -q
	"$WINNOW" export -C "$I" | md5sum | cmp -s - "$T/export.md5"
	is "... and the catalog holds what an uninterrupted ingest holds" "$?" 0
else
	skip "an interrupted ingest's unsealed file" "no kill landed after a checkpoint"
fi

# ---- interrupted on request (SIGINT): exit 130, the old index stays ----
before=$(mdb_dump -a "$C/index" | md5sum)
"$WINNOW" reindex -C "$C" -q >/dev/null 2>"$T/err" &
pid=$!
sleep 0.3
kill -INT $pid 2>/dev/null
wait $pid
st=$?
if [ "$st" -eq 0 ]; then
	skip "reindex interrupted by SIGINT exits 130" "it had finished"
else
	is "reindex interrupted by SIGINT exits 130" "$st" 130
	[ "$(mdb_dump -a "$C/index" | md5sum)" = "$before" ] && [ ! -e "$C/index.reindex" ]
	is "... and the catalog keeps the index it had, nothing beside it" "$?" 0
fi
must_fail "reindex without -C is a usage error" 2 "$WINNOW" reindex
mkdir -p "$T/nothing"
must_fail "reindex of a folder without MANIFEST.json exits 2" 2 "$WINNOW" reindex -C "$T/nothing"
[ -z "$(ls -A "$T/nothing")" ] && ok "... and makes nothing in it" || not_ok "... and makes nothing in it"
"$WINNOW" reindex -C "$C" --json >"$T/json"
is "reindex --json counts the records" "$(json_get "$T/json" records)" "$("$WINNOW" stats -C "$C" --json | grep -o '"next_ord":[0-9]*\|"kept":[0-9]*' | head -n 1 | cut -d: -f2)"
