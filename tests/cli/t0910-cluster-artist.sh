#!/usr/bin/env bash
# t0910-cluster-artist.sh - artist clusters (winnow cluster --kind artist): the same id
# merges (a stored revision); an equal normalised name merges only when a track cluster
# credits both artists (artists[].id of tracks in one track cluster), else the pair is a
# candidate "no shared track cluster"; new tracks make the artist clusters stale until
# they are built again; generated artists and tracks of one seed; the dump sample.
. "$(dirname "$0")/lib.sh"

members() { "$WINNOW" dups -C "$1" --kind artist | python3 -c '
import json, sys
print("\n".join(sorted(" ".join(sorted(m["id"] for m in json.loads(l)["members"])) for l in sys.stdin)))'; }
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# Web API shaped tracks and artists: The Beatles / Beatles share a track cluster (one
# ISRC), Beyoncé / Beyonce too (same title and duration); two different bands named
# Nirvana share none; ar1 is fetched twice and both versions are stored
cat >"$T/tracks.jsonl" <<'JSON'
{"id":"t1","name":"Come Together","artists":[{"external_urls":{"spotify":"https://open.spotify.com/artist/ar3"},"href":"https://api.spotify.com/v1/artists/ar3","id":"ar3","name":"The Beatles","type":"artist","uri":"spotify:artist:ar3"}],"duration_ms":259000,"external_ids":{"isrc":"GBAYE0601696"}}
{"id":"t2","name":"Come Together - Remastered 2009","artists":[{"id":"ar4","name":"Beatles","type":"artist"}],"duration_ms":259500,"external_ids":{"isrc":"GBAYE0601696"}}
{"id":"t3","name":"Halo","artists":[{"id":"ar5","name":"Beyoncé"}],"duration_ms":261000}
{"id":"t4","name":"Halo","artists":[{"id":"ar6","name":"Beyonce"}],"duration_ms":261500}
{"id":"t5","name":"Smells Like Teen Spirit","artists":[{"id":"ar1","name":"Nirvana"}],"duration_ms":301000}
{"id":"t6","name":"Rainbow Chaser","artists":[{"id":"ar2","name":"Nirvana"}],"duration_ms":160000}
JSON
cat >"$T/artists.jsonl" <<'JSON'
{"external_urls":{"spotify":"https://open.spotify.com/artist/ar1"},"followers":{"href":null,"total":25000000},"genres":["grunge","rock"],"href":"https://api.spotify.com/v1/artists/ar1","id":"ar1","images":[],"name":"Nirvana","popularity":80,"type":"artist","uri":"spotify:artist:ar1"}
{"followers":{"href":null,"total":20000},"genres":["psychedelic pop"],"id":"ar2","name":"Nirvana","popularity":30,"type":"artist"}
{"id":"ar3","name":"The Beatles","genres":["rock"],"popularity":90}
{"id":"ar4","name":"Beatles","genres":[],"popularity":5}
{"id":"ar5","name":"Beyoncé","popularity":85}
{"id":"ar6","name":"Beyonce","popularity":3}
{"external_urls":{"spotify":"https://open.spotify.com/artist/ar1"},"followers":{"href":null,"total":25000001},"genres":["grunge","rock"],"href":"https://api.spotify.com/v1/artists/ar1","id":"ar1","images":[],"name":"Nirvana","popularity":81,"type":"artist","uri":"spotify:artist:ar1"}
JSON
check "ingest tracks" "$WINNOW" ingest -C "$T/a" -q "$T/tracks.jsonl"
check "ingest artists, revisions stored" "$WINNOW" ingest -C "$T/a" -q --kind artist --on-conflict last "$T/artists.jsonl"
must_fail "artist dups before any cluster run" 1 "$WINNOW" dups -C "$T/a" --kind artist
check "cluster --kind artist --json" "$WINNOW" cluster -C "$T/a" --kind artist --json
cp "$T/.out" "$T/a.json"
is "records, clusters, merged" "$(jget "$T/a.json" 'd["kind"], d["records"], d["clusters"], d["merged"]')" "('artist', 7, 4, 2)"
is "edges: one id (the stored revision), two name + shared track cluster" "$(jget "$T/a.json" 'd["edges"]')" \
	"{'id': 1, 'linked': 0, 'isrc': 0, 'text': 2, 'similar': 0}"
is "... and the Nirvanas are candidates (one per stored version of ar1)" "$(jget "$T/a.json" 'd["candidates"]')" 2
check "the track clusters were brought up to date first" "$WINNOW" dups -C "$T/a"
is "... two track clusters" "$(wc -l <"$T/.out")" 2
is "artist clusters: a shared track cluster merges equal names (the, accents)" "$(members "$T/a")" \
	"$(printf '%s\n' 'ar3 ar4' 'ar5 ar6')"
"$WINNOW" dups -C "$T/a" --kind artist >"$T/a.dups"
grep -q '"edge":"text","to":"ar3","evidence":{"name":"beatles","shared_track_cluster":true}' "$T/a.dups"
is "... with the name key as evidence" "$?" 0
"$WINNOW" dups -C "$T/a" --kind artist --edge candidate >"$T/a.cand"
is "name-only equality is a candidate: no shared track cluster" \
	"$(python3 -c 'import json,sys; print(sorted({(d["reason"], tuple(sorted(m["id"] for m in d["members"]))) for d in map(json.loads, open(sys.argv[1]))}))' "$T/a.cand")" \
	"[('no shared track cluster', ('ar1', 'ar2'))]"
check "get --json of a merged artist" "$WINNOW" get -C "$T/a" --kind artist --json ar4
is "... names its survivor" "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["survivor"], d["merged"])' <"$T/.out")" "ar3 True"

# a track crediting both Nirvanas: the artist clusters are stale until built again
echo '{"id":"t7","name":"Lithium","artists":[{"id":"ar2","name":"Nirvana"},{"id":"ar1","name":"Nirvana"}],"duration_ms":257000}' >"$T/more.jsonl"
check "ingest a track crediting both" "$WINNOW" ingest -C "$T/a" -q "$T/more.jsonl"
must_fail "artist dups after new tracks: stale" 1 "$WINNOW" dups -C "$T/a" --kind artist
grep -q 'made with 6 of its 7 tracks: run `winnow cluster -C .* --kind artist`' "$T/.err"
is "... the message names the command to run" "$?" 0
check "cluster --kind artist again" "$WINNOW" cluster -C "$T/a" --kind artist --json
is "... rebuilt: the Nirvanas now share a track" "$(jget "$T/.out" 'd["rebuilt"], d["clusters"], d["candidates"]')" "(True, 3, 0)"
check "... and a rerun is a no-op" "$WINNOW" cluster -C "$T/a" --kind artist --json
is "... nothing added" "$(jget "$T/.out" 'd["added"], d["rebuilt"]')" "(0, False)"
rm -rf "$T/a/clusters/artist.bin"
check "a rebuild from scratch" "$WINNOW" cluster -C "$T/a" --kind artist --json
is "... the same clusters" "$(jget "$T/.out" 'd["clusters"], d["edges"]["text"]')" "(3, 3)"

# generated artists and tracks of one seed agree on ids and names: a near-duplicate
# artist (another id) whose name keys equal its source's is credited by no track
"$GEN" --count 20000 --seed 4 -o "$T/gt.jsonl"
"$GEN" --count 3000 --seed 4 --kind artist -o "$T/ga.jsonl"
check "generated tracks" "$WINNOW" ingest -C "$T/g" -q "$T/gt.jsonl"
check "generated artists, clustered at ingest" "$WINNOW" ingest -C "$T/g" -q --kind artist --cluster --json "$T/ga.jsonl"
cp "$T/.out" "$T/g.json"
"$WINNOW" dups -C "$T/g" --kind artist --edge candidate >"$T/g.cand"
"$WINNOW" dups -C "$T/g" --kind artist >"$T/g.dups"
python3 - "$T/g.cand" "$T/g.dups" >"$T/g.check" <<'PY'
import json, sys
cand = [json.loads(l) for l in open(sys.argv[1])]
print(len(cand), sum(1 for d in cand if d["reason"] == "no shared track cluster"))
PY
read -r ncand nname <"$T/g.check"
is "generated: every artist candidate is a name without a shared track cluster" "$nname" "$ncand"
[ "$ncand" -gt 0 ]
is "... and there are some (near-duplicate artists: case, accents)" "$?" 0
diag "generated artists: $(jget "$T/g.json" 'd["cluster"]')"

# a common name: each new artist tries only the 64 newest of its name (never quadratic)
python3 -c 'import json
for i in range(200): print(json.dumps({"id": "la%03d" % i, "name": "Laura"}))' >"$T/laura.jsonl"
check "200 artists named Laura" "$WINNOW" ingest -C "$T/l" -q --kind artist --cluster --json "$T/laura.jsonl"
is "... candidates: each with at most the 64 newest before it" "$(jget "$T/.out" 'd["cluster"]["candidates"]')" \
	"$(python3 -c 'print(sum(min(i, 64) for i in range(200)))')"

# the dump sample: joined tracks (artists[] with ids) and its artists
DUMP=$SHARED/annas-archive-sample
if [ -f "$DUMP/artists.jsonl" ] && [ -f "$DUMP/spotify_clean_sample.sqlite3" ]; then
	check "the dump's tracks, joined" "$WINNOW" ingest -C "$T/d" -q --sqlite-join "$DUMP/spotify_clean_sample.sqlite3"
	check "the dump's artists, clustered" "$WINNOW" ingest -C "$T/d" -q --kind artist --cluster --json "$DUMP/artists.jsonl"
	diag "dump sample artists: $(jget "$T/.out" 'd["cluster"]')"
	is "... every artist is in one cluster" "$(jget "$T/.out" 'd["cluster"]["records"] == d["kept"]')" True
else
	skip "the dump sample's artists" "no $DUMP"
fi
