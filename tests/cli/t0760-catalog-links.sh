#!/usr/bin/env bash
# t0760-catalog-links.sh - symbolic links planted inside a catalog are never followed: not
# by the writer that rolls back and appends to the unsealed file of a crashed run (it would
# truncate and rewrite the link's target), nor by the manifests' replacement, the index or
# the lock, nor by export and get reading a sealed shard (which verify refuses). Each is a
# clear error naming the file and the reason, and the file outside is left as it was.
. "$(dirname "$0")/lib.sh"

IN=$T/tracks.jsonl
"$GEN" --count 3000 --seed 5 -o "$IN"
C=$T/cat
"$WINNOW" ingest -C "$C" -q --shard-size 64K --frame-size 8K "$IN" >/dev/null 2>&1
is "ingest exits 0" "$?" 0
SH=shards/track-000002.jsonl.zst
ID=$("$WINNOW" export -C "$C" | head -n 1 | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
# an id whose record is in SH
ID2=$(zstd -dc "$C/$SH" 2>/dev/null | head -n 1 | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
check "an id of $SH" test -n "$ID2"

# victim FILE: a file outside the catalog; untouched FILE: it is as it was
victim() { head -c 20000 /dev/urandom >"$1"; md5sum <"$1" >"$1.md5"; }
untouched() { md5sum <"$1" | cmp -s - "$1.md5"; }

# ---- a crashed run: its unsealed shard replaced by a link ----
K=$T/crashed
crash_mid_input "$K" "$IN" --checkpoint 500 --shard-size 64K --frame-size 8K
U=$(unsealed_shard "$K")
check "the crashed run left an unsealed shard" test -n "$U" -a -f "$K/$U"
victim "$T/victim-unsealed"
cp "$K/$U" "$T/victim-unsealed" && head -c 5000 /dev/urandom >>"$T/victim-unsealed" && md5sum <"$T/victim-unsealed" >"$T/victim-unsealed.md5"
rm -f "$K/$U" && ln -s "$T/victim-unsealed" "$K/$U"
must_fail "ingest after the crash, the unsealed shard a link: exit 1" 1 "$WINNOW" ingest -C "$K" -q "$IN"
grep -qF "$U: a symbolic link" "$T/.err"
is "the error names the file and says it is a link" "$?" 0
check "the link's target was not truncated nor rewritten" untouched "$T/victim-unsealed"

# ---- a sealed shard replaced by a link to a copy: export and get refuse, verify too ----
L=$T/linked
cp -a "$C" "$L"
cp "$L/$SH" "$T/outside.zst"
rm "$L/$SH" && ln -s "$T/outside.zst" "$L/$SH"
must_fail "export through a linked shard: exit 1" 1 "$WINNOW" export -C "$L"
grep -qF "$SH: a symbolic link" "$T/.err"
is "export names the shard and the link" "$?" 0
must_fail "get of a record in a linked shard: exit 1" 1 "$WINNOW" get -C "$L" "$ID2"
grep -qF "$SH: a symbolic link" "$T/.err"
is "get names the shard and the link" "$?" 0
check "get of a record elsewhere still works" "$WINNOW" get -C "$L" "$ID"
must_fail "verify: exit 1" 1 "$WINNOW" verify -C "$L"
grep -qF "metadata: $SH: refused: a symbolic link" "$T/.out"
is "verify refuses the link" "$?" 0
must_fail "verify --deep: exit 1" 1 "$WINNOW" verify -C "$L" --deep
grep -qF "metadata: $SH: refused: a symbolic link" "$T/.out"
is "verify --deep refuses the link" "$?" 0

# a link inside the folder is refused as well (it is not a file winnow wrote)
L2=$T/inner
cp -a "$C" "$L2"
mv "$L2/$SH" "$L2/shards/moved.zst" && ln -s moved.zst "$L2/$SH"
must_fail "export through a link to a file inside: exit 1" 1 "$WINNOW" export -C "$L2"
grep -qF "$SH: a symbolic link" "$T/.err"
is "export names it" "$?" 0

# ---- the shards folder itself a link ----
D=$T/dirlink
cp -a "$C" "$D"
mv "$D/shards" "$T/shards-outside" && ln -s "$T/shards-outside" "$D/shards"
must_fail "export with shards/ a link: exit 1" 1 "$WINNOW" export -C "$D"
grep -qF "shards/track-000001.jsonl.zst: a symbolic link" "$T/.err"
is "export says the path goes through a link" "$?" 0
before=$(ls "$T/shards-outside" | md5sum)
must_fail "ingest with shards/ a link: exit 1" 1 "$WINNOW" ingest -C "$D" -q "$IN"
grep -qF "shards: a symbolic link" "$T/.err"
is "ingest names the folder" "$?" 0
is "nothing was removed or added in the folder outside" "$(ls "$T/shards-outside" | md5sum)" "$before"

# ---- a stale MANIFEST.json.tmp planted as a link: the writer removes it, never opens it ----
M=$T/tmplink
cp -a "$C" "$M"
victim "$T/victim-tmp"
ln -s "$T/victim-tmp" "$M/MANIFEST.json.tmp"
check "ingest with MANIFEST.json.tmp a link: exit 0" "$WINNOW" ingest -C "$M" -q "$IN"
check "the link's target is untouched" untouched "$T/victim-tmp"
check "the link is gone" test ! -L "$M/MANIFEST.json.tmp"
check "the catalog verifies" "$WINNOW" verify -C "$M"

# ---- MANIFEST.json a link: the writer replaces the link, the target is untouched ----
M2=$T/manlink
cp -a "$C" "$M2"
victim "$T/victim-mj"
rm "$M2/MANIFEST.json" && ln -s "$T/victim-mj" "$M2/MANIFEST.json"
must_fail "verify with MANIFEST.json a link: exit 1" 1 "$WINNOW" verify -C "$M2"
grep -qF "metadata: MANIFEST.json: a symbolic link" "$T/.out"
is "verify refuses to read it" "$?" 0
check "ingest: exit 0" "$WINNOW" ingest -C "$M2" -q "$IN"
check "the target of MANIFEST.json is untouched" untouched "$T/victim-mj"
check "MANIFEST.json is a file again" test -f "$M2/MANIFEST.json" -a ! -L "$M2/MANIFEST.json"

# ---- the index's files links: LMDB would follow them (and resize lock.mdb) ----
for f in index/lock.mdb index/writer.lock index/data.mdb; do
	X=$T/ix-$(basename "$f")
	cp -a "$C" "$X"
	victim "$T/victim-$(basename "$f")"
	[ "$f" = index/data.mdb ] && cp "$X/$f" "$T/victim-data.mdb" && md5sum <"$T/victim-data.mdb" >"$T/victim-data.mdb.md5"
	rm -f "$X/$f" && ln -s "$T/victim-$(basename "$f")" "$X/$f"
	"$WINNOW" ingest -C "$X" -q "$IN" >"$T/.out" 2>"$T/.err"
	rc=$?
	if [ "$rc" -ne 0 ] && grep -qF "$f: a symbolic link" "$T/.err"; then ok "ingest with $f a link: refused, named"; else
		not_ok "ingest with $f a link: refused, named"; diag "exit $rc" "$(cat "$T/.err")"; fi
	check "$f: the link's target is untouched" untouched "$T/victim-$(basename "$f")"
	if [ "$f" != index/writer.lock ]; then
		"$WINNOW" export -C "$X" >/dev/null 2>"$T/.err"
		rc=$?
		if [ "$rc" -ne 0 ] && grep -qF "$f: a symbolic link" "$T/.err"; then ok "export with $f a link: refused, named"; else
			not_ok "export with $f a link: refused, named"; diag "exit $rc" "$(cat "$T/.err")"; fi
	fi
done

check "the original catalog is clean" "$WINNOW" verify -C "$C" --deep
