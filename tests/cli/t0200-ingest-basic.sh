#!/usr/bin/env bash
# t0200-ingest-basic.sh - ingest a small duplicate-free JSONL and read it back: the --json
# counts, export == input (CRLF and a missing final newline included), get by id, artists,
# stdin and .zst input, usage errors and --help.
. "$(dirname "$0")/lib.sh"

DATA=$TOP/tests/data
IN=$DATA/tracks-small.jsonl
AR=$DATA/artists-small.jsonl
C=$T/cat

# What export must print: every input line, in order, without its '\r', each ending in '\n'.
expected_export() { tr -d '\r' <"$1" | sed -e '$a\'; }
expected_export "$IN" >"$T/want.jsonl"
expected_export "$AR" >"$T/want-artists.jsonl"
nin=$(wc -l <"$T/want.jsonl")

# counts_add_up FILE WHAT: read == kept + duplicates + revisions + rejected, all integers
counts_add_up() {
	local r k d v j
	r=$(json_get "$1" read) k=$(json_get "$1" kept) d=$(json_get "$1" duplicates)
	v=$(json_get "$1" revisions) j=$(json_get "$1" rejected)
	case "$r$k$d$v$j" in
	'' | *[!0-9]*) not_ok "$2: read/kept/duplicates/revisions/rejected are integers"
		diag "read=$r kept=$k duplicates=$d revisions=$v rejected=$j"; return ;;
	esac
	is "$2: read == kept + duplicates + revisions + rejected" "$r" "$((k + d + v + j))"
}

# ---- ingest a file ----
check "ingest tracks-small.jsonl" "$WINNOW" ingest -C "$C" --json "$IN"
cp "$T/.out" "$T/run1.json"
is "--json output is one line" "$(wc -l <"$T/run1.json")" 1
counts_add_up "$T/run1.json" "first run"
is "read counts every line (CRLF line and unterminated last line included)" "$(json_get "$T/run1.json" read)" "$nin"
is "every record kept" "$(json_get "$T/run1.json" kept)" "$nin"
is "no duplicates" "$(json_get "$T/run1.json" duplicates)" 0
is "no revisions" "$(json_get "$T/run1.json" revisions)" 0
is "no rejects" "$(json_get "$T/run1.json" rejected)" 0
is "complete is true" "$(json_get "$T/run1.json" complete)" true

# ---- export ----
"$WINNOW" export -C "$C" >"$T/export.jsonl" 2>"$T/export.err"
is "export exits 0" "$?" 0
if cmp -s "$T/export.jsonl" "$T/want.jsonl"; then ok "export equals the input byte for byte, in order"
else not_ok "export equals the input byte for byte, in order"; diag "$(diff "$T/want.jsonl" "$T/export.jsonl" | head -n 10)"; fi
if grep -q $'\r' "$T/export.jsonl"; then not_ok "the CRLF line is stored without its \\r"; else ok "the CRLF line is stored without its \\r"; fi
is "the unterminated last line comes back with a newline" "$(tail -c 1 "$T/export.jsonl" | od -An -c | tr -d ' ')" '\n'
"$WINNOW" export -C "$C" -o "$T/export-o.jsonl" 2>/dev/null
if cmp -s "$T/export-o.jsonl" "$T/want.jsonl"; then ok "export -o FILE writes the same"; else not_ok "export -o FILE writes the same"; fi

# ---- get ----
bad=0
i=0
while IFS= read -r line; do
	i=$((i + 1))
	id=$(printf '%s\n' "$line" | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
	got=$("$WINNOW" get -C "$C" "$id" 2>/dev/null)
	if [ "$got" != "$line" ]; then bad=$((bad + 1)); diag "get $id (line $i): got '${got:0:80}'"; fi
done <"$T/want.jsonl"
is "get ID returns the exact line, for every input line" "$bad" 0
# several ids: in the order given
id1=$(sed -n 5p "$T/want.jsonl" | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
id2=$(sed -n 2p "$T/want.jsonl" | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
"$WINNOW" get -C "$C" "$id1" "$id2" >"$T/get2" 2>/dev/null
is "get ID1 ID2 prints both in the order given" "$(cat "$T/get2")" "$(sed -n 5p "$T/want.jsonl"; sed -n 2p "$T/want.jsonl")"
must_fail "get of a missing id exits 1" 1 "$WINNOW" get -C "$C" 0000000000000000000000
is "get of a missing id prints nothing on stdout" "$(wc -c <"$T/.out")" 0
if [ -s "$T/.err" ]; then ok "get of a missing id says so on stderr"; else not_ok "get of a missing id says so on stderr"; fi
must_fail "get of one found and one missing id exits 1" 1 "$WINNOW" get -C "$C" "$id1" nosuchid
is "... and still prints the one found" "$(cat "$T/.out")" "$(sed -n 5p "$T/want.jsonl")"
must_fail "a track id is not an artist" 1 "$WINNOW" get -C "$C" --kind artist "$id1"
# ISRC lookups, both layouts (external_ids.isrc and the dump's external_id_isrc)
isrc_api=$(sed -n 1p "$T/want.jsonl" | grep -o '"isrc":"[^"]*"' | cut -d'"' -f4)
"$WINNOW" get -C "$C" --isrc "$isrc_api" >"$T/isrc1" 2>/dev/null
is "get --isrc (API layout) finds the track" "$(cat "$T/isrc1")" "$(sed -n 1p "$T/want.jsonl")"
isrc_dump=$(sed -n 3p "$T/want.jsonl" | grep -o '"external_id_isrc":"[^"]*"' | cut -d'"' -f4)
"$WINNOW" get -C "$C" --isrc "$isrc_dump" >"$T/isrc2" 2>/dev/null
is "get --isrc (dump layout) finds the track" "$(cat "$T/isrc2")" "$(sed -n 3p "$T/want.jsonl")"

# ---- artists ----
check "ingest --kind artist" "$WINNOW" ingest -C "$C" --kind artist --json "$AR"
cp "$T/.out" "$T/art.json"
na=$(wc -l <"$T/want-artists.jsonl")
is "artists: all kept" "$(json_get "$T/art.json" kept)" "$na"
counts_add_up "$T/art.json" "artists"
"$WINNOW" export -C "$C" --kind artist >"$T/export-art.jsonl" 2>/dev/null
if cmp -s "$T/export-art.jsonl" "$T/want-artists.jsonl"; then ok "export --kind artist equals the artist input"
else not_ok "export --kind artist equals the artist input"; fi
"$WINNOW" export -C "$C" >"$T/export-again.jsonl" 2>/dev/null
if cmp -s "$T/export-again.jsonl" "$T/want.jsonl"; then ok "tracks are unchanged by the artist ingest"
else not_ok "tracks are unchanged by the artist ingest"; fi
aid=$(sed -n 4p "$T/want-artists.jsonl" | grep -o '"id":"[^"]*"' | cut -d'"' -f4)
"$WINNOW" get -C "$C" --kind artist "$aid" >"$T/geta" 2>/dev/null
is "get --kind artist ID returns the artist's line" "$(cat "$T/geta")" "$(sed -n 4p "$T/want-artists.jsonl")"
# an artist's id is also a track's artist id inside the track records: not a track id
must_fail "an artist id is not found among tracks" 1 "$WINNOW" get -C "$C" "$aid"
"$WINNOW" stats -C "$C" --json >"$T/stats.json" 2>/dev/null
art_kept=$(grep -o '"artist":{[^}]*}' "$T/stats.json" | grep -o '"kept":[0-9]*' | cut -d: -f2)
trk_kept=$(grep -o '"track":{[^}]*}' "$T/stats.json" | grep -o '"kept":[0-9]*' | cut -d: -f2)
is "stats: artist kept" "$art_kept" "$na"
is "stats: track kept" "$trk_kept" "$nin"

# ---- standard input ----
"$WINNOW" ingest -C "$T/stdin1" --json - <"$IN" >"$T/s1.json" 2>"$T/s1.err"
is "ingest - (stdin) exits 0" "$?" 0
is "ingest - : all kept" "$(json_get "$T/s1.json" kept)" "$nin"
"$WINNOW" export -C "$T/stdin1" 2>/dev/null | cmp -s - "$T/want.jsonl"
is "ingest - : export equals the input" "$?" 0
"$WINNOW" ingest -C "$T/stdin2" --json <"$IN" >"$T/s2.json" 2>"$T/s2.err"
is "ingest with no FILE reads stdin, exits 0" "$?" 0
is "no FILE: all kept" "$(json_get "$T/s2.json" kept)" "$nin"
"$WINNOW" export -C "$T/stdin2" 2>/dev/null | cmp -s - "$T/want.jsonl"
is "no FILE: export equals the input" "$?" 0

# ---- zstd-compressed input ----
if have zstd; then
	zstd -q -c "$IN" >"$T/in.jsonl.zst"
	"$WINNOW" ingest -C "$T/zst1" --json "$T/in.jsonl.zst" >"$T/z1.json" 2>"$T/z1.err"
	st=$?; is ".zst input: exit 0" "$st" 0; [ $st -eq 0 ] || diag "$(cat "$T/z1.err")"
	is ".zst input: same counts as the plain file" "$(json_get "$T/z1.json" read)/$(json_get "$T/z1.json" kept)" "$nin/$nin"
	"$WINNOW" export -C "$T/zst1" 2>/dev/null | cmp -s - "$T/want.jsonl"
	is ".zst input: export equals the input" "$?" 0
	# the same bytes without a telling name, through stdin
	"$WINNOW" ingest -C "$T/zst2" --json - <"$T/in.jsonl.zst" >"$T/z2.json" 2>"$T/z2.err"
	st=$?; is ".zst on stdin: exit 0" "$st" 0; [ $st -eq 0 ] || diag "$(cat "$T/z2.err")"
	"$WINNOW" export -C "$T/zst2" 2>/dev/null | cmp -s - "$T/want.jsonl"
	is ".zst on stdin: export equals the input" "$?" 0
	# a .zst bigger than 1 MiB compressed (random base64, so it does not shrink much)
	head -c 1800000 /dev/urandom | base64 -w 600 |
		awk '{ printf "{\"id\":\"big%05d\",\"blob\":\"%s\"}\n", NR, $0 }' >"$T/big.jsonl"
	zstd -q -1 -c "$T/big.jsonl" >"$T/big.jsonl.zst"
	diag "big.jsonl.zst: $(wc -c <"$T/big.jsonl.zst") bytes compressed, $(wc -l <"$T/big.jsonl") lines"
	"$WINNOW" ingest -C "$T/zst3" --json "$T/big.jsonl.zst" >"$T/z3.json" 2>"$T/z3.err"
	st=$?; is ".zst input > 1 MiB: exit 0 (no crash)" "$st" 0; [ $st -eq 0 ] || diag "$(tail -n 3 "$T/z3.err")"
	is ".zst input > 1 MiB: all kept" "$(json_get "$T/z3.json" kept)" "$(wc -l <"$T/big.jsonl")"
	"$WINNOW" export -C "$T/zst3" 2>/dev/null | cmp -s - "$T/big.jsonl"
	is ".zst input > 1 MiB: export equals the decompressed input" "$?" 0
else
	skip ".zst input" "zstd not installed"
fi

# ---- usage errors: exit 2, message on stderr, nothing created ----
must_fail "no -C: exit 2" 2 "$WINNOW" ingest "$IN"
if [ -s "$T/.err" ] && [ ! -s "$T/.out" ]; then ok "no -C: message on stderr only"; else not_ok "no -C: message on stderr only"; fi
must_fail "unknown option: exit 2" 2 "$WINNOW" ingest -C "$T/u1" --no-such-option "$IN"
must_fail "bad --kind: exit 2" 2 "$WINNOW" ingest -C "$T/u2" --kind Album "$IN"
grep -q "Album" "$T/.err"; is "bad --kind: the message quotes the value" "$?" 0
must_fail "bad --on-conflict: exit 2" 2 "$WINNOW" ingest -C "$T/u3" --on-conflict sometimes "$IN"
must_fail "--on-conflict newest: without a field: exit 2" 2 "$WINNOW" ingest -C "$T/u4" --on-conflict newest: "$IN"
must_fail "bad --frame-size: exit 2" 2 "$WINNOW" ingest -C "$T/u5" --frame-size 12Q "$IN"
must_fail "--shard-size below --frame-size: exit 2" 2 "$WINNOW" ingest -C "$T/u6" --frame-size 64K --shard-size 8K "$IN"
created=0
for u in u1 u2 u3 u4 u5 u6; do [ -e "$T/$u" ] && created=$((created + 1)); done
is "usage errors create no catalog" "$created" 0
must_fail "missing input file: exit 3 (I/O)" 3 "$WINNOW" ingest -C "$T/u7" "$T/no-such-file.jsonl"
must_fail "get without -C: exit 2" 2 "$WINNOW" get 0000
must_fail "export with a stray argument: exit 2" 2 "$WINNOW" export -C "$C" extra
must_fail "export of a folder that is no catalog: exit 1 (not found)" 1 "$WINNOW" export -C "$T/nothing-here"

# ---- --help ----
"$WINNOW" ingest --help >"$T/help.out" 2>"$T/help.err"
is "ingest --help exits 0" "$?" 0
grep -q '^usage: winnow ingest' "$T/help.out"; is "ingest --help prints the usage on stdout" "$?" 0
is "ingest --help prints nothing on stderr" "$(wc -c <"$T/help.err")" 0
for cmd in export get stats; do
	"$WINNOW" $cmd --help >"$T/help.out" 2>/dev/null
	st=$?
	grep -q "^usage: winnow $cmd" "$T/help.out" && [ $st -eq 0 ]
	is "$cmd --help: usage on stdout, exit 0" "$?" 0
done
