#!/usr/bin/env bash
# t0780-verify-names.sh - file names in verify's text output are escaped as sha256sum and
# xxhsum escape them: a name with a newline cannot forge a line (a "clean:" one), escape
# sequences never reach the terminal, and a name that needs no escape is printed as it is;
# --json keeps the name exact (JSON-escaped).
. "$(dirname "$0")/lib.sh"

IN=$T/tracks.jsonl
"$GEN" --count 2000 --seed 3 -o "$IN"
C=$T/cat
"$WINNOW" ingest -C "$C" -q --shard-size 64K --frame-size 8K "$IN" >/dev/null 2>&1
is "ingest exits 0" "$?" 0
check "clean before" "$WINNOW" verify -C "$C"
forged=$(tail -n 1 "$T/.out")

# files nobody listed, with names that need escaping, and some that do not
NL="x
$forged"
touch "$C/shards/$NL" "$C/shards/a\\b" "$C/shards/$(printf 'e\033[31mred\033[0m')" "$C/shards/t$(printf '\t')r$(printf '\r')" \
	"$C/shards/été" "$C/shards/$(printf 'bad\377\302\233')" "$C/shards/plain name.txt"
must_fail "extra files with odd names: exit 1" 1 "$WINNOW" verify -C "$C"
out=$T/.out
is "no line of the output is a forged clean: line" "$(grep -c '^clean' "$out")" 0
is "one line per problem, and the summary" "$(wc -l <"$out")" 8
grep -qxF "extra: \\shards/x\\n$forged: a file that MANIFEST does not list" "$out"
is "a newline: a leading backslash and \\n" "$?" 0
grep -qxF 'extra: \shards/a\\b: a file that MANIFEST does not list' "$out"
is "a backslash: doubled, with the leading backslash" "$?" 0
grep -qxF 'extra: \shards/e\x1b[31mred\x1b[0m: a file that MANIFEST does not list' "$out"
is "an escape sequence: \\x1b, never the byte" "$?" 0
grep -qxF 'extra: \shards/t\tr\r: a file that MANIFEST does not list' "$out"
is "tab and carriage return: \\t \\r" "$?" 0
grep -qxF 'extra: \shards/bad\xff\xc2\x9b: a file that MANIFEST does not list' "$out"
is "bytes that are not UTF-8 and a C1 control: \\xHH" "$?" 0
grep -qxF 'extra: shards/été: a file that MANIFEST does not list' "$out"
is "UTF-8 text: as it is" "$?" 0
grep -qxF 'extra: shards/plain name.txt: a file that MANIFEST does not list' "$out"
is "a plain name: as it is" "$?" 0
if LC_ALL=C grep -q "$(printf '\033')" "$out"; then not_ok "no ESC byte in the output"; else ok "no ESC byte in the output"; fi

# --json: the names exact
"$WINNOW" verify -C "$C" --json >"$T/v.json"
if have python3; then
	got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8", errors="surrogateescape"))
names = sorted(p["shard"] for p in d["problems"])
print(len(names), "x\n" + sys.argv[2] in [n[len("shards/"):] for n in names], "shards/a\\b" in names)
' "$T/v.json" "$forged")
	is "--json: every name, exact" "$got" "7 True True"
else
	skip "--json: every name, exact" "no python3"
fi
grep -qF '"shard":"shards/x\n' "$T/v.json"
is "--json: the newline JSON-escaped" "$?" 0

# a name from MANIFEST.json (JSON-escaped there) that MANIFEST does not list
M=$T/mj
rm -rf "$M" && "$WINNOW" ingest -C "$M" -q --shard-size 64K --frame-size 8K "$IN" >/dev/null 2>&1
sed -i '2s|"path":"[^"]*"|"path":"shards/y\\nclean: 1 files"|' "$M/MANIFEST.json"
must_fail "a MANIFEST.json name with a newline: exit 1" 1 "$WINNOW" verify -C "$M"
is "no forged clean: line" "$(grep -c '^clean' "$T/.out")" 0
grep -qF 'metadata: \shards/y\nclean: 1 files: MANIFEST does not list the file' "$T/.out"
is "the MANIFEST.json name is escaped" "$?" 0
