#!/usr/bin/env bash
# t0600-ingest-csv.sh - CSV and TSV input: RFC 4180 quoting (separators, quotes and line
# ends inside quoted fields), BOM, CRLF, --map, the record each row becomes, rows with the
# wrong number of fields rejected with their line and raw bytes, --types, --empty-null,
# a CSV encoded twice (refused, then --csv-unwrap), stdin and .zst, usage errors, and a
# CSV resumed after kill -9.
. "$(dirname "$0")/lib.sh"

DATA=$TOP/tests/data
EDGE=$DATA/csv-edge.csv
# killed_mid_run STATUS CATALOG: the run was killed before it finished (a kill that lands
# after the final commit, while the process exits, leaves a finished catalog)
rejects() { zstd -dc "$1"/rejects/*.zst 2>/dev/null; }

# ---- the edge cases file ----
check "ingest csv-edge.csv --map id=track_id,isrc=isrc" "$WINNOW" ingest -C "$T/c1" --json -q --map id=track_id,isrc=isrc "$EDGE"
cp "$T/.out" "$T/c1.json"
is "counts: read kept duplicates revisions rejected" "$(counts "$T/c1.json")" "11 5 1 1 4"
adds_up "$T/c1.json" "csv-edge"
cat >"$T/want1" <<'EOF'
{"track_id":"T1","title":"Plain title","artist":"Someone","isrc":"USAAA0000001","duration_ms":"200000","explicit":"false"}
{"track_id":"T2","title":"Comma, inside","artist":"Quote \"Q\" Man","isrc":"USAAA0000002","duration_ms":"210,000","explicit":"true"}
{"track_id":"T3","title":"Two\r\nlines","artist":"Multi","isrc":"USAAA0000003","duration_ms":"220000","explicit":"0"}
{"track_id":"T6","title":"Café ☕","artist":"Björk","isrc":"USAAA0000006","duration_ms":"","explicit":"1"}
{"track_id":"T7","title":"back\\slash\ttab","artist":"x","isrc":"USAAA0000007","duration_ms":"1","explicit":"no"}
EOF
"$WINNOW" export -C "$T/c1" >"$T/got1" 2>/dev/null
if cmp -s "$T/got1" "$T/want1"; then ok "export: one JSON object a row, keys in header order, values as strings, BOM gone"
else not_ok "export: one JSON object a row, keys in header order, values as strings, BOM gone"; diag "$(diff "$T/want1" "$T/got1")"; fi
rejects "$T/c1" >"$T/rej1"
is "four rejects entries" "$(wc -l <"$T/rej1")" 4
grep -qF '"line":6,"offset":213,"reason":"bad_row","detail":"row has 3 fields, the header has 6","raw":"T4,Too few,fields"}' "$T/rej1"
is "too few fields: line, offset, reason with the counts, raw bytes" "$?" 0
grep -qF '"line":7,"offset":232,"reason":"bad_row","detail":"row has 7 fields, the header has 6","raw":"T5,\"Too many\nfields\",a,b,c,d,e"}' "$T/rej1"
is "too many fields, over two lines: raw bytes of both lines" "$?" 0
grep -qF '"line":9,"offset":264,"reason":"empty_line"' "$T/rej1"
is "an empty line is rejected as such" "$?" 0
grep -qF '"reason":"missing_id","detail":"missing id (column \"track_id\" is empty)","raw":",No id,Nobody,,1,0"}' "$T/rej1"
is "an empty id: missing_id with the raw row" "$?" 0
"$WINNOW" get -C "$T/c1" --isrc USAAA0000003 >"$T/isrc" 2>/dev/null
is "get --isrc finds a CSV row (--map isrc=isrc)" "$(cat "$T/isrc")" "$(sed -n 3p "$T/want1")"
"$WINNOW" get -C "$T/c1" T6 >"$T/get6" 2>/dev/null
is "get by the mapped id" "$(cat "$T/get6")" "$(sed -n 4p "$T/want1")"

# the same file again: the same rows make the same records, so nothing is new
check "ingest csv-edge.csv again" "$WINNOW" ingest -C "$T/c1" --json -q --map id=track_id,isrc=isrc "$EDGE"
cp "$T/.out" "$T/c1b.json"
read -r r k d v j <<<"$(counts "$T/c1b.json")"
is "second run: nothing kept, every good row a duplicate, the same rejects" "$k $((d + v)) $j" "0 7 4"
adds_up "$T/c1b.json" "second run"
check "the catalog's id field is stored: a run without --map uses it (was: refused)" \
	"$WINNOW" ingest -C "$T/c1" --json -q "$EDGE"
read -r r k d v j <<<"$(counts "$T/.out")"
is "... and finds the same records: nothing kept" "$k $((d + v)) $j" "0 7 4"
must_fail "the catalog's identity is fixed: --id content is refused (exit 2)" 2 "$WINNOW" ingest -C "$T/c1" -q --id content "$EDGE"
grep -q 'identified by --id track_id, not content' "$T/.err"
is "... with a message that shows the stored value" "$?" 0

# ---- standard input, .zst, TSV ----
"$WINNOW" ingest -C "$T/c2" --json -q --map id=track_id,isrc=isrc - <"$EDGE" >"$T/c2.json" 2>"$T/c2.err"
is "CSV on standard input (told by its first line): exit 0" "$?" 0
"$WINNOW" export -C "$T/c2" 2>/dev/null | cmp -s - "$T/want1"
is "CSV on standard input: the same records" "$?" 0
if have zstd; then
	zstd -q -c "$EDGE" >"$T/edge.csv.zst"
	"$WINNOW" ingest -C "$T/c3" --json -q --map id=track_id "$T/edge.csv.zst" >"$T/c3.json" 2>"$T/c3.err"
	is ".csv.zst: exit 0" "$?" 0
	"$WINNOW" export -C "$T/c3" 2>/dev/null | cmp -s - "$T/want1"
	is ".csv.zst: the same records" "$?" 0
else
	skip ".csv.zst" "zstd not installed"
fi
check "ingest tsv-small.tsv" "$WINNOW" ingest -C "$T/c4" --json -q "$DATA/tsv-small.tsv"
is "TSV: counts" "$(counts "$T/.out")" "3 2 0 0 1"
"$WINNOW" export -C "$T/c4" >"$T/got4" 2>/dev/null
is "TSV: records (commas are text, quoted tabs)" "$(cat "$T/got4")" '{"id":"a1","name":"First","note":"comma, fine"}
{"id":"a2","name":"Quoted\ttab","note":"x \"y\""}'

# ---- --types and --empty-null ----
check "--types duration_ms=int,explicit=bool" "$WINNOW" ingest -C "$T/c5" --json -q --map id=track_id --types duration_ms=int,explicit=bool "$EDGE"
"$WINNOW" export -C "$T/c5" >"$T/got5" 2>/dev/null
is "typed: T2 has 210000 (thousands separators read) and true" "$(sed -n 2p "$T/got5" | grep -o '"duration_ms":[^,]*,"explicit":[a-z]*')" '"duration_ms":210000,"explicit":true'
is "typed: an empty int is null, 1 is true" "$(grep '"T6"' "$T/got5" | grep -o '"duration_ms":[^,]*,"explicit":[a-z]*')" '"duration_ms":null,"explicit":true'
is "typed: no is false" "$(grep '"T7"' "$T/got5" | grep -o '"explicit":[a-z]*')" '"explicit":false'
check "--types auto" "$WINNOW" ingest -C "$T/c6" --json -q --map id=track_id --types auto "$EDGE"
is "auto: 200000 is a number, \"210,000\" stays a string" "$("$WINNOW" export -C "$T/c6" 2>/dev/null | head -n 2 | grep -o '"duration_ms":\("[^"]*"\|[0-9]*\)' | tr '\n' ' ')" '"duration_ms":200000 "duration_ms":"210,000" '
check "--empty-null" "$WINNOW" ingest -C "$T/c7" --json -q --map id=track_id --empty-null "$EDGE"
is "--empty-null: an unquoted empty field is null" "$(grep -c '"duration_ms":null' <("$WINNOW" export -C "$T/c7" 2>/dev/null))" 1
must_fail "--types on a missing column: exit 2" 2 "$WINNOW" ingest -C "$T/c8" -q --map id=track_id --types nosuch=int "$EDGE"
grep -q 'no column "nosuch"' "$T/.err"; is "... saying which column" "$?" 0
must_fail "--types with a bad type: exit 2" 2 "$WINNOW" ingest -C "$T/c9" -q --map id=track_id --types duration_ms=float "$EDGE"

# ---- a CSV encoded twice ----
WR=$DATA/csv-wrapped.csv
must_fail "a CSV encoded twice is refused: exit 2" 2 "$WINNOW" ingest -C "$T/w1" --json -q "$WR"
grep -q -- '--csv-unwrap' "$T/.err"; is "... and the message says to pass --csv-unwrap" "$?" 0
grep -q 'holds 4 columns' "$T/.err"; is "... and what the header holds" "$?" 0
is "... and nothing was read" "$(json_get "$T/.out" read)" 0
check "--csv-unwrap" "$WINNOW" ingest -C "$T/w2" --json -q --csv-unwrap "$WR"
is "--csv-unwrap: counts" "$(counts "$T/.out")" "4 2 0 1 1"
is "--csv-unwrap: the inner rows are the records" "$("$WINNOW" export -C "$T/w2" 2>/dev/null | head -n 1)" '{"id":"w1","name":"Song A","artists":"X, Y","rank":"1"}'
rejects "$T/w2" | grep -qF '"line":5,"offset":' ; is "--csv-unwrap: the truncated row is rejected at its line" "$?" 0
rejects "$T/w2" | grep -qF '"detail":"row has 2 fields, the header has 4 (the last field'"'"'s quote is not closed)","raw":"\"w3,\"\"Cut sh\""}'
is "... with the counts and the raw line" "$?" 0

# ---- usage errors ----
must_fail "--format yaml: exit 2" 2 "$WINNOW" ingest -C "$T/u1" --format yaml "$EDGE"
must_fail "--map with an unknown key: exit 2" 2 "$WINNOW" ingest -C "$T/u2" --map name=title "$EDGE"
must_fail "--map without '=': exit 2" 2 "$WINNOW" ingest -C "$T/u3" --map id "$EDGE"
must_fail "--delimiter of 17 bytes: exit 2" 2 "$WINNOW" ingest -C "$T/u4" --delimiter abcdefghijklmnopq "$EDGE"
created=0
for u in u1 u2 u3 u4; do [ -e "$T/$u" ] && created=$((created + 1)); done
is "usage errors create no catalog" "$created" 0
must_fail "no column for the id: exit 2" 2 "$WINNOW" ingest -C "$T/u5" -q "$EDGE"
grep -q 'no column "id"' "$T/.err" && grep -q -- '--map id=' "$T/.err"
is "... and the message names the column and --map id=" "$?" 0
must_fail "--map isrc= on a missing column: exit 2" 2 "$WINNOW" ingest -C "$T/u6" -q --map id=track_id,isrc=ISRC "$EDGE"
must_fail "--strict stops at the first bad row: exit 1" 1 "$WINNOW" ingest -C "$T/u7" -q --strict --map id=track_id "$EDGE"
"$WINNOW" ingest --help | grep -q -- '--csv-unwrap'; is "ingest --help lists the CSV options" "$?" 0
# --map is for JSONL too: the same as --id-field and --isrc-field
printf '{"track_id":"j1","code":"USAAA0000009"}\n{"track_id":"j1","code":"USAAA0000009"}\n' >"$T/map.jsonl"
check "--map on JSONL" "$WINNOW" ingest -C "$T/m1" --json -q --map id=track_id,isrc=code "$T/map.jsonl"
is "--map on JSONL: one kept, one duplicate" "$(counts "$T/.out")" "2 1 1 0 0"
is "--map on JSONL: get --isrc by the mapped field" "$("$WINNOW" get -C "$T/m1" --isrc USAAA0000009 2>/dev/null)" '{"track_id":"j1","code":"USAAA0000009"}'

# ---- resume after kill -9 ----
if [ -x "$GEN" ] && have python3; then
	"$GEN" --count 60000 --seed 5 --layout dump -o "$T/d.jsonl"
	python3 - "$T/d.jsonl" "$T/big.csv" <<'EOF'
import csv, json, sys
w = None
with open(sys.argv[1], 'rb') as f, open(sys.argv[2], 'w', newline='', encoding='utf-8') as out:
    for line in f:
        try:
            o = json.loads(line.decode('utf-8'))
        except Exception:
            continue  # the generator's bad lines
        if not isinstance(o, dict) or not isinstance(o.get('id'), str):
            continue
        if w is None:
            keys = list(o)
            w = csv.writer(out, lineterminator='\r\n')
            w.writerow(keys)
        w.writerow(['' if o.get(k) is None else o.get(k) for k in keys])
EOF
	OPTS=(-q --json --map id=id --checkpoint 2000 --frame-size 16K)
	"$WINNOW" ingest -C "$T/ra" "${OPTS[@]}" "$T/big.csv" >"$T/ra.json" 2>/dev/null
	"$WINNOW" export -C "$T/ra" >"$T/ra.export" 2>/dev/null
	ms_now() { date +%s%3N; }
	t0=$(ms_now)
	"$WINNOW" ingest -C "$T/rt" "${OPTS[@]}" "$T/big.csv" >/dev/null 2>&1
	dur=$(($(ms_now) - t0))
	kill_mid_runs "$T/rb" "$dur" 5 40 0 "$WINNOW" ingest -C "$T/rb" "${OPTS[@]}" "$T/big.csv"
	diag "reference run $dur ms; $kills runs killed in $iter tries"
	"$WINNOW" ingest -C "$T/rb" "${OPTS[@]}" "$T/big.csv" >"$T/rb.json" 2>/dev/null
	is "CSV after $kills kill -9: the rerun exits 0" "$?" 0
	"$WINNOW" export -C "$T/rb" 2>/dev/null | cmp -s - "$T/ra.export"
	is "CSV after kill -9: export == an uninterrupted run's" "$?" 0
	is "CSV after kill -9: counts == an uninterrupted run's" "$(counts "$T/rb.json")" "$(counts "$T/ra.json")"
	adds_up "$T/rb.json" "CSV after kill -9"
else
	skip "CSV resume after kill -9" "needs $GEN and python3"
fi
