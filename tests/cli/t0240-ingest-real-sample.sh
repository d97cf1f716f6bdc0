#!/usr/bin/env bash
# t0240-ingest-real-sample.sh - data nobody here wrote: the annas-archive slice of the 2025
# Spotify metadata dump (393 tracks, 258 artists; 370 distinct ISRCs, 23 of them on more
# than one track). Skipped when $SHARED is absent.
. "$(dirname "$0")/lib.sh"

S=$SHARED/annas-archive-sample
if [ ! -r "$S/tracks.jsonl" ] || [ ! -r "$S/artists.jsonl" ]; then
	skip "real sample" "no $S (shared data absent)"
	exit 0
fi
TR=$S/tracks.jsonl
AR=$S/artists.jsonl
C=$T/cat

# what the data holds, measured here with grep (not by winnow)
ntr=$(wc -l <"$TR")
nar=$(wc -l <"$AR")
isrcs() { grep -o '"external_id_isrc":"[^"]*"' "$1" | cut -d'"' -f4; }
is "tracks.jsonl: 393 lines" "$ntr" 393
is "tracks.jsonl: 393 distinct ids" "$(grep -o '^{"rowid":[0-9]*,"id":"[^"]*"' "$TR" | cut -d'"' -f6 | sort -u | wc -l)" 393

"$WINNOW" ingest -C "$C" --json "$TR" >"$T/t.json" 2>"$T/t.err"
is "ingest tracks.jsonl exits 0" "$?" 0
is "tracks: 393 kept" "$(json_get "$T/t.json" kept)" 393
is "tracks: read kept duplicates revisions rejected" \
	"$(json_get "$T/t.json" read) $(json_get "$T/t.json" kept) $(json_get "$T/t.json" duplicates) $(json_get "$T/t.json" revisions) $(json_get "$T/t.json" rejected)" \
	"393 393 0 0 0"
"$WINNOW" export -C "$C" >"$T/export" 2>/dev/null
if cmp -s "$T/export" "$TR"; then ok "export == tracks.jsonl byte for byte"; else not_ok "export == tracks.jsonl byte for byte"; fi

# ISRC lookups
"$WINNOW" get -C "$C" --isrc GBKQU2063537 >"$T/isrc" 2>"$T/isrc.err"
is "get --isrc GBKQU2063537 exits 0" "$?" 0
is "get --isrc GBKQU2063537: exactly 2 tracks" "$(wc -l <"$T/isrc")" 2
is "... each carrying that ISRC" "$(grep -c '"external_id_isrc":"GBKQU2063537"' "$T/isrc")" 2
is "... and they are the file's two lines with it, in file order" "$(cat "$T/isrc")" "$(grep '"external_id_isrc":"GBKQU2063537"' "$TR")"
is "... their ids differ" "$(grep -o '"id":"[^"]*"' "$T/isrc" | sort -u | wc -l)" 2
"$WINNOW" get -C "$C" --isrc gbkqu-2063537 >"$T/isrc2" 2>/dev/null
is "get --isrc compares upper-case, alphanumerics only" "$(cat "$T/isrc2")" "$(cat "$T/isrc")"
must_fail "get --isrc of an unknown ISRC exits 1" 1 "$WINNOW" get -C "$C" --isrc ZZZ000000000

isrcs "$T/export" | sort -u >"$T/distinct"
is "370 distinct ISRCs among the exported records" "$(wc -l <"$T/distinct")" 370
if have python3; then
	n=$(python3 -c '
import json, sys
print(len({json.loads(l).get("external_id_isrc") for l in open(sys.argv[1], encoding="utf-8")} - {None}))' "$T/export")
	is "370 distinct ISRCs (python3 json)" "$n" 370
fi
# every ISRC at once: get --isrc A B C ... == for each, the file's lines carrying it
"$WINNOW" get -C "$C" --isrc $(cat "$T/distinct") >"$T/all-isrc" 2>"$T/all-isrc.err"
is "get --isrc of all 370 ISRCs exits 0" "$?" 0
awk -F'"external_id_isrc":"' 'NR == FNR { order[++n] = $0; next }
	{ split($2, a, "\""); lines[a[1]] = lines[a[1]] $0 "\n" }
	END { for (i = 1; i <= n; i++) printf "%s", lines[order[i]] }' "$T/distinct" "$TR" >"$T/all-isrc.want"
if cmp -s "$T/all-isrc" "$T/all-isrc.want"; then ok "get --isrc of every ISRC returns exactly the tracks carrying it"
else not_ok "get --isrc of every ISRC returns exactly the tracks carrying it"; diag "$(wc -l <"$T/all-isrc") lines, want $(wc -l <"$T/all-isrc.want")"; fi

# a few ids: first, middle, last line
for n in 1 197 393; do
	l=$(sed -n "${n}p" "$TR")
	id=$(printf '%s\n' "$l" | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
	is "get the id of line $n" "$("$WINNOW" get -C "$C" "$id" 2>/dev/null)" "$l"
done

# ---- artists ----
"$WINNOW" ingest -C "$C" --kind artist --json "$AR" >"$T/a.json" 2>"$T/a.err"
is "ingest artists.jsonl --kind artist exits 0" "$?" 0
is "artists: 258 kept" "$(json_get "$T/a.json" kept)" 258
is "artists: read == lines of artists.jsonl" "$(json_get "$T/a.json" read)" "$nar"
"$WINNOW" export -C "$C" --kind artist >"$T/aexport" 2>/dev/null
if cmp -s "$T/aexport" "$AR"; then ok "export --kind artist == artists.jsonl"; else not_ok "export --kind artist == artists.jsonl"; fi
l=$(sed -n 100p "$AR")
id=$(printf '%s\n' "$l" | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
is "get --kind artist of line 100's id" "$("$WINNOW" get -C "$C" --kind artist "$id" 2>/dev/null)" "$l"

# ---- stats ----
"$WINNOW" stats -C "$C" --json --top 1000 >"$T/stats.json" 2>"$T/stats.err"
is "stats --json exits 0" "$?" 0
kstat() { grep -o "\"$1\":{[^}]*}" "$T/stats.json" | head -n 1 | grep -o "\"$2\":[0-9]*" | cut -d: -f2; }
is "stats: track kept/records/read" "$(kstat track kept)/$(kstat track records)/$(kstat track read)" "393/393/393"
is "stats: artist kept/records/read" "$(kstat artist kept)/$(kstat artist records)/$(kstat artist read)" "258/258/258"
is "stats: no duplicates, revisions or rejects" \
	"$(kstat track duplicates)$(kstat track revisions)$(kstat track rejected)$(kstat artist duplicates)$(kstat artist revisions)$(kstat artist rejected)" "000000"
# top ISRCs with a large --top: one entry per distinct ISRC, 23 of them on 2+ tracks
is "stats --top 1000 lists every distinct ISRC once" "$(grep -o '{"isrc":"[^"]*","tracks":[0-9]*}' "$T/stats.json" | wc -l)" 370
want_multi=$(isrcs "$TR" | sort | uniq -d | wc -l)
is "stats: ISRCs on more than one track ($want_multi by grep)" \
	"$(grep -o '"tracks":[0-9]*}' "$T/stats.json" | cut -d: -f2 | tr -d '}' | awk '$1 > 1' | wc -l)" "$want_multi"
is "... which is 23" "$want_multi" 23
if have python3; then
	python3 -m json.tool "$T/stats.json" >/dev/null 2>&1
	is "stats --json is valid JSON" "$?" 0
fi
