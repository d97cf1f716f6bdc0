#!/usr/bin/env bash
# t0530-verify-digest.sh - ingest --digest sha256 keeps CATALOG/SHA256SUMS, which stock
# sha256sum -c accepts, for every sealed file (also those sealed before, and in later runs
# without the option); verify checks it, and agrees with sha256sum -c on damage.
. "$(dirname "$0")/lib.sh"

if ! have sha256sum; then
	skip "SHA256SUMS" "sha256sum not installed"
	exit 0
fi
"$GEN" --count 5000 --seed 21 -o "$T/a.jsonl"
"$GEN" --count 3000 --seed 22 -o "$T/b.jsonl"
C=$T/cat
must_fail "--digest md5 is refused: exit 2" 2 "$WINNOW" ingest -C "$C" --digest md5 "$T/a.jsonl"
"$WINNOW" ingest -C "$C" -q --digest sha256 --shard-size 64K --frame-size 8K "$T/a.jsonl" >/dev/null 2>&1
is "ingest --digest sha256 exits 0" "$?" 0
[ -s "$C/SHA256SUMS" ]
is "CATALOG/SHA256SUMS is written" "$?" 0
is "SHA256SUMS lists as many files as MANIFEST" "$(wc -l <"$C/SHA256SUMS")" "$(wc -l <"$C/MANIFEST")"
bad=$(grep -v -c -E '^[0-9a-f]{64}  (shards|ledger|rejects)/(track|artist)-[0-9]{6}\.jsonl\.zst$' "$C/SHA256SUMS")
is "every line is 'HASH  PATH'" "$bad" 0
(cd "$C" && sha256sum -c --strict SHA256SUMS) >/dev/null 2>&1
is "stock sha256sum -c --strict accepts it" "$?" 0
"$WINNOW" verify -C "$C" --json >"$T/v.json"
is "verify: clean" "$?" 0
is "verify checked SHA-256" "$(json_get "$T/v.json" sha256_checked)" true
grep -q '"sha256":"[0-9a-f]\{64\}"' "$C/MANIFEST.json"
is "MANIFEST.json gives each file's sha256 too" "$?" 0

# a later run without the option keeps the file complete
"$WINNOW" ingest -C "$C" -q --shard-size 64K --frame-size 8K "$T/b.jsonl" >/dev/null 2>&1
is "a second run without --digest" "$?" 0
is "SHA256SUMS still lists every file" "$(wc -l <"$C/SHA256SUMS")" "$(wc -l <"$C/MANIFEST")"
(cd "$C" && sha256sum -c --strict SHA256SUMS) >/dev/null 2>&1
is "and sha256sum -c accepts it" "$?" 0
check "verify --deep: clean" "$WINNOW" verify -C "$C" --deep
grep -q 'XXH128 and SHA-256' "$T/.out"
is "verify says it checked both" "$?" 0

# a catalog made without it gets the SHA-256 of its sealed files
P=$T/plain
"$WINNOW" ingest -C "$P" -q --shard-size 64K --frame-size 8K "$T/a.jsonl" >/dev/null 2>&1
[ ! -e "$P/SHA256SUMS" ]
is "no SHA256SUMS without --digest" "$?" 0
"$WINNOW" ingest -C "$P" -q --digest sha256 /dev/null >/dev/null 2>&1
is "--digest sha256 on an existing catalog (nothing to read)" "$?" 0
is "SHA256SUMS covers the files sealed before" "$(wc -l <"$P/SHA256SUMS")" "$(wc -l <"$P/MANIFEST")"
(cd "$P" && sha256sum -c --strict SHA256SUMS) >/dev/null 2>&1
is "sha256sum -c accepts it" "$?" 0

# damage: winnow and sha256sum -c agree
agree() {
	local what=$1 want=$2
	(cd "$D" && sha256sum -c SHA256SUMS) >/dev/null 2>&1
	is "$what: sha256sum -c exit status" "$?" "$want"
	"$WINNOW" verify -C "$D" >"$T/h.out" 2>&1
	is "$what: winnow verify exit status" "$?" "$want"
}
D=$T/d1 && rm -rf "$D" && cp -r "$C" "$D"
agree "clean copy" 0
f=$D/shards/track-000001.jsonl.zst
b=$(od -An -tu1 -j 700 -N 1 "$f" | tr -d ' ')
printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$f" bs=1 seek=700 conv=notrunc 2>/dev/null
agree "a flipped byte" 1
grep -q '^checksum: shards/track-000001.jsonl.zst: SHA-256 is ' "$T/h.out"
is "winnow names the SHA-256 mismatch" "$?" 0
D=$T/d2 && rm -rf "$D" && cp -r "$C" "$D"
rm "$D/ledger/track-000001.jsonl.zst"
agree "a missing file" 1

# tampering that also rewrites MANIFEST (xxhsum -c passes): SHA256SUMS still tells
D=$T/d3 && rm -rf "$D" && cp -r "$C" "$D"
f=shards/track-000002.jsonl.zst
cp "$D/shards/track-000001.jsonl.zst" "$D/$f"
if have xxhsum; then
	new=$(cd "$D" && xxhsum -H2 "$f" 2>/dev/null | cut -d' ' -f1)
	sed -i "s|^XXH128 ($f) = .*|XXH128 ($f) = $new|" "$D/MANIFEST"
	(cd "$D" && xxhsum -c MANIFEST) >/dev/null 2>&1
	is "(the tampered MANIFEST passes xxhsum -c)" "$?" 0
fi
agree "a replaced file with MANIFEST rewritten" 1
grep -q "^checksum: $f: SHA-256 is " "$T/h.out"
is "verify: the SHA-256 of the replaced file does not match" "$?" 0

D=$T/d4 && rm -rf "$D" && cp -r "$C" "$D"
rm "$D/SHA256SUMS"
must_fail "SHA256SUMS removed from a catalog that keeps one: exit 1" 1 "$WINNOW" verify -C "$D"
grep -q '^metadata: SHA256SUMS: ' "$T/.out"
is "it says SHA256SUMS is missing" "$?" 0

# a bare folder with SHA256SUMS
B=$T/bare
mkdir -p "$B"
cp -r "$C/shards" "$C/ledger" "$C/rejects" "$C"/MANIFEST* "$C/SHA256SUMS" "$B/"
"$WINNOW" verify --manifest "$B/MANIFEST" --json "$B" >"$T/v.json"
is "bare folder with SHA256SUMS: clean" "$?" 0
is "bare folder: SHA-256 checked" "$(json_get "$T/v.json" sha256_checked)" true
