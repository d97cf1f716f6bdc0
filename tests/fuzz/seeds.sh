#!/usr/bin/env bash
# Writes the seed inputs of the fuzz targets into tests/fuzz/corpus/<target>/seed-*:
# entries, manifests and files of a small catalog made here (duplicates, revisions,
# rejects, small frames), the dump's SQLite layout, and the test data. Inputs the
# fuzzers found (and crash inputs, once fixed) sit beside them under other names.
# Usage: bash tests/fuzz/seeds.sh   (after make; needs zstd, sqlite3)
set -euo pipefail
cd "$(dirname "$0")/../.."
C=$PWD/tests/fuzz/corpus
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for t in ledger manifest manifest_json seektable index xml sqlite json jsondoc csv norm; do mkdir -p "$C/fuzz_$t"; done

# a small catalog: 300 generated records and a few made to be duplicates, revisions, rejects
bench/gen --count 300 --seed 5 -o "$T/in.jsonl" 2>/dev/null
printf '{"id":"x","a":1}\n{"id":"x","a":2}\nnot json\n{"id":"x","a":2}\n\xff\xfe\n{"id":"y\\u00e9\\ud800"}\n' >>"$T/in.jsonl"
./winnow ingest -C "$T/cat" --frame-size 4096 "$T/in.jsonl" >/dev/null 2>&1 || true
cat=$T/cat

i=0
while IFS= read -r l; do
	i=$((i + 1)); [ $i -le 4 ] || [[ $l == *'"record"'* ]] || continue
	printf '\000%s' "$l" >"$C/fuzz_ledger/seed-head-$i"; printf '\001%s' "$l" >"$C/fuzz_ledger/seed-all-$i"
done < <(zstd -dcq "$cat"/ledger/*.zst)
i=0
while IFS= read -r l; do i=$((i + 1)); printf '\002%s' "$l" >"$C/fuzz_ledger/seed-reject-$i"; done < <(zstd -dcq "$cat"/rejects/*.zst)

i=0
while IFS= read -r l; do i=$((i + 1)); printf '\000%s' "$l" >"$C/fuzz_manifest/seed-xxh-$i"; done <"$cat/MANIFEST"
h=$(sha256sum "$cat/MANIFEST" | cut -c1-64)
printf '\000XXH128_LE (a b) = 00112233445566778899aabbccddeeff' >"$C/fuzz_manifest/seed-xxh-le"
printf '\00000112233445566778899aabbccddeeff  shards/x' >"$C/fuzz_manifest/seed-xxh-gnu"
printf '\001%s  shards/track-000001.jsonl.zst' "$h" >"$C/fuzz_manifest/seed-sha-gnu"
printf '\001%s *shards/b' "$h" >"$C/fuzz_manifest/seed-sha-bin"
printf '\001SHA256 (shards/a) = %s' "$h" >"$C/fuzz_manifest/seed-sha-bsd"

{ printf '\000'; cat "$cat/MANIFEST.json"; } >"$C/fuzz_manifest_json/seed-manifest"
{ printf '\001'; cat "$cat/catalog.json"; } >"$C/fuzz_manifest_json/seed-catalog"

cp "$cat"/shards/track-000001.jsonl.zst "$C/fuzz_seektable/seed-shard"
cp "$cat"/rejects/track-000001.jsonl.zst "$C/fuzz_seektable/seed-rejects"

# index values: flags (0x80: sealed; 0 files, 1 frames, 2 id block, 3 pair block), key length, key, value
python3 - "$C/fuzz_index" <<'PY'
import os, struct, sys
d = sys.argv[1]
def put(name, flags, key, val):
    open(os.path.join(d, name), 'wb').write(bytes([flags, len(key)]) + key + val)
rel = b'shards/track-000001.jsonl.zst'
row = bytes([1, 0, 1, 0]) + struct.pack('>IQQI4xQQQ', 1, 4096, 5000, 3, 300, 90000, 0) + bytes(range(16))
put('seed-files', 0x80, rel, row + bytes(8))
fr = struct.pack('>IIQIIIIQ', 1, 0, 0, 4000, 16000, 0x12345678, 40, 0)
put('seed-frames', 0x81, struct.pack('>Q', 39), fr + bytes(8))
ids = b''.join(struct.pack('>QHB', h, 7, 0) + (h % 1000).to_bytes(5, 'big') + bytes(16) for h in (1, 5, 9))
put('seed-idblock', 0x82, struct.pack('>I', 1) + bytes(8), ids + bytes(8))
pairs = b''.join(struct.pack('>Q', h) + o.to_bytes(5, 'big') for h, o in ((1, 0), (1, 2), (4, 3)))
put('seed-pairblock', 0x83, struct.pack('>I', 2) + bytes(13), pairs + bytes(8))
put('seed-short', 0x00, rel, b'\x01\x02')
PY

cp tests/data/xml-mapping.xml "$C/fuzz_xml/seed-mapping"
printf '\000<releases><release id="1" status="Accepted"><title>A &amp; B</title><artists><artist><id>2</id><name>X</name></artist></artists><tracklist><track><position>A1</position><title>T</title></track></tracklist></release></releases>' >"$C/fuzz_xml/seed-discogs"
printf '\000<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r><x a="1">&e;</x></r>' >"$C/fuzz_xml/seed-external-entity"

# the dump's tables, 512-byte pages so that the fuzzer's mutations reach the cells
for v in 0 1 2; do
	rm -f "$T/d.db"
	{ echo "PRAGMA page_size=512;"; grep '^CREATE TABLE' tests/data/dump-schema.sql; cat <<'SQL'
INSERT INTO artists VALUES (1,'ar1',1,'Björk',10,50),(2,'ar2',1,'Ab"c\',5,20);
INSERT INTO albums VALUES (1,'al1',1,'Début','album',1,'123',NULL,NULL,'One Little',40,'1993-07-05','day',12,NULL);
INSERT INTO tracks VALUES (1,'t1',1,'Human Behaviour',NULL,1,1,'GBAAA9300001',60,1,1,252000,0),(2,'t2',1,'Crying',x'00ff',1,2,NULL,50.5,1,1,289000,1),(3,'t3',2,'x',NULL,2,1,'US1',1,1,1,9223372036854775807,0);
INSERT INTO track_artists VALUES (1,1),(1,2),(2,1),(3,2);
INSERT INTO artist_genres VALUES (1,'art pop'),(1,'trip hop');
INSERT INTO available_markets VALUES (1,'GB,US');
SQL
	} | sqlite3 "$T/d.db"
	{ printf "\\00$v"; cat "$T/d.db"; } >"$C/fuzz_sqlite/seed-dump-$v"
done

# the text formats: the test data (a flags byte first)
for f in tests/data/*.jsonl; do cp "$f" "$C/fuzz_json/seed-$(basename "$f")"; done
{ printf '\001'; cat tests/data/playlists.json; } >"$C/fuzz_jsondoc/seed-playlists"
{ printf '\000'; printf '[{"id":"a"},{"id":"b","x":[1,2]}]'; } >"$C/fuzz_jsondoc/seed-array"
for f in tests/data/*.csv; do { printf '\000'; cat "$f"; } >"$C/fuzz_csv/seed-$(basename "$f")"; done
{ printf '\001'; cat tests/data/tsv-small.tsv; } >"$C/fuzz_csv/seed-tsv-small"
echo "seeds written under $C"

# titles and credits (title, newline, credit) of the kinds norm.c takes apart
i=0
while IFS= read -r l; do i=$((i + 1)); printf '%b' "$l" >"$C/fuzz_norm/seed-$i"; done <<'EOF'
Song (feat. X)\nSimon & Garfunkel
Song [feat. X] - 2011 Remaster\nCrosby, Stills, Nash & Young
Where Are \xc3\x9c Now (with Justin Bieber) - Marshmello Remix\nJack \xc3\x9c feat. Skrillex x Diplo
Lean On (feat. M\xc3\x98 & DJ Sn\nMajor Lazer, DJ Snake
Is It Over Now? (Taylor's Version) (From The Vault)\nThe Taylor Swift
Song \xe2\x80\x94 Live at Wembley - Remastered 2009 Version\nUSRC17607839
\xd0\x81\xd0\xbb\xd0\xba\xd0\xb0 (Acoustic) [Explicit]\n\xce\x86\xce\xbb\xcf\x86\xce\xb1 + B
\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87 (Sped Up)\n\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3
\xe1\x84\x80\xe1\x85\xa1<\xcc\xb8 e\xe2\x80\x8d\xcc\x81 \xef\xbd\xb6\xef\xbe\x9e\xff\xed\xa0\x80\n!!!
((([[[Song]]]))) - - - feat.\n, , & x
EOF
