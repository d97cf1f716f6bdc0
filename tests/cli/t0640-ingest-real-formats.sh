#!/usr/bin/env bash
# t0640-ingest-real-formats.sh - the real public files in $SHARED (../shared/data/real, see
# its README.md), each ingested as it is, with the counts measured independently:
#   TidyTuesday CSV subset      4,722 distinct track_id kept of 5,000 rows
#   Most Streamed 2024 (BOM, CRLF, keyed by ISRC)   4,598 distinct ISRC kept
#   universal-top (every line quoted once more)    refused with a message; with
#                               --csv-unwrap 1,816 distinct spotify_id kept of 4,996 good
#                               rows, the 3 truncated rows rejected with their reason
#   cp1252 features subset      108 non-UTF-8 lines rejected by default; with
#                               --encoding cp1252 2,979 distinct track_id kept of 2,999
#   the dump's SQLite sample    --sqlite-join: 393 tracks (each with artists and album),
#                               258 artists; get --isrc GBKQU2063537 returns 2 tracks
#                               (t0845: its rows are the records of the dump's JSONL tables)
#   Million Playlist slice      1,397 distinct track_uri kept
# Skipped when the folder is absent.
. "$(dirname "$0")/lib.sh"

if [ ! -d "$SHARED" ]; then
	skip "real files" "no $SHARED"
	exit 0
fi
# run NAME FILE ARGS...: ingest into a fresh catalog $T/NAME, --json output in $T/NAME.json
run() {
	local name=$1 file=$2
	shift 2
	if [ ! -e "$file" ]; then
		skip "$name" "no $file"
		return 1
	fi
	"$WINNOW" ingest -C "$T/$name" --json -q "$@" "$file" >"$T/$name.json" 2>"$T/$name.err"
	local st=$?
	is "$name: exit 0" "$st" 0
	[ $st -eq 0 ] || diag "$(tail -n 3 "$T/$name.err")"
	adds_up "$T/$name.json" "$name"
}
kept() { json_get "$T/$1.json" kept; }
read_() { json_get "$T/$1.json" read; }

# ---- CSV ----
if run tidy "$SHARED/tidytuesday-spotify-songs-subset-5k.csv" --map id=track_id; then
	is "TidyTuesday: 5,000 rows read" "$(read_ tidy)" 5000
	is "TidyTuesday: 4,722 distinct track_id kept" "$(kept tidy)" 4722
	is "TidyTuesday: the 17 byte-identical rows are duplicates" "$(json_get "$T/tidy.json" duplicates)" 17
fi
if run streamed "$SHARED/most-streamed-spotify-songs-2024.csv" --map id=ISRC,isrc=ISRC; then
	is "Most Streamed 2024 (BOM, CRLF): 4,600 rows read" "$(read_ streamed)" 4600
	is "Most Streamed 2024: 4,598 distinct ISRC kept" "$(kept streamed)" 4598
	"$WINNOW" export -C "$T/streamed" 2>/dev/null | head -n 1 | grep -q '^{"Track":"MILLION DOLLAR BABY",'
	is "Most Streamed 2024: the BOM is not part of the first key" "$?" 0
	"$WINNOW" get -C "$T/streamed" --isrc QM24S2402528 2>/dev/null | grep -q '"Spotify Streams":"390470936"'
	is "Most Streamed 2024: get --isrc" "$?" 0
fi
U=$SHARED/universal-top-spotify-songs-2025-02-18.csv
if [ -e "$U" ]; then
	must_fail "universal-top without --csv-unwrap: refused (exit 2)" 2 "$WINNOW" ingest -C "$T/top0" --json -q --map id=spotify_id "$U"
	grep -q 'one quoted field that holds a whole CSV line' "$T/.err" && grep -q -- '--csv-unwrap' "$T/.err"
	is "... saying plainly what the file is and what to pass" "$?" 0
	is "... having stored nothing" "$(json_get "$T/.out" kept)" 0
fi
if run top "$U" --map id=spotify_id --csv-unwrap; then
	is "universal-top --csv-unwrap: 4,999 rows read" "$(read_ top)" 4999
	is "universal-top --csv-unwrap: 1,816 distinct spotify_id kept" "$(kept top)" 1816
	is "universal-top --csv-unwrap: 4,996 good rows" "$(($(read_ top) - $(json_get "$T/top.json" rejected)))" 4996
	is "universal-top --csv-unwrap: the 3 truncated rows rejected" "$(json_get "$T/top.json" rejected)" 3
	zstd -dc "$T/top"/rejects/*.zst >"$T/top.rej" 2>/dev/null
	is "... each with its reason" "$(grep -c '"detail":"row has 12 fields, the header has 25' "$T/top.rej")" 3
	is "... at lines 960, 1959, 4560" "$(grep -o '"line":[0-9]*' "$T/top.rej" | cut -d: -f2 | tr '\n' ' ')" "960 1959 4560 "
	grep '"line":960,' "$T/top.rej" | grep -qF '"raw":"\"1hlbywc8Jhl1FFqJxAMabE,\"\"Ishq\"\"'
	is "... with its raw bytes" "$?" 0
fi
CPF=$SHARED/spotify-features-subset.cp1252.csv
if run cp_default "$CPF" --map id=track_id; then
	is "cp1252 file as UTF-8: the 108 lines that are not UTF-8 are rejected" "$(json_get "$T/cp_default.json" rejected)" 108
	zstd -dc "$T/cp_default"/rejects/*.zst 2>/dev/null | grep -c '"reason":"invalid_utf8"' >"$T/n"
	is "... as invalid_utf8" "$(cat "$T/n")" 108
fi
if run cp "$CPF" --map id=track_id --encoding cp1252; then
	is "cp1252 --encoding cp1252: 2,999 rows read" "$(read_ cp)" 2999
	is "cp1252 --encoding cp1252: 2,979 distinct track_id kept" "$(kept cp)" 2979
	is "cp1252 --encoding cp1252: nothing rejected" "$(json_get "$T/cp.json" rejected)" 0
fi

# ---- SQLite ----
SQ=$SHARED/annas-archive-sample/spotify_clean_sample.sqlite3
if run sq "$SQ" --sqlite-join; then
	is "SQLite sample: 393 tracks" "$(kept sq)" 393
	"$WINNOW" export -C "$T/sq" >"$T/sq.export" 2>/dev/null
	is "SQLite sample: every track has its artists" "$(grep -c '"artists":\[{"id":"[^"]*","name":' "$T/sq.export")" 393
	is "SQLite sample: every track has its album" "$(grep -c '"album":{"id":"[^"]*","name":' "$T/sq.export")" 393
	is "SQLite sample: get --isrc GBKQU2063537 returns 2 tracks" "$("$WINNOW" get -C "$T/sq" --isrc GBKQU2063537 2>/dev/null | wc -l)" 2
	if have sqlite3; then
		# artists in track_artists row order, checked against SQLite itself for every track
		sqlite3 -separator ' ' "$SQ" "SELECT t.id, a.id FROM track_artists ta JOIN tracks t ON t.rowid = ta.track_rowid
			JOIN artists a ON a.rowid = ta.artist_rowid ORDER BY ta.track_rowid, ta.rowid" |
			awk '$1 != id { if (id != "") print id "|" s; id = $1; s = $2; next } { s = s " " $2 } END { print id "|" s }' \
			>"$T/sq.want-artists"
		sed 's/^{"id":"\([^"]*\)".*"artists":\[\([^]]*\)\].*/\1 \2/' "$T/sq.export" |
			awk '{ id = $1; $1 = ""; n = split($0, a, /"id":"/); s = ""; for (i = 2; i <= n; i++) { split(a[i], b, "\""); s = s (i > 2 ? " " : "") b[1] } print id "|" s }' >"$T/sq.got-artists"
		cmp -s "$T/sq.got-artists" "$T/sq.want-artists"
		is "SQLite sample: each track's artists in track_artists row order (as SQLite lists them)" "$?" 0
	else
		skip "artist order against sqlite3" "no sqlite3"
	fi
	"$WINNOW" ingest -C "$T/sq" --kind artist --json -q --sqlite-join "$SQ" >"$T/sqa.json" 2>/dev/null
	is "SQLite sample --kind artist: 258 artists" "$(json_get "$T/sqa.json" kept)" 258
	adds_up "$T/sqa.json" "SQLite artists"
	is "SQLite sample artists: with genres" "$("$WINNOW" export -C "$T/sq" --kind artist 2>/dev/null | grep -c '"genres":\[')" 258
fi
AF=$SHARED/annas-archive-sample/spotify_clean_audio_features_sample.sqlite3
if [ -e "$AF" ]; then
	must_fail "the audio-features database is not the tracks database: exit 2" 2 "$WINNOW" ingest -C "$T/af0" -q "$AF"
	grep -q 'track_audio_features' "$T/.err"; is "... the message lists its table" "$?" 0
	run af "$AF" --sqlite-table track_audio_features --map id=track_id &&
		is "--sqlite-table track_audio_features: 386 rows" "$(read_ af)" 386
fi

# ---- nested JSON ----
if run mpd "$SHARED/million-playlist-slice.json" --records-path 'playlists[].tracks[]' --map id=track_uri; then
	is "Million Playlist slice: 1,448 track entries read" "$(read_ mpd)" 1448
	is "Million Playlist slice: 1,397 distinct track_uri kept" "$(kept mpd)" 1397
fi
if run history "$SHARED/streaming-history-2023-sample.json" --map id=ts; then
	is "streaming history (a JSON array): 5 events" "$(kept history)" 5
fi
