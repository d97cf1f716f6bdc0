#!/usr/bin/env bash
# t0820-ingest-check-inputs.sh - every input is opened and checked before the first is
# read: a later input that is missing, a folder, in a format winnow refuses, or a CSV
# without the id column stops the run before anything is read or kept, and no count is
# printed. A run that fails after some checkpoints prints only what the catalog holds
# (the counts at its last checkpoint), never work that was thrown away.
. "$(dirname "$0")/lib.sh"

"$GEN" --count 3000 --seed 3 -o "$T/good.jsonl"
mkdir "$T/folder"
printf '<!doctype html>\n<html><body>not records</body></html>\n' >"$T/page.html"
printf 'name,title\na,b\n' >"$T/noid.csv"

# later_bad WHAT STATUS BAD: good.jsonl then BAD
later_bad() {
	local what=$1 want=$2 bad=$3 cat=$T/cat-$RANDOM
	"$WINNOW" ingest -q -C "$cat" "$T/good.jsonl" "$bad" >"$T/o.out" 2>"$T/o.err"
	is "$what: exit $want" "$?" "$want"
	grep -qF "$(basename "$bad")" "$T/o.err"
	is "$what: stderr names it" "$?" 0
	grep -q "kept" "$T/o.out" "$T/o.err"
	is "$what: no count of kept records is printed" "$?" 1
	is "$what: the catalog holds nothing of the run" \
		"$("$WINNOW" stats -C "$cat" --json 2>/dev/null | grep -o '"read":[0-9]*' | head -n 1)" '"read":0'
	"$WINNOW" ingest -q -C "$cat" --json "$T/good.jsonl" "$bad" >"$T/o.json" 2>/dev/null
	is "$what: --json says read 0, kept 0" "$(json_get "$T/o.json" read) $(json_get "$T/o.json" kept)" "0 0"
}
later_bad "a later input that does not exist" 3 "$T/missing.jsonl"
later_bad "a later input that is a folder" 3 "$T/folder"
later_bad "a later input that is a web page" 2 "$T/page.html"
later_bad "a later CSV without the id column" 2 "$T/noid.csv"

# a failure after checkpoints: a JSON document broken after 4500 records, checkpoints
# every 1000: the catalog holds 4000 of them, and that is what is printed
awk 'BEGIN { printf "["; for (i = 1; i <= 4500; i++) printf "%s{\"id\":\"t%d\",\"name\":\"song %d\"}\n", (i > 1 ? "," : ""), i, i; print ",}" }' >"$T/broken.json"
"$WINNOW" ingest -q -C "$T/b" --checkpoint 1000 "$T/broken.json" >"$T/b.out" 2>"$T/b.err"
st=$?
is "a document broken after 4500 records: exit 3" "$st" 3
held=$("$WINNOW" stats -C "$T/b" --json 2>/dev/null | grep -o '"read":[0-9]*' | head -n 1 | cut -d: -f2)
is "the catalog holds the records up to the last checkpoint" "$held" 4000
grep -q "read 4000: kept 4000" "$T/b.out"
is "the summary counts only what the catalog holds (read 4000, not 4500)" "$?" 0
[ -s "$T/b.out" ] && diag "$(cat "$T/b.out")"
rm -rf "$T/b"
"$WINNOW" ingest -q -C "$T/b" --json --checkpoint 1000 "$T/broken.json" >"$T/b.json" 2>/dev/null
is "--json: read 4000, kept 4000, dropped 500, complete false" \
	"$(json_get "$T/b.json" read) $(json_get "$T/b.json" kept) $(json_get "$T/b.json" dropped) $(json_get "$T/b.json" complete)" \
	"4000 4000 500 false"
