#!/usr/bin/env bash
# t0605-ingest-map-title.sh - --map title= and --map artist= (wn_ingest_opts title_field
# and artist_field): for CSV/TSV the header must have the column, else the input fails
# with exit 2; beyond that check nothing reads them: the records, the catalog's options
# and the counts are those of a run without them, and other formats ignore them.
. "$(dirname "$0")/lib.sh"

EDGE=$TOP/tests/data/csv-edge.csv
JSONL=$TOP/tests/data/tracks-small.jsonl

must_fail "--map title=COLUMN not in the header: exit 2" 2 \
	"$WINNOW" ingest -C "$T/bad1" -q --map id=track_id,title=no_such_column "$EDGE"
grep -q 'title=no_such_column: no such column' "$T/.err"
is "the message names the option and the column" "$?" 0
must_fail "--map artist=COLUMN not in the header: exit 2" 2 \
	"$WINNOW" ingest -C "$T/bad2" -q --map id=track_id,artist=no_such_column "$EDGE"
is "a refused input keeps no record" "$("$WINNOW" stats -C "$T/bad1" --json 2>/dev/null | json_get /dev/stdin read)" 0

check "ingest without title and artist" "$WINNOW" ingest -C "$T/plain" --json -q --map id=track_id "$EDGE"
cp "$T/.out" "$T/plain.json"
check "ingest with --map title=title,artist=artist" \
	"$WINNOW" ingest -C "$T/mapped" --json -q --map id=track_id,title=title,artist=artist "$EDGE"
cp "$T/.out" "$T/mapped.json"
is "the same counts" "$(counts "$T/mapped.json")" "$(counts "$T/plain.json")"
"$WINNOW" export -C "$T/plain" >"$T/plain.out" 2>/dev/null
"$WINNOW" export -C "$T/mapped" >"$T/mapped.out" 2>/dev/null
check "the same records" cmp "$T/plain.out" "$T/mapped.out"
check "the same counts in catalog.json" cmp <(sed 's/"profiles".*"counts"//' "$T/plain/catalog.json") \
	<(sed 's/"profiles".*"counts"//' "$T/mapped/catalog.json")
grep -q '"title":"title","artists":"artist"' "$T/mapped/catalog.json"
is "the title and artist paths are stored in the profile" "$?" 0
check "the same MANIFEST: every data file byte for byte" cmp "$T/plain/MANIFEST" "$T/mapped/MANIFEST"

check "JSONL input ignores --map title= and artist=" \
	"$WINNOW" ingest -C "$T/jsonl" -q --map title=no_such_field,artist=no_such_field "$JSONL"
