#!/usr/bin/env bash
# t0955-contributors.sh - a pool of listening histories: every play identified (tracks, podcast
# episodes, audiobook chapters, the basic export), the contributor from --contributor or the
# export's username, each run a contribution, and `winnow contributors`: the same export twice,
# a newer export that repeats an older one, the same history under two names, rare released
# values; a run killed and run again leaves the same contributions; nothing personal anywhere.
. "$(dirname "$0")/lib.sh"

W() { "$WINNOW" "$@"; }
head -c 32 /dev/urandom >"$T/key"
ing() { local cat=$1; shift; W ingest -C "$cat" --kind listen --key-file "$T/key" --json -q "$@"; }
pseudo() { python3 -c 'import hmac,hashlib,sys; print(hmac.new(open(sys.argv[1],"rb").read(), sys.argv[2].encode(), hashlib.sha256).hexdigest()[:32])' "$T/key" "$1"; }
# the catalog's files, decompressed where they are zstd, as one text
catalog_text() { (cd "$1" && for f in $(find . -type f | sort); do case $f in *.zst) zstd -dcq "$f" 2>/dev/null ;; *) cat "$f" ;; esac; done); }
nowhere() { ! catalog_text "$1" | grep -aqF -- "$2"; }
# jq-like: a python expression over the JSON on stdin (j)
py() { python3 -c "import json,sys; j=json.load(sys.stdin); print(($1))"; }

# a member's generation-2 export: 150 plays, and a newer one that holds it and 70 more (fewer
# than 256 distinct plays each: their sketches hold them all, and overlaps are exact)
"$GEN" --kind listen --count 150 --dup-rate 0 --seed 7 -o "$T/old.json"
"$GEN" --kind listen --count 220 --dup-rate 0 --seed 7 -o "$T/new.json"
python3 -c '
import json,sys; o=json.load(open(sys.argv[1])); n=json.load(open(sys.argv[2])); assert n[:150]==o, "prefix"' "$T/old.json" "$T/new.json"
is "the generator's newer export begins with the older one" "$?" 0

check "a member's export" ing "$T/p" --contributor "Ann Quill" "$T/old.json"
read -r r k d v j <<<"$(counts "$T/.out")"
is "... every play kept but the incognito ones" "$k $d $v $((r - k - j))" "$((r - j)) 0 0 0"
check "... the same export again" ing "$T/p" --contributor "Ann Quill" "$T/old.json"
is "... adds nothing: all duplicates" "$(counts "$T/.out")" "$r 0 $k 0 $j"
check "... the newer export" ing "$T/p" --contributor "Ann Quill" "$T/new.json"
read -r r2 k2 d2 v2 j2 <<<"$(counts "$T/.out")"
is "... adds only its new plays" "$d2 $((k2 + d2 + j2))" "$k $r2"
[ "$k2" -gt 40 ]; is "... of which there are some ($k2)" "$?" 0
check "winnow contributors" W contributors -C "$T/p"
grep -q "^  contribution 2: $((r - j)) plays, 0 kept, $k duplicates: the same export as 1$" "$T/.out"
is "... contribution 2 is the same export as 1" "$?" 0
grep -q "^  contribution 3: .*: repeats 100% of 1$" "$T/.out"
is "... contribution 3 repeats 100% of 1" "$?" 0
ann=$(pseudo "Ann Quill")
W contributors -C "$T/p" --json >"$T/c.json"
is "... --json: one contributor, its pseudonym, 3 contributions" \
	"$(py 'len(j["contributors"]), j["contributors"][0]["contributor"], j["contributors"][0]["contributions"], j["contributions"]' <"$T/c.json")" \
	"(1, '$ann', 3, 3)"
is "... its plays kept and duplicates add up over its contributions" \
	"$(py 'j["contributors"][0]["kept"], j["contributors"][0]["duplicates"]' <"$T/c.json")" "($((k + k2)), $((k + d2)))"
first=$(python3 -c 'import json,sys; d=[x["ts"] for x in json.load(open(sys.argv[1])) if not x["incognito_mode"]]; print(min(d), max(d))' "$T/new.json")
is "... its first and last play time" "$(py 'j["contributors"][0]["first_ts"], j["contributors"][0]["last_ts"]' <"$T/c.json" | tr -d "(),'")" "$first"
is "... items: same_as 1, then repeats 1 at 100%" \
	"$(py '[(x["contribution"], x["same_as"], x["repeats"], x["repeats_share"]) for x in j["contributors"][0]["items"]]' <"$T/c.json")" \
	"[(1, None, None, 0), (2, 1, 1, 1), (3, None, 1, 1.0)]"

# ---- a partial repeat: "repeats N% of" with N the share of the older export ----
python3 -c '
import json,sys; n=json.load(open(sys.argv[1])); json.dump(n[80:], open(sys.argv[2],"w"))' "$T/new.json" "$T/tail.json"
check "an export holding the last 140 of the 220 plays" ing "$T/p" --contributor "Ann Quill" "$T/tail.json"
want=$(python3 -c '
import json,sys; n=json.load(open(sys.argv[1])); t=json.load(open(sys.argv[2]))
key=lambda x: (x["ts"], x["spotify_track_uri"] or x["spotify_episode_uri"] or x["audiobook_chapter_uri"])
a={key(x) for x in n if not x["incognito_mode"]}; b={key(x) for x in t if not x["incognito_mode"]}
print(round(100*len(a&b)/len(a)))' "$T/new.json" "$T/tail.json")
W contributors -C "$T/p" >"$T/.out"
grep -q "^  contribution 4: .*: repeats $want% of 3$" "$T/.out"
is "... repeats $want% of 3 (exact below 256 plays; computed here)" "$?" 0

# ---- beyond 256 plays the share is estimated: within 10 points ----
"$GEN" --kind listen --count 3000 --dup-rate 0 --seed 8 -o "$T/big.json"
python3 -c 'import json,sys; n=json.load(open(sys.argv[1])); json.dump(n[1500:], open(sys.argv[2],"w"))' "$T/big.json" "$T/bigtail.json"
ing "$T/e" --contributor "Jo Quill" "$T/big.json" >/dev/null && ing "$T/e" --contributor "Jo Quill" "$T/bigtail.json" >/dev/null
W contributors -C "$T/e" --json | py '[x["repeats_share"] for x in j["contributors"][0]["items"]][1]' >"$T/share"
awk '{ exit !($1 > 0.40 && $1 < 0.60) }' "$T/share"
is "an export of the second half of 3000 plays repeats 50% of them, estimated ($(cat "$T/share"))" "$?" 0

# ---- the same history under another name: the fraud report ----
check "Bob sends Ann's export" ing "$T/p" --contributor "Bob Quill" "$T/new.json"
read -r r3 k3 d3 v3 j3 <<<"$(counts "$T/.out")"
is "... his plays are his own: kept, none a duplicate of Ann's" "$k3 $d3" "$((r2 - j2)) 0"
W contributors -C "$T/p" --json >"$T/c.json"
bob=$(pseudo "Bob Quill")
is "... reported: his contribution 5 shares 100% with Ann's 3 (and 1, 2, 4)" \
	"$(py 'sorted((o["a"], o["b"], o["contributor_a"] == "'"$ann"'", o["contributor_b"] == "'"$bob"'", o["overlap"]) for o in j["overlaps"])' <"$T/c.json")" \
	"[(1, 5, True, True, 1.0), (2, 5, True, True, 1.0), (3, 5, True, True, 1.0), (4, 5, True, True, 1.0)]"
W contributors -C "$T/p" >"$T/.out"
grep -q "^  contribution 3 ($ann) and contribution 5 ($bob): 100% of plays shared$" "$T/.out"
is "... in the text report too" "$?" 0
check "an unrelated member's export" ing "$T/p" --contributor "Cy" <("$GEN" --kind listen --count 300 --seed 99)
W contributors -C "$T/p" --json >"$T/c.json"
is "... is not reported with anyone" "$(py 'sorted({o["b"] for o in j["overlaps"]})' <"$T/c.json")" "[5]"
must_fail "--threshold 0 is a usage error" 2 W contributors -C "$T/p" --threshold 0
must_fail "--k 0 is a usage error" 2 W contributors -C "$T/p" --k 0

# ---- two members at the same second stay two plays ----
cat >"$T/same.json" <<'JSON'
[{"ts":"2023-03-19T18:31:37Z","platform":"android","ms_played":1000,"conn_country":"FR","spotify_track_uri":"spotify:track:SAME"}]
JSON
check "Dee's play" ing "$T/s" --contributor "Dee" "$T/same.json"
check "Eve's play of the same track at the same second" ing "$T/s" --contributor "Eve" "$T/same.json"
is "... is kept: two plays" "$(counts "$T/.out")" "1 1 0 0 0"
is "... the pool holds both" "$(W export -C "$T/s" --kind listen | wc -l)" 2

# ---- generation 1 without --contributor: its username is the contributor ----
cat >"$T/endsong_0.json" <<'JSON'
[{"ts":"2021-05-01T10:00:00Z","username":"frank_77","platform":"Android OS 10 API 29 (samsung, SM-G973F)","ms_played":1000,
  "conn_country":"DE","ip_addr_decrypted":"203.0.113.9","user_agent_decrypted":"agent-frank-1","spotify_track_uri":"spotify:track:F1"},
 {"ts":"2021-05-01T10:04:00Z","username":"frank_77","platform":"Android OS 10 API 29 (samsung, SM-G973F)","ms_played":2000,
  "conn_country":"DE","ip_addr_decrypted":"203.0.113.9","user_agent_decrypted":"agent-frank-1","spotify_track_uri":"spotify:track:F2"}]
JSON
check "a generation-1 export without --contributor" ing "$T/g" "$T/endsong_0.json"
is "... its plays kept" "$(counts "$T/.out")" "2 2 0 0 0"
fr=$(pseudo frank_77)
check "... a play is found by (the username's pseudonym, ts, URI)" W get -C "$T/g" --kind listen "[\"$fr\",\"2021-05-01T10:04:00Z\",\"spotify:track:F2\"]"
W contributors -C "$T/g" --json >"$T/c.json"
is "... the contributor is the username's pseudonym" "$(py 'j["contributors"][0]["contributor"]' <"$T/c.json")" "$fr"
check "... the same export with --contributor frank_77" ing "$T/g" --contributor frank_77 "$T/endsong_0.json"
is "... is the same contributor: all duplicates" "$(counts "$T/.out")" "2 0 2 0 0"

# ---- no contributor: the run stops at its first play, even after rejected ones ----
printf '[{"ts":"2023-01-01T00:00:00Z","spotify_track_uri":"spotify:track:I","incognito_mode":true},\n{"ts":"2023-01-01T00:05:00Z","spotify_track_uri":"spotify:track:J"}]\n' >"$T/inc.json"
must_fail "a generation-2 export whose first play is incognito, without --contributor" 2 ing "$T/ni" "$T/inc.json"
grep -q "inc.json line 2: whose records are these?" "$T/.err"; is "... stops at its first play, line 2" "$?" 0
[ -z "$(ls "$T/ni/rejects" 2>/dev/null)" ] || [ "$(zstd -dcq "$T"/ni/rejects/*.zst 2>/dev/null | wc -c)" = 0 ]
is "... and keeps not even the incognito play's reject" "$?" 0
check "... with --contributor" ing "$T/ni" --contributor "Kim Quill" "$T/inc.json"
is "... one kept, one excluded" "$(counts "$T/.out")" "2 1 0 0 1"

# ---- platform generalised to its family ----
python3 - "$T/plat.json" <<'PY'
import json,sys
names=["Android OS 10 API 29 (samsung, SM-G973F)","iOS 14.4 (iPhone12,1)","Windows 10 (10.0.19041; x64)","OS X 10.15.7 [x86 8]",
  "Linux [x86-64 0]","WebPlayer (websocket RFC6455)","Partner Google cast_tv","Partner amazon_salmon","web_player","android",None]
json.dump([{"ts":"2022-01-01T00:00:%02dZ"%i,"username":"plat_user","platform":n,"spotify_track_uri":"spotify:track:P%d"%i} for i,n in enumerate(names)],open(sys.argv[1],"w"))
PY
check "plays from eleven devices" ing "$T/plat" "$T/plat.json"
W export -C "$T/plat" --kind listen | python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["platform"]) for l in sys.stdin))' >"$T/fam"
is "... android ios windows osx linux web cast other web android null" "$(cat "$T/fam")" "android ios windows osx linux web cast other web android None"
nowhere "$T/plat" "SM-G973F"; is "... the device model is nowhere in the pool" "$?" 0

# ---- podcast episodes and audiobook chapters are identified by their URI ----
cat >"$T/Streaming_History_Audio_2024_1.json" <<'JSON'
[{"ts":"2024-01-01T08:00:00Z","platform":"ios","ms_played":900000,"conn_country":"SE","ip_addr":"198.51.100.77",
  "master_metadata_track_name":null,"master_metadata_album_artist_name":null,"spotify_track_uri":null,
  "episode_name":"Ep 1","episode_show_name":"Show","spotify_episode_uri":"spotify:episode:EP1",
  "audiobook_title":null,"audiobook_uri":null,"audiobook_chapter_uri":null,"audiobook_chapter_title":null,"incognito_mode":false},
 {"ts":"2024-01-01T09:00:00Z","platform":"ios","ms_played":600000,"conn_country":"SE","ip_addr":"198.51.100.77",
  "master_metadata_track_name":null,"spotify_track_uri":null,"spotify_episode_uri":null,
  "audiobook_title":"Book","audiobook_uri":"spotify:show:BOOK","audiobook_chapter_uri":"spotify:episode:CH1",
  "audiobook_chapter_title":"Chapter 1","incognito_mode":false},
 {"ts":"2024-01-01T09:30:00Z","platform":"ios","ms_played":600000,"conn_country":"SE","ip_addr":"198.51.100.77",
  "master_metadata_track_name":null,"spotify_track_uri":null,"spotify_episode_uri":null,
  "audiobook_title":"Book","audiobook_uri":"spotify:show:BOOK","audiobook_chapter_uri":null,"incognito_mode":false},
 {"ts":"2024-01-01T10:00:00Z","platform":"ios","ms_played":0,"conn_country":"SE","ip_addr":"198.51.100.77",
  "spotify_track_uri":null,"spotify_episode_uri":null,"audiobook_uri":null,"audiobook_chapter_uri":null,"incognito_mode":false}]
JSON
check "a podcast episode, an audiobook chapter, an audiobook, and a play of nothing" \
	ing "$T/pod" --contributor "Gus" "$T/Streaming_History_Audio_2024_1.json"
is "... three kept, the play of nothing rejected" "$(counts "$T/.out")" "4 3 0 0 1"
gus=$(pseudo Gus)
check "... the episode found by its URI" W get -C "$T/pod" --kind listen "[\"$gus\",\"2024-01-01T08:00:00Z\",\"spotify:episode:EP1\"]"
check "... the chapter by its URI" W get -C "$T/pod" --kind listen "[\"$gus\",\"2024-01-01T09:00:00Z\",\"spotify:episode:CH1\"]"
check "... the audiobook by its URI" W get -C "$T/pod" --kind listen "[\"$gus\",\"2024-01-01T09:30:00Z\",\"spotify:show:BOOK\"]"
zstd -dcq "$T"/pod/rejects/*.zst | grep -q '"reason":"missing_id".*none of \\"spotify_track_uri\\", \\"spotify_episode_uri\\", \\"audiobook_chapter_uri\\", \\"audiobook_uri\\", \\"trackName\\" has a value'
is "... the reject says no item URI has a value" "$?" 0

# ---- the basic account export, and a zip holding both kinds of export ----
"$GEN" --kind listen --layout basic --count 200 --seed 5 -o "$T/StreamingHistory_music_0.json"
check "the basic export" ing "$T/b" --contributor "Hal Quill" "$T/StreamingHistory_music_0.json"
read -r rb kb db vb jb <<<"$(counts "$T/.out")"
want=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d), len({(x["endTime"],x["trackName"],x["artistName"]) for x in d}))' "$T/StreamingHistory_music_0.json")
is "... every row read, one play per (endTime, track, artist)" "$rb $kb" "$want"
is "... nothing rejected" "$jb" 0
hal=$(pseudo "Hal Quill")
row=$(python3 -c 'import json,sys; x=json.load(open(sys.argv[1]))[3]; print(json.dumps([sys.argv[2], x["endTime"], x["trackName"], x["artistName"]], separators=(",", ":")))' "$T/StreamingHistory_music_0.json" "$hal")
check "... a play found by (contributor, endTime, trackName, artistName)" W get -C "$T/b" --kind listen "$row"
if have python3; then
	d="$T/zip/Spotify Account Data"; e="$T/zip/Spotify Extended Streaming History"
	mkdir -p "$d" "$e"
	cp "$T/StreamingHistory_music_0.json" "$d/"
	cp "$T/old.json" "$e/Streaming_History_Audio_2020_0.json"
	(cd "$T/zip" && python3 -c 'import zipfile,sys; z=zipfile.ZipFile("my_spotify_data.zip","w"); [z.write(n) for n in sys.argv[1:]]; z.close()' \
		"Spotify Account Data/StreamingHistory_music_0.json" "Spotify Extended Streaming History/Streaming_History_Audio_2020_0.json")
	check "a zip holding a basic and an extended export" ing "$T/z" --contributor "Hal Quill" "$T/zip/my_spotify_data.zip"
	read -r rz kz dz vz jz <<<"$(counts "$T/.out")"
	is "... both read: the plays of each kept" "$rz $kz" "$((rb + r)) $((kb + k))"
	W contributors -C "$T/z" --json >"$T/c.json"
	is "... one contribution of one contributor" "$(py 'j["contributions"], len(j["contributors"])' <"$T/c.json")" "(1, 1)"
	zstd -dcq "$T"/z/ledger/*.zst "$T"/z/rejects/*.zst 2>/dev/null | grep -o '"input":"[^"]*"' | sort -u >"$T/inputs"
	! grep -q "$T" "$T/inputs"
	is "... entries name the archive's members, never an absolute path" "$?" 0
else
	for w in "a zip holding both" "... both read" "... one contribution" "... entries name members"; do skip "$w" "no python3"; done
fi

# ---- input names: a label, or the file name without its folders; never an absolute path ----
check "an export named by --input-name" ing "$T/n" --contributor "Ivy Quill" --input-name "ivy-2023" "$T/same.json"
check "... and one given by its absolute path" ing "$T/n" --contributor "Ivy Quill" "$T/endsong_0.json"
zstd -dcq "$T"/n/ledger/*.zst "$T"/n/rejects/*.zst 2>/dev/null | grep -o '"input":"[^"]*"' | sort -u | tr '\n' ' ' >"$T/inputs"
check "... its duplicate run" ing "$T/n" --contributor "Ivy Quill" --input-name "ivy-2023" "$T/same.json"
is "... ledger entries name the label" "$(zstd -dcq "$T"/n/ledger/*.zst | grep -o '"input":"[^"]*"' | sort -u)" '"input":"ivy-2023"'
must_fail "--input-name with an absolute path is refused" 2 ing "$T/n" --contributor "Ivy Quill" --input-name /home/ivy/x.json "$T/same.json"
must_fail "--input-name with two inputs is refused" 2 ing "$T/n" --contributor "Ivy Quill" --input-name x "$T/same.json" "$T/same.json"
W ingest -C "$T/n" --kind listen --key-file "$T/key" --contributor "Ivy Quill" --json -q --strict <(printf '[{"ts":"x"}]') >/dev/null 2>&1
zstd -dcq "$T"/n/rejects/*.zst | grep -q '"input":"[0-9]*"'
is "... a reject of an input given by a path names its file name only" "$?" 0
nowhere "$T/n" "$T"; is "... the scratch folder's path is nowhere in the pool" "$?" 0

# ---- k-anonymity: released values that fewer than k contributors share ----
for n in 1 2 3 4 5 6; do
	cc=DE; [ $n = 6 ] && cc=LU
	printf '[{"ts":"2023-01-0%sT00:00:00Z","platform":"android","conn_country":"%s","spotify_track_uri":"spotify:track:K%s"}]\n' \
		"$n" "$cc" "$n" >"$T/k$n.json"
	ing "$T/k" --contributor "member $n" "$T/k$n.json" >/dev/null || not_ok "k-anonymity: ingest $n"
done
W contributors -C "$T/k" --json >"$T/c.json"
is "LU (one contributor) is rare at k=5; DE (five) and android (six) are not" \
	"$(py 'j["k"], j["rare_values"]' <"$T/c.json")" "(5, {'conn_country': [{'value': 'LU', 'contributors': 1}]})"
W contributors -C "$T/k" --json --k 6 >"$T/c.json"
is "... at --k 6, DE is rare too" "$(py 'j["rare_values"]["conn_country"]' <"$T/c.json")" \
	"[{'value': 'DE', 'contributors': 5}, {'value': 'LU', 'contributors': 1}]"
W contributors -C "$T/k" >"$T/.out"
grep -q "^  conn_country LU: 1 contributor$" "$T/.out"; is "... the text report lists it" "$?" 0

# ---- a run killed mid-way and run again leaves the contributions of one that was not ----
"$GEN" --kind listen --layout endsong --count 4000 --members 50 --seed 11 -o "$T/many.json"
check "fifty members' generation-1 plays in one run (a contribution each)" \
	W ingest -C "$T/clean" --kind listen --key-file "$T/key" --checkpoint 20000 -q "$T/many.json"
W contributors -C "$T/clean" --json >"$T/clean.json"
is "... fifty contributions" "$(py 'j["contributions"]' <"$T/clean.json")" 50
kill_mid_runs "$T/killed" 4000 2 40 1 "$WINNOW" ingest -C "$T/killed" --kind listen --key-file "$T/key" \
	--checkpoint 20000 -q "$T/many.json"
[ "$kills" -ge 1 ]; is "the same run killed with -9 mid-run ($kills times)" "$?" 0
check "... then run again to its end" W ingest -C "$T/killed" --kind listen --key-file "$T/key" --checkpoint 20000 -q "$T/many.json"
W contributors -C "$T/killed" --json >"$T/killed.json"
cmp -s "$T/clean.json" "$T/killed.json"
is "... leaves the same contributions, counts and sketches as the uninterrupted run" "$?" 0

# ---- the real sample, when present ----
real=$SHARED/streaming-history-2023-sample.json
if [ -r "$real" ]; then
	check "the real sample" ing "$T/r" --contributor "Real" "$real"
	adds_up "$T/.out" "the real sample"
	W contributors -C "$T/r" --json >"$T/c.json"
	is "... one contribution with its plays" "$(py 'j["contributions"], j["contributors"][0]["kept"]' <"$T/c.json")" \
		"(1, $(json_get "$T/.out" kept))"
else
	for w in "the real sample" "... counts add up" "... one contribution"; do skip "$w" "$real absent"; done
fi

# ---- nothing personal in any decompressed byte of any pool ----
for pool in p g pod z k n clean killed; do
	for v in 203.0.113.9 198.51.100.77 frank_77 agent-frank-1 member7 "Ann Quill" "Bob Quill" "Hal Quill" "$T"; do
		[ -d "$T/$pool" ] || continue
		nowhere "$T/$pool" "$v" || not_ok "\"$v\" is in pool $pool"
	done
done
ips=$(python3 -c 'import json,sys; print(" ".join(sorted({x["ip_addr"] for x in json.load(open(sys.argv[1]))})))' "$T/new.json")
for v in $ips; do nowhere "$T/p" "$v" || not_ok "the export's IP address $v is in the pool"; done
ok "no IP address, username, user agent, contributor name or file path in any pool (shards, ledger, rejects, index, manifests)"
check "verify --deep of the pool" W verify -C "$T/p" --deep
