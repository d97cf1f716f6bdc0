#!/usr/bin/env bash
# t0650-input-defects.sh - input that was dropped or mangled without a word: CSV with
# lines ending in CR alone, JSON documents with text that is not a value where a record
# should be, text that is neither JSON nor CSV, a run that rejects every record (and does
# not fix the catalog's id field), a damaged SQLite file, a folder as input, --encoding
# on UTF-8, quotes inside quoted CSV fields that were not doubled, repeated header names.
. "$(dirname "$0")/lib.sh"

# ---- CSV whose lines end in CR alone ----
printf 'id,name\r1,a\r2,b\r' >"$T/cr.csv"
must_fail "CSV with CR-only line ends: refused, exit 2 (was: 0 records, exit 0)" 2 "$WINNOW" ingest -C "$T/c1" -q "$T/cr.csv"
grep -q 'carriage return (CR).*end in CR alone' "$T/.err"; is "... saying the lines end in CR" "$?" 0
printf 'id,name\n1,a\r2,b\n3,"x\ry"\n' >"$T/cr2.csv"
check "a CR in a row, outside quotes" "$WINNOW" ingest -C "$T/c2" --json -q "$T/cr2.csv"
is "... that row rejected, a CR inside quotes kept" "$(counts "$T/.out")" "2 1 0 0 1"
zstd -dc "$T/c2"/rejects/*.zst 2>/dev/null | grep -q '"line":2,.*carriage return (CR) outside quotes at byte 3'
is "... the reject says where the CR is" "$?" 0

# ---- JSON documents: no record made of what is not a value ----
printf '[{"id":"a"},,{"id":"b"}]' >"$T/dc.json"
must_fail "a doubled comma in a JSON document: fatal (was: an empty record, exit 0)" 3 "$WINNOW" ingest -C "$T/j1" --json "$T/dc.json"
grep -q "dc.json line 1: ',' where a value should be (byte 12)" "$T/.err"; is "... with its line and byte" "$?" 0
is "... and no record counted for the gap" "$(json_get "$T/.out" rejected)" 0
printf '[,{"id":"1"}]' >"$T/lc.json"
must_fail "a comma before the first record: fatal" 3 "$WINNOW" ingest -C "$T/j2" --json "$T/lc.json"
is "... nothing read" "$(json_get "$T/.out" read)" 0
printf '[}' >"$T/br.json"
must_fail "[}: fatal" 3 "$WINNOW" ingest -C "$T/j3" -q "$T/br.json"
grep -q "br.json line 1: '}' where a value should be (byte 1)" "$T/.err"; is "... on line 1 of the one-line file (was: line 2)" "$?" 0
printf '[{"id":"a"},\n{"id":"b"}\n\n,]\n' >"$T/tc.json"
must_fail "a comma before ']' on line 4" 3 "$WINNOW" ingest -C "$T/j4" -q "$T/tc.json"
grep -q "tc.json line 4: a comma before ']'" "$T/.err"; is "... says line 4 (was: line 3, the line after the last record)" "$?" 0

# ---- text that is neither JSON nor CSV ----
printf '<!DOCTYPE html>\n<html><body><table><tr><td>1</td></tr></table></body></html>\n' >"$T/t.html"
must_fail "HTML (a saved web page): refused at the start, exit 2 (was: every line rejected, exit 0)" 2 "$WINNOW" ingest -C "$T/x1" -q "$T/t.html"
grep -q 'looks like HTML' "$T/.err" && grep -q 'winnow reads JSONL, JSON documents, CSV/TSV' "$T/.err"
is "... saying what it looks like and what winnow reads" "$?" 0
printf '<?xml version="1.0"?>\n<tracks><track id="1"/></tracks>\n' >"$T/t.xml"
printf 'TRMMMYQ128F932D901<SEP>SOQMMHC12AB0180CB8<SEP>Faster Pussy cat<SEP>Silent Night\n' >"$T/u.txt"
must_fail "<SEP>-separated text: refused, exit 2" 2 "$WINNOW" ingest -C "$T/x2" -q "$T/u.txt"
grep -q 'not JSON .* nor CSV/TSV' "$T/.err"; is "... as neither JSON nor CSV" "$?" 0
if have gzip; then
	gzip -c "$T/t.xml" >"$T/t.xml.gz"
	gzip -dc "$T/t.xml.gz" >"$T/unz"
	"$WINNOW" ingest -C "$T/x3" -q --json - <"$T/unz" >"$T/x3.json" 2>"$T/.err"
	is "decompressed gzip of XML on stdin: read as XML (was: every line rejected as JSONL)" "$(counts "$T/x3.json")" "1 1 0 0 0"
else
	skip "gzip of XML" "no gzip"
fi
printf 'id\n1\n' >"$T/one"
must_fail "one column without --format: refused, exit 2" 2 "$WINNOW" ingest -C "$T/x4" -q - <"$T/one"
grep -q -- '--format csv' "$T/.err"; is "... naming --format csv" "$?" 0
check "... which reads it" "$WINNOW" ingest -C "$T/x5" -q --format csv - <"$T/one"

# ---- every record rejected: exit 1, and the id field is not fixed by it ----
printf '[{"ts":1,"track":"a"},{"ts":2,"track":"b"}]' >"$T/noid.json"
must_fail "every record without the id: exit 1 (was: exit 0)" 1 "$WINNOW" ingest -C "$T/n1" --json "$T/noid.json"
grep -q 'nothing kept: every record was rejected for a missing id.*--map id=FIELD' "$T/.err"
is "... with the hint --map id=FIELD" "$?" 0
is "... the counts still printed" "$(counts "$T/.out")" "2 0 0 0 2"
check "the rerun with the right --map is accepted (was: refused, id field fixed)" "$WINNOW" ingest -C "$T/n1" --json -q --map id=track "$T/noid.json"
is "... and keeps the records" "$(json_get "$T/.out" kept)" 2
must_fail "once a record is kept, the id is fixed" 2 "$WINNOW" ingest -C "$T/n1" -q --map id=ts+track "$T/noid.json"
check "... and a run that does not name it uses it" "$WINNOW" ingest -C "$T/n1" --json -q "$T/noid.json"
is "... so its records are duplicates" "$(counts "$T/.out")" "2 0 2 0 0"
check "verify after all that" "$WINNOW" verify -C "$T/n1" --deep
printf '{"id":"\377"}\n' >"$T/bad.jsonl"
must_fail "every record rejected for another reason: exit 1" 1 "$WINNOW" ingest -C "$T/n2" -q "$T/bad.jsonl"
grep -q 'nothing kept: every record was rejected (their reasons are in' "$T/.err"; is "... with a hint" "$?" 0

# ---- a damaged SQLite file, a folder ----
if have python3; then
	python3 - "$T/g.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE tracks (id TEXT, name TEXT)")
db.executemany("INSERT INTO tracks VALUES (?, ?)", [("t%d" % i, "n" * 200) for i in range(2000)])
db.commit()
PY
	head -c 5000 "$T/g.db" >"$T/trunc.db"
	must_fail "a truncated SQLite file: exit 3 (was: no table, exit 2)" 3 "$WINNOW" ingest -C "$T/s1" -q --sqlite-table tracks "$T/trunc.db"
	grep -q 'database disk image is malformed' "$T/.err"; is "... with SQLite's word for it" "$?" 0
	must_fail "... also as the dump" 3 "$WINNOW" ingest -C "$T/s2" -q "$T/trunc.db"
	cp "$T/g.db" "$T/bad.db"
	printf 'ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ' | dd of="$T/bad.db" bs=1 seek=100 conv=notrunc 2>/dev/null
	must_fail "a damaged SQLite file: exit 3" 3 "$WINNOW" ingest -C "$T/s3" -q --sqlite-table tracks "$T/bad.db"
	grep -q 'database disk image is malformed' "$T/.err"; is "... malformed" "$?" 0
	check "the sound file reads" "$WINNOW" ingest -C "$T/s4" -q --sqlite-table tracks "$T/g.db"
else
	skip "damaged SQLite" "no python3"
fi
mkdir -p "$T/folder"
must_fail "a folder as input: exit 3" 3 "$WINNOW" ingest -C "$T/f1" -q "$T/folder"
grep -q "folder: Is a directory" "$T/.err"; is "... saying it is a directory (was: no reason)" "$?" 0

# ---- --encoding on UTF-8 ----
printf 'id,n\n1,\303\251\n2,Beyonc\303\251\n' >"$T/u8.csv"
check "--encoding cp1252 on UTF-8" "$WINNOW" ingest -C "$T/e1" -q --encoding cp1252 "$T/u8.csv"
is "... warns once" "$(grep -c 'warning: .*u8.csv: its text is valid UTF-8.*--encoding cp1252' "$T/.err")" 1
printf 'id,n\n1,\351\n' >"$T/l1.csv"
check "--encoding cp1252 on cp1252" "$WINNOW" ingest -C "$T/e2" -q --encoding cp1252 "$T/l1.csv"
is "... no warning" "$(grep -c warning "$T/.err")" 0
printf '{"id":"1","n":"\303\251"}\n' >"$T/u8.jsonl"
check "--encoding latin1 on UTF-8 JSONL" "$WINNOW" ingest -C "$T/e3" -q --encoding latin1 "$T/u8.jsonl"
is "... warns once" "$(grep -c 'warning: .*u8.jsonl: its text is valid UTF-8' "$T/.err")" 1

# ---- quotes inside quoted CSV fields that were not doubled ----
printf 'id,t\n1,"a "b" c"\n2,"ok ""q"""\n3,"x"y\n4,"x"\n' >"$T/q.csv"
check "stray quotes in quoted fields" "$WINNOW" ingest -C "$T/q1" -q "$T/q.csv"
is "... counted and said once for the file" "$(grep -c 'warning: .*q.csv: 2 rows (the first on line 2) had a quoted field with a quote in it' "$T/.err")" 1
printf 'id,t\n1,"ok ""q"""\n' >"$T/q2.csv"
check "doubled quotes" "$WINNOW" ingest -C "$T/q2" -q "$T/q2.csv"
is "... no warning" "$(grep -c warning "$T/.err")" 0

# ---- repeated header names (hashed: 100k columns take well under a second) ----
printf 'x,x,x_2,id,x,x_3,x\n1,2,3,4,5,6,7\n' >"$T/dup.csv"
check "repeated header names" "$WINNOW" ingest -C "$T/h1" -q "$T/dup.csv"
is "... get the first free suffix, as before" "$("$WINNOW" export -C "$T/h1" 2>/dev/null)" \
	'{"x":"1","x_4":"2","x_2":"3","id":"4","x_5":"5","x_3":"6","x_6":"7"}'
awk 'BEGIN { printf "id"; for (i = 0; i < 3000; i++) printf ",x"; printf "\n1"; for (i = 0; i < 3000; i++) printf ",%d", i; printf "\n" }' >"$T/x3000.csv"
check "3000 columns named x" "$WINNOW" ingest -C "$T/h2" -q "$T/x3000.csv"
"$WINNOW" export -C "$T/h2" 2>/dev/null | grep -q '"x":"0","x_2":"1",.*"x_3000":"2999"}$'
is "... are x, x_2 ... x_3000" "$?" 0
