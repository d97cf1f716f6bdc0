#!/usr/bin/env bash
# t0680-ingest-delimiter.sh - field separators of several bytes (--delimiter '<SEP>', the
# Million Song Dataset's text files), files with no header (--columns), quoted fields
# that hold the separator, the separators refused (exit 2, no catalog made), <SEP> text
# named in the message that refuses it, and a single-byte separator as before.
. "$(dirname "$0")/lib.sh"

rejects() { zstd -dc "$1"/rejects/*.zst 2>/dev/null; }

# the layout of the Million Song Dataset's unique_tracks.txt: track<SEP>song<SEP>artist<SEP>title
cat >"$T/unique_tracks.txt" <<'EOF2'
TRMMMYQ128F932D901<SEP>SOQMMHC12AB0180CB8<SEP>Faster Pussy cat<SEP>Silent Night
TRMMMKD128F425225D<SEP>SOVFVAK12A8C1350D9<SEP>Karkkiautomaatti<SEP>Tanssi vaan
TRMMMRX128F93187D9<SEP>SOGTUKN12AB017F4F1<SEP>Hudson Mohawke<SEP>No One Could Ever
TRMMMCH128F425532C<SEP>SOBNYVR12A8C13558C<SEP>Yerba Brava<SEP>"Si Vos Querés<SEP>Remix"
TRMMMWA128F426B589<SEP>SOHSBXH12A8C13B0DF<SEP>Der Mystic<SEP>Tangle Of "Aspens"
TRMMMXN128F42936A5<SEP>SOZVAPQ12A8C13B63C<SEP>David Bowie<SEP>"Symphony No. 1 ""Leningrad"""
TRMMMLR12903CAB6E4<SEP>SOQVRHI12A6D4FB2D7<SEP>a<SEP>b<SEP>one too many
TRMMMBB12903CB7D21<SEP>SOEYRFT12AB018936C<SEP>Kris Kross<SEP>2 Da Beat Ch'yall
TRMMMYQ128F932D901<SEP>SOQMMHC12AB0180CB8<SEP>Faster Pussy cat<SEP>Silent Night
EOF2
COLS=track_id,song_id,artist_name,title

# ---- refused as it is, with the options that read it ----
must_fail "<SEP> text, no options: refused, exit 2" 2 "$WINNOW" ingest -C "$T/r0" -q "$T/unique_tracks.txt"
grep -qF -- "--format csv --delimiter '<SEP>'" "$T/.err" && grep -qF -- "--columns" "$T/.err"
is "... the message suggests --format csv --delimiter '<SEP>' and --columns" "$?" 0
must_fail "--delimiter '<SEP>' without --columns: the first line is a header without the id column, exit 2" 2 \
	"$WINNOW" ingest -C "$T/r1" -q --format csv --delimiter '<SEP>' "$T/unique_tracks.txt"
grep -q 'no column "id" in the header' "$T/.err"; is "... the message names the missing column" "$?" 0

# ---- read with --delimiter and --columns ----
check "ingest --format csv --delimiter '<SEP>' --columns ... --map id=track_id" "$WINNOW" ingest -C "$T/c1" --json -q \
	--format csv --delimiter '<SEP>' --columns "$COLS" --map id=track_id "$T/unique_tracks.txt"
cp "$T/.out" "$T/c1.json"
is "counts: read kept duplicates revisions rejected" "$(counts "$T/c1.json")" "9 7 1 0 1"
adds_up "$T/c1.json" "<SEP>"
cat >"$T/want1" <<'EOF2'
{"track_id":"TRMMMYQ128F932D901","song_id":"SOQMMHC12AB0180CB8","artist_name":"Faster Pussy cat","title":"Silent Night"}
{"track_id":"TRMMMKD128F425225D","song_id":"SOVFVAK12A8C1350D9","artist_name":"Karkkiautomaatti","title":"Tanssi vaan"}
{"track_id":"TRMMMRX128F93187D9","song_id":"SOGTUKN12AB017F4F1","artist_name":"Hudson Mohawke","title":"No One Could Ever"}
{"track_id":"TRMMMCH128F425532C","song_id":"SOBNYVR12A8C13558C","artist_name":"Yerba Brava","title":"Si Vos Querés<SEP>Remix"}
{"track_id":"TRMMMWA128F426B589","song_id":"SOHSBXH12A8C13B0DF","artist_name":"Der Mystic","title":"Tangle Of \"Aspens\""}
{"track_id":"TRMMMXN128F42936A5","song_id":"SOZVAPQ12A8C13B63C","artist_name":"David Bowie","title":"Symphony No. 1 \"Leningrad\""}
{"track_id":"TRMMMBB12903CB7D21","song_id":"SOEYRFT12AB018936C","artist_name":"Kris Kross","title":"2 Da Beat Ch'yall"}
EOF2
"$WINNOW" export -C "$T/c1" >"$T/got1" 2>/dev/null
if cmp -s "$T/got1" "$T/want1"; then ok "export: the --columns names as keys, the first line a record, quoted <SEP> and quotes as text"
else not_ok "export: the --columns names as keys, the first line a record, quoted <SEP> and quotes as text"; diag "$(diff "$T/want1" "$T/got1")"; fi
rejects "$T/c1" >"$T/rej1"
grep -qF '"line":7,"offset":504,"reason":"bad_row","detail":"row has 5 fields, the header has 4","raw":"TRMMMLR12903CAB6E4<SEP>SOQVRHI12A6D4FB2D7<SEP>a<SEP>b<SEP>one too many"}' "$T/rej1"
is "a row of 5 fields: rejected with its line, offset, field count and raw bytes" "$?" 0
[ "$(head -c 504 "$T/unique_tracks.txt" | wc -l)" = 6 ]; is "... (its offset is where line 7 starts)" "$?" 0

# the same records as JSONL would give: the same fingerprints (all duplicates)
"$WINNOW" export -C "$T/c1" >"$T/as.jsonl"
check "the exported records ingested as JSONL into the same catalog" "$WINNOW" ingest -C "$T/c1" --json -q --map id=track_id "$T/as.jsonl"
is "... are all duplicates: the records' fingerprints are those of the JSON they became" "$(counts "$T/.out")" "7 0 7 0 0"

# no --format: a first line that holds the --delimiter makes the input CSV; .gz as well
gzip -c "$T/unique_tracks.txt" >"$T/unique_tracks.txt.gz"
check "no --format, .txt.gz: read as CSV by its --delimiter" "$WINNOW" ingest -C "$T/c2" --json -q \
	--delimiter '<SEP>' --columns "$COLS" --map id=track_id "$T/unique_tracks.txt.gz"
is "... the same counts" "$(counts "$T/.out")" "9 7 1 0 1"
"$WINNOW" export -C "$T/c2" >"$T/got2" 2>/dev/null
cmp -s "$T/got2" "$T/want1"; is "... the same records" "$?" 0

# a second run of the same file: every row a duplicate (the same text for the same row)
check "the same file again" "$WINNOW" ingest -C "$T/c2" --json -q --delimiter '<SEP>' --columns "$COLS" \
	--map id=track_id "$T/unique_tracks.txt.gz"
is "... every record a duplicate, the bad row rejected again" "$(counts "$T/.out")" "9 0 8 0 1"

# ---- --columns with a header, a BOM, CRLF ----
printf '\357\273\277id,name\r\n1,a\r\n2,"b,c"\r\n' >"$T/h.csv"
check "--columns on a CSV with a header and a BOM" "$WINNOW" ingest -C "$T/c3" --json -q --columns id,name "$T/h.csv"
is "... its header line is a row like the others" "$(counts "$T/.out")" "3 3 0 0 0"
"$WINNOW" export -C "$T/c3" | head -n 1 >"$T/got3"
is "... whose first value has no BOM" "$(cat "$T/got3")" '{"id":"id","name":"name"}'
must_fail "--columns with an empty name: exit 2" 2 "$WINNOW" ingest -C "$T/u1" -q --columns id,,x "$T/h.csv"
grep -q -- '--columns: name 2 of 3 is empty' "$T/.err"; is "... saying which" "$?" 0

# ---- a single byte, as before; tab by name ----
printf 'id;v\n1;2,5\n' >"$T/semi.txt"
check "--delimiter ';'" "$WINNOW" ingest -C "$T/c4" -q --format csv --delimiter ';' "$T/semi.txt"
is "... one record, the comma is text" "$("$WINNOW" export -C "$T/c4")" '{"id":"1","v":"2,5"}'
printf 'id\tv\n1\t2,5\n' >"$T/tab.txt"
check "--delimiter tab" "$WINNOW" ingest -C "$T/c5" -q --format csv --delimiter tab "$T/tab.txt"
is "... one record" "$("$WINNOW" export -C "$T/c5")" '{"id":"1","v":"2,5"}'

# ---- separators refused: exit 2, before a catalog is made ----
must_fail "--delimiter '': exit 2" 2 "$WINNOW" ingest -C "$T/u2" -q --delimiter '' "$T/semi.txt"
must_fail "--delimiter with a quote: exit 2" 2 "$WINNOW" ingest -C "$T/u3" -q --delimiter '<"' "$T/semi.txt"
must_fail "--delimiter with a CR: exit 2" 2 "$WINNOW" ingest -C "$T/u4" -q --delimiter "$(printf 'a\rb')" "$T/semi.txt"
must_fail "--delimiter with a LF: exit 2" 2 "$WINNOW" ingest -C "$T/u5" -q --delimiter "$(printf 'a\nb')" "$T/semi.txt"
grep -q 'quote or a line end' "$T/.err"; is "... saying why" "$?" 0
must_fail "--delimiter of 17 bytes: exit 2" 2 "$WINNOW" ingest -C "$T/u6" -q --delimiter 12345678901234567 "$T/semi.txt"
printf 'x1234567890123456y\n' >"$T/sep16.txt"
check "--delimiter of 16 bytes is fine" "$WINNOW" ingest -C "$T/c6" -q --format csv --delimiter 1234567890123456 --columns id,v "$T/sep16.txt"
is "... and splits" "$("$WINNOW" export -C "$T/c6")" '{"id":"x","v":"y"}'
created=0
for u in u2 u3 u4 u5 u6; do [ -e "$T/$u" ] && created=$((created + 1)); done
is "refused separators create no catalog" "$created" 0

# ---- documented ----
"$WINNOW" ingest --help >"$T/help"
grep -q -- '--delimiter SEP' "$T/help" && grep -q -- '--columns' "$T/help"; is "ingest --help names --delimiter SEP and --columns" "$?" 0
grep -qF '\-\-columns' "$TOP/doc/man/winnow-ingest.1" && grep -q -- '<SEP>' "$TOP/doc/INPUTS.md"
is "the man page and INPUTS.md say so" "$?" 0
