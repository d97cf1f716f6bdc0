#!/usr/bin/env bash
# t0220-ingest-bad-input.sh - every kind of unreadable line is rejected, never a crash:
# each lands in CATALOG/rejects/ as one JSON line with its input, line number, reason and
# raw bytes (base64 too when they are not UTF-8); stderr names file and line; the counts
# add up; --strict stops at the first bad record and keeps what came before it.
. "$(dirname "$0")/lib.sh"

IN=$T/bad.jsonl
# Each case: the reason(s) the rejects file may give ("" = a good record), and the line's
# bytes as a printf format (no '\n' inside). Written to $IN one a line, in this order.
reasons=() fmts=()
case_() { reasons+=("$1"); fmts+=("$2"); }
case_ ""               '{"id":"G1","name":"good one"}'
case_ malformed_json   '{"id":"X2","name":"unterminated}'
case_ malformed_json   '{"id":"X3","name":"trailing comma",}'
case_ malformed_json   '{"id":"X4" "name":"no comma"}'
case_ malformed_json   '{"id":"X5","n":[1,2}'
case_ invalid_utf8     '{"id":"X6","name":"bad \377\376 utf8"}'
case_ ""               '{"id":"G2","name":"caf\303\251 ok"}'
case_ missing_id       '{"name":"no id here"}'
case_ missing_id       '{"id":{"a":1},"name":"object id"}'
case_ empty_line       ''
case_ "malformed_json invalid_utf8" '\000\001\002\377\376 binary \200\201\033[0m garbage \177'
case_ line_too_long    "{\"id\":\"X12\",\"pad\":\"$(head -c 2000 /dev/zero | tr '\0' a)\"}"
case_ not_an_object    '[{"id":"X13"}]'
case_ duplicate_key    '{"id":"X14","name":"a","name":"b"}'
case_ ""               '{"id":"G3","name":"good three"}'
case_ malformed_json   '{"id":"X16","n":1} trailing'
case_ missing_id       '{"id":null,"name":"null id"}'
case_ invalid_utf8     '{"id":"X18","s":"\300\257"}'
case_ not_an_object    '"just a string"'
case_ "empty_line malformed_json" '   \t  '
case_ empty_line       '\r'
case_ invalid_utf8     '{"id":"X22","s":"cut \342\202"}'
case_ ""               '{"id":"G4","name":"good four"}'
n=${#fmts[@]}
: >"$IN"
for ((i = 0; i < n; i++)); do printf "${fmts[$i]}\n" >>"$IN"; done
# line I's bytes (no terminator), into a file
line_bytes() { printf "${fmts[$(($1 - 1))]}"; }
nbad=0 ngood=0
for ((i = 0; i < n; i++)); do if [ -n "${reasons[$i]}" ]; then nbad=$((nbad + 1)); else ngood=$((ngood + 1)); fi; done
is "the input has one line per case" "$(wc -l <"$IN")" "$n"

C=$T/cat
"$WINNOW" ingest -C "$C" --json --max-line 1K "$IN" >"$T/r.json" 2>"$T/r.err"
st=$?
is "ingest of bad input exits 0 (no --strict)" "$st" 0
[ $st -ge 128 ] && diag "winnow died from signal $((st - 128))"
r=$(json_get "$T/r.json" read) k=$(json_get "$T/r.json" kept) d=$(json_get "$T/r.json" duplicates)
v=$(json_get "$T/r.json" revisions) j=$(json_get "$T/r.json" rejected)
is "read counts every line" "$r" "$n"
is "read == kept + duplicates + revisions + rejected" "$r" "$((k + d + v + j))"
is "every bad line rejected" "$j" "$nbad"
is "every good line kept" "$k" "$ngood"

# export: exactly the good lines, in order
for ((i = 0; i < n; i++)); do [ -z "${reasons[$i]}" ] && printf "${fmts[$i]}\n"; done >"$T/want"
"$WINNOW" export -C "$C" >"$T/export" 2>/dev/null
if cmp -s "$T/export" "$T/want"; then ok "export holds exactly the good lines"; else not_ok "export holds exactly the good lines"; diag "$(diff "$T/want" "$T/export" | head -n 6)"; fi

# the rejects file
if ls "$C"/rejects/*.zst >/dev/null 2>&1; then
	zstd -dc "$C"/rejects/*.zst >"$T/rejects" 2>"$T/zstd.err"
	is "rejects/*.zst decompress with stock zstd" "$?" 0
else
	: >"$T/rejects"
	not_ok "rejects/ has a .zst file"
fi
is "rejects: one line per rejected record" "$(wc -l <"$T/rejects")" "$nbad"
# for each bad line: its entry, found by line number (bash only: grep/sed/base64)
miss=0 wrongreason=0 wrongraw=0 noname=0 nostderr=0
for ((i = 0; i < n; i++)); do
	[ -z "${reasons[$i]}" ] && continue
	ln=$((i + 1))
	e=$(grep -a "\"line\":$ln[,}]" "$T/rejects")
	if [ "$(printf '%s\n' "$e" | grep -c .)" != 1 ]; then miss=$((miss + 1)); diag "line $ln: $(printf '%s\n' "$e" | grep -c .) entries"; continue; fi
	rs=$(printf '%s\n' "$e" | grep -o '"reason":"[a-z0-9_]*"' | cut -d'"' -f4)
	case " ${reasons[$i]} " in *" $rs "*) ;; *) wrongreason=$((wrongreason + 1)); diag "line $ln: reason '$rs', wanted one of: ${reasons[$i]}" ;; esac
	printf '%s\n' "$e" | grep -q '"input":"[^"]*bad.jsonl"' || noname=$((noname + 1))
	# non-UTF-8 lines carry raw_base64: it must decode to the line's bytes
	b64=$(printf '%s\n' "$e" | grep -o '"raw_base64":"[^"]*"' | cut -d'"' -f4)
	if [ -n "$b64" ]; then
		line_bytes $ln >"$T/orig"
		if ! printf '%s' "$b64" | base64 -d 2>/dev/null | cmp -s - "$T/orig"; then wrongraw=$((wrongraw + 1)); diag "line $ln: raw_base64 is not the line's bytes"; fi
	elif ! printf '%s\n' "$e" | grep -q '"raw":"'; then
		wrongraw=$((wrongraw + 1)); diag "line $ln: no \"raw\""
	fi
	grep -a -q "bad.jsonl line $ln:" "$T/r.err" || { nostderr=$((nostderr + 1)); diag "stderr does not name bad.jsonl line $ln"; }
done
is "rejects: exactly one entry with the right \"line\" for each bad line" "$miss" 0
is "rejects: each entry's \"reason\" fits the fault" "$wrongreason" 0
is "rejects: each entry names its \"input\"" "$noname" 0
is "rejects: raw bytes present; raw_base64 decodes to the exact bytes" "$wrongraw" 0
is "stderr names file and line of each rejected record" "$nostderr" 0
# the lines that are not UTF-8 must have raw_base64, the UTF-8 ones need not
nb64=$(grep -c '"raw_base64"' "$T/rejects")
for ln in 6 11 18 22; do
	grep -a "\"line\":$ln[,}]" "$T/rejects" | grep -q '"raw_base64"' || diag "line $ln: no raw_base64"
done
is "raw_base64 on each of the 4 non-UTF-8 lines" "$(grep -a -E '"line":(6|11|18|22)[,}]' "$T/rejects" | grep -c '"raw_base64"')" 4

# with python3: every entry is valid JSON and "raw" decodes to the line (UTF-8 lines) or
# to its first bytes (the over-long line, with "length" the whole length)
if have python3; then
	for ((i = 0; i < n; i++)); do line_bytes $((i + 1)) >"$T/line.$((i + 1))"; done
	python3 - "$T/rejects" "$T" <<'EOF' >"$T/py.out" 2>&1
import base64, json, sys
bad = 0
for text in open(sys.argv[1], "rb"):
    try:
        e = json.loads(text)
    except ValueError as x:
        print("not JSON:", text[:80]); bad += 1; continue
    for k in ("input", "line", "reason", "raw"):
        if k not in e:
            print("line", e.get("line"), "lacks", k); bad += 1
    orig = open("%s/line.%d" % (sys.argv[2], e["line"]), "rb").read()
    if "raw_base64" in e:
        raw = base64.b64decode(e["raw_base64"])
    else:
        raw = e["raw"].encode("utf-8")
    if e.get("raw_truncated"):
        if not (orig.startswith(raw) and 0 < len(raw) < len(orig) and e.get("length") == len(orig)):
            print("line", e["line"], "truncated raw is not a prefix / bad length"); bad += 1
    elif raw != orig.rstrip(b"\r"):
        print("line", e["line"], "raw differs:", raw[:60], orig[:60]); bad += 1
print("bad", bad)
EOF
	is "python3: every rejects entry is JSON, with input/line/reason/raw, and raw is the line's bytes" "$(tail -n 1 "$T/py.out")" "bad 0"
	[ "$(tail -n 1 "$T/py.out")" = "bad 0" ] || diag "$(head -n 10 "$T/py.out")"
else
	skip "python3: rejects entries are JSON and raw is exact" "python3 not installed"
fi
grep -a '"line":12[,}]' "$T/rejects" | grep -q '"raw_truncated":true'
is "the over-long line is marked raw_truncated" "$?" 0

# stats: catalog-wide
"$WINNOW" stats -C "$C" --json >"$T/st.json" 2>/dev/null
is "stats: rejected" "$(grep -o '"track":{[^}]*}' "$T/st.json" | grep -o '"rejected":[0-9]*' | cut -d: -f2)" "$nbad"

# nesting far too deep: rejected (or kept), never a crash
{
	printf '{"id":"deep","a":'; head -c 100000 /dev/zero | tr '\0' '['; head -c 100000 /dev/zero | tr '\0' ']'; printf '}\n'
	printf '{"id":"deep2","o":'; for ((i = 0; i < 3000; i++)); do printf '{"k":'; done; printf '1'; head -c 3000 /dev/zero | tr '\0' '}'; printf '}\n'
	printf '{"id":"G5"}\n'
} >"$T/deep.jsonl"
"$WINNOW" ingest -C "$T/deep" --json "$T/deep.jsonl" >"$T/deep.json" 2>"$T/deep.err"
is "deeply nested records: exit 0, no crash" "$?" 0
is "deeply nested records: both rejected, the good one kept" "$(json_get "$T/deep.json" rejected)/$(json_get "$T/deep.json" kept)" "2/1"
grep -c '"reason":"too_deep"' < <(zstd -dc "$T"/deep/rejects/*.zst 2>/dev/null) >"$T/ntd"
is "deeply nested records: reason too_deep" "$(cat "$T/ntd")" 2

# a file of nothing but garbage
head -c 200000 /dev/urandom >"$T/random.bin"
"$WINNOW" ingest -C "$T/rnd" -q --json "$T/random.bin" >"$T/rnd.json" 2>"$T/rnd.err"
st=$?
is "random bytes: exit 1 (nothing kept, every record rejected), no crash" "$st" 1
r=$(json_get "$T/rnd.json" read) j=$(json_get "$T/rnd.json" rejected)
is "random bytes: every line rejected" "$j" "$r"
grep -q 'nothing kept: every record was rejected' "$T/rnd.err"; is "random bytes: ... which is said, also with -q" "$?" 0
is "random bytes: -q lists nothing on stderr" "$(grep -c 'rejected:' "$T/rnd.err")" 0

# ---- --strict ----
S=$T/strict
"$WINNOW" ingest -C "$S" --json --strict --max-line 1K "$IN" >"$T/s.json" 2>"$T/s.err"
is "--strict: exit 1 at the first bad record" "$?" 1
grep -q "bad.jsonl line 2" "$T/s.err"
is "--strict: the message names file and line 2" "$?" 0
is "--strict: stopped after reading 2 lines" "$(json_get "$T/s.json" read)" 2
is "--strict: complete is false" "$(json_get "$T/s.json" complete)" false
"$WINNOW" export -C "$S" >"$T/s.export" 2>/dev/null
is "--strict: the good record before it is kept" "$(cat "$T/s.export")" "$(line_bytes 1)"
must_fail "--strict: the bad record is not stored" 1 "$WINNOW" get -C "$S" X2
# then the same input without --strict: the run goes on and the totals are those of one run
"$WINNOW" ingest -C "$S" --json --max-line 1K "$IN" >"$T/s2.json" 2>"$T/s2.err"
is "after --strict, a run without it exits 0" "$?" 0
r=$(json_get "$T/s2.json" read) k=$(json_get "$T/s2.json" kept) d=$(json_get "$T/s2.json" duplicates)
v=$(json_get "$T/s2.json" revisions) j=$(json_get "$T/s2.json" rejected)
is "after --strict: read == kept + duplicates + revisions + rejected" "$r" "$((k + d + v + j))"
is "after --strict: read is the input's line count (no line read twice)" "$r" "$n"
is "after --strict: rejected counts each bad line once" "$j" "$nbad"
"$WINNOW" export -C "$S" 2>/dev/null | cmp -s - "$T/want"
is "after --strict: export holds exactly the good lines" "$?" 0
is "after --strict: one rejects entry per bad line" "$(zstd -dc "$S"/rejects/*.zst 2>/dev/null | wc -l)" "$nbad"
