#!/usr/bin/env bash
# t0770-catalog-fifo.sh - a FIFO (or a device) in place of a catalog's file must not make
# winnow wait for ever: verify (fast, deep, bare), export, get and ingest refuse it at once
# with "not a regular file", naming it. Every command runs under `timeout 10`, so that a
# regression fails (exit 124) instead of hanging the test run.
. "$(dirname "$0")/lib.sh"

IN=$T/tracks.jsonl
"$GEN" --count 3000 --seed 9 -o "$IN"
C=$T/cat
"$WINNOW" ingest -C "$C" -q --shard-size 64K --frame-size 8K "$IN" >/dev/null 2>&1
is "ingest exits 0" "$?" 0
SH=shards/track-000002.jsonl.zst
ID2=$(zstd -dc "$C/$SH" 2>/dev/null | head -n 1 | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
check "an id of $SH" test -n "$ID2"

# fifo CAT FILE: a copy of the catalog with FILE replaced by a FIFO
fifo() { rm -rf "$1"; cp -a "$C" "$1"; rm -f "$1/$2"; mkfifo "$1/$2"; }
# quick WHAT STATUS PATTERN command...: exits STATUS within 10 s, stdout+stderr match PATTERN
quick() {
	local what=$1 want=$2 pat=$3
	shift 3
	timeout 10 "$@" >"$T/.out" 2>"$T/.err" </dev/null
	local got=$?
	if [ "$got" -eq "$want" ] && cat "$T/.out" "$T/.err" | grep -qF -- "$pat"; then ok "$what"; else
		not_ok "$what"; diag "exit $got, wanted $want and \"$pat\"" "$(head -n 5 "$T/.out" "$T/.err")"; fi
}

F=$T/fifo
fifo "$F" "$SH"
quick "verify: not a regular file" 1 "missing: $SH: not a regular file" "$WINNOW" verify -C "$F"
quick "verify --deep: not a regular file" 1 "missing: $SH: not a regular file" "$WINNOW" verify -C "$F" --deep
quick "export: exit 1, names the shard" 1 "$SH: not a regular file" "$WINNOW" export -C "$F"
quick "get: exit 1, names the shard" 1 "$SH: not a regular file" "$WINNOW" get -C "$F" "$ID2"
B=$T/bare
mkdir -p "$B"
cp -r "$F/shards" "$F/ledger" "$F/rejects" "$F"/MANIFEST* "$F/catalog.json" "$B/"
quick "bare folder, verify: not a regular file" 1 "missing: $SH: not a regular file" "$WINNOW" verify --manifest "$B/MANIFEST"
quick "bare folder, verify --deep: not a regular file" 1 "missing: $SH: not a regular file" \
	"$WINNOW" verify --manifest "$B/MANIFEST" --deep

# the manifests: read by verify, replaced by a writer
for m in MANIFEST MANIFEST.json SHA256SUMS catalog.json; do
	fifo "$T/m" "$m"
	quick "verify with $m a FIFO: does not wait, says so" 1 "$m: not a regular file" "$WINNOW" verify -C "$T/m"
done
fifo "$T/m" MANIFEST.json.tmp
quick "ingest with a FIFO as MANIFEST.json.tmp: removed, exit 0" 0 "" "$WINNOW" ingest -C "$T/m" -q "$IN"
check "the FIFO is gone" test ! -p "$T/m/MANIFEST.json.tmp"
fifo "$T/bm" MANIFEST
quick "bare: MANIFEST a FIFO: exit 3, says so" 3 "MANIFEST: not a regular file" "$WINNOW" verify --manifest "$T/bm/MANIFEST"

# the index's files
for f in index/writer.lock index/lock.mdb index/data.mdb; do
	fifo "$T/x" "$f"
	quick "ingest with $f a FIFO: refused at once" 1 "$f: not a regular file" "$WINNOW" ingest -C "$T/x" -q "$IN"
done
fifo "$T/x" index/data.mdb
quick "export with index/data.mdb a FIFO: refused at once" 1 "index/data.mdb: not a regular file" "$WINNOW" export -C "$T/x"

# the unsealed file of a crashed run
K=$T/crashed
crash_mid_input "$K" "$IN" --checkpoint 500 --shard-size 64K --frame-size 8K
U=$(unsealed_shard "$K")
check "the crashed run left an unsealed shard" test -n "$U" -a -f "$K/$U"
rm -f "$K/$U" && mkfifo "$K/$U"
quick "ingest after the crash, the unsealed shard a FIFO: refused at once" 1 "$U: not a regular file" \
	"$WINNOW" ingest -C "$K" -q "$IN"
quick "verify after the crash, the unsealed shard a FIFO" 1 "$U: not a regular file" "$WINNOW" verify -C "$K"

# a character device (needs the right to make one)
D=$T/dev
rm -rf "$D" && cp -a "$C" "$D" && rm "$D/$SH"
if mknod "$D/$SH" c 1 3 2>/dev/null; then
	quick "verify with a device as shard: not a regular file" 1 "missing: $SH: not a regular file" "$WINNOW" verify -C "$D" --deep
	quick "export with a device as shard: exit 1" 1 "$SH: not a regular file" "$WINNOW" export -C "$D"
else
	skip "verify with a device as shard" "mknod not permitted"
	skip "export with a device as shard" "mknod not permitted"
fi
