#!/usr/bin/env bash
# t0980-compact.sh - winnow compact: the small files many runs sealed (shards, ledger,
# rejects, of every kind) merged into full ones and numbered 1, 2, ... again; every get
# answer, the export and the counts unchanged; verify --deep, xxhsum -c MANIFEST and
# sha256sum -c SHA256SUMS clean; nothing to do is a no-op; killed (-9) at each step, the same
# command again ends with the very catalog an uninterrupted compact makes.
. "$(dirname "$0")/lib.sh"

"$GEN" --count 24000 --seed 98 -o "$T/in.jsonl"
"$GEN" --count 3000 --seed 99 --kind artist -o "$T/art.jsonl"
split -l 1000 -d -a 2 "$T/in.jsonl" "$T/part."
C=$T/cat
# twelve small runs, one large one, four small ones again; artists in three runs
for f in "$T"/part.0[0-9] "$T"/part.1[01]; do "$WINNOW" ingest -C "$C" -q --frame-size 16K --digest sha256 "$f" >/dev/null || not_ok "ingest $f"; done
cat "$T"/part.1[2-9] >"$T/big.jsonl"
"$WINNOW" ingest -C "$C" -q --frame-size 16K "$T/big.jsonl" >/dev/null
for f in "$T"/part.2[0-3]; do "$WINNOW" ingest -C "$C" -q --frame-size 16K "$f" >/dev/null; done
split -l 1000 -d -a 1 "$T/art.jsonl" "$T/art."
for f in "$T"/art.[0-2]; do "$WINNOW" ingest -C "$C" -q --kind artist "$f" >/dev/null; done
nshards=$(ls "$C/shards" | grep -c '^track-')
is "the runs sealed a shard each" "$nshards $(ls "$C/shards" | grep -c '^artist-')" "17 3"

# what must not change: every get answer, the export, the counts
python3 -c 'import json,sys
for l in open(sys.argv[1], "rb"):
    try: r=json.loads(l)
    except Exception: continue
    if isinstance(r,dict) and isinstance(r.get("id"),str) and r["id"]: print(r["id"])' "$T/in.jsonl" | sort -u >"$T/ids"
answers() {   # answers CAT OUT: what readers see
	{ "$WINNOW" get -C "$1" - <"$T/ids" 2>&1; "$WINNOW" export -C "$1" | sort; "$WINNOW" export -C "$1" --kind artist | sort
	  "$WINNOW" stats -C "$1" --json | python3 -c 'import json,sys; d=json.load(sys.stdin)
for k,v in d["kinds"].items(): print(k, [v[x] for x in ("records","read","kept","duplicates","revisions","rejected","superseded")])'; } >"$2"
}
is "the ids to get" "$([ "$(wc -l <"$T/ids")" -gt 15000 ] && echo many)" many
answers "$C" "$T/before"
cp -r "$C" "$T/orig"

# shard size: the big run's shard stays alone, the small ones on either side merge
check "compact exits 0" "$WINNOW" compact -C "$C" --shard-size 3M --json
is "... it wrote new files" "$([ "$(json_get "$T/.out" files_written)" -gt 0 ] && echo yes)" yes
is "... and renumbered the files after the merged ones" "$([ "$(json_get "$T/.out" files_renamed)" -gt 0 ] && echo yes)" yes
after=$(ls "$C/shards" | grep -c '^track-')
is "fewer shards ($nshards before)" "$([ "$after" -lt 6 ] && echo yes)" yes
is "... numbered 1, 2, ... without a gap" "$(ls "$C/shards" | grep '^track-' | sed 's/track-0*//; s/\.jsonl\.zst//' | tr '\n' ' ')" \
	"$(seq -s ' ' 1 "$after") "
is "artists' shards merged too" "$(ls "$C/shards" | grep -c '^artist-')" 1
is "ledger and rejects files merged too" "$([ "$(ls "$C/ledger" | wc -l)" -lt 8 ] && [ "$(ls "$C/rejects" | wc -l)" -lt 8 ] && echo yes)" yes
is "nothing staged is left" "$(ls "$C"/shards "$C"/ledger "$C"/rejects | grep -c '\.new$')" 0
answers "$C" "$T/after"
cmp -s "$T/before" "$T/after"
is "every get answer, both exports and the counts are unchanged" "$?" 0
check "verify --deep is clean" "$WINNOW" verify -C "$C" --deep
(cd "$C" && xxhsum -c --strict MANIFEST >/dev/null 2>&1)
is "xxhsum -c MANIFEST passes" "$?" 0
(cd "$C" && sha256sum -c --strict SHA256SUMS >/dev/null 2>&1)
is "sha256sum -c SHA256SUMS passes" "$?" 0
is "MANIFEST lists every data file" "$(wc -l <"$C/MANIFEST")" "$(ls "$C"/shards "$C"/ledger "$C"/rejects | grep -c 'jsonl.zst$')"
zstd -dc "$C"/shards/track-*.jsonl.zst | sed -n 12345p >"$T/line"
"$WINNOW" get -C "$C" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/line")" >"$T/got"
cmp -s "$T/line" "$T/got"
is "ordinals unchanged: line 12345 of the shards is the record whose id it has" "$?" 0
man1=$(cat "$C/MANIFEST")
check "compact again" "$WINNOW" compact -C "$C" --shard-size 3M --json
is "... is a no-op" "$(json_get "$T/.out" files_written)" 0
is "... MANIFEST unchanged" "$(cat "$C/MANIFEST")" "$man1"
check "an ingest after compact" "$WINNOW" ingest -C "$C" -q "$T/part.00"
check "... and verify --deep" "$WINNOW" verify -C "$C" --deep
must_fail "compact of no catalog exits 1" 1 "$WINNOW" compact -C "$T/nothing"
[ ! -e "$T/nothing" ]
is "... and makes none" "$?" 0
must_fail "compact of a kind the catalog lacks exits 1" 1 "$WINNOW" compact -C "$C" --kind release

# --kind: only that kind
cp -r "$T/orig" "$T/k"
check "compact --kind artist" "$WINNOW" compact -C "$T/k" --kind artist
is "... merges the artists' shards" "$(ls "$T/k/shards" | grep -c '^artist-')" 1
is "... and leaves the tracks' alone" "$(ls "$T/k/shards" | grep -c '^track-')" 17

# ---- kill -9 at each step, then the same command ----
ref=$T/ref
cp -r "$T/orig" "$ref"
"$WINNOW" compact -C "$ref" --shard-size 3M -q
state() { (cd "$1" && cat MANIFEST SHA256SUMS && ls shards ledger rejects); }
bad=0 n=0
for at in planned shards/track-000001.jsonl.zst ledger/track-000001.jsonl.zst committed "phase 1" "phase 2" "phase 3"; do
	D=$T/crash
	rm -rf "$D" && cp -r "$T/orig" "$D"
	WINNOW_TEST_KILL=$at "$WINNOW" compact -C "$D" --shard-size 3M -q >/dev/null 2>&1 &
	wait $!
	st=$?
	[ $st -eq 137 ] && n=$((n + 1)) || diag "no kill at \"$at\" (exit $st)"
	"$WINNOW" compact -C "$D" --shard-size 3M -q 2>"$T/.err" || { bad=$((bad + 1)); diag "rerun after \"$at\": $(cat "$T/.err")"; continue; }
	[ "$(state "$D")" = "$(state "$ref")" ] || { bad=$((bad + 1)); diag "after a kill at \"$at\" the catalog differs"; continue; }
	answers "$D" "$T/crashed"
	cmp -s "$T/before" "$T/crashed" || { bad=$((bad + 1)); diag "after a kill at \"$at\" the answers differ"; }
	"$WINNOW" verify -C "$D" --deep >/dev/null 2>&1 || { bad=$((bad + 1)); diag "after a kill at \"$at\" verify fails"; }
done
is "compact was killed at each of 7 steps" "$n" 7
is "... and each rerun made the catalog an uninterrupted compact makes" "$bad" 0

# killed after its commit, the next ingest (any writer) finishes the renames first
D=$T/crash2
rm -rf "$D" && cp -r "$T/orig" "$D"
WINNOW_TEST_KILL=committed "$WINNOW" compact -C "$D" --shard-size 3M -q >/dev/null 2>&1 &
wait $!
check "killed after its commit, an ingest runs" "$WINNOW" ingest -C "$D" -q "$T/part.00"
check "... and verify --deep is clean" "$WINNOW" verify -C "$D" --deep
is "... with the shards compacted" "$(ls "$D/shards" | grep -c '^track-')" "$((after))"

# a damaged file is refused, and the catalog keeps its files
D=$T/dmg
rm -rf "$D" && cp -r "$T/orig" "$D"
printf 'X' | dd of="$D/shards/track-000003.jsonl.zst" bs=1 seek=100 conv=notrunc 2>/dev/null
must_fail "a damaged shard: compact exits 1" 1 "$WINNOW" compact -C "$D" --shard-size 3M
grep -q 'track-000003' "$T/.err"
is "... naming it" "$?" 0
is "... and the shards are as they were" "$(ls "$D/shards" | grep -c '^track-')" 17
D=$T/short
rm -rf "$D" && cp -r "$T/orig" "$D"
truncate -s -20 "$D/ledger/track-000002.jsonl.zst"
must_fail "a truncated ledger file: compact exits 1" 1 "$WINNOW" compact -C "$D" --shard-size 3M
grep -q 'ledger/track-000002.jsonl.zst: .* bytes, the index and MANIFEST say' "$T/.err"
is "... naming it and its size" "$?" 0
is "... and nothing staged is left" "$(ls "$D"/shards "$D"/ledger "$D"/rejects | grep -c '\.new$')" 0

# a kind with an interrupted run (an unsealed file) is refused until an ingest finishes it
D=$T/interrupted
rm -rf "$D" && cp -r "$T/orig" "$D"
"$GEN" --count 30000 --seed 123 -o "$T/more.jsonl"
crash_mid_input "$D" "$T/more.jsonl" --checkpoint 1000 --frame-size 16K
if [ -n "$(unsealed_shard "$D")" ]; then
	must_fail "an interrupted run: compact exits 2" 2 "$WINNOW" compact -C "$D" --shard-size 3M
	grep -q 'unsealed file of an interrupted run of kind track' "$T/.err"
	is "... saying so" "$?" 0
	check "compact --kind artist still runs" "$WINNOW" compact -C "$D" --kind artist
else
	skip "an interrupted run: compact exits 2" "the ingest was not interrupted after a checkpoint"
fi
