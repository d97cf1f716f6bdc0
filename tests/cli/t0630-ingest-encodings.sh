#!/usr/bin/env bash
# t0630-ingest-encodings.sh - text that is not UTF-8: rejected with the reason and the exact
# bytes by default; --encoding cp1252 / latin1 transcodes (CSV, JSONL, JSON documents);
# bytes cp1252 does not define; a header that is not UTF-8.
. "$(dirname "$0")/lib.sh"

DATA=$TOP/tests/data
CP=$DATA/cp1252-small.csv

check "cp1252 CSV read as UTF-8 (the default)" "$WINNOW" ingest -C "$T/e1" --json -q "$CP"
is "default: the three lines with cp1252 bytes are rejected" "$(counts "$T/.out")" "4 1 0 0 3"
zstd -dc "$T/e1"/rejects/*.zst >"$T/rej1" 2>/dev/null
is "... as invalid_utf8" "$(grep -c '"reason":"invalid_utf8"' "$T/rej1")" 3
grep -q '"line":2,.*"detail":"truncated utf-8 sequence at byte 8 of the row (' "$T/rej1"
is "... with the byte where the fault is" "$?" 0
if have base64; then
	grep '"line":3,' "$T/rej1" | grep -o '"raw_base64":"[^"]*"' | cut -d'"' -f4 | base64 -d >"$T/raw3"
	sed -n 3p "$CP" | tr -d '\r\n' >"$T/want3"
	cmp -s "$T/raw3" "$T/want3"; is "... and the row's exact bytes in raw_base64" "$?" 0
else
	skip "raw_base64" "no base64"
fi

check "--encoding cp1252" "$WINNOW" ingest -C "$T/e2" --json -q --encoding cp1252 "$CP"
is "cp1252: three kept, the undefined byte 0x81 rejected" "$(counts "$T/.out")" "4 3 0 0 1"
is "cp1252: é, curly quotes, en dash, euro" "$("$WINNOW" export -C "$T/e2" 2>/dev/null | sed -n 1,2p)" '{"id":"1","name":"Beyoncé"}
{"id":"2","name":"“Curly” – dash €"}'
zstd -dc "$T/e2"/rejects/*.zst 2>/dev/null | grep -q '"line":5,.*0x81.*latin1'
is "cp1252: the reject of 0x81 says what --encoding latin1 would do" "$?" 0
check "--encoding latin1" "$WINNOW" ingest -C "$T/e3" --json -q --encoding latin1 "$CP"
is "latin1: every row kept" "$(counts "$T/.out")" "4 4 0 0 0"
is "latin1: 0x81 is U+0081" "$("$WINNOW" export -C "$T/e3" 2>/dev/null | sed -n 4p)" "$(printf '{"id":"4","name":"undefined \xc2\x81 byte"}')"

# JSONL and JSON documents
printf '{"id":"j1","name":"Beyonc\351"}\n{"id":"j2","name":"plain"}\n' >"$T/l1.jsonl"
check "latin1 JSONL, default" "$WINNOW" ingest -C "$T/e4" --json -q "$T/l1.jsonl"
is "JSONL: the latin1 line rejected" "$(counts "$T/.out")" "2 1 0 0 1"
check "latin1 JSONL, --encoding latin1" "$WINNOW" ingest -C "$T/e5" --json -q --encoding latin1 "$T/l1.jsonl"
is "JSONL --encoding latin1: é" "$("$WINNOW" export -C "$T/e5" 2>/dev/null | head -n 1)" '{"id":"j1","name":"Beyoncé"}'
printf '[{"id":"d1","name":"\223Q\224"}]' >"$T/d1.json"
check "cp1252 JSON document, --encoding cp1252" "$WINNOW" ingest -C "$T/e6" --json -q --encoding cp1252 "$T/d1.json"
is "JSON document --encoding cp1252" "$("$WINNOW" export -C "$T/e6" 2>/dev/null)" '{"id":"d1","name":"“Q”"}'

# errors
must_fail "--encoding ebcdic: exit 2" 2 "$WINNOW" ingest -C "$T/e7" -q --encoding ebcdic "$CP"
printf 'id,n\351me\n1,x\n' >"$T/h.csv"
must_fail "a header that is not UTF-8: exit 2" 2 "$WINNOW" ingest -C "$T/e8" -q "$T/h.csv"
grep -q -- '--encoding' "$T/.err"; is "... and the message suggests --encoding" "$?" 0
check "... which reads it" "$WINNOW" ingest -C "$T/e9" --json -q --encoding latin1 "$T/h.csv"
is "latin1 header: the key is UTF-8" "$("$WINNOW" export -C "$T/e9" 2>/dev/null)" '{"id":"1","néme":"x"}'
