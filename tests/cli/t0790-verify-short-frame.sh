#!/usr/bin/env bash
# t0790-verify-short-frame.sh - verify --deep on a seek table entry that gives a frame
# fewer than 4 compressed bytes: the message shows the bytes that were read, and only
# those (never what the buffer held before), the same with one thread or several, with
# -C and in a bare folder.
. "$(dirname "$0")/lib.sh"

IN=$T/tracks.jsonl
"$GEN" --count 3000 --seed 4 -o "$IN"
C=$T/cat
"$WINNOW" ingest -C "$C" -q --shard-size 64K --frame-size 8K "$IN" >/dev/null 2>&1
is "ingest exits 0" "$?" 0
SH=shards/track-000002.jsonl.zst
first4=$(od -An -tx1 -N4 "$C/$SH" | sed 's/^ *//')
is "the shard starts with the zstd magic" "$first4" "28 b5 2f fd"

u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
le32() { printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)))"; }
put32() { le32 "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null; }

# short K: a copy whose seek table gives frame 0 K bytes and frame 1 the rest of both
short() {
	rm -rf "$T/s" && cp -a "$C" "$T/s"
	local f=$T/s/$SH size n e0 c0 c1
	size=$(stat -c %s "$f")
	n=$(u32 "$f" $((size - 9)))
	e0=$((size - 9 - n * 12))
	c0=$(u32 "$f" "$e0")
	c1=$(u32 "$f" $((e0 + 12)))
	put32 "$f" "$e0" "$1"
	put32 "$f" $((e0 + 12)) $((c0 + c1 - $1))
	rm -rf "$T/b" && mkdir -p "$T/b"
	cp -r "$T/s/shards" "$T/s/ledger" "$T/s/rejects" "$T/s"/MANIFEST* "$T/s/catalog.json" "$T/b/"
}

for k in 0 1 2 3 4; do
	case $k in
	0) what="it has no bytes" ;;
	1) what="its only byte: 28" ;;
	2) what="its only 2 bytes: 28 b5" ;;
	3) what="its only 3 bytes: 28 b5 2f" ;;
	4) what="first bytes 28 b5 2f fd" ;;
	esac
	short "$k"
	[ "$k" -gt 1 ] && range="bytes 0-$((k - 1))" || range="byte 0"
	[ "$k" = 0 ] && range="byte 0"
	want="frame-corrupt: $SH frame 0 $range: frame 0: not a zstd frame header ($what)"
	for mode in "-C $T/s -j1" "-C $T/s -j2" "--manifest $T/b/MANIFEST -j1" "--manifest $T/b/MANIFEST -j2"; do
		# shellcheck disable=SC2086
		"$WINNOW" verify --deep $mode >"$T/.out" 2>"$T/.err"
		rc=$?
		if [ "$rc" = 1 ] && grep -qxF "$want" "$T/.out"; then ok "$k bytes, ${mode#* $T/}: \"$what\""; else
			not_ok "$k bytes, ${mode#* $T/}: \"$what\""; diag "exit $rc; wanted: $want" "$(grep 'frame 0' "$T/.out")" "$(cat "$T/.err")"; fi
	done
done
