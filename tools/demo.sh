#!/usr/bin/env bash
# `make demo`: generate sample data, ingest it, and check the result with winnow and with
# the stock tools (zstd, xxhsum, mdb_stat). DEMO_DIR (default ./demo) holds everything.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${WINNOW:-./build/winnow}
D=${DEMO_DIR:-demo}
N=${DEMO_RECORDS:-200000}
rm -rf "$D" && mkdir -p "$D"
echo "== generating $N track records (Spotify API layout, with duplicates, revisions and bad lines)"
bench/gen --count "$N" --seed 42 --truth "$D/truth.json" -o "$D/tracks.jsonl"
echo "== winnow ingest"
"$W" ingest -q -C "$D/catalog" --json "$D/tracks.jsonl" | tee "$D/ingest.json"
get() { grep -o "\"$2\":[0-9]*" "$1" | head -n 1 | cut -d: -f2; }
for k in read kept duplicates revisions rejected; do
	want=$(get "$D/truth.json" "$([ $k = read ] && echo lines || echo $k)")
	got=$(get "$D/ingest.json" $k)
	printf '   %-11s %9s  (generator says %s)%s\n' "$k" "$got" "$want" "$([ "$got" = "$want" ] || echo '  MISMATCH')"
done
echo "== second run of the same input: everything is a duplicate now"
"$W" ingest -q -C "$D/catalog" "$D/tracks.jsonl"
echo "== winnow stats"
"$W" stats -C "$D/catalog" --top 3
isrc=$(head -n 1 "$D/tracks.jsonl" | grep -o '"isrc":"[A-Z0-9]*"' | cut -d'"' -f4)
echo "== winnow get --isrc $isrc"
"$W" get -C "$D/catalog" --isrc "$isrc" | cut -c1-120
echo "== winnow verify --deep: every frame decoded, every record's fingerprint and index entry checked"
"$W" verify -C "$D/catalog" --deep
echo "== stock tools agree"
(cd "$D/catalog" && xxhsum -c MANIFEST)
zstd -tq "$D"/catalog/shards/*.zst && echo "zstd -t: all shards OK"
mdb_stat "$D/catalog/index" | head -n 6
cmp <("$W" export -C "$D/catalog") <(zstd -dc "$D"/catalog/shards/*.zst) && echo "export == zstd -dc of the shards"
echo "== done: the catalog is in $D/catalog"
