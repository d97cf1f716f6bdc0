#!/usr/bin/env bash
# t0845-dump-forms.sh - the 2025 metadata dump in its two forms, SQLite (spotify_clean.sqlite3)
# and JSONL tables (tracks.jsonl, artists.jsonl: one table row a line), gives the same
# records: a track read from one form is a duplicate of the same track read from the other,
# in either order, never a revision; artists likewise. First on a database and JSONL made
# here (the JSONL spelled as JSON allows: other key order, escapes, spaces, rows in
# another order), with rows that differ in one value or in a member's presence to show
# that those are revisions; then on the real sample in $SHARED/annas-archive-sample
# (skipped when absent). Every expected count is computed from the inputs.
. "$(dirname "$0")/lib.sh"

if ! have sqlite3; then
	skip "the dump's two forms" "no sqlite3 command-line tool (apt-get install sqlite3)"
	exit 0
fi
# ingest_counts NAME ARGS...: ingest (--json -q), then "read kept duplicates revisions rejected"
ingest_counts() {
	local name=$1
	shift
	"$WINNOW" ingest --json -q "$@" >"$T/$name.json" 2>"$T/$name.err" || diag "$name: exit $?" "$(tail -n 3 "$T/$name.err")" >&2
	counts "$T/$name.json"
}
# ids_jsonl FILE: the "id" of each line, in a dump table's JSONL (a top-level string member)
ids_jsonl() { grep -o '"id" *: *"[^"]*"' "$1" | sed 's/.*: *"//; s/"$//'; }
# shared A B: how many lines of sorted file A have their line in sorted file B
shared() { comm -12 "$1" "$2" | wc -l; }

# both_orders WHAT KIND JSONL DB: JSONL then SQLite into one catalog, and SQLite then JSONL
# into another; the second run must find every record it shares with the first a duplicate
both_orders() {
	local what=$1 kind=$2 jl=$3 db=$4 table nj ns dj ds both
	table=$([ "$kind" = artist ] && echo artists || echo tracks)
	nj=$(wc -l <"$jl")
	ns=$(sqlite3 "$db" "SELECT count(*) FROM $table")
	ids_jsonl "$jl" | sort -u >"$T/ids.j"
	sqlite3 "$db" "SELECT id FROM $table" | sort -u >"$T/ids.s"
	dj=$(wc -l <"$T/ids.j") ds=$(wc -l <"$T/ids.s") both=$(shared "$T/ids.j" "$T/ids.s")
	diag "$what: $nj JSONL rows ($dj ids), $ns SQLite rows ($ds ids), $both ids in both"
	rm -rf "$T/c1" "$T/c2"
	is "$what: JSONL first: its $dj ids kept" "$(ingest_counts j1 -C "$T/c1" --kind "$kind" "$jl")" "$nj $dj $((nj - dj)) 0 0"
	is "$what: then SQLite: its $both shared ids duplicates, no revision" \
		"$(ingest_counts s1 -C "$T/c1" --kind "$kind" "$db")" "$ns $((ds - both)) $((ns - ds + both)) 0 0"
	adds_up "$T/s1.json" "$what, SQLite second"
	is "$what: SQLite first: its $ds ids kept" "$(ingest_counts s2 -C "$T/c2" --kind "$kind" "$db")" "$ns $ds $((ns - ds)) 0 0"
	is "$what: then JSONL: its $both shared ids duplicates, no revision" \
		"$(ingest_counts j2 -C "$T/c2" --kind "$kind" "$jl")" "$nj $((dj - both)) $((nj - dj + both)) 0 0"
	adds_up "$T/j2.json" "$what, JSONL second"
}

# ---- a database and its JSONL tables made here ----
DB=$T/dump.sqlite3
sqlite3 "$DB" "$(grep '^CREATE TABLE' "$TOP/tests/data/dump-schema.sql")
INSERT INTO available_markets VALUES (1, 'unavailable'), (3, 'AR,AU');
INSERT INTO albums VALUES (10, 'alb10', 1700000000000, 'Album', 'album', 3, '012345678905', NULL, NULL, 'Label', 50, '2020-01-02', 'day', 2, NULL);
INSERT INTO artists VALUES (1, 'art1', 1700000000000, 'Zed', 10, 20), (2, 'art2', 1700000000000, 'Åsa \"A\"', 5, 6),
	(3, 'art3', 1700000000000, 'Back\\slash/' || char(9), 0, 1);
INSERT INTO tracks VALUES (100, 'trk100', 1743033600000, 'Café', NULL, 10, 1, 'USX000000001', 10, 3, 1, 1000, 0);
INSERT INTO tracks VALUES (101, 'trk101', 1743033600000, 'Ctrl' || char(1) || ' 日本 \"q\"', 'https://p.example/1', 10, 2, 'USX000000001', 11, 3, 1, 2000, 1);
INSERT INTO tracks VALUES (102, 'trk102', 1743033600000, 'No ISRC', NULL, 99, 1, NULL, 0, 1, 1, 9223372036854775807, 0);
INSERT INTO tracks VALUES (103, 'trk103', 1743033600000, 'Negative', NULL, 10, 3, NULL, -1, 3, 2, 4000, 0);
INSERT INTO tracks VALUES (105, 'trk105', 1743033600000, 'Only in SQLite', NULL, 10, 5, NULL, 0, 3, 1, 6000, 0);
INSERT INTO track_artists VALUES (100, 2), (100, 1), (101, 3), (102, 1), (105, 3);
INSERT INTO artist_genres VALUES (1, 'rock'), (2, 'pop');
"
# The JSONL a dump's tables hold: one row a line. Spelled otherwise than winnow writes the
# SQLite rows (members in another order, \u escapes, \/, spaces), in another row order,
# plus a track the database does not have: none of that changes a fingerprint.
cat >"$T/tracks.jsonl" <<'EOF'
{"rowid":101,"id":"trk101","fetched_at":1743033600000,"name":"Ctrl\u0001 \u65e5\u672c \"q\"","preview_url":"https:\/\/p.example\/1","album_rowid":10,"track_number":2,"external_id_isrc":"USX000000001","popularity":11,"available_markets_rowid":3,"disc_number":1,"duration_ms":2000,"explicit":1}
{ "explicit" : 0, "duration_ms" : 1000, "disc_number" : 1, "available_markets_rowid" : 3, "popularity" : 10, "external_id_isrc" : "USX000000001", "track_number" : 1, "album_rowid" : 10, "preview_url" : null, "name" : "Caf\u00e9", "fetched_at" : 1743033600000, "id" : "trk100", "rowid" : 100 }
{"id":"trk102","rowid":102,"fetched_at":1743033600000,"name":"No ISRC","preview_url":null,"album_rowid":99,"track_number":1,"external_id_isrc":null,"popularity":0,"available_markets_rowid":1,"disc_number":1,"duration_ms":9223372036854775807,"explicit":0}
{"name":"Negative","id":"trk103","rowid":103,"fetched_at":1743033600000,"preview_url":null,"album_rowid":10,"track_number":3,"external_id_isrc":null,"popularity":-1,"available_markets_rowid":3,"disc_number":2,"duration_ms":4000,"explicit":0}
{"rowid":104,"id":"trk104","fetched_at":1743033600000,"name":"Only in JSONL","preview_url":null,"album_rowid":10,"track_number":4,"external_id_isrc":null,"popularity":0,"available_markets_rowid":3,"disc_number":1,"duration_ms":5000,"explicit":0}
EOF
cat >"$T/artists.jsonl" <<'EOF'
{"rowid":3,"id":"art3","fetched_at":1700000000000,"name":"Back\\slash\/\t","followers_total":0,"popularity":1}
{"popularity":20,"followers_total":10,"name":"Zed","fetched_at":1700000000000,"id":"art1","rowid":1}
{"rowid":2,"id":"art2","fetched_at":1700000000000,"name":"\u00c5sa \"A\"","followers_total":5,"popularity":6}
EOF
both_orders "made here, tracks" track "$T/tracks.jsonl" "$DB"
both_orders "made here, artists" artist "$T/artists.jsonl" "$DB"

# What does count: a value of another type (explicit true, not 0), a member absent rather
# than null, a member more (a joined "artists"): each is a revision of the SQLite row.
sed -e '/"trk101"/s/"explicit":1/"explicit":true/' -e '/"trk100"/s/"preview_url" : null, //' \
	-e '/"trk102"/s/}$/,"artists":[]}/' "$T/tracks.jsonl" >"$T/tracks-other.jsonl"
nchanged=$(diff "$T/tracks.jsonl" "$T/tracks-other.jsonl" | grep -c '^>')
is "the altered JSONL: 3 lines altered" "$nchanged" 3
ids_jsonl "$T/tracks-other.jsonl" | sort -u >"$T/ids.j"
sqlite3 "$DB" "SELECT id FROM tracks" | sort -u >"$T/ids.s"
nj=$(wc -l <"$T/tracks-other.jsonl") ns=$(wc -l <"$T/ids.s") both=$(shared "$T/ids.j" "$T/ids.s")
ingest_counts s3 -C "$T/c3" "$DB" >/dev/null
is "SQLite, then the altered JSONL: the $nchanged altered rows revisions, the $((both - nchanged)) others duplicates" \
	"$(ingest_counts j3 -C "$T/c3" "$T/tracks-other.jsonl")" "$nj $((nj - both)) $((both - nchanged)) $nchanged 0"
ingest_counts s4 -C "$T/c4" "$DB" >/dev/null
must_fail "--sqlite-join on a catalog of rows: refused (the joined tracks are other records)" 2 \
	"$WINNOW" ingest -C "$T/c4" -q --sqlite-join "$DB"
grep -q 'read from SQLite without --sqlite-join' "$T/.err"; is "... saying how it was read" "$?" 0
ingest_counts s5 -C "$T/c5" --sqlite-join "$DB" >/dev/null
is "a catalog of joined tracks: a run without --sqlite-join uses the stored option (duplicates)" \
	"$(ingest_counts s6 -C "$T/c5" "$DB")" "$ns 0 $ns 0 0"

# ---- the real sample ----
S=$SHARED/annas-archive-sample
if [ ! -r "$S/tracks.jsonl" ] || [ ! -r "$S/artists.jsonl" ] || [ ! -r "$S/spotify_clean_sample.sqlite3" ]; then
	skip "the real sample's two forms" "no $S (shared data absent)"
	exit 0
fi
both_orders "real sample, tracks" track "$S/tracks.jsonl" "$S/spotify_clean_sample.sqlite3"
"$WINNOW" export -C "$T/c1" >"$T/export" 2>/dev/null
cmp -s "$T/export" "$S/tracks.jsonl"
is "real sample: the stored tracks are tracks.jsonl's lines, byte for byte" "$?" 0
"$WINNOW" export -C "$T/c2" | sort >"$T/export2" 2>/dev/null
sort "$S/tracks.jsonl" | cmp -s - "$T/export2"
is "real sample: the SQLite rows stored are the same lines (in rowid order)" "$?" 0
both_orders "real sample, artists" artist "$S/artists.jsonl" "$S/spotify_clean_sample.sqlite3"
