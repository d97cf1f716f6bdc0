#!/usr/bin/env bash
# t0850-profile.sh - the record profile: composite and content ids, ISRC arrays, the
# transforms (--rename, --drop, --keep, --pseudonymise with --key-file), the profile
# and shaping options stored by the first run that keeps a record and used by later
# runs, per-run renames that pool differently named sources, and `stats --json`'s
# "profile". Every value a profile drops or pseudonymises must be nowhere in the
# catalog, in any file, compressed or not.
. "$(dirname "$0")/lib.sh"

# the catalog's files, decompressed where they are zstd, as one text
catalog_text() { (cd "$1" && for f in $(find . -type f | sort); do case $f in *.zst) zstd -dcq "$f" 2>/dev/null ;; *) cat "$f" ;; esac; done); }
nowhere() { ! catalog_text "$1" | grep -aqF -- "$2"; }
stats_profile() { "$WINNOW" stats -C "$1" --json | python3 -c "import json,sys; print(json.dumps(json.load(sys.stdin)['kinds']['$2']['profile'], sort_keys=True))"; }

# ---- composite ids ----
cat >"$T/charts.jsonl" <<'EOF'
{"date":"2024-01-01","rank":1,"title":"A"}
{"date":"2024-01-01","rank":2,"title":"B"}
{"date":"2024-01-02","rank":1,"title":"B"}
{"rank":2,"date":"2024-01-02","title":"A"}
{"date":"2024-01-01","rank":1,"title":"A2"}
{"date":"2024-01-03","title":"C"}
EOF
check "--id date+rank" "$WINNOW" ingest -C "$T/ch" --json -q --id date+rank "$T/charts.jsonl"
is "composite: 4 ids, one revision (2024-01-01 #1 again), one without rank rejected" "$(counts "$T/.out")" "6 4 0 1 1"
check "get by the composite id (a JSON array of the parts as text)" "$WINNOW" get -C "$T/ch" '["2024-01-02","1"]'
is "... gives the record" "$(cat "$T/.out")" '{"date":"2024-01-02","rank":1,"title":"B"}'
must_fail "... the parts in another order are another id" 1 "$WINNOW" get -C "$T/ch" '["1","2024-01-02"]'
zstd -dcq "$T"/ch/rejects/*.zst | grep -q 'missing id (no \\"rank\\" field)'
is "the reject names the missing part" "$?" 0
# the same parts cannot be read two ways: "a,b"+"c" is not "a"+"b,c"
printf '%s\n' '{"x":"a\",\"b","y":"c"}' '{"x":"a","y":"b\",\"c"}' >"$T/amb.jsonl"
check "composite parts are joined unambiguously" "$WINNOW" ingest -C "$T/amb" --json -q --id x+y "$T/amb.jsonl"
is "... two ids" "$(json_get "$T/.out" kept)" 2
check "verify --deep of the composite catalog" "$WINNOW" verify -C "$T/ch" --deep
"$WINNOW" export -C "$T/ch" >"$T/ch.exp"
rm -rf "$T/ch/index"
check "reindex rebuilds the composite ids" "$WINNOW" reindex -C "$T/ch"
"$WINNOW" export -C "$T/ch" | cmp -s - "$T/ch.exp"
is "... the same export" "$?" 0
check "... and get by composite id" "$WINNOW" get -C "$T/ch" '["2024-01-01","2"]'

# ---- content ids ----
check "--id content" "$WINNOW" ingest -C "$T/ct" --json -q --id content "$T/charts.jsonl"
is "content: every distinct record kept, no revisions" "$(counts "$T/.out")" "6 6 0 0 0"
check "content: the same records again are duplicates" "$WINNOW" ingest -C "$T/ct" --json -q "$T/charts.jsonl"
is "... all of them" "$(counts "$T/.out")" "6 0 6 0 0"
# the id of a content-identified record is its fingerprint in hex: the ledger's entry
# for the first duplicate names it
id1=$(zstd -dcq "$T"/ct/ledger/*.zst | head -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
check "get by the fingerprint in hex" "$WINNOW" get -C "$T/ct" "$id1"
is "... gives the first record" "$(cat "$T/.out")" "$(head -n 1 "$T/charts.jsonl")"
must_fail "content: the identity is fixed (a run naming --id is refused)" 2 "$WINNOW" ingest -C "$T/ct" -q --id date "$T/charts.jsonl"
grep -q 'identified by --id content, not date' "$T/.err"
is "... showing the stored value" "$?" 0
check "verify --deep of the content catalog" "$WINNOW" verify -C "$T/ct" --deep

# ---- ISRC arrays ----
cat >"$T/rec.jsonl" <<'EOF'
{"id":"r1","title":"One","isrcs":["usabc2400001","GBXYZ2400002"]}
{"id":"r2","title":"Two","isrcs":["USABC2400001"]}
{"id":"r3","title":"Three","isrcs":[]}
{"id":"r4","title":"Four","isrcs":"FRAAA2400004"}
EOF
check "--kind track --isrc isrcs (arrays)" "$WINNOW" ingest -C "$T/is" --json -q --isrc isrcs "$T/rec.jsonl"
is "... all kept" "$(counts "$T/.out")" "4 4 0 0 0"
"$WINNOW" get -C "$T/is" --isrc USABC2400001 | grep -o '"id":"r[0-9]"' | tr '\n' ' ' >"$T/g1"
is "get --isrc finds both records carrying the ISRC" "$(cat "$T/g1")" '"id":"r1" "id":"r2" '
check "... and the second ISRC of r1" "$WINNOW" get -C "$T/is" --isrc gbxyz2400002
grep -q '"id":"r1"' "$T/.out"; is "... is r1" "$?" 0
check "a string value at the same path is indexed too" "$WINNOW" get -C "$T/is" --isrc FRAAA2400004
"$WINNOW" stats -C "$T/is" --json >"$T/is.st"
is "stats: 4 ISRC entries" "$(json_get "$T/is.st" isrc_entries)" 4
check "verify --deep checks every ISRC pair" "$WINNOW" verify -C "$T/is" --deep
rm -rf "$T/is/index"
check "reindex" "$WINNOW" reindex -C "$T/is"
"$WINNOW" stats -C "$T/is" --json >"$T/is.st2"
is "... the same ISRC entries" "$(json_get "$T/is.st2" isrc_entries)" 4
check "... verify --deep after reindex" "$WINNOW" verify -C "$T/is" --deep
check "a named ISRC path that never gives a value" "$WINNOW" ingest -C "$T/nois" -q --isrc no.such "$T/rec.jsonl"
grep -q 'had an ISRC at no.such' "$T/.err"; is "... is warned about" "$?" 0

# ---- transforms: drop, keep, pseudonymise ----
head -c 32 /dev/urandom >"$T/key"
head -c 32 /dev/urandom >"$T/key2"
cat >"$T/plays.jsonl" <<'EOF'
{"id":"p1","ip_addr":"203.0.113.77","user":"alice@example.org","track":{"name":"A","uri":"spotify:track:1"},"extra":{"agent":"Mozilla/5.0 SECRET-UA"}}
{"id":"p2","ip_addr":"198.51.100.23","user":"bob@example.org","track":{"name":"B","uri":"spotify:track:2"},"extra":{"agent":"curl SECRET-UA2"}}
{"id":"p3","ip_addr":"192.0.2.99","user":"alice@example.org","track":{"name":"C","uri":"spotify:track:3"}}
{"id":"p4","ip_addr":"192.0.2.199", "user":"carol@example.org", "broken
{"id":"p5","ip_addr":"192.0.2.55","user":"dave@example.org","track":7,"track":8}
EOF
check "--drop ip_addr,extra.agent --pseudonymise user --key-file" \
	"$WINNOW" ingest -C "$T/tr" --json -q --drop ip_addr,extra.agent --pseudonymise user --key-file "$T/key" "$T/plays.jsonl"
is "... 3 kept, 2 rejected" "$(counts "$T/.out")" "5 3 0 0 2"
for v in 203.0.113.77 198.51.100.23 192.0.2.99 192.0.2.199 192.0.2.55 alice@example bob@example carol@example dave@example SECRET-UA; do
	nowhere "$T/tr" "$v"; is "\"$v\" is nowhere in the catalog (shards, ledger, rejects, index)" "$?" 0
done
"$WINNOW" export -C "$T/tr" >"$T/tr.exp"
u1=$(sed -n 1p "$T/tr.exp" | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"])')
u3=$(sed -n 3p "$T/tr.exp" | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"])')
u2=$(sed -n 2p "$T/tr.exp" | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"])')
is "the same value under the same key gives the same pseudonym" "$u1" "$u3"
[ "$u1" != "$u2" ] && [ ${#u1} -eq 32 ]; is "... another value another one, 32 hex digits" "$?" 0
want=$(python3 - "$T/key" <<'EOF'
import hmac, hashlib, sys
key = open(sys.argv[1], "rb").read()
print(hmac.new(key, b"alice@example.org", hashlib.sha256).hexdigest()[:32])
EOF
)
is "... which is HMAC-SHA256(key, value), its first 16 bytes in hex" "$u1" "$want"
is "the stored record is the transformed JSON" "$(sed -n 2p "$T/tr.exp" | sed 's/"user":"[0-9a-f]*"/"user":U/')" \
	'{"id":"p2","user":U,"track":{"name":"B","uri":"spotify:track:2"},"extra":{}}'
zstd -dcq "$T"/tr/rejects/*.zst >"$T/tr.rej"
# a pool whose profile hides fields keeps no rejected line's bytes (the one the transforms
# could not read, and the one they could but which has no id): its place, its reason and
# the keyed hash of its bytes, so that the same line can be told again
is "every reject keeps its place and reason, not its bytes" \
	"$(grep -c '"raw_withheld":true,"raw_hmac":"[0-9a-f]\{32\}","raw":""' "$T/tr.rej")" 2
want=$(python3 - "$T/key" "$T/plays.jsonl" <<'EOF'
import hmac, hashlib, sys
key = open(sys.argv[1], "rb").read()
lines = open(sys.argv[2], "rb").read().split(b"\n")
print(" ".join(hmac.new(key, lines[i], hashlib.sha256).hexdigest()[:32] for i in (3, 4)))
EOF
)
is "... the hash: HMAC-SHA256(key, the line's bytes), as pseudonyms are made" \
	"$(grep -o '"raw_hmac":"[0-9a-f]*"' "$T/tr.rej" | cut -d'"' -f4 | tr '\n' ' ' | sed 's/ $//')" "$want"
grep -q '"line":4' "$T/tr.rej" && grep -q '"line":5' "$T/tr.rej"
is "... both rejects are accounted for with their lines" "$?" 0
check "the same input again: all duplicates" "$WINNOW" ingest -C "$T/tr" --json -q --key-file "$T/key" "$T/plays.jsonl"
is "... (the stored transforms applied without being named)" "$(counts "$T/.out")" "5 0 3 0 2"
must_fail "a run with another key is refused" 2 "$WINNOW" ingest -C "$T/tr" -q --key-file "$T/key2" "$T/plays.jsonl"
grep -q "pseudonymised with key $(stats_profile "$T/tr" track | python3 -c 'import json,sys; print(json.load(sys.stdin)["key_id"])')" "$T/.err"
is "... naming the stored key id" "$?" 0
must_fail "a run without the key is refused" 2 "$WINNOW" ingest -C "$T/tr" -q "$T/plays.jsonl"
must_fail "a run with another --drop set is refused" 2 "$WINNOW" ingest -C "$T/tr" -q --key-file "$T/key" --drop ip_addr "$T/plays.jsonl"
grep -q -- '--drop ip_addr --drop extra.agent' "$T/.err"; is "... showing the stored set" "$?" 0
nowhere "$T/tr" "$(cat "$T/key" | od -An -tx1 | tr -d ' \n' | head -c 20)"
is "the key is not stored" "$?" 0
check "verify --deep of the transformed catalog" "$WINNOW" verify -C "$T/tr" --deep
rm -rf "$T/tr/index"
check "reindex of the transformed catalog" "$WINNOW" reindex -C "$T/tr"
"$WINNOW" export -C "$T/tr" | cmp -s - "$T/tr.exp"; is "... the same export" "$?" 0

check "--keep id,track.name (a projection)" "$WINNOW" ingest -C "$T/kp" --json -q --keep id,track.name "$T/plays.jsonl"
is "... keeps only those" "$("$WINNOW" export -C "$T/kp" | head -n 2)" '{"id":"p1","track":{"name":"A"}}
{"id":"p2","track":{"name":"B"}}'
nowhere "$T/kp" "203.0.113.77"; is "... and nothing else is stored" "$?" 0

# ids are taken from the transformed record: a composite id over a pseudonymised field
check "--id user+track.uri over --pseudonymise user" "$WINNOW" ingest -C "$T/pid" --json -q \
	--id user+track.uri --pseudonymise user --drop ip_addr --key-file "$T/key" "$T/plays.jsonl"
nowhere "$T/pid" "alice@example"; is "... the id holds no raw value" "$?" 0
check "... get by the id made of the pseudonym" "$WINNOW" get -C "$T/pid" "[\"$u1\",\"spotify:track:1\"]"

# ---- rename: pooling sources whose fields differ ----
printf 'track_id,name\nx1,One\nx2,Two\n' >"$T/a.csv"
printf '%s\n' '{"tid":"x2","name":"Two"}' '{"tid":"x3","name":"Three"}' >"$T/b.jsonl"
check "a CSV whose id column is track_id, renamed to id" "$WINNOW" ingest -C "$T/pool" --json -q --rename track_id=id "$T/a.csv"
is "... 2 kept" "$(json_get "$T/.out" kept)" 2
is "... stored under the new name" "$("$WINNOW" export -C "$T/pool" | head -n 1)" '{"id":"x1","name":"One"}'
check "another source names it tid: the run's own --rename" "$WINNOW" ingest -C "$T/pool" --json -q --rename tid=id "$T/b.jsonl"
is "... x2 is a duplicate, x3 new" "$(counts "$T/.out")" "2 1 1 0 0"
check "or the run's --map id=tid: the same place under another name" "$WINNOW" ingest -C "$T/pool" --json -q --map id=tid "$T/b.jsonl"
is "... all duplicates now" "$(counts "$T/.out")" "2 0 2 0 0"
check "and the first form without naming anything: the stored rename" "$WINNOW" ingest -C "$T/pool" --json -q "$T/a.csv"
is "... all duplicates" "$(counts "$T/.out")" "2 0 2 0 0"
must_fail "--map id=a.b where the id is at the top is refused" 2 "$WINNOW" ingest -C "$T/pool" -q --map id=a.b "$T/b.jsonl"
is "the runs' own renames are recorded per input" \
	"$(stats_profile "$T/pool" track | python3 -c 'import json,sys; p=json.load(sys.stdin); print(p["rename"], [(r["inputs"][0].split("/")[-1], r["rename"]) for r in p["input_renames"]])')" \
	"[['track_id', 'id']] [('b.jsonl', [['tid', 'id']]), ('b.jsonl', [['track_id', 'id'], ['tid', 'id']])]"

# ---- shaping options stored by the first run that keeps a record ----
printf 'id,n,flag,empty\na,1,true,\nb,2,false,x\n' >"$T/t.csv"
check "--types auto --empty-null" "$WINNOW" ingest -C "$T/sh" --json -q --types auto --empty-null "$T/t.csv"
"$WINNOW" export -C "$T/sh" >"$T/sh.exp"
check "a later run without them uses them" "$WINNOW" ingest -C "$T/sh" --json -q "$T/t.csv"
is "... so its records are duplicates, not revisions" "$(counts "$T/.out")" "2 0 2 0 0"
must_fail "a run naming another --types is refused" 2 "$WINNOW" ingest -C "$T/sh" -q --types n=int "$T/t.csv"
grep -q 'read with --types auto, not n=int' "$T/.err"; is "... with the stored value in the message" "$?" 0
is "stats --json shows the profile" "$(stats_profile "$T/sh" track | python3 -c 'import json,sys; p=json.load(sys.stdin); print(p["types"], p["empty_null"], p["id"])')" "auto True ['id']"

# a run that keeps nothing fixes nothing
printf '%s\n' '{"ts":1,"x":"a"}' >"$T/noid.jsonl"
"$WINNOW" ingest -C "$T/nf" -q --types auto "$T/noid.jsonl" >/dev/null 2>&1
check "a run that kept nothing does not fix the profile" "$WINNOW" ingest -C "$T/nf" --json -q --id ts "$T/noid.jsonl"
is "... the next run keeps with its own" "$(json_get "$T/.out" kept)" 1
is "... and its profile is stored" "$(stats_profile "$T/nf" track | python3 -c 'import json,sys; p=json.load(sys.stdin); print(p["id"], p["types"])')" "['ts'] None"

# ---- an interrupted transformed run resumes to the same catalog ----
if [ -x "$GEN" ]; then
	"$GEN" --count 300000 --seed 7 >"$T/big.jsonl"
	args=(--json -q --checkpoint 20000 --drop album.popularity --pseudonymise name --key-file "$T/key")
	"$WINNOW" ingest -C "$T/whole" "${args[@]}" "$T/big.jsonl" >"$T/whole.json"
	kill_after_checkpoint "$T/cut" 500 "$WINNOW" ingest -C "$T/cut" "${args[@]}" "$T/big.jsonl"
	if [ "$killed" = 1 ]; then
		check "the rerun after kill -9 finishes" "$WINNOW" ingest -C "$T/cut" "${args[@]}" "$T/big.jsonl"
		is "... with the counts of an uninterrupted run" "$(counts "$T/.out")" "$(counts "$T/whole.json")"
		cmp -s <("$WINNOW" export -C "$T/cut") <("$WINNOW" export -C "$T/whole")
		is "... and the same records" "$?" 0
		check "... verify --deep" "$WINNOW" verify -C "$T/cut" --deep
	else
		skip "kill -9 of a transformed run" "no checkpoint was reached before the run ended"
	fi
else
	skip "kill -9 of a transformed run" "no generator"
fi

# ---- built-in profiles: chosen by kind (and XML input) ----
mkdir -p "$T/mbdump"
printf '%s\n' '{"id":"b1f5-1","title":"Song","length":200000,"isrcs":["GBAHS1400099","USUM71400001"],"artist-credit":[{"name":"A"}]}' \
	'{"id":"b1f5-2","title":"Other","length":100000,"isrcs":[]}' >"$T/mbdump/recording"
printf 'MusicBrainz JSON dump\n' >"$T/mbdump/README"
if tar -C "$T" -cJf "$T/recording.tar.xz" mbdump/recording mbdump/README 2>/dev/null; then
	check "a MusicBrainz dump as downloaded: --kind recording recording.tar.xz" \
		"$WINNOW" ingest -C "$T/mb" --json -q --kind recording "$T/recording.tar.xz"
	is "... its recordings kept, the README passed over" "$(counts "$T/.out")" "2 2 0 0 0"
	is "... with the musicbrainz-recording profile" \
		"$(stats_profile "$T/mb" recording | python3 -c 'import json,sys; p=json.load(sys.stdin); print(p["builtin"], p["isrc"], p["title"], p["duration"])')" \
		"musicbrainz-recording ['isrcs'] title length"
	check "... so every ISRC of the isrcs array is indexed" "$WINNOW" get -C "$T/mb" --kind recording --isrc USUM71400001
else
	skip "a MusicBrainz dump as downloaded" "tar cannot write .tar.xz here"
fi
printf '<artists>\n<artist><id>7</id><name>X</name></artist>\n</artists>\n' >"$T/discogs_artists.xml"
check "Discogs artists (XML)" "$WINNOW" ingest -C "$T/dga" -q --kind artist "$T/discogs_artists.xml"
is "... take the discogs-artist profile" "$(stats_profile "$T/dga" artist | python3 -c 'import json,sys; print(json.load(sys.stdin)["builtin"])')" "discogs-artist"
check "Spotify artists (JSON)" "$WINNOW" ingest -C "$T/spa" -q --kind artist "$T/plays.jsonl"
is "... take the spotify-artist profile" "$(stats_profile "$T/spa" artist | python3 -c 'import json,sys; print(json.load(sys.stdin)["builtin"])')" "spotify-artist"
must_fail "an unknown --profile: exit 2" 2 "$WINNOW" ingest -C "$T/unk" -q --profile nope "$T/plays.jsonl"
grep -q 'built in: spotify-track' "$T/.err"; is "... listing the built-in ones" "$?" 0

# ---- CSV: a content id, and a composite id with an empty part ----
printf 'Track,Artist\nA,X\nB,Y\nA,X\n' >"$T/noid.csv"
check "a CSV without an id column: --id content (was: no column \"\")" "$WINNOW" ingest -C "$T/cc" --json -q --id content "$T/noid.csv"
is "... the repeated row a duplicate" "$(counts "$T/.out")" "3 2 1 0 0"
printf 'date,rank,country,t\n2025-02-18,1,,A\n2025-02-18,1,DE,B\n2025-02-18,1,,A2\n' >"$T/chart.csv"
check "a composite id whose part is an empty string (a chart's global rows)" \
	"$WINNOW" ingest -C "$T/gc" --json -q --id date+rank+country "$T/chart.csv"
is "... is a value: two ids, the second global row a revision" "$(counts "$T/.out")" "3 2 0 1 0"
check "... and get finds it" "$WINNOW" get -C "$T/gc" '["2025-02-18","1",""]'
