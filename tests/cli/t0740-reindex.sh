#!/usr/bin/env bash
# t0740-reindex.sh - winnow reindex builds the index again from the data files alone:
# after the index is removed, damaged or left at version 1, the catalog answers export,
# get (by id and ISRC) and stats exactly as before, verify --deep is clean, the
# manifests come out byte for byte the same, and so do the index's files, frames and
# superseded rows and its metadata (but for the maps' run lists, filters and counters,
# which describe runs, not records). Over catalogs with duplicates, revisions that lost
# and won (superseded records), rejects, both kinds, several shards, ISRCs, SHA256SUMS,
# and an ingest that was killed and resumed. A rerun is idempotent.
. "$(dirname "$0")/lib.sh"

# snap CAT OUT: everything a user can ask the catalog, and the index's rows, in OUT/
snap() {
	local c=$1 o=$2
	mkdir -p "$o"
	"$WINNOW" export -C "$c" >"$o/export.track" 2>&1
	"$WINNOW" export -C "$c" --kind artist >"$o/export.artist" 2>&1
	# every id of the export, the ids of superseded versions too (from the shards), by get
	"$WINNOW" get -C "$c" $(cat "$T/ids.track") >"$o/get.track" 2>&1
	echo "exit $?" >>"$o/get.track"
	if [ -s "$T/ids.artist" ]; then
		"$WINNOW" get -C "$c" --kind artist $(cat "$T/ids.artist") >"$o/get.artist" 2>&1
		echo "exit $?" >>"$o/get.artist"
	fi
	"$WINNOW" get -C "$c" --isrc $(cat "$T/isrcs") >"$o/get.isrc" 2>&1
	echo "exit $?" >>"$o/get.isrc"
	# stats: the index's own size and runs describe the index, not the catalog
	"$WINNOW" stats -C "$c" --top 20 | grep -v '^index: ' >"$o/stats"
	"$WINNOW" stats -C "$c" --top 20 --json |
		sed -E 's/"(id_entries|index_runs|index_bytes|index_used_bytes|index_bytes_per_record|index_used_bytes_per_record)":[0-9.]*,?//g' >"$o/stats.json"
	for f in MANIFEST MANIFEST.json catalog.json SHA256SUMS; do
		[ -f "$c/$f" ] && cp "$c/$f" "$o/$f"
	done
	for db in files track.frames artist.frames track.superseded artist.superseded; do
		mdb_dump -s "$db" "$c/index" >"$o/db.$db" 2>&1
	done
	# meta, without the keys of the maps' runs (run lists, filters, counters with runs_next)
	mdb_dump -p -s meta "$c/index" | awk 'NR > 3 && /^ (runs\.|bloom\.|state\.|merge\.)/ { skip = 2 } skip { skip--; next } { print }' >"$o/db.meta"
}

# same WHAT A B: the two snapshots are identical
same() {
	local d
	d=$(diff -r "$2" "$3" 2>&1 | head -n 20)
	if [ -z "$d" ]; then ok "$1"; else not_ok "$1"; diag "$d"; fi
}

# ids and ISRCs to ask for, from the input
ids_of() { grep -ao '^{"id":"[^"]*"' "$1" | cut -d'"' -f4 | sort -u | head -n 400 | tr '\n' ' '; }
isrcs_of() { grep -ao '"isrc":"[A-Z0-9]*"' "$1" | cut -d'"' -f4 | sort -u | head -n 60 | tr '\n' ' '; }

"$GEN" --count 40000 --seed 11 -o "$T/t1.jsonl"
"$GEN" --count 20000 --seed 12 --revision-rate 0.1 -o "$T/t2.jsonl"
"$GEN" --count 8000 --seed 13 --kind artist -o "$T/a1.jsonl"
cat "$T/t1.jsonl" "$T/t2.jsonl" >"$T/all-t.jsonl"
ids_of "$T/all-t.jsonl" >"$T/ids.track"
ids_of "$T/a1.jsonl" >"$T/ids.artist"
isrcs_of "$T/all-t.jsonl" >"$T/isrcs"

# ---- 1. both kinds, revisions that win and lose, several shards, SHA256SUMS ----
C=$T/c1
O="-q --frame-size 32K --shard-size 1M --checkpoint 7000"
"$WINNOW" ingest -C "$C" $O --digest sha256 "$T/t1.jsonl" >/dev/null 2>&1 &&
	"$WINNOW" ingest -C "$C" $O --on-conflict last "$T/t2.jsonl" >/dev/null 2>&1 &&
	"$WINNOW" ingest -C "$C" $O --kind artist "$T/a1.jsonl" >/dev/null 2>&1
is "three ingest runs exit 0" "$?" 0
sup=$("$WINNOW" stats -C "$C" --json | grep -o '"superseded":[0-9]*' | head -n 1 | cut -d: -f2)
[ "${sup:-0}" -gt 0 ] && ok "the catalog has superseded records ($sup)" || not_ok "the catalog has superseded records"
n=$(ls "$C"/shards/track-* | wc -l)
[ "$n" -ge 3 ] && [ -n "$(ls "$C"/ledger/artist-* "$C"/rejects/track-* 2>/dev/null)" ] &&
	ok "several shards ($n), ledgers and rejects of both kinds" || not_ok "several shards, ledgers and rejects"
snap "$C" "$T/s1.before"

rm -rf "$C/index"
"$WINNOW" reindex -C "$C" >"$T/out" 2>"$T/err"
is "reindex of a catalog without an index exits 0" "$?" 0
grep -q "^reindexed .*records/s$" "$T/out"
is "... and says what it read" "$?" 0
snap "$C" "$T/s1.after"
same "... and the catalog answers as before (export, get, ISRCs, stats, manifests, rows)" "$T/s1.before" "$T/s1.after"
check "... and verify --deep is clean" "$WINNOW" verify -C "$C" --deep
check "... and sha256sum -c SHA256SUMS passes" sh -c "cd '$C' && sha256sum -c --quiet SHA256SUMS"

"$WINNOW" reindex -C "$C" >/dev/null 2>&1
is "a second reindex exits 0" "$?" 0
snap "$C" "$T/s1.again"
same "... with the same result" "$T/s1.before" "$T/s1.again"
[ ! -e "$C/index.reindex" ] && ok "... and leaves nothing beside the index" || not_ok "... and leaves nothing beside the index"

# a damaged index: a byte of data.mdb changed in the middle of a map block
cp -a "$C" "$T/c1d"
sz=$(stat -c %s "$T/c1d/index/data.mdb")
printf 'Z' | dd of="$T/c1d/index/data.mdb" bs=1 seek=$((sz / 2)) conv=notrunc 2>/dev/null
"$WINNOW" reindex -C "$T/c1d" >/dev/null 2>&1
is "reindex of a catalog whose index is damaged exits 0" "$?" 0
snap "$T/c1d" "$T/s1.dmg"
same "... and the catalog answers as before" "$T/s1.before" "$T/s1.dmg"

# an index of version 1 (no index_version row) is refused by every command; reindex mends it
WNC=${WNC:-$(dirname "$WINNOW")/tests/tools/wn-corrupt}
cp -a "$C" "$T/c1v"
"$WNC" "$T/c1v" del-meta index_version -
must_fail "(an index of version 1 is refused)" 3 "$WINNOW" export -C "$T/c1v"
check "reindex of a catalog with an index of version 1 exits 0" "$WINNOW" reindex -C "$T/c1v"
snap "$T/c1v" "$T/s1.v1"
same "... and the catalog answers as before" "$T/s1.before" "$T/s1.v1"

# ---- 2. an ingest killed (kill -9) and resumed ----
"$GEN" --count 300000 --seed 21 -o "$T/big.jsonl"
K=$T/c2
for i in 1 2 3 4 5 6; do
	"$WINNOW" ingest -C "$K" -q --checkpoint 30000 --frame-size 64K --shard-size 8M "$T/big.jsonl" >/dev/null 2>&1 &
	pid=$!
	sleep 0.$((3 + i))
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
done
"$WINNOW" ingest -C "$K" -q --checkpoint 30000 --frame-size 64K --shard-size 8M "$T/big.jsonl" >/dev/null 2>&1
is "an ingest killed several times, then resumed, exits 0" "$?" 0
ids_of "$T/big.jsonl" >"$T/ids.track"
isrcs_of "$T/big.jsonl" >"$T/isrcs"
: >"$T/ids.artist"
snap "$K" "$T/s2.before"
rm -rf "$K/index"
check "reindex of the resumed catalog exits 0" "$WINNOW" reindex -C "$K"
snap "$K" "$T/s2.after"
same "... and it answers as before" "$T/s2.before" "$T/s2.after"
check "... and verify --deep is clean" "$WINNOW" verify -C "$K" --deep
check "... and a later ingest of the same input goes on from it" "$WINNOW" ingest -C "$K" -q "$T/big.jsonl"
