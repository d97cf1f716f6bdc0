#!/usr/bin/env bash
# t0750-verify-manifest-json.sh - a MANIFEST.json entry whose member is missing, or whose
# value is not what FORMAT.md 7.2 says (a string, 1e3, -1, null, 2^64, an unknown role or
# kind, a hash that is not hex), is a metadata problem that names the line and the member:
# with -C and in a bare folder (no index), fast and --deep. Never "clean".
. "$(dirname "$0")/lib.sh"

IN=$T/tracks.jsonl
"$GEN" --count 3000 --seed 7 -o "$IN"
C=$T/cat
"$WINNOW" ingest -C "$C" -q --shard-size 64K --frame-size 8K "$IN" >/dev/null 2>&1
is "ingest exits 0" "$?" 0
SH=shards/track-000003.jsonl.zst
LINE=$(grep -n "\"path\":\"$SH\"" "$C/MANIFEST.json" | cut -d: -f1)
check "the shard is listed in MANIFEST.json" test -n "$LINE"

# damage SED FIELD WHY: apply SED to the shard's line of a copy of MANIFEST.json, then
# every mode must report "metadata: SH: MANIFEST.json line L: "FIELD" WHY", exit 1
damage() {
	local sed=$1 field=$2 why=$3 mode
	rm -rf "$T/d" "$T/b"
	cp -a "$C" "$T/d"
	sed -i "${LINE}s/$sed" "$T/d/MANIFEST.json"
	if cmp -s "$C/MANIFEST.json" "$T/d/MANIFEST.json"; then not_ok "$field $why: the damage was made"; return; fi
	mkdir -p "$T/b"
	cp -r "$T/d/shards" "$T/d/ledger" "$T/d/rejects" "$T/d"/MANIFEST* "$T/d/catalog.json" "$T/b/"
	local want="metadata: $SH: MANIFEST.json line $LINE: \"$field\" $why"
	for mode in "-C $T/d" "-C $T/d --deep" "--manifest $T/b/MANIFEST" "--manifest $T/b/MANIFEST --deep"; do
		# shellcheck disable=SC2086
		"$WINNOW" verify $mode >"$T/.out" 2>"$T/.err"
		local rc=$?
		if [ "$rc" = 1 ] && grep -qxF "$want" "$T/.out"; then
			ok "$field $why: verify ${mode#* $T/} reports it"
		else
			not_ok "$field $why: verify ${mode#* $T/} reports it"
			diag "exit $rc; wanted: $want" "$(head -n 5 "$T/.out" "$T/.err")"
		fi
	done
}

for field in records frames bytes raw_bytes first_ordinal last_ordinal; do
	damage ",\"$field\":[0-9]*//" "$field" "is missing"
	damage "\"$field\":[0-9]*/\"$field\":\"x\"/" "$field" "is a string, not an integer"
	damage "\"$field\":[0-9]*/\"$field\":1e3/" "$field" "is not an integer (it has a fraction or an exponent)"
	damage "\"$field\":[0-9]*/\"$field\":-1/" "$field" "is negative"
	damage "\"$field\":[0-9]*/\"$field\":null/" "$field" "is null, not an integer"
	damage "\"$field\":[0-9]*/\"$field\":18446744073709551616/" "$field" "is larger than 2^64-1"
done
damage '"role":"shard",//' role "is missing"
damage '"role":"shard"/"role":"shards"/' role 'is not a role ("shard", "ledger" or "rejects")'
damage '"kind":"track",//' kind "is missing"
damage '"kind":"track"/"kind":1/' kind "is not a string"
damage '"xxh128":"[0-9a-f]*",//' xxh128 "is missing"
damage '"xxh128":"[0-9a-f]*"/"xxh128":"not-hex"/' xxh128 "is not 32 hex digits"
damage '"xxh128":"[0-9a-f]*"/"xxh128":null/' xxh128 "is not a string"

# the largest value there is, 2^64-1, is a value: a count mismatch, not a layout problem
rm -rf "$T/d"
cp -a "$C" "$T/d"
sed -i "${LINE}s/\"records\":[0-9]*/\"records\":18446744073709551615/" "$T/d/MANIFEST.json"
must_fail "records 2^64-1: exit 1" 1 "$WINNOW" verify -C "$T/d"
grep -q "^count: $SH: MANIFEST.json says 18446744073709551615 records, the index " "$T/.out"
is "records 2^64-1: compared as a count" "$?" 0

# the counts and generation of the top level, named too
rm -rf "$T/d"
cp -a "$C" "$T/d"
sed -i 's/"kept":\([0-9]*\)/"kept":"\1"/; s/"generation":1/"generation":null/' "$T/d/MANIFEST.json"
must_fail "bad counts and generation: exit 1" 1 "$WINNOW" verify -C "$T/d"
last=$(wc -l <"$T/d/MANIFEST.json")
grep -qxF "metadata: MANIFEST.json line $last: \"counts.track.kept\" is a string, not an integer" "$T/.out"
is "counts.track.kept named with its line" "$?" 0
grep -qxF 'metadata: MANIFEST.json line 1: "generation" is null, not an integer' "$T/.out"
is "generation named with its line" "$?" 0

# a path that is not a string: named by line and index, nothing opened
rm -rf "$T/d"
cp -a "$C" "$T/d"
sed -i "${LINE}s/\"path\":\"[^\"]*\"/\"path\":3/" "$T/d/MANIFEST.json"
must_fail "path not a string: exit 1" 1 "$WINNOW" verify -C "$T/d"
grep -q "^metadata: MANIFEST.json line $LINE: files\[[0-9]*\]: \"path\" is not a string" "$T/.out"
is "path not a string: named with its line" "$?" 0

check "the undamaged catalog is clean" "$WINNOW" verify -C "$C" --deep
