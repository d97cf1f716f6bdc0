#!/usr/bin/env bash
# t0510-verify-damage.sh - every kind of damage is found, with the right kind and place:
# a shard truncated by one byte, a flipped byte in the middle of a frame, a flipped byte
# in the seek table, a missing shard (and --ignore-missing), an extra shard, a malformed
# MANIFEST line, a MANIFEST path with "../" (never opened), an index entry deleted, a
# frames row with the wrong offset, an id entry pointing at another record, a record count
# changed in MANIFEST.json. Stock xxhsum -c agrees with the fast mode on each file damage.
. "$(dirname "$0")/lib.sh"

WNC=${WNC:-$(dirname "$WINNOW")/tests/tools/wn-corrupt}
if ! have python3; then
	skip "verify damage tests" "python3 not installed (reads --json)"
	exit 0
fi

IN=$T/tracks.jsonl
"$GEN" --count 5000 --seed 7 -o "$IN"
C=$T/cat
"$WINNOW" ingest -C "$C" -q --shard-size 64K --frame-size 8K "$IN" >/dev/null 2>&1
is "ingest exits 0" "$?" 0
check "the catalog verifies clean first" "$WINNOW" verify -C "$C" --deep

S=shards/track-000001.jsonl.zst
fresh() { rm -rf "$T/$1"; cp -r "$C" "$T/$1"; D=$T/$1; }
# flip BYTE of FILE (xor 1)
flip() {
	local b
	b=$(od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
# the seek table of FILE (little-endian u32s): TABLE (its offset), NF, OFF[i], CS[i]
seektable() {
	local f=$1 size i=0 off=0
	size=$(stat -c %s "$f")
	NF=$(od -An -tu4 -j $((size - 9)) -N 4 "$f" | tr -d ' ')
	TABLE=$((size - 9 - 12 * NF - 8))
	OFF=() CS=()
	for cs in $(od -An -v -tu4 -j $((TABLE + 8)) -N $((12 * NF)) "$f" | tr -s ' ' '\n' | grep . | awk 'NR % 3 == 1'); do
		OFF[i]=$off CS[i]=$cs
		off=$((off + cs)) i=$((i + 1))
	done
}
# verify --json (never for more than two minutes: a FIFO must not make it hang), then the
# problems as "kind|shard|frame|offset|length|record|id", one a line
run() {
	timeout 120 "$WINNOW" verify --json "$@" >"$T/v.json" 2>"$T/v.err"
	STATUS=$?
	python3 - "$T/v.json" >"$T/p.txt" 2>>"$T/v.err" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["problems"]:
    print("|".join("" if p[k] is None else str(p[k]) for k in ("kind", "shard", "frame", "offset", "length", "record", "id")))
EOF
}
has() { grep -q -x -F "$1" "$T/p.txt"; }
diag_problems() { diag "$(head -n 12 "$T/p.txt")" "$(head -n 3 "$T/v.err")"; }
xxh_agrees() {
	if have xxhsum; then
		(cd "$D" && xxhsum -c MANIFEST) >/dev/null 2>&1
		is "stock xxhsum -c agrees ($1)" "$?" 1
	fi
}

seektable "$C/$S"
[ "$NF" -ge 4 ] && ok "the first shard has several frames ($NF)" || not_ok "the first shard has several frames ($NF)"

# ---- a shard truncated by one byte ----
fresh trunc
size=$(stat -c %s "$D/$S")
truncate -s $((size - 1)) "$D/$S"
run -C "$D"
is "truncated shard: exit 1" "$STATUS" 1
has "truncated|$S||$((size - 1))|1||" && ok "truncated shard: kind truncated, at its last byte" ||
	{ not_ok "truncated shard: kind truncated, at its last byte"; diag_problems; }
grep -q "^checksum|$S|" "$T/p.txt"
is "truncated shard: its XXH128 no longer matches" "$?" 0
run -C "$D" --deep
grep -q "^seek-table|$S|" "$T/p.txt"
is "truncated shard, deep: the seek table is gone too" "$?" 0
xxh_agrees "truncated"

# ---- a flipped byte in the middle of a frame ----
fresh frame
flip "$D/$S" $((OFF[2] + CS[2] / 2))
run -C "$D"
is "flipped frame byte, fast: exit 1" "$STATUS" 1
grep -q "^checksum|$S|" "$T/p.txt"
is "flipped frame byte, fast: checksum of the shard" "$?" 0
run -C "$D" --deep
is "flipped frame byte, deep: exit 1" "$STATUS" 1
grep -q "^frame-corrupt|$S|2|${OFF[2]}|${CS[2]}|" "$T/p.txt" && ok "deep: frame-corrupt, frame 2, its byte range" ||
	{ not_ok "deep: frame-corrupt, frame 2, its byte range"; diag_problems; }
grep -c "^frame-corrupt" "$T/p.txt" | grep -q -x 1
is "deep: only that frame is corrupt" "$?" 0
if grep -q -v -e '^frame-corrupt' -e '^checksum' "$T/p.txt"; then
	not_ok "deep: no other problem follows from it (the frame's records are not reported unindexed)"; diag_problems
else
	ok "deep: no other problem follows from it (the frame's records are not reported unindexed)"
fi
xxh_agrees "flipped byte"
zstd -q -t "$D/$S" 2>/dev/null
is "stock zstd -t agrees (flipped byte)" "$?" 1

# ---- a flipped byte in the seek table (the checksum of entry 1) ----
fresh seek
entry=$((TABLE + 8 + 12))
flip "$D/$S" $((entry + 8))
run -C "$D" --deep
is "flipped seek table byte: exit 1" "$STATUS" 1
grep -q "^seek-table|$S|1|$entry|12|" "$T/p.txt" && ok "seek-table, frame 1, at its 12-byte entry" ||
	{ not_ok "seek-table, frame 1, at its 12-byte entry"; diag_problems; }
grep -q '^frame-corrupt' "$T/p.txt"
is "the frame itself is not called corrupt" "$?" 1
# and in the compressed size of entry 3 (the sizes no longer add up)
fresh seek2
entry=$((TABLE + 8 + 36))
flip "$D/$S" "$entry"
run -C "$D" --deep
grep -q "^seek-table|$S|3|$entry|12|" "$T/p.txt" && ok "a wrong compressed size: seek-table, frame 3, its entry" ||
	{ not_ok "a wrong compressed size: seek-table, frame 3, its entry"; diag_problems; }
xxh_agrees "seek table byte"

# ---- a missing shard ----
fresh miss
M=shards/track-000002.jsonl.zst
msize=$(stat -c %s "$D/$M")
rm "$D/$M"
run -C "$D"
is "missing shard: exit 1" "$STATUS" 1
grep -q "^missing|$M|" "$T/p.txt"
is "missing shard: kind missing, the file named" "$?" 0
xxh_agrees "missing"
run -C "$D" --ignore-missing
is "missing shard with --ignore-missing: exit 0" "$STATUS" 0
is "--ignore-missing: the skipped file is counted" "$(json_get "$T/v.json" shards_skipped)" 1
is "--ignore-missing: and its bytes" "$(json_get "$T/v.json" bytes_skipped)" "$msize"
grep -q '"detail":"1 listed file ([0-9]* bytes) not checked (missing)"' "$T/v.json"
is "--ignore-missing: says how much was skipped" "$?" 0
run -C "$D" --ignore-missing --deep
is "--ignore-missing --deep: exit 0 (the missing records are not reported unindexed)" "$STATUS" 0
if have xxhsum && ! (cd "$D" && xxhsum -c --ignore-missing MANIFEST 2>&1 | grep -q 'Wrong parameters'); then
	(cd "$D" && xxhsum -c --ignore-missing MANIFEST) >/dev/null 2>&1
	is "stock xxhsum -c --ignore-missing agrees" "$?" 0
else
	skip "stock xxhsum -c --ignore-missing agrees" "this xxhsum has no --ignore-missing"
fi

# ---- an extra shard, not listed ----
fresh extra
cp "$D/$S" "$D/shards/track-000077.jsonl.zst"
run -C "$D"
is "extra shard: exit 1" "$STATUS" 1
has "extra|shards/track-000077.jsonl.zst|||||" && ok "extra shard: kind extra, the file named" ||
	{ not_ok "extra shard: kind extra, the file named"; diag_problems; }

# ---- a malformed MANIFEST line ----
fresh badline
sed -i '3s/.*/XXH128 (shards\/track-000001.jsonl.zst) = not-a-hash/' "$D/MANIFEST"
run -C "$D"
is "malformed MANIFEST line: exit 1" "$STATUS" 1
grep -q '"kind":"metadata","shard":null.*"detail":"MANIFEST line 3 is malformed' "$T/v.json"
is "malformed line: kind metadata, with its line number" "$?" 0
if have xxhsum; then
	(cd "$D" && xxhsum -c --strict MANIFEST) >/dev/null 2>&1
	is "stock xxhsum -c --strict agrees (malformed line)" "$?" 1
fi

# ---- a MANIFEST path with ../ (never opened: a FIFO there would block a reader) ----
fresh dotdot
mkfifo "$T/outside.zst"
printf 'XXH128 (../outside.zst) = 00000000000000000000000000000000\n' >>"$D/MANIFEST"
printf 'XXH128 (/etc/passwd) = 00000000000000000000000000000000\n' >>"$D/MANIFEST"
run -C "$D"
is "a path with ../: exit 1, and it did not hang on the FIFO outside" "$STATUS" 1
grep -q '"kind":"metadata","shard":null.*"detail":"MANIFEST line [0-9]*: path goes up (\\"..\\")' "$T/v.json"
is "../: kind metadata, refused" "$?" 0
grep -q '"detail":"MANIFEST line [0-9]*: absolute path' "$T/v.json"
is "an absolute path: refused too" "$?" 0

# ---- the index ----
if [ -x "$WNC" ]; then
	"$WINNOW" export -C "$C" >"$T/export.jsonl"
	id100=$(sed -n 101p "$T/export.jsonl" | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
	# where record 100 is: the frame of shard 1 whose range holds it
	fresh delid
	"$WNC" "$D" del-id track "$id100"
	is "(wn-corrupt removed the id entry of record 100)" "$?" 0
	run -C "$D"
	is "fast mode does not read the index maps: exit 0" "$STATUS" 0
	run -C "$D" --deep
	is "index entry deleted: exit 1" "$STATUS" 1
	grep -q "^record-unindexed|$S|[0-9]*|[0-9]*|[0-9]*|100|$id100\$" "$T/p.txt" &&
		ok "record-unindexed: the shard, frame, record 100 and its id" ||
		{ not_ok "record-unindexed: the shard, frame, record 100 and its id"; diag_problems; }

	fresh setord
	"$WNC" "$D" set-id-ord track "$id100" 7
	run -C "$D" --deep
	is "id entry pointing at another record: exit 1" "$STATUS" 1
	grep -q "^index-dangling|$S|[0-9]*|[0-9]*|[0-9]*|7|" "$T/p.txt" && ok "index-dangling at record 7" ||
		{ not_ok "index-dangling at record 7"; diag_problems; }
	grep -q "^record-unindexed|$S|.*|100|$id100\$" "$T/p.txt"
	is "and record 100 is unindexed" "$?" 0

	fresh offset
	"$WNC" "$D" frame track 3 offset 99999
	run -C "$D" --deep
	is "frames row with a wrong offset: exit 1" "$STATUS" 1
	grep -q "^index-mismatch|$S|3|${OFF[3]}|${CS[3]}|" "$T/p.txt" && ok "index-mismatch: frame 3 of the shard, where it really is" ||
		{ not_ok "index-mismatch: frame 3 of the shard, where it really is"; diag_problems; }
	grep -q 'offset 99999 (the frame is at '"${OFF[3]}"')' "$T/v.json"
	is "the detail gives both offsets" "$?" 0

	fresh delframe
	"$WNC" "$D" del-frame track 2
	run -C "$D" --deep
	is "frames row deleted: exit 1" "$STATUS" 1
	grep -q "^record-unindexed|$S|2|${OFF[2]}|" "$T/p.txt"
	is "the frame without a row is named" "$?" 0
else
	skip "index damage" "no $WNC (make test builds it)"
fi

# ---- a record count changed in MANIFEST.json ----
fresh count
sed -i '/"path":"shards\/track-000001.jsonl.zst"/s/"records":\([0-9]*\)/"records":9\1/' "$D/MANIFEST.json"
run -C "$D"
is "count changed in MANIFEST.json, fast: exit 1" "$STATUS" 1
grep -q "^count|$S|" "$T/p.txt"
is "fast: kind count, the shard named" "$?" 0
run -C "$D" --deep
is "count changed, deep: exit 1" "$STATUS" 1
grep -q '"kind":"count","shard":"'"$S"'".*"detail":"MANIFEST.json says 9[0-9]* records, the file holds [0-9]*"' "$T/v.json"
is "deep: the records counted in the file against MANIFEST.json" "$?" 0
if have xxhsum; then
	(cd "$D" && xxhsum -c MANIFEST) >/dev/null 2>&1
	is "(xxhsum -c cannot see this one: the files are intact)" "$?" 0
fi

# ---- human output: one line per problem, kind first ----
fresh human
flip "$D/$S" $((OFF[1] + CS[1] / 2))
"$WINNOW" verify -C "$D" --deep >"$T/h.out" 2>&1
is "human output: exit 1" "$?" 1
grep -q "^frame-corrupt: $S frame 1 bytes ${OFF[1]}-$((OFF[1] + CS[1] - 1)): " "$T/h.out"
is "human output: 'frame-corrupt: FILE frame N bytes A-B: detail'" "$?" 0
tail -n 1 "$T/h.out" | grep -q '^damaged: 2 problems; '
is "human output: a last line with the count" "$?" 0
