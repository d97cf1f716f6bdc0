#!/usr/bin/env bash
# t0620-ingest-sqlite.sh - SQLite databases in the layout of the 2025 dump: by default one
# record per row of tracks (artists with --kind artist), as it is; with --sqlite-join one
# record per track with its artists (in track_artists row order, the credit order) and
# album, artists with their genres, the same records whether track_artists is in track
# order, out of order, or out of order with an index; --sqlite-table; errors; and a run
# killed with kill -9 mid-table, resumed, ending with the same catalog as an uninterrupted
# run. t0845 checks that the rows are the records the dump's JSONL tables hold.
# The databases are made here with the sqlite3 command-line tool (skipped without it).
. "$(dirname "$0")/lib.sh"

if ! have sqlite3; then
	skip "SQLite input" "no sqlite3 command-line tool (apt-get install sqlite3)"
	exit 0
fi
# killed_mid_run STATUS CATALOG: the run was killed before it finished (a kill that lands
# after the final commit, while the process exits, leaves a finished catalog)

# the dump's tables (as in its published CREATE TABLE statements)
SCHEMA=$(grep "^CREATE TABLE" "$TOP/tests/data/dump-schema.sql")
DB=$T/small.sqlite3
sqlite3 "$DB" "$SCHEMA
INSERT INTO available_markets VALUES (1, 'unavailable'), (3, 'AR,AU');
INSERT INTO albums VALUES (10, 'alb10', 1700000000000, 'Album \"Ten\"', 'album', 3, '012345678905', '(c)', NULL, 'Label\\One', 50, '2020-01-02', 'day', 2, NULL);
INSERT INTO albums VALUES (11, 'alb11', 1700000000000, 'Single', 'single', 3, NULL, NULL, NULL, 'Indie', 5, '1999', 'year', 1, NULL);
INSERT INTO artists VALUES (1, 'art1', 1700000000000, 'Zed', 10, 20), (2, 'art2', 1700000000000, 'Åsa \"A\"', 5, 6), (3, 'art3', 1700000000000, 'Tab' || char(9) || 'here', 0, 1);
INSERT INTO tracks VALUES (100, 'trk100', 1743033600000, 'First', NULL, 10, 1, 'USX000000001', 10, 3, 1, 1000, 0);
INSERT INTO tracks VALUES (101, 'trk101', 1743033600000, 'Ctrl' || char(1) || ' 日本', 'https://p.example/1', 10, 2, 'USX000000001', 11, 3, 1, 2000, 1);
INSERT INTO tracks VALUES (102, 'trk102', 1743033600000, 'No album, no artists', NULL, 99, 1, 'USX000000002', 0, 1, 1, 3000, 0);
INSERT INTO tracks VALUES (103, 'trk103', 1743033600000, 'No ISRC', NULL, 11, 1, NULL, 0, 3, 1, 4000, 0);
INSERT INTO track_artists VALUES (99, 1), (100, 2), (100, 1), (101, 3), (103, 1), (103, 3), (150, 2);
INSERT INTO artist_genres VALUES (1, 'rock'), (2, 'pop'), (2, 'folk');
"
A10='{"id":"alb10","name":"Album \"Ten\"","album_type":"album","release_date":"2020-01-02","release_date_precision":"day","label":"Label\\One","external_id_upc":"012345678905"}'
A11='{"id":"alb11","name":"Single","album_type":"single","release_date":"1999","release_date_precision":"year","label":"Indie","external_id_upc":null}'
R1='{"id":"art1","name":"Zed"}' R2='{"id":"art2","name":"Åsa \"A\""}' R3='{"id":"art3","name":"Tab\there"}'
cat >"$T/want" <<EOF
{"id":"trk100","fetched_at":1743033600000,"name":"First","preview_url":null,"track_number":1,"external_id_isrc":"USX000000001","popularity":10,"disc_number":1,"duration_ms":1000,"explicit":0,"artists":[$R2,$R1],"album":$A10}
{"id":"trk101","fetched_at":1743033600000,"name":"Ctrl\u0001 日本","preview_url":"https://p.example/1","track_number":2,"external_id_isrc":"USX000000001","popularity":11,"disc_number":1,"duration_ms":2000,"explicit":1,"artists":[$R3],"album":$A10}
{"id":"trk102","fetched_at":1743033600000,"name":"No album, no artists","preview_url":null,"track_number":1,"external_id_isrc":"USX000000002","popularity":0,"disc_number":1,"duration_ms":3000,"explicit":0,"artists":[],"album":null}
{"id":"trk103","fetched_at":1743033600000,"name":"No ISRC","preview_url":null,"track_number":1,"external_id_isrc":null,"popularity":0,"disc_number":1,"duration_ms":4000,"explicit":0,"artists":[$R1,$R3],"album":$A11}
EOF
cat >"$T/want-artists" <<'EOF'
{"id":"art1","fetched_at":1700000000000,"name":"Zed","followers_total":10,"popularity":20,"genres":["rock"]}
{"id":"art2","fetched_at":1700000000000,"name":"Åsa \"A\"","followers_total":5,"popularity":6,"genres":["pop","folk"]}
{"id":"art3","fetched_at":1700000000000,"name":"Tab\there","followers_total":0,"popularity":1,"genres":[]}
EOF

# ---- the default: rows of tracks and artists, as they are ----
cat >"$T/want-rows" <<'EOF'
{"rowid":100,"id":"trk100","fetched_at":1743033600000,"name":"First","preview_url":null,"album_rowid":10,"track_number":1,"external_id_isrc":"USX000000001","popularity":10,"available_markets_rowid":3,"disc_number":1,"duration_ms":1000,"explicit":0}
{"rowid":101,"id":"trk101","fetched_at":1743033600000,"name":"Ctrl\u0001 日本","preview_url":"https://p.example/1","album_rowid":10,"track_number":2,"external_id_isrc":"USX000000001","popularity":11,"available_markets_rowid":3,"disc_number":1,"duration_ms":2000,"explicit":1}
{"rowid":102,"id":"trk102","fetched_at":1743033600000,"name":"No album, no artists","preview_url":null,"album_rowid":99,"track_number":1,"external_id_isrc":"USX000000002","popularity":0,"available_markets_rowid":1,"disc_number":1,"duration_ms":3000,"explicit":0}
{"rowid":103,"id":"trk103","fetched_at":1743033600000,"name":"No ISRC","preview_url":null,"album_rowid":11,"track_number":1,"external_id_isrc":null,"popularity":0,"available_markets_rowid":3,"disc_number":1,"duration_ms":4000,"explicit":0}
EOF
check "ingest small.sqlite3 (tracks)" "$WINNOW" ingest -C "$T/s0" --json -q "$DB"
is "tracks: every row kept" "$(counts "$T/.out")" "4 4 0 0 0"
"$WINNOW" export -C "$T/s0" >"$T/got" 2>/dev/null
if cmp -s "$T/got" "$T/want-rows"; then ok "track records: the rows of tracks, every column in table order"
else not_ok "track records: the rows of tracks, every column in table order"; diag "$(diff "$T/want-rows" "$T/got")"; fi
check "--sqlite-table tracks" "$WINNOW" ingest -C "$T/s0" --json -q --sqlite-table tracks "$DB"
is "... gives the same records: all duplicates" "$(counts "$T/.out")" "4 0 4 0 0"
check "ingest small.sqlite3 --kind artist" "$WINNOW" ingest -C "$T/s0" --kind artist --json -q "$DB"
"$WINNOW" export -C "$T/s0" --kind artist >"$T/got-artists" 2>/dev/null
is "artist records: the rows of artists" "$(cat "$T/got-artists")" \
'{"rowid":1,"id":"art1","fetched_at":1700000000000,"name":"Zed","followers_total":10,"popularity":20}
{"rowid":2,"id":"art2","fetched_at":1700000000000,"name":"Åsa \"A\"","followers_total":5,"popularity":6}
{"rowid":3,"id":"art3","fetched_at":1700000000000,"name":"Tab\there","followers_total":0,"popularity":1}'

# ---- --sqlite-join: tracks with their artists and album, artists with their genres ----
check "ingest small.sqlite3 --sqlite-join (tracks)" "$WINNOW" ingest -C "$T/s1" --json -q --sqlite-join "$DB"
is "tracks: every row kept" "$(counts "$T/.out")" "4 4 0 0 0"
adds_up "$T/.out" "tracks"
"$WINNOW" export -C "$T/s1" >"$T/got" 2>/dev/null
if cmp -s "$T/got" "$T/want"; then ok "track records: columns, then artists in credit order and the album"
else not_ok "track records: columns, then artists in credit order and the album"; diag "$(diff "$T/want" "$T/got")"; fi
is "get --isrc finds the two tracks of one recording" "$("$WINNOW" get -C "$T/s1" --isrc USX000000001 2>/dev/null | wc -l)" 2
check "ingest small.sqlite3 --kind artist --sqlite-join" "$WINNOW" ingest -C "$T/s1" --kind artist --json -q --sqlite-join "$DB"
is "artists: every row kept" "$(counts "$T/.out")" "3 3 0 0 0"
"$WINNOW" export -C "$T/s1" --kind artist >"$T/got-artists" 2>/dev/null
if cmp -s "$T/got-artists" "$T/want-artists"; then ok "artist records: columns and genres in row order"
else not_ok "artist records: columns and genres in row order"; diag "$(diff "$T/want-artists" "$T/got-artists")"; fi
check "the database again" "$WINNOW" ingest -C "$T/s1" --json -q --sqlite-join "$DB"
is "second run: all duplicates" "$(counts "$T/.out")" "4 0 4 0 0"
check "a run without --sqlite-join on the joined catalog uses the stored option" "$WINNOW" ingest -C "$T/s1" --json -q "$DB"
is "... so its records are duplicates (was: the rows, revisions)" "$(counts "$T/.out")" "4 0 4 0 0"
check "the rows themselves (--sqlite-table tracks), into the joined catalog" \
	"$WINNOW" ingest -C "$T/s1" --json -q --sqlite-table tracks "$DB"
is "... are other records than the joined ones: revisions" "$(counts "$T/.out")" "4 0 0 4 0"
cp "$DB" "$T/other-name.bin"
check "told by its header when the name says nothing" "$WINNOW" ingest -C "$T/s2" --json -q --sqlite-join "$T/other-name.bin"
"$WINNOW" export -C "$T/s2" 2>/dev/null | cmp -s - "$T/want"
is "... the same records" "$?" 0

# ---- track_artists out of track order: sorted by SQLite, or through an index ----
cp "$DB" "$T/shuffled.sqlite3"
sqlite3 "$T/shuffled.sqlite3" "DELETE FROM track_artists;
INSERT INTO track_artists VALUES (103, 1), (101, 3), (150, 2), (100, 2), (99, 1), (103, 3), (100, 1);
DELETE FROM artist_genres; INSERT INTO artist_genres VALUES (2, 'pop'), (1, 'rock'), (2, 'folk');"
check "track_artists out of order (no index)" "$WINNOW" ingest -C "$T/s3" --json -q --sqlite-join "$T/shuffled.sqlite3"
"$WINNOW" export -C "$T/s3" 2>/dev/null | cmp -s - "$T/want"
is "... the same records (credit order kept)" "$?" 0
"$WINNOW" ingest -C "$T/s3" --kind artist --json -q --sqlite-join "$T/shuffled.sqlite3" >/dev/null 2>&1
"$WINNOW" export -C "$T/s3" --kind artist 2>/dev/null | cmp -s - "$T/want-artists"
is "... and the same artists (genre order kept)" "$?" 0
cp "$T/shuffled.sqlite3" "$T/indexed.sqlite3"
sqlite3 "$T/indexed.sqlite3" "CREATE INDEX ta ON track_artists(track_rowid); CREATE INDEX ag ON artist_genres(artist_rowid);"
check "track_artists out of order, with an index" "$WINNOW" ingest -C "$T/s4" --json -q --sqlite-join "$T/indexed.sqlite3"
"$WINNOW" export -C "$T/s4" 2>/dev/null | cmp -s - "$T/want"
is "... the same records" "$?" 0

# ---- one table as it is ----
sqlite3 "$T/misc.db" "CREATE TABLE misc (id TEXT, r REAL, b BLOB, n INTEGER, t TEXT);
INSERT INTO misc VALUES ('m1', 0.5, x'00ff', NULL, 'a\"b'), ('m2', 1e300, NULL, -7, '');"
check "--sqlite-table misc" "$WINNOW" ingest -C "$T/s5" --json -q --sqlite-table misc "$T/misc.db"
is "--sqlite-table: the rows as they are (REAL, BLOB as hex, NULL)" "$("$WINNOW" export -C "$T/s5" 2>/dev/null)" \
'{"id":"m1","r":0.5,"b":"00ff","n":null,"t":"a\"b"}
{"id":"m2","r":1e+300,"b":null,"n":-7,"t":""}'

# random strings and integers through --sqlite-table, against Python's JSON encoder
if have python3; then
	python3 - "$T/rand.db" "$T/rand.want" <<'PY'
import json, random, sqlite3, sys
seed = random.randrange(1 << 30)
print("# seed", seed)
rnd = random.Random(seed)
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE r (id TEXT, s TEXT, i INTEGER)")
# 08 and 0c too: Python writes them \b and \f, as winnow's one escaper does
alphabet = ['a', 'Z', '7', ' ', '"', '\\', '/', '\n', '\r', '\t', '\x01', '\x08', '\x0c', '\x1f', '\x7f', 'é', '日', '🎵', '{', ',']
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for k in range(3000):
        n = rnd.choice([0, 1, 5, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 40, 100])
        s = "".join(rnd.choice(alphabet[:4] * 6 + alphabet) for _ in range(n))
        i = rnd.choice([0, -1, 9, 10, 99, 100, -100, 2**63 - 1, -2**63, rnd.randrange(-2**62, 2**62)])
        db.execute("INSERT INTO r VALUES (?, ?, ?)", ("r%d" % k, s, i))
        out.write(json.dumps({"id": "r%d" % k, "s": s, "i": i}, ensure_ascii=False, separators=(",", ":")) + "\n")
db.commit()
PY
	check "--sqlite-table with random strings" "$WINNOW" ingest -C "$T/s6" --json -q --sqlite-table r "$T/rand.db"
	"$WINNOW" export -C "$T/s6" 2>/dev/null >"$T/rand.got"
	if cmp -s "$T/rand.got" "$T/rand.want"; then ok "random strings and integers: the JSON Python writes"
	else not_ok "random strings and integers: the JSON Python writes"; diag "$(diff "$T/rand.want" "$T/rand.got" | head -n 6)"; fi
else
	skip "random strings" "no python3"
fi

# ---- errors ----
must_fail "a database that is not the dump's: exit 2" 2 "$WINNOW" ingest -C "$T/e1" -q "$T/misc.db"
grep -q -- '--sqlite-table' "$T/.err" && grep -q 'misc' "$T/.err"
is "... the message lists its tables and names --sqlite-table" "$?" 0
must_fail "SQLite on standard input: exit 2" 2 "$WINNOW" ingest -C "$T/e2" -q - <"$DB"
grep -q 'must be read from a file' "$T/.err"; is "... says it must be a file" "$?" 0
must_fail "--encoding with SQLite: exit 2" 2 "$WINNOW" ingest -C "$T/e3" -q --encoding cp1252 "$DB"
printf 'not a database\n' >"$T/fake.db"
must_fail "a .db file that is not SQLite: exit 2" 2 "$WINNOW" ingest -C "$T/e4" -q "$T/fake.db"
must_fail "--sqlite-table of a missing table: exit 2" 2 "$WINNOW" ingest -C "$T/e5" -q --sqlite-table nope "$DB"
must_fail "--sqlite-join with --sqlite-table: exit 2" 2 "$WINNOW" ingest -C "$T/e6" -q --sqlite-join --sqlite-table tracks "$DB"
grep -q -- '--sqlite-join.*--sqlite-table' "$T/.err"; is "... the message names both" "$?" 0
sqlite3 "$T/notracks.db" "CREATE TABLE tracks (rowid INTEGER PRIMARY KEY, id TEXT);"
check "a tracks table alone: its rows" "$WINNOW" ingest -C "$T/e7" -q "$T/notracks.db"
must_fail "--sqlite-join of a database without track_artists: exit 2" 2 "$WINNOW" ingest -C "$T/e8" -q --sqlite-join "$T/notracks.db"
grep -q 'no table "track_artists"' "$T/.err"; is "... the message names the missing table" "$?" 0

# ---- kill -9 mid-table, then resume ----
BIG=$T/big.sqlite3
sqlite3 "$BIG" "$SCHEMA
WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 2000)
INSERT INTO artists SELECT k, printf('art%019d', k), 1743033600000, 'Artist ' || k, k * 7, k % 100 FROM n;
WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 20000)
INSERT INTO albums SELECT k, printf('alb%019d', k), 1743033600000, 'Album ' || k, 'album', 3, printf('%012d', k), NULL, NULL,
	'Label ' || (k % 50), k % 100, '2001-01-01', 'day', 10, NULL FROM n;
WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 200000)
INSERT INTO tracks SELECT 1000 + k, printf('trk%019d', k), 1743033600000 + (k % 7) * 604800000, 'Track ' || k, NULL,
	1 + k / 10, k % 10 + 1, printf('QZ%010d', k / 3), k % 100, 3, 1, 100000 + k, k % 2 FROM n;
WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 200000)
INSERT INTO track_artists SELECT 1000 + k, 1 + (k * 7919) % 2000 FROM n;
WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 200000)
INSERT INTO track_artists SELECT 1000 + k, 1 + k % 2000 FROM n WHERE k % 3 = 0;
"
# the second artists went in after all the first ones: make the table track-ordered again
sqlite3 "$BIG" "CREATE TABLE ta2 AS SELECT track_rowid, artist_rowid FROM track_artists ORDER BY track_rowid, rowid;
DROP TABLE track_artists; ALTER TABLE ta2 RENAME TO track_artists;"
OPTS=(-q --json --checkpoint 5000 --frame-size 64K --sqlite-join)
ms_now() { date +%s%3N; }
t0=$(ms_now)
"$WINNOW" ingest -C "$T/ra" "${OPTS[@]}" "$BIG" >"$T/ra.json" 2>"$T/ra.err"
dur=$(($(ms_now) - t0))
is "generated database: 200000 tracks kept" "$(json_get "$T/ra.json" kept)" 200000
adds_up "$T/ra.json" "generated database"
"$WINNOW" export -C "$T/ra" >"$T/ra.export" 2>/dev/null
is "a track with two artists, in order" "$(grep -c '"artists":\[{[^]]*},{' "$T/ra.export")" 66666
# the rerun must have something to resume from: go on until a killed run had committed
# a checkpoint (kills that land before the first one leave an empty catalog)
kill_mid_runs "$T/rb" "$dur" 5 40 1 "$WINNOW" ingest -C "$T/rb" "${OPTS[@]}" "$BIG"
diag "reference run $dur ms; $kills runs killed in $iter tries"
"$WINNOW" ingest -C "$T/rb" "${OPTS[@]}" "$BIG" >"$T/rb.json" 2>"$T/rb.err"
is "after kill -9: the rerun exits 0" "$?" 0
grep -q '"resumed":[1-9]' "$T/rb.json"; is "after kill -9: the rerun resumed mid-table" "$?" 0
"$WINNOW" export -C "$T/rb" 2>/dev/null | cmp -s - "$T/ra.export"
is "after kill -9: export == an uninterrupted run's (no record twice, none lost)" "$?" 0
is "after kill -9: counts == an uninterrupted run's" "$(counts "$T/rb.json")" "$(counts "$T/ra.json")"

# the same, with track_artists out of track order (SQLite sorts it; a resume starts after
# the last track done with a WHERE on the sort key)
sqlite3 "$BIG" "CREATE TABLE ta3 AS SELECT track_rowid, artist_rowid FROM track_artists ORDER BY (track_rowid * 7919) % 1009, rowid;
DROP TABLE track_artists; ALTER TABLE ta3 RENAME TO track_artists;"
"$WINNOW" ingest -C "$T/rc" "${OPTS[@]}" "$BIG" >"$T/rc.json" 2>/dev/null
"$WINNOW" export -C "$T/rc" 2>/dev/null | cmp -s - "$T/ra.export"
is "track_artists out of order: the same records as in order" "$?" 0
kill_mid_runs "$T/rd" "$dur" 3 30 0 "$WINNOW" ingest -C "$T/rd" "${OPTS[@]}" "$BIG"
"$WINNOW" ingest -C "$T/rd" "${OPTS[@]}" "$BIG" >"$T/rd.json" 2>/dev/null
"$WINNOW" export -C "$T/rd" 2>/dev/null | cmp -s - "$T/ra.export"
is "out of order, after $kills kill -9: export == an uninterrupted run's" "$?" 0
is "out of order, after kill -9: counts == an uninterrupted run's" "$(counts "$T/rd.json")" "$(counts "$T/ra.json")"
