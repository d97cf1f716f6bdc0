#!/usr/bin/env bash
# t0700-get-proof.sh - get and export hand out only proven records. get decodes a frame
# only as far as the record it wants, so zstd never checks that frame's checksum: each
# record must match the fingerprint the index holds for it. One byte of the first frame
# of a shard is overwritten; then every id of that frame, asked for one at a time, gives
# either its true record (exit 0) or exit 1 naming the shard, the frame and its bytes:
# never an altered record, never a false "no track with id". export of the same shard
# fails its checksum. A catalog with --ignore-field (whose fingerprints leave a field
# out) has get check the whole frame's checksum.
. "$(dirname "$0")/lib.sh"

IN=$T/in.jsonl
"$GEN" --count 20000 --seed 1 -o "$IN"
G=$T/good
"$WINNOW" ingest -C "$G" -q "$IN" >/dev/null 2>&1
is "ingest exits 0" "$?" 0
"$WINNOW" export -C "$G" >"$T/good.jsonl"
S=shards/track-000001.jsonl.zst
B=$T/bad
cp -a "$G" "$B"
printf Z | dd of="$B/$S" bs=1 seek=5000 conv=notrunc 2>/dev/null
# the first 400 records are in frame 0 (1 MiB of records of ~550 bytes)
head -n 400 "$T/good.jsonl" | grep -o '^{"id":"[^"]*"' | cut -d'"' -f4 >"$T/ids"
is "400 ids of frame 0" "$(wc -l <"$T/ids" | tr -d ' ')" 400

right=0 altered=0 damage=0 notfound=0 other=0
while read -r id; do
	"$WINNOW" get -C "$B" "$id" >"$T/rec" 2>"$T/err"
	st=$?
	if [ $st -eq 0 ]; then
		if grep -qxF -f "$T/rec" "$T/good.jsonl" && [ "$(wc -l <"$T/rec")" -eq 1 ]; then
			right=$((right + 1))
		else
			altered=$((altered + 1))
		fi
	elif grep -q 'no track with id' "$T/err"; then
		notfound=$((notfound + 1))
	elif [ $st -eq 1 ] && [ ! -s "$T/rec" ] && grep -qE "^winnow: $S: frame 0 \(bytes 0-[0-9]+\): record [0-9]+ " "$T/err"; then
		damage=$((damage + 1))
	else
		other=$((other + 1))
		[ $other -le 2 ] && diag "get $id: exit $st: $(cat "$T/err")"
	fi
done <"$T/ids"
diag "frame 0, one id at a time: $right right, $damage damage reported, $altered altered, $notfound not found, $other other"
is "get never hands out an altered record" "$altered" 0
is "get never says 'not found' for a record the index holds" "$notfound" 0
is "every other answer is exit 1 naming the shard, frame 0 and its bytes" "$other" 0
[ "$damage" -gt 0 ] && ok "the damage is found" || not_ok "the damage is found"
[ "$right" -gt 0 ] && ok "the records before the damage are still served" || not_ok "the records before the damage are still served"

# many ids in one call: the damaged frame stops it, nothing wrong is printed
must_fail "get of many ids across the damage exits 1" 1 "$WINNOW" get -C "$B" $(tr '\n' ' ' <"$T/ids")
is "... and prints no record" "$(wc -c <"$T/.out" | tr -d ' ')" 0
grep -q "$S: frame 0 (bytes" "$T/.err"
is "... and names the shard and frame" "$?" 0
must_fail "export of the damaged shard exits 1" 1 "$WINNOW" export -C "$B"
grep -qE "^winnow: $S: frame 0 \(bytes 0-[0-9]+\): " "$T/.err"
is "... naming the shard, frame 0 and its bytes" "$?" 0
cmp -s "$T/.out" /dev/null
is "... and writes nothing of the damaged frame" "$?" 0

# the same ids from the sound catalog: identical to export
"$WINNOW" get -C "$G" $(tr '\n' ' ' <"$T/ids") >"$T/got"
is "get on the sound catalog exits 0" "$?" 0
head -n 400 "$T/good.jsonl" | cmp -s - "$T/got"
is "... and gives the records export gives" "$?" 0
"$WINNOW" get -C "$G" --isrc "$(head -n 1 "$T/good.jsonl" | grep -o '"isrc":"[^"]*"' | cut -d'"' -f4)" >/dev/null
is "get --isrc on the sound catalog exits 0" "$?" 0

# the frame header's checksum flag cleared: zstd would no longer check the content
H=$T/noflag
cp -a "$G" "$H"
b=$(od -An -tu1 -j 4 -N 1 "$H/$S" | tr -d ' ')
printf "$(printf '\\%03o' $((b & ~4)))" | dd of="$H/$S" bs=1 seek=4 conv=notrunc 2>/dev/null
must_fail "export of a frame without its checksum flag exits 1" 1 "$WINNOW" export -C "$H"
grep -q "$S: frame 0 (bytes 0-[0-9]*): " "$T/.err"
is "... naming the frame" "$?" 0

# a catalog with an ignore path: the fingerprint leaves popularity out, so get checks
# the frame's checksum, also for a record before the damage
I=$T/ign
"$WINNOW" ingest -C "$I" -q --ignore-field popularity "$IN" >/dev/null 2>&1
printf Z | dd of="$I/$S" bs=1 seek=5000 conv=notrunc 2>/dev/null
must_fail "with --ignore-field, get of the first record of a damaged frame exits 1" 1 "$WINNOW" get -C "$I" "$(head -n 1 "$T/ids")"
grep -q "$S: frame 0 (bytes 0-[0-9]*): " "$T/.err"
is "... naming the frame" "$?" 0
