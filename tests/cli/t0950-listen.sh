#!/usr/bin/env bash
# t0950-listen.sh - pooled listening histories: the built-in profile of kind "listen"
# (spotify-listen) for Spotify's extended streaming history. A play is (contributor, time, track);
# IP addresses and user agents are dropped, the account and contributor names pseudonymised, so the
# kind needs --key-file; none of them is anywhere in the catalog, compressed or not.
. "$(dirname "$0")/lib.sh"

# the catalog's files, decompressed where they are zstd, as one text
catalog_text() { (cd "$1" && for f in $(find . -type f | sort); do case $f in *.zst) zstd -dcq "$f" 2>/dev/null ;; *) cat "$f" ;; esac; done); }
nowhere() { ! catalog_text "$1" | grep -aqF -- "$2"; }

head -c 32 /dev/urandom >"$T/key"
# generation 1 (endsong_N.json): username, ip_addr_decrypted, user_agent_decrypted
cat >"$T/endsong_0.json" <<'JSON'
[{"ts":"2021-05-01T10:00:00Z","username":"alice_w77","platform":"Android OS","ms_played":1000,"conn_country":"DE",
  "ip_addr_decrypted":"203.0.113.77","user_agent_decrypted":"unknown-agent-4242",
  "master_metadata_track_name":"Song A","master_metadata_album_artist_name":"Art","spotify_track_uri":"spotify:track:AAA",
  "incognito_mode":false},
 {"ts":"2021-05-01T10:05:00Z","username":"alice_w77","platform":"Android OS","ms_played":2000,"conn_country":"DE",
  "ip_addr_decrypted":"203.0.113.77","user_agent_decrypted":"unknown-agent-4242",
  "master_metadata_track_name":"Song B","master_metadata_album_artist_name":"Art","spotify_track_uri":"spotify:track:BBB",
  "incognito_mode":false},
 {"ts":"2021-05-01T10:00:00Z","username":"alice_w77","platform":"Android OS","ms_played":1000,"conn_country":"DE",
  "ip_addr_decrypted":"203.0.113.77","user_agent_decrypted":"unknown-agent-4242",
  "master_metadata_track_name":"Song A","master_metadata_album_artist_name":"Art","spotify_track_uri":"spotify:track:AAA",
  "incognito_mode":false}]
JSON
# generation 2 (Streaming_History_Audio_*.json): ip_addr, no username
cat >"$T/Streaming_History_Audio_2023_0.json" <<'JSON'
[{"ts":"2023-03-19T18:31:37Z","platform":"android","ms_played":174424,"conn_country":"FR","ip_addr":"198.51.100.23",
  "master_metadata_track_name":"Song C","master_metadata_album_artist_name":"Other","spotify_track_uri":"spotify:track:CCC",
  "incognito_mode":false},
 {"ts":"2023-03-19T18:35:00Z","platform":"android","ms_played":1000,"conn_country":"FR","ip_addr":"198.51.100.23",
  "master_metadata_track_name":"Song A","master_metadata_album_artist_name":"Art","spotify_track_uri":"spotify:track:AAA",
  "incognito_mode":false}]
JSON

must_fail "the listen kind without a key is refused" 2 "$WINNOW" ingest -C "$T/p" --kind listen "$T/endsong_0.json"
grep -q "needs the key: --key-file" "$T/.err"; is "... saying it needs --key-file" "$?" 0
[ ! -d "$T/p/shards" ] || [ -z "$(ls "$T/p/shards")" ]; is "... and nothing is stored" "$?" 0

check "generation 1 ingested with the built-in profile" \
	"$WINNOW" ingest -C "$T/p" --kind listen --key-file "$T/key" --contributor "Alice Member" --json -q "$T/endsong_0.json"
is "two plays kept, Spotify's repeated row a duplicate" "$(counts "$T/.out")" "3 2 1 0 0"
adds_up "$T/.out" "generation 1"
check "the same export again" "$WINNOW" ingest -C "$T/p" --kind listen --key-file "$T/key" --contributor "Alice Member" --json -q "$T/endsong_0.json"
is "... is all duplicates" "$(counts "$T/.out")" "3 0 3 0 0"
check "generation 2 into the same pool" \
	"$WINNOW" ingest -C "$T/p" --kind listen --key-file "$T/key" --contributor "Alice Member" --json -q "$T/Streaming_History_Audio_2023_0.json"
is "... its two plays kept" "$(counts "$T/.out")" "2 2 0 0 0"
"$WINNOW" stats -C "$T/p" --json | python3 -c '
import json,sys; p=json.load(sys.stdin)["kinds"]["listen"]["profile"]
assert p["builtin"]=="spotify-listen" and p["id"]==["contributor|username","ts|endTime",
  "spotify_track_uri|spotify_episode_uri|audiobook_chapter_uri|audiobook_uri|trackName","artistName?"], p
assert sorted(p["drop"])==["ip_addr","ip_addr_decrypted","user_agent_decrypted"] and p["pseudonymise"]==["username"], p'
is "the stored profile is spotify-listen with its privacy rules" "$?" 0
# pseudo VALUE: its keyed pseudonym, computed here independently
pseudo() { python3 -c 'import hmac,hashlib,sys; print(hmac.new(open(sys.argv[1],"rb").read(), sys.argv[2].encode(), hashlib.sha256).hexdigest()[:32])' "$T/key" "$1"; }
ca=$(pseudo "Alice Member")
check "get a play by (contributor pseudonym, ts, track URI)" "$WINNOW" get -C "$T/p" --kind listen "[\"$ca\",\"2021-05-01T10:05:00Z\",\"spotify:track:BBB\"]"
is "... its contributor is the keyed pseudonym of the name" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["contributor"])' <"$T/.out")" "$ca"
want=$(pseudo alice_w77)
is "... its username is the keyed pseudonym" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["username"])' <"$T/.out")" "$want"
for v in 203.0.113.77 198.51.100.23 unknown-agent-4242 alice_w77; do
	nowhere "$T/p" "$v"; is "\"$v\" is nowhere in the pool (shards, ledger, rejects, index)" "$?" 0
done
check "verify --deep of the pool" "$WINNOW" verify -C "$T/p" --deep
must_fail "a later run with another key is refused" 2 \
	"$WINNOW" ingest -C "$T/p" --kind listen --key-file <(head -c 32 /dev/urandom) --contributor "Alice Member" "$T/endsong_0.json"

# ---- the contributor ----
must_fail "an export with no username and no --contributor is refused" 2 \
	"$WINNOW" ingest -C "$T/p" --kind listen --key-file "$T/key" "$T/Streaming_History_Audio_2023_0.json"
grep -q 'Streaming_History_Audio_2023_0.json line 1: whose records are these? missing id (none of "contributor", "username" has a value): --contributor NAME says' "$T/.err"
is "... saying so, naming the file and line" "$?" 0
check "... the same export with --contributor" "$WINNOW" ingest -C "$T/p" --kind listen --key-file "$T/key" \
	--contributor "Alice Member" --json -q "$T/Streaming_History_Audio_2023_0.json"
is "... is a fresh run: the refused one left nothing to resume" "$(json_get "$T/.out" restarted) $(json_get "$T/.out" resumed)" "false 0"
must_fail "--contributor with a profile that pseudonymises nothing is refused" 2 \
	"$WINNOW" ingest -C "$T/q" --contributor "Alice Member" "$T/endsong_0.json"
# another member played the same track at the same second
check "another member's export of the same plays" \
	"$WINNOW" ingest -C "$T/p" --kind listen --key-file "$T/key" --contributor "Bob Member" --json -q "$T/Streaming_History_Audio_2023_0.json"
is "... stays two plays of hers: kept, not duplicates" "$(counts "$T/.out")" "2 2 0 0 0"
check "... and her export again" \
	"$WINNOW" ingest -C "$T/p" --kind listen --key-file "$T/key" --contributor "Bob Member" --json -q "$T/Streaming_History_Audio_2023_0.json"
is "... is all duplicates" "$(counts "$T/.out")" "2 0 2 0 0"
for v in "Alice Member" "Bob Member"; do
	nowhere "$T/p" "$v"; is "the contributor name \"$v\" is nowhere in the pool" "$?" 0
done

# ---- plays in incognito mode: not kept, counted as rejected ("excluded"), no bytes kept ----
cat >"$T/endsong_1.json" <<'JSON'
[{"ts":"2021-06-01T10:00:00Z","username":"carol_q","ip_addr_decrypted":"192.0.2.55","spotify_track_uri":"spotify:track:SECRET1",
  "master_metadata_track_name":"Hidden Song","incognito_mode":true},
 {"ts":"2021-06-01T10:03:00Z","username":"carol_q","spotify_track_uri":"spotify:track:OPEN1","incognito_mode":false}]
JSON
check "an export with an incognito play" \
	"$WINNOW" ingest -C "$T/i" --kind listen --key-file "$T/key" --contributor "Carol Member" --json -q "$T/endsong_1.json"
is "... the open play kept, the incognito one rejected" "$(counts "$T/.out")" "2 1 0 0 1"
adds_up "$T/.out" "incognito"
zstd -dcq "$T"/i/rejects/*.zst | grep -q '"reason":"excluded","detail":"excluded: incognito_mode is true","raw_withheld":true'
is "... its reject says why, and keeps none of its bytes" "$?" 0
for v in SECRET1 "Hidden Song" 192.0.2.55 carol_q "Carol Member"; do
	nowhere "$T/i" "$v"; is "\"$v\" is nowhere in the pool" "$?" 0
done

# the real sample, when present
real=$SHARED/streaming-history-2023-sample.json
if [ -r "$real" ]; then
	check "the real generation-2 sample" "$WINNOW" ingest -C "$T/r" --kind listen --key-file "$T/key" --contributor "Real Member" --json -q "$real"
	adds_up "$T/.out" "the real sample"
	is "... nothing rejected" "$(json_get "$T/.out" rejected)" 0
else
	skip "the real generation-2 sample" "$real absent"
	skip "the real sample: counts add up" "$real absent"
	skip "... nothing rejected" "$real absent"
fi

# ---- the zip as downloaded: the play files read, the PDF passed over with a note ----
if have python3; then
	d="$T/zip/Spotify Extended Streaming History"
	mkdir -p "$d"
	cp "$T/Streaming_History_Audio_2023_0.json" "$d/"
	printf '%%PDF-1.4 not plays\n' >"$d/ReadMeFirst_ExtendedStreamingHistory.pdf"
	(cd "$T/zip" && python3 -c 'import zipfile,sys; z=zipfile.ZipFile("my_spotify_data.zip","w"); [z.write(n) for n in sys.argv[1:]]; z.close()' \
		"Spotify Extended Streaming History/Streaming_History_Audio_2023_0.json" \
		"Spotify Extended Streaming History/ReadMeFirst_ExtendedStreamingHistory.pdf")
	check "ingest of my_spotify_data.zip" "$WINNOW" ingest -C "$T/z" --kind listen --key-file "$T/key" \
		--contributor "Dana Member" --json "$T/zip/my_spotify_data.zip"
	is "... its plays kept, nothing rejected" "$(counts "$T/.out")" "2 2 0 0 0"
	grep -q 'ReadMeFirst_ExtendedStreamingHistory.pdf: passed over, not records' "$T/.err"
	is "... the PDF passed over with a note" "$?" 0
	nowhere "$T/z" 198.51.100.23; is "... and the zip's IP address is nowhere in the pool" "$?" 0
else
	skip "ingest of my_spotify_data.zip" "no python3"
	skip "... its plays kept, nothing rejected" "no python3"
	skip "... the PDF passed over with a note" "no python3"
	skip "... and the zip's IP address is nowhere in the pool" "no python3"
fi
