#!/usr/bin/env bash
# t0210-ingest-dedup.sh - what counts as a duplicate and what as a revision: reordered keys,
# other whitespace and re-escaped strings are duplicates; a changed value is a revision;
# an exact repeat of an earlier revision is a duplicate; a second run of the same input
# keeps nothing; --on-conflict first/last/newest:FIELD; --ignore-field and its fixed set.
. "$(dirname "$0")/lib.sh"

IN=$TOP/tests/data/tracks-dedup.jsonl
# The input, line by line (see the file):
#   1 T1 v1            2 T2 v1            3 T1 v1, keys reordered   4 T1 v1, other whitespace
#   5 T1 v1, \u00e9 \/ \u00c7 escapes     6 T1 v2 (popularity, fetched_at)   7 = line 6
#   8 T2 v2 (older fetched_at only)       9 T3                      10 T1 v3 (name changed too)
#  11 = line 1         12 T1 v2, keys reordered                     13 malformed
#  14 T3, other whitespace
line() { sed -n "${1}p" "$IN"; }
nlines=$(wc -l <"$IN")

# kstat FILE KIND KEY: a count of one kind in `winnow stats --json`
kstat() { grep -o "\"$2\":{[^}]*}" "$1" | head -n 1 | grep -o "\"$3\":[0-9]*" | cut -d: -f2; }
# counts FILE: "read kept duplicates revisions rejected" of an ingest --json line
add_up() {
	local r k d v j
	read -r r k d v j <<<"$(counts "$1")"
	is "$2: read == kept + duplicates + revisions + rejected" "$r" "$((k + d + v + j))"
}
# ledger CAT: the ledger's entries, one a line
ledger() { cat "$1"/ledger/*.zst 2>/dev/null | zstd -dc 2>/dev/null; }
# has_record LEDGERFILE N: the ledger has a revision entry carrying line N's exact bytes
has_record() { grep -F -e "\"record\":$(line "$2")}" "$1" | grep -q '"revision"'; }
have_py=0
have python3 && have_py=1
# ledger_lines FILE MATCH: the input line numbers of ledger entries with "match":MATCH
ledger_lines() {
	python3 -c '
import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(l)
    if e["match"] == sys.argv[2]:
        print(e["line"])' "$1" "$2" | sort -n | tr '\n' ' '
}

# ---- default policy (first) ----
C=$T/first
"$WINNOW" ingest -C "$C" --json "$IN" >"$T/r1.json" 2>"$T/r1.err"
is "first run exits 0 (a rejected record is no error)" "$?" 0
add_up "$T/r1.json" "first run"
is "first run: read kept duplicates revisions rejected" "$(counts "$T/r1.json")" "$nlines 3 7 3 1"
"$WINNOW" export -C "$C" >"$T/e1" 2>/dev/null
is "export keeps the first version of each id, in input order" "$(cat "$T/e1")" "$(line 1; line 2; line 9)"
is "get T1 returns the first version" "$("$WINNOW" get -C "$C" T1 2>/dev/null)" "$(line 1)"
ledger "$C" >"$T/ledger1"
is "ledger: one entry per duplicate and revision" "$(wc -l <"$T/ledger1")" 10
bad=0
for n in 6 8 10; do has_record "$T/ledger1" $n || { bad=$((bad + 1)); diag "no revision entry with the bytes of line $n"; }; done
is "ledger: each revision with its \"record\" bytes exactly as read" "$bad" 0
if [ $have_py = 1 ]; then
	is "ledger: duplicates are lines 3 4 5 7 11 12 14 (reordered, whitespace, escapes, repeats of a revision)" \
		"$(ledger_lines "$T/ledger1" duplicate)" "3 4 5 7 11 12 14 "
	is "ledger: revisions are lines 6 8 10" "$(ledger_lines "$T/ledger1" revision)" "6 8 10 "
else
	skip "ledger: duplicate line numbers" "python3 not installed"
	skip "ledger: revision line numbers" "python3 not installed"
fi

# ---- incremental: the same input again ----
"$WINNOW" ingest -C "$C" --json "$IN" >"$T/r2.json" 2>"$T/r2.err"
is "second run exits 0" "$?" 0
add_up "$T/r2.json" "second run"
is "second run: nothing kept, everything readable is a duplicate, the bad line rejected again" \
	"$(counts "$T/r2.json")" "$nlines 0 $((nlines - 1)) 0 1"
"$WINNOW" export -C "$C" >"$T/e2" 2>/dev/null
if cmp -s "$T/e1" "$T/e2"; then ok "second run: export unchanged"; else not_ok "second run: export unchanged"; fi
"$WINNOW" stats -C "$C" --json >"$T/st.json" 2>/dev/null
is "stats: catalog-wide read kept duplicates revisions rejected after two runs" \
	"$(kstat "$T/st.json" track read) $(kstat "$T/st.json" track kept) $(kstat "$T/st.json" track duplicates) $(kstat "$T/st.json" track revisions) $(kstat "$T/st.json" track rejected)" \
	"$((2 * nlines)) 3 $((7 + nlines - 1)) 3 2"
is "stats: 3 surviving records" "$(kstat "$T/st.json" track records)" 3
is "stats: generation 2 after two runs" "$(json_get "$T/st.json" generation)" 2
is "stats: no artists" "$(kstat "$T/st.json" artist read)" 0

# ---- a different --ignore-field set on the same catalog ----
must_fail "another --ignore-field set on an existing catalog: exit 2" 2 \
	"$WINNOW" ingest -C "$C" --ignore-field fetched_at "$IN"
grep -q -- "--ignore-field" "$T/.err"; is "... with a message naming --ignore-field" "$?" 0
diag "message: $(head -n 1 "$T/.err")"
"$WINNOW" stats -C "$C" --json >"$T/st2.json" 2>/dev/null
is "... and the catalog's counts are unchanged" "$(kstat "$T/st2.json" track read)" "$((2 * nlines))"

# ---- --on-conflict last ----
C=$T/last
"$WINNOW" ingest -C "$C" --json --on-conflict last "$IN" >"$T/l1.json" 2>/dev/null
is "last: exit 0" "$?" 0
add_up "$T/l1.json" "last"
is "last: read kept duplicates revisions rejected" "$(counts "$T/l1.json")" "$nlines 3 7 3 1"
is "last: 3 versions superseded" "$(json_get "$T/l1.json" superseded)" 3
"$WINNOW" export -C "$C" >"$T/el" 2>/dev/null
is "last: export holds the last version of each id, in the order accepted" "$(cat "$T/el")" "$(line 8; line 9; line 10)"
is "last: get T1 returns the last version" "$("$WINNOW" get -C "$C" T1 2>/dev/null)" "$(line 10)"
ledger "$C" >"$T/ledgerl"
is "last: ledger notes each replaced version as superseded" "$(grep -c '"superseded":[0-9]' "$T/ledgerl")" 3
"$WINNOW" stats -C "$C" --json >"$T/stl.json" 2>/dev/null
is "last: stats superseded" "$(kstat "$T/stl.json" track superseded)" 3
is "last: stats surviving records" "$(kstat "$T/stl.json" track records)" 3
# the old version comes back: it is a duplicate of a version already seen, not a revision
line 1 >"$T/again.jsonl"
"$WINNOW" ingest -C "$C" --json --on-conflict last "$T/again.jsonl" >"$T/l2.json" 2>/dev/null
is "last: a superseded version read again is a duplicate" "$(counts "$T/l2.json")" "1 0 1 0 0"
is "last: ... and does not come back" "$("$WINNOW" get -C "$C" T1 2>/dev/null)" "$(line 10)"

# ---- --on-conflict newest:fetched_at, in both orders ----
C=$T/newest
"$WINNOW" ingest -C "$C" --json --on-conflict newest:fetched_at "$IN" >"$T/n1.json" 2>/dev/null
is "newest: exit 0" "$?" 0
add_up "$T/n1.json" "newest"
is "newest: read kept duplicates revisions rejected" "$(counts "$T/n1.json")" "$nlines 3 7 3 1"
is "newest: T1 is the version with the greatest fetched_at" "$("$WINNOW" get -C "$C" T1 2>/dev/null)" "$(line 10)"
is "newest: T2 keeps its first version (the later one is older)" "$("$WINNOW" get -C "$C" T2 2>/dev/null)" "$(line 2)"
has_record <(ledger "$C") 8
is "newest: the older T2 goes to the ledger with its bytes" "$?" 0
# the same lines, last first
tac "$IN" >"$T/reversed.jsonl"
C=$T/newest-rev
"$WINNOW" ingest -C "$C" --json --on-conflict newest:fetched_at "$T/reversed.jsonl" >"$T/n2.json" 2>/dev/null
is "newest, reversed input: exit 0" "$?" 0
add_up "$T/n2.json" "newest, reversed input"
is "newest, reversed input: T1 is still the version with the greatest fetched_at" \
	"$("$WINNOW" get -C "$C" T1 2>/dev/null)" "$(line 10)"
is "newest, reversed input: T2 is still the version with the greatest fetched_at" \
	"$("$WINNOW" get -C "$C" T2 2>/dev/null)" "$(line 2)"
# across runs: the newer version arrives in a later run, from a record stored on disk
C=$T/newest-runs
line 8 >"$T/p1.jsonl"; line 2 >"$T/p2.jsonl"; line 10 >"$T/p3.jsonl"; line 1 >"$T/p4.jsonl"
for p in p1 p2 p3 p4; do
	"$WINNOW" ingest -C "$C" -q --on-conflict newest:fetched_at "$T/$p.jsonl" >/dev/null 2>&1 || diag "ingest $p failed"
done
is "newest across runs: T2 newer version replaces the stored one" "$("$WINNOW" get -C "$C" T2 2>/dev/null)" "$(line 2)"
is "newest across runs: an older T1 does not replace the newer one" "$("$WINNOW" get -C "$C" T1 2>/dev/null)" "$(line 10)"

# ---- --ignore-field ----
C=$T/ignore
"$WINNOW" ingest -C "$C" --json --ignore-field fetched_at --ignore-field popularity "$IN" >"$T/i1.json" 2>/dev/null
is "ignore: exit 0" "$?" 0
add_up "$T/i1.json" "ignore"
# lines 6 and 8 differ from an earlier line only in fetched_at/popularity; 7 and 12 repeat 6
is "ignore: changes of ignored fields are duplicates; the name change is a revision" \
	"$(counts "$T/i1.json")" "$nlines 3 9 1 1"
has_record <(ledger "$C") 10
is "ignore: the revision (line 10) is in the ledger with its bytes" "$?" 0
"$WINNOW" ingest -C "$C" --json --ignore-field popularity --ignore-field fetched_at "$IN" >"$T/i2.json" 2>"$T/i2.err"
is "ignore: the same set in another order is accepted" "$?" 0
is "ignore: second run is all duplicates" "$(counts "$T/i2.json")" "$nlines 0 $((nlines - 1)) 0 1"
must_fail "ignore: a run with a different set: exit 2" 2 "$WINNOW" ingest -C "$C" --ignore-field fetched_at "$IN"
grep -q -- "fetched_at" "$T/.err" && grep -q -- "popularity" "$T/.err"
is "... the message names the catalog's set" "$?" 0
"$WINNOW" ingest -C "$C" --json "$IN" >"$T/i4.json" 2>/dev/null
is "ignore: a run without --ignore-field uses the catalog's set (was: refused)" "$?" 0
is "ignore: ... so it is all duplicates too" "$(counts "$T/i4.json")" "$nlines 0 $((nlines - 1)) 0 1"
"$WINNOW" stats -C "$C" --json >"$T/sti.json" 2>/dev/null
is "ignore: the refused run changed nothing" \
	"$(kstat "$T/sti.json" track read) $(kstat "$T/sti.json" track kept) $(kstat "$T/sti.json" track duplicates)" \
	"$((3 * nlines)) 3 $((9 + 2 * (nlines - 1)))"
# ... but a new catalog may be made with any set
"$WINNOW" ingest -C "$T/ignore2" --json --ignore-field fetched_at "$IN" >"$T/i3.json" 2>/dev/null
is "ignore fetched_at only: line 8 is a duplicate, lines 6 and 10 revisions" "$(counts "$T/i3.json")" "$nlines 3 8 2 1"
