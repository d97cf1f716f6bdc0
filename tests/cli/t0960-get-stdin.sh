#!/usr/bin/env bash
# t0960-get-stdin.sh - `winnow get -C CAT -`: ids one a line on standard input, answered
# in batches in the order read, with the same records as ids given as arguments. An id
# that is not there, and a line that cannot be an id (not UTF-8, empty, too long), is
# reported on stderr with its line number and makes the exit status 1; the other lines
# are still answered. Every input line gives one record or one message.
. "$(dirname "$0")/lib.sh"
WNC=${WNC:-$(dirname "$WINNOW")/tests/tools/wn-corrupt}

"$GEN" --count 3000 --seed 5 -o "$T/in.jsonl"
check "ingest" "$WINNOW" ingest -C "$T/cat" -q "$T/in.jsonl"
"$WINNOW" export -C "$T/cat" >"$T/all.jsonl"
grep -o '^{"id":"[^"]*"' "$T/all.jsonl" | cut -d'"' -f4 >"$T/all.ids"
is "the export has an id on every line" "$(wc -l <"$T/all.ids" | tr -d ' ')" "$(wc -l <"$T/all.jsonl" | tr -d ' ')"

# 70000 ids drawn with repeats: more than one batch (65536), frames asked for again and again
shuf -r -n 70000 --random-source=<(yes) "$T/all.ids" >"$T/ids"
# the record each id should give, from the export
awk 'NR == FNR { match($0, /^\{"id":"[^"]*"/); rec[substr($0, 8, RLENGTH - 8)] = $0; next } { print rec[$0] }' \
	"$T/all.jsonl" "$T/ids" >"$T/want"
check "get - with 70000 ids exits 0" "$WINNOW" get -C "$T/cat" - <"$T/ids"
cmp -s "$T/.out" "$T/want"
is "... gives each id's record, in input order" "$?" 0
is "... and says nothing on stderr" "$(wc -c <"$T/.err" | tr -d ' ')" 0
head -n 300 "$T/ids" >"$T/ids300"
check "get with 300 ids as arguments" "$WINNOW" get -C "$T/cat" $(cat "$T/ids300")
mv "$T/.out" "$T/args.out"
check "get - with the same 300 ids" "$WINNOW" get -C "$T/cat" - <"$T/ids300"
cmp -s "$T/.out" "$T/args.out"
is "... prints the same bytes" "$?" 0

# missing ids and lines that are not ids: reported with their line, the rest answered
{
	sed -n 1,3p "$T/ids"
	echo "no-such-id"                      # line 4
	printf 'bad\377utf8\n'                 # line 5
	echo                                   # line 6
	head -c 100000 /dev/zero | tr '\0' x   # line 7: far longer than any id
	echo
	printf '%s\r\n' "$(sed -n 4p "$T/ids")" # line 8: a CRLF line end
	printf '%s' "$(sed -n 5p "$T/ids")"    # line 9: no newline at the end
} >"$T/mixed"
must_fail "get - with missing ids and bad lines exits 1" 1 "$WINNOW" get -C "$T/cat" - <"$T/mixed"
sed -n 1,5p "$T/want" >"$T/want5"
cmp -s "$T/.out" "$T/want5"
is "... prints the records of the 5 good ids, in order" "$?" 0
is "... and one message for each other line" "$(cat "$T/.err")" 'winnow: standard input, line 4: no track with id "no-such-id"
winnow: standard input, line 5: id is not valid UTF-8
winnow: standard input, line 6: empty line, no id
winnow: standard input, line 7: id longer than 512 bytes'
is "records + messages = input lines" "$(($(wc -l <"$T/.out") + $(wc -l <"$T/.err")))" 9

# an id of exactly 512 bytes is an id (not there), 513 bytes is too long
{ head -c 512 /dev/zero | tr '\0' y; echo; head -c 513 /dev/zero | tr '\0' y; echo; } >"$T/edge"
must_fail "get - with ids of 512 and 513 bytes exits 1" 1 "$WINNOW" get -C "$T/cat" - <"$T/edge"
grep -q '^winnow: standard input, line 1: no track with id "yyyy' "$T/.err"
is "... 512 bytes: looked up, not found" "$?" 0
grep -qx 'winnow: standard input, line 2: id longer than 512 bytes' "$T/.err"
is "... 513 bytes: too long" "$?" 0

check "get - with empty input exits 0" "$WINNOW" get -C "$T/cat" - </dev/null
is "... and prints nothing" "$(wc -c <"$T/.out" | tr -d ' ')$(wc -c <"$T/.err" | tr -d ' ')" 00
must_fail "get - --json is a usage error" 2 "$WINNOW" get -C "$T/cat" --json - </dev/null
must_fail "get --isrc - is a usage error" 2 "$WINNOW" get -C "$T/cat" --isrc - </dev/null
must_fail "get - with an id beside it is a usage error" 2 "$WINNOW" get -C "$T/cat" "$(head -n 1 "$T/ids")" - </dev/null

# composite ids: the JSON array text, one a line
cat >"$T/charts.jsonl" <<'X'
{"date":"2024-01-01","rank":1,"title":"A"}
{"date":"2024-01-01","rank":2,"title":"B"}
{"date":"2024-01-02","rank":1,"title":"C"}
X
check "ingest with --id date+rank" "$WINNOW" ingest -C "$T/ch" -q --id date+rank "$T/charts.jsonl"
printf '%s\n' '["2024-01-02","1"]' '["1","2024-01-02"]' '["2024-01-01","2"]' >"$T/cids"
must_fail "get - with composite ids, one of them not there, exits 1" 1 "$WINNOW" get -C "$T/ch" - <"$T/cids"
is "... gives the records of the others, in order" "$(cat "$T/.out")" '{"date":"2024-01-02","rank":1,"title":"C"}
{"date":"2024-01-01","rank":2,"title":"B"}'
is "... and names the missing one and its line" "$(cat "$T/.err")" 'winnow: standard input, line 2: no track with id "["1","2024-01-02"]"'

# many frames: a large get reads them on several threads, and answers as a reading in
# order would: the same records as one id at a time, and of two damaged frames, the first
check "ingest with 16k frames" "$WINNOW" ingest -C "$T/many" -q --frame-size 16k "$T/in.jsonl"
frames=$("$WINNOW" stats -C "$T/many" --json | sed -n 's/.*"track":{[^{]*"frames":\([0-9]*\).*/\1/p')
[ "${frames:-0}" -ge 20 ] && ok "... the catalog has $frames frames" || not_ok "... the catalog has $frames frames, want >= 20"
shuf -n 2000 --random-source=<(yes) "$T/all.ids" >"$T/ids2000"
check "get - of 2000 ids across every frame" "$WINNOW" get -C "$T/many" - <"$T/ids2000"
mv "$T/.out" "$T/many.out"
for id in $(head -n 40 "$T/ids2000"); do "$WINNOW" get -C "$T/many" "$id"; done >"$T/one-by-one"
cmp -s "$T/one-by-one" <(head -n 40 "$T/many.out")
is "... the same records as one id at a time" "$?" 0
awk 'NR == FNR { match($0, /^\{"id":"[^"]*"/); rec[substr($0, 8, RLENGTH - 8)] = $0; next } { print rec[$0] }' \
	"$T/all.jsonl" "$T/ids2000" | cmp -s - "$T/many.out"
is "... and each id's record, in input order" "$?" 0
cp -r "$T/many" "$T/bad"
"$WNC" "$T/bad" frame track 9 checksum 0
"$WNC" "$T/bad" frame track 3 checksum 0
for run in 1 2 3; do
	must_fail "get - across two damaged frames exits 1 (run $run)" 1 "$WINNOW" get -C "$T/bad" - <"$T/ids2000"
	is "... prints no record" "$(wc -c <"$T/.out" | tr -d ' ')" 0
	grep -q 'frame 3 (bytes [0-9]*-[0-9]*): content checksum [0-9a-f]*, the index says 00000000' "$T/.err"
	is "... names the first damaged frame" "$?" 0
done
