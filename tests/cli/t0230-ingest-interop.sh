#!/usr/bin/env bash
# t0230-ingest-interop.sh - the stock tools read what winnow writes: zstd -t / -dc / -l on
# every shard (dc of the shards in order == export), xxhsum -c MANIFEST, MANIFEST.json as
# JSON with per-file records/bytes/frames, mdb_stat on the index, and the seekable-format
# seek table at the end of every sealed file.
. "$(dirname "$0")/lib.sh"

need=""
for t in zstd xxhsum mdb_stat od; do have $t || need="$need $t"; done
if [ -n "$need" ]; then
	skip "interop with stock tools" "missing:$need"
	exit 0
fi

IN=$T/tracks.jsonl
# Input: the generator when it is there, else an awk loop; both mix in duplicates and
# bad lines so that the ledger and rejects streams are written too.
if [ -x "$GEN" ] && "$GEN" --help 2>&1 | grep -q -- '--seed'; then
	"$GEN" --count 5000 --seed 7 -o "$IN"
	diag "input: $GEN --count 5000 --seed 7"
else
	awk 'BEGIN {
		srand(7)
		for (i = 1; i <= 5000; i++) {
			r = rand()
			if (r < 0.004) { print "{\"id\":\"broken" i "\",\"name\":"; continue }
			if (r < 0.08 && i > 10) { j = int(rand() * (i - 1)) + 1 } else { j = i }
			printf "{\"id\":\"trk%07d\",\"name\":\"Song %d \\u00e9 caf\303\251\",\"album\":{\"id\":\"alb%05d\",\"name\":\"Album %d\"},\"duration_ms\":%d,\"external_ids\":{\"isrc\":\"QZ%010d\"},\"popularity\":%d,\"pad\":\"%s\"}\n",
				j, j, j % 997, j % 997, 120000 + j * 37 % 200000, j, j % 100, substr("abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789", 1 + j % 50, 40 + j % 60)
		}
	}' >"$IN"
	diag "input: awk loop (no usable $GEN)"
fi

C=$T/cat
"$WINNOW" ingest -C "$C" -q --json --shard-size 64K --frame-size 8K "$IN" >"$T/r.json" 2>"$T/r.err"
is "ingest exits 0" "$?" 0
is "no versions superseded (so shards hold exactly the surviving records)" "$(json_get "$T/r.json" superseded)" 0
nshards=$(ls "$C"/shards/ | grep -c '\.zst$')
if [ "$nshards" -ge 3 ]; then ok "several shards ($nshards)"; else not_ok "several shards ($nshards)"; fi

# ---- zstd ----
zstd -q -t "$C"/shards/*.zst >/dev/null 2>"$T/zt.err"
is "zstd -t passes on every shard" "$?" 0
zstd -q -t "$C"/ledger/*.zst "$C"/rejects/*.zst >/dev/null 2>>"$T/zt.err"
is "zstd -t passes on every ledger and rejects file" "$?" 0
[ -s "$T/zt.err" ] && diag "$(head -n 5 "$T/zt.err")"
"$WINNOW" export -C "$C" >"$T/export" 2>/dev/null
is "export exits 0" "$?" 0
# shards in sequence order: names are kind-NNNNNN.jsonl.zst, zero-padded
ls "$C"/shards/track-*.jsonl.zst | sort >"$T/shardlist"
xargs zstd -q -dc <"$T/shardlist" >"$T/shards.jsonl" 2>/dev/null
if cmp -s "$T/shards.jsonl" "$T/export"; then ok "zstd -dc of all shards in order == export"
else not_ok "zstd -dc of all shards in order == export"; diag "$(wc -c <"$T/shards.jsonl") vs $(wc -c <"$T/export") bytes"; fi
is "export has as many records as were kept" "$(wc -l <"$T/export")" "$(json_get "$T/r.json" kept)"

# ---- xxhsum -c MANIFEST ----
(cd "$C" && xxhsum -c MANIFEST) >"$T/xxh.out" 2>&1
is "cd CATALOG && xxhsum -c MANIFEST passes" "$?" 0
(cd "$C" && xxhsum --strict -c MANIFEST) >/dev/null 2>&1
is "xxhsum --strict -c MANIFEST passes (every line well formed)" "$?" 0
bad=$(grep -v -c -E '^XXH128 \((shards|ledger|rejects)/(track|artist)-[0-9]{6}\.jsonl\.zst\) = [0-9a-f]{32}$' "$C/MANIFEST")
is "every MANIFEST line is 'XXH128 (DIR/KIND-NNNNNN.jsonl.zst) = <32 hex>'" "$bad" 0
(cd "$C" && ls shards/*.zst ledger/*.zst rejects/*.zst 2>/dev/null) | sort >"$T/files"
sed -n 's/^XXH128 (\(.*\)) = .*/\1/p' "$C/MANIFEST" | sort >"$T/listed"
if cmp -s "$T/files" "$T/listed"; then ok "MANIFEST lists every file under shards/, ledger/ and rejects/, and no other"
else not_ok "MANIFEST lists every file under shards/, ledger/ and rejects/, and no other"; diag "$(diff "$T/files" "$T/listed" | head)"; fi
if [ -n "$(ls "$C"/ledger/ 2>/dev/null)" ] && [ -n "$(ls "$C"/rejects/ 2>/dev/null)" ]; then
	ok "the input produced ledger and rejects files"
else
	not_ok "the input produced ledger and rejects files"
fi
# our own recomputation of one hash: xxhsum -H2 (XXH128) in the canonical form
f1=$(head -n 1 "$T/shardlist")
want=$(cd "$C" && xxhsum -H2 "shards/$(basename "$f1")" 2>/dev/null | cut -d' ' -f1)
got=$(sed -n "s|^XXH128 (shards/$(basename "$f1")) = ||p" "$C/MANIFEST")
is "MANIFEST hash of the first shard == xxhsum -H2" "$got" "$want"

# a flipped byte is caught by xxhsum -c (the check can fail)
cp -r "$C" "$T/flip"
f=$(ls "$T"/flip/shards/*.zst | head -n 1)
# a byte other than the one there
if cmp -s <(printf '\x00') <(dd if="$f" bs=1 skip=100 count=1 2>/dev/null); then nb='\x01'; else nb='\x00'; fi
printf "$nb" | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null
cmp -s "$f" "$C/shards/$(basename "$f")"
is "(the copy's shard now differs from the original)" "$?" 1
(cd "$T/flip" && xxhsum -c MANIFEST) >/dev/null 2>&1
is "xxhsum -c MANIFEST fails after a byte of a shard is changed" "$?" 1

# ---- MANIFEST.json ----
if have python3; then
	python3 -m json.tool "$C/MANIFEST.json" >/dev/null 2>"$T/json.err"
	is "MANIFEST.json is valid JSON (python3 -m json.tool)" "$?" 0
	python3 -m json.tool "$C/catalog.json" >/dev/null 2>&1
	is "catalog.json is valid JSON" "$?" 0
	# every file: bytes == its size, records == its lines, raw_bytes == its decompressed size
	python3 - "$C" <<'EOF' >"$T/py.out" 2>&1
import json, os, subprocess, sys
c = sys.argv[1]
m = json.load(open(os.path.join(c, "MANIFEST.json")))
bad = 0
paths = set()
for f in m["files"]:
    p = os.path.join(c, f["path"]); paths.add(f["path"])
    for k in ("records", "bytes", "frames"):
        if not isinstance(f.get(k), int):
            print(f["path"], "lacks integer", k); bad += 1
    raw = subprocess.run(["zstd", "-q", "-dc", p], capture_output=True).stdout
    if f["bytes"] != os.path.getsize(p): print(f["path"], "bytes", f["bytes"], "!= size", os.path.getsize(p)); bad += 1
    if f["records"] != raw.count(b"\n"): print(f["path"], "records", f["records"], "!= lines", raw.count(b"\n")); bad += 1
    if f.get("raw_bytes", len(raw)) != len(raw): print(f["path"], "raw_bytes", f["raw_bytes"], "!=", len(raw)); bad += 1
print("files", len(paths))
print("bad", bad)
EOF
	is "MANIFEST.json: per file, bytes == size, records == lines, raw_bytes == decompressed size" "$(tail -n 1 "$T/py.out")" "bad 0"
	[ "$(tail -n 1 "$T/py.out")" = "bad 0" ] || diag "$(head -n 8 "$T/py.out")"
	is "MANIFEST.json lists as many files as MANIFEST" "$(grep '^files' "$T/py.out" | cut -d' ' -f2)" "$(wc -l <"$C/MANIFEST")"
else
	skip "MANIFEST.json is valid JSON" "python3 not installed"
fi
# without python: the numbers per file, from the one-entry-a-line layout
total=$(grep '"path":"shards/' "$C/MANIFEST.json" | grep -o '"records":[0-9]*' | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')
is "MANIFEST.json: shard records add up to the kept count" "$total" "$(json_get "$T/r.json" kept)"

# ---- the index ----
mdb_stat -a "$C/index" >"$T/mdb.out" 2>&1
is "mdb_stat -a CATALOG/index works" "$?" 0
grep -q 'Status of track.id' "$T/mdb.out"
is "mdb_stat lists the track.id database" "$?" 0
mdb_stat -e "$C/index" >/dev/null 2>&1
is "mdb_stat -e works" "$?" 0

# ---- seek tables ----
# Per file, one od + awk: the footer (u32le nframes, descriptor, u32le 0x8F92EAB1), the
# skippable-frame header (u32le 0x184D2A5E, u32le size) before the entries, and the sums
# of the entries' compressed and raw sizes. Prints "magic ok|bad nframes csum dsum tstart".
seektable() {
	local size=$1 f=$2 n=$(( $1 < 1048576 ? $1 : 1048576 ))
	od -An -v -tu1 -j $((size - n)) -N $n "$f" | awk -v size="$size" -v n="$n" '
		{ for (i = 1; i <= NF; i++) b[c++] = $i }
		function le(o) { o -= size - n; return b[o] + 256 * (b[o + 1] + 256 * (b[o + 2] + 256 * b[o + 3])) }
		END {
			if (le(size - 4) != 2408770225) { print "badmagic 0 0 0 0"; exit }
			nf = le(size - 9); esz = (b[n - 5] >= 128) ? 12 : 8
			t = size - 9 - nf * esz - 8
			if (t < size - n || le(t) != 407710302 || le(t + 4) != nf * esz + 9) { print "badheader " nf " 0 0 " t; exit }
			for (i = 0; i < nf; i++) { cs += le(t + 8 + i * esz); ds += le(t + 12 + i * esz) }
			printf "ok %d %d %d %d\n", nf, cs, ds, t
		}'
}
# the frames, raw_bytes of each file in MANIFEST.json (one entry a line)
declare -A mj_frames mj_raw
while read -r p fr rb; do mj_frames[$p]=$fr mj_raw[$p]=$rb; done < <(
	sed -n 's/.*"path":"\([^"]*\)".*"raw_bytes":\([0-9]*\).*"frames":\([0-9]*\).*/\1 \3 \2/p' "$C/MANIFEST.json")
# zstd's own count of zstd frames per file
declare -A zl_frames
while read -r fr p; do zl_frames[$p]=$fr; done < <(cd "$C" && zstd -lv shards/*.zst ledger/*.zst rejects/*.zst 2>/dev/null |
	awk '/\.zst *$/ { name = $1 } /^# Zstandard Frames:/ { print $4, name }')
badmagic=0 badcount=0 badzl=0 badsum=0 checked=0
while read -r rel size; do
	read -r res nf cs ds tstart < <(seektable "$size" "$C/$rel")
	[ "$res" = ok ] || { badmagic=$((badmagic + 1)); diag "$rel: $res"; continue; }
	[ "${mj_frames[$rel]:-}" = "$nf" ] || { badcount=$((badcount + 1)); diag "$rel: seek table $nf frames, MANIFEST.json ${mj_frames[$rel]:-none}"; }
	[ "${zl_frames[$rel]:-}" = "$nf" ] || { badzl=$((badzl + 1)); diag "$rel: zstd -lv counts ${zl_frames[$rel]:-none} frames, seek table $nf"; }
	# the entries: compressed sizes add up to the file up to the table, raw sizes to raw_bytes
	[ "$cs" = "$tstart" ] && [ "$ds" = "${mj_raw[$rel]:-}" ] || { badsum=$((badsum + 1)); diag "$rel: seek table sizes $cs/$ds, want $tstart/${mj_raw[$rel]:-}"; }
	checked=$((checked + 1))
done < <(cd "$C" && stat -c '%n %s' shards/*.zst ledger/*.zst rejects/*.zst 2>/dev/null)
is "every file ends with the seekable magic b1 ea 92 8f and a skippable-frame header" "$badmagic" 0
is "seek table frame count == MANIFEST.json \"frames\"" "$badcount" 0
is "seek table frame count == zstd -lv's count of zstd frames" "$badzl" 0
is "seek table entries add up to the file's frames and its raw_bytes" "$badsum" 0
is "seek tables checked on every listed file" "$checked" "$(wc -l <"$C/MANIFEST")"
