#!/usr/bin/env bash
# t0610-ingest-json.sh - records inside JSON documents: a top-level array (by name, by
# --format, from standard input), --records-path playlists[].tracks[] (the Million
# Playlist Dataset layout), records made compact, faults in the document, and a large
# document resumed after kill -9.
. "$(dirname "$0")/lib.sh"

DATA=$TOP/tests/data
PL=$DATA/playlists.json
# killed_mid_run STATUS CATALOG: the run was killed before it finished (a kill that lands
# after the final commit, while the process exits, leaves a finished catalog)

# ---- --records-path ----
check "ingest playlists.json --records-path playlists[].tracks[] --map id=track_uri" \
	"$WINNOW" ingest -C "$T/p1" --json -q --records-path 'playlists[].tracks[]' --map id=track_uri "$PL"
cp "$T/.out" "$T/p1.json"
is "counts: 5 tracks on the path (none from info.tracks): 3 kept, 1 duplicate, 1 without id" "$(counts "$T/p1.json")" "5 3 1 0 1"
adds_up "$T/p1.json" "playlists"
cat >"$T/want1" <<'EOF'
{"pos":0,"track_uri":"spotify:track:A","track_name":"Song A","artist_name":"Art \"Q\"","duration_ms":1000}
{"pos":1,"track_uri":"spotify:track:B","track_name":"Song B","duration_ms":2000}
{"pos":1,"track_uri":"spotify:track:C","track_name":"[brackets] {braces}","duration_ms":3000}
EOF
"$WINNOW" export -C "$T/p1" >"$T/got1" 2>/dev/null
if cmp -s "$T/got1" "$T/want1"; then ok "records are the track objects, compact, one a line"
else not_ok "records are the track objects, compact, one a line"; diag "$(diff "$T/want1" "$T/got1")"; fi
zstd -dc "$T/p1"/rejects/*.zst 2>/dev/null | grep -qF '"line":18,"offset":779,"reason":"missing_id"'
is "the record without an id is rejected with the line where it starts" "$?" 0
zstd -dc "$T/p1"/ledger/*.zst 2>/dev/null | grep -qF '"line":15,"match":"duplicate","id":"spotify:track:A"'
is "the same track in a second playlist is a duplicate (its line in the ledger)" "$?" 0
check "the same document again" "$WINNOW" ingest -C "$T/p1" --json -q --records-path 'playlists[].tracks[]' --map id=track_uri "$PL"
is "second run: all duplicates" "$(counts "$T/.out")" "5 0 4 0 1"

# ---- a top-level array: by name, by --format, from stdin ----
printf '[\n {"id": "a", "v": [1, 2]},\n {"id": "b", "s": "x y"}\n]\n' >"$T/arr.json"
check "a .json file holding an array" "$WINNOW" ingest -C "$T/a1" --json -q "$T/arr.json"
is "array: two kept" "$(json_get "$T/.out" kept)" 2
is "array: compact records" "$("$WINNOW" export -C "$T/a1" 2>/dev/null)" '{"id":"a","v":[1,2]}
{"id":"b","s":"x y"}'
cp "$T/arr.json" "$T/arr.data"
check "--format json on a file with another name" "$WINNOW" ingest -C "$T/a2" --json -q --format json "$T/arr.data"
is "--format json: two kept" "$(json_get "$T/.out" kept)" 2
"$WINNOW" ingest -C "$T/a3" --json -q - <"$T/arr.json" >"$T/a3.json" 2>/dev/null
is "a JSON array on standard input (told by its '['): exit 0" "$?" 0
is "... two kept" "$(json_get "$T/a3.json" kept)" 2
# a JSONL file named .json is still JSONL
printf '{"id":"x1"}\n{"id":"x2"}\n' >"$T/lines.json"
check "a .json file that is JSONL" "$WINNOW" ingest -C "$T/a4" --json -q "$T/lines.json"
is "... read as JSONL: two kept" "$(json_get "$T/.out" kept)" 2
if have zstd; then
	zstd -q -c "$PL" >"$T/pl.json.zst"
	check "a .json.zst document" "$WINNOW" ingest -C "$T/a5" --json -q --records-path 'playlists[].tracks[]' --map id=track_uri "$T/pl.json.zst"
	"$WINNOW" export -C "$T/a5" 2>/dev/null | cmp -s - "$T/want1"
	is ".json.zst: the same records" "$?" 0
else
	skip ".json.zst" "zstd not installed"
fi

# ---- faults ----
must_fail "an object document without --records-path is one record: rejected (no track_uri), exit 1" 1 "$WINNOW" ingest -C "$T/f1" -q --map id=track_uri "$PL"
grep -q -- 'read as one record.*--records-path' "$T/.err"; is "... the message says so and mentions --records-path" "$?" 0
must_fail "a path that matches nothing: exit 2" 2 "$WINNOW" ingest -C "$T/f2" -q --records-path 'lists[].tracks[]' "$PL"
grep -q 'nothing in the document matches' "$T/.err"; is "... says so" "$?" 0
head -c 500 "$PL" >"$T/cut.json"
must_fail "a truncated document: exit 3" 3 "$WINNOW" ingest -C "$T/f3" -q --records-path 'playlists[].tracks[]' --map id=track_uri "$T/cut.json"
grep -q 'truncated' "$T/.err"; is "... the message says it may be truncated" "$?" 0
must_fail "--records-path on a CSV: exit 2" 2 "$WINNOW" ingest -C "$T/f4" -q --records-path 'a[]' "$DATA/csv-edge.csv"
must_fail "--records-path ending in a member whose value is an array: one record, not an object (exit 1)" 1 "$WINNOW" ingest -C "$T/f5" -q --records-path 'playlists' "$PL"
must_fail "--records-path with an empty name: exit 2" 2 "$WINNOW" ingest -C "$T/f6" -q --records-path 'playlists[]..x' "$PL"

# ---- paths that go on after an array, and documents that are one record ----
printf '{"total":3,"items":[{"added_at":"2024-01-01","track":{"id":"a","n":1}},\n{"added_at":"2024-01-02","track":{"id":"b","n":2}},{"added_at":"x","track":null},{"track":{"id":"a","n":1}}]}' >"$T/saved.json"
check "items[].track: the member of every element" "$WINNOW" ingest -C "$T/m1" -q --json --records-path 'items[].track' "$T/saved.json"
is "... 4 read: 2 kept, 1 duplicate, 1 rejected (null is no object)" "$(counts "$T/.out")" "4 2 1 0 1"
"$WINNOW" export -C "$T/m1" >"$T/m1.out" 2>/dev/null
is "... the records are the members' values, as they are" "$(cat "$T/m1.out")" '{"id":"a","n":1}
{"id":"b","n":2}'
zstd -dcq "$T/m1/rejects/"*.zst | grep -q '"line":2,.*"raw":"null"'
is "... the null value is rejected where it stands (line 2)" "$?" 0
printf '{"data":{"tracks":{"items":[{"id":"p"},{"id":"q"}]}},"meta":{"track":{"id":"no"}}}' >"$T/deep.json"
check "data.tracks.items[]: members, then the array" "$WINNOW" ingest -C "$T/m2" -q --json --records-path 'data.tracks.items[]' "$T/deep.json"
is "... 2 kept" "$(counts "$T/.out")" "2 2 0 0 0"
check "meta.track: a path of members alone is one record" "$WINNOW" ingest -C "$T/m3" -q --json --records-path 'meta.track' "$T/deep.json"
is "... 1 kept" "$(counts "$T/.out")" "1 1 0 0 0"
is "... the member's value" "$("$WINNOW" export -C "$T/m3" 2>/dev/null)" '{"id":"no"}'
printf '{\n  "id": "t1",\n  "name": "One",\n  "artists": [{"id": "a1"}]\n}\n' >"$T/one.json"
check "a document that is one object, without --records-path: one record" "$WINNOW" ingest -C "$T/m4" -q --json "$T/one.json"
is "... 1 kept" "$(counts "$T/.out")" "1 1 0 0 0"
is "... stored compact" "$("$WINNOW" export -C "$T/m4" 2>/dev/null)" '{"id":"t1","name":"One","artists":[{"id":"a1"}]}'
check "... ingested again: a duplicate" "$WINNOW" ingest -C "$T/m4" -q --json "$T/one.json"
is "... 1 read, 1 duplicate" "$(counts "$T/.out")" "1 0 1 0 0"
printf '{"id":"t1"} {"id":"t2"}' >"$T/two.json"
must_fail "text after the one object: exit 3" 3 "$WINNOW" ingest -C "$T/m5" -q --format json "$T/two.json"
grep -q 'after the end of the document' "$T/.err"; is "... says so" "$?" 0
must_fail "--records-path [] on an object document: exit 2" 2 "$WINNOW" ingest -C "$T/m6" -q --records-path '[]' "$T/one.json"

# ---- the saved responses people hold (../shared/data/real), when they are there ----
API=$SHARED/spotify-api MB=$SHARED/musicbrainz
if [ -d "$API" ] && [ -d "$MB" ]; then
	for spec in "tracks.json tracks[] 2" "album_tracks.json items[] 13" "search_track.json tracks.items[] 20" "artists.json - 1"; do
		set -- $spec
		rp=(--records-path "$2"); [ "$2" = - ] && rp=()
		check "Spotify API $1 (${2/-/one object}): exit 0" "$WINNOW" ingest -C "$T/api-$1" -q --json "${rp[@]}" "$API/$1"
		is "... $3 kept" "$(json_get "$T/.out" kept)" "$3"
	done
	n=0
	for f in "$MB"/recording*.json; do n=$((n + 1)); done
	"$WINNOW" ingest -C "$T/mb" -q --json --kind track "$MB"/recording*.json >"$T/mb.json" 2>"$T/mb.err"
	is "MusicBrainz lookups, one object each: $n read" "$(json_get "$T/mb.json" read)" "$n"
	is "... all kept but recording_null.json (its id is null)" "$(json_get "$T/mb.json" kept) $(json_get "$T/mb.json" rejected)" "$((n - 1)) 1"
else
	skip "saved Spotify API and MusicBrainz responses" "../shared/data/real is absent"
fi

# ---- a large document, resumed after kill -9 ----
if [ -x "$GEN" ]; then
	"$GEN" --count 60000 --seed 7 --clean -o "$T/g.jsonl"
	{ printf '{"playlists": [{"name": "all", "tracks": [\n'; sed '$!s/$/,/' "$T/g.jsonl"; printf ']}]}\n'; } >"$T/big.json"
	OPTS=(-q --json --records-path 'playlists[].tracks[]' --checkpoint 2000 --frame-size 16K)
	ms_now() { date +%s%3N; }
	t0=$(ms_now)
	"$WINNOW" ingest -C "$T/ra" "${OPTS[@]}" "$T/big.json" >"$T/ra.json" 2>/dev/null
	dur=$(($(ms_now) - t0))
	is "large document: every record kept" "$(json_get "$T/ra.json" kept)" 60000
	"$WINNOW" export -C "$T/ra" >"$T/ra.export" 2>/dev/null
	cmp -s "$T/ra.export" "$T/g.jsonl"
	is "large document: the records are the generator's lines" "$?" 0
	kill_mid_runs "$T/rb" "$dur" 5 40 0 "$WINNOW" ingest -C "$T/rb" "${OPTS[@]}" "$T/big.json"
	diag "reference run $dur ms; $kills runs killed in $iter tries"
	"$WINNOW" ingest -C "$T/rb" "${OPTS[@]}" "$T/big.json" >"$T/rb.json" 2>/dev/null
	is "document after kill -9: the rerun exits 0" "$?" 0
	"$WINNOW" export -C "$T/rb" 2>/dev/null | cmp -s - "$T/ra.export"
	is "document after kill -9: export == an uninterrupted run's" "$?" 0
	is "document after kill -9: counts == an uninterrupted run's" "$(counts "$T/rb.json")" "$(counts "$T/ra.json")"
else
	skip "large document" "no $GEN"
fi

# a document larger than what the first read takes, read to its end: the reader refills its
# buffer a byte at a time past the end of what it holds, and a plain file must then be read,
# not passed over (a seek past the end once made "input is shorter" of every such file)
python3 -c 'import json; print(json.dumps([{"id": str(i), "x": "y" * 100} for i in range(3000)]))' >"$T/big-doc.json" 2>/dev/null ||
	awk 'BEGIN { printf "["; for (i = 0; i < 3000; i++) printf "%s{\"id\":\"%d\",\"x\":\"%0100d\"}", i ? "," : "", i, 0; print "]" }' >"$T/big-doc.json"
check "a 300 KB one-line document is read to its end" "$WINNOW" ingest -C "$T/bigdoc" -q --json "$T/big-doc.json"
is "... every record kept" "$(grep -o '"kept":[0-9]*' "$T/.out" | cut -d: -f2)" 3000
