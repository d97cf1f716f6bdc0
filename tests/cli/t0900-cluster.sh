#!/usr/bin/env bash
# t0900-cluster.sh - same-recording clusters: winnow cluster, dups, get --cluster, get
# --json, export --one-per-cluster, ingest --cluster. The issue's examples (feat. and
# remaster variants merge; live, remix, acoustic do not; one ISRC within 3 s merges;
# different ISRCs more than 2 s apart never chain, and the blocked pair is a candidate;
# linked_from), survivor policies, stale clusters refused with the command to run, damage
# found, stable cluster ids across reruns and reindex, incremental == rebuild byte for
# byte, kill -9 during cluster then a rerun == an uninterrupted run, and the real samples.
. "$(dirname "$0")/lib.sh"

# members CAT: one line per cluster of 2+, its member ids sorted, the lines sorted
members() { "$WINNOW" dups -C "$1" ${2:+--kind "$2"} | python3 -c '
import json, sys
print("\n".join(sorted(" ".join(sorted(m["id"] for m in json.loads(l)["members"])) for l in sys.stdin)))'; }
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# ---- the issue's examples ----
cat >"$T/a.jsonl" <<'EOF'
{"id":"a1","name":"Song (feat. X)","artists":[{"name":"Artist A"},{"name":"X"}],"duration_ms":200000,"external_ids":{"isrc":"USAAA1100001"},"popularity":10}
{"id":"a2","name":"Song [feat. X] - 2011 Remaster","artists":[{"name":"Artist A"}],"duration_ms":201000,"popularity":50}
{"id":"a3","name":"SONG - Remastered","artists":[{"name":"artist a"}],"duration_ms":199000,"album":{"album_type":"album","release_date":"2001-05-01","id":"alb1"},"popularity":30}
{"id":"a4","name":"Song - Live","artists":[{"name":"Artist A"}],"duration_ms":200000}
{"id":"a5","name":"Song - Remix","artists":[{"name":"Artist A"}],"duration_ms":200000}
{"id":"a6","name":"Song (Acoustic)","artists":[{"name":"Artist A"}],"duration_ms":200000}
{"id":"b1","name":"Other Title","artists":[{"name":"B"}],"duration_ms":180000,"external_ids":{"isrc":"GBXYZ0500001"}}
{"id":"b2","name":"Another Name","artists":[{"name":"C"}],"duration_ms":182900,"external_ids":{"isrc":"gb-xyz-05-00001"}}
{"id":"b3","name":"Far","artists":[{"name":"D"}],"duration_ms":190000,"external_ids":{"isrc":"GBXYZ0500001"}}
{"id":"c1","name":"Chain","artists":[{"name":"E"}],"duration_ms":200000,"external_ids":{"isrc":"FRAAA0000001"}}
{"id":"c2","name":"Chain","artists":[{"name":"E"}],"duration_ms":202500,"external_ids":{"isrc":"FRAAA0000001"}}
{"id":"c3","name":"Chain","artists":[{"name":"E"}],"duration_ms":204400,"external_ids":{"isrc":"FRBBB0000002"}}
{"id":"l1","name":"Relinked","artists":[{"name":"F"}],"duration_ms":1000}
{"id":"l2","name":"Elsewhere","artists":[{"name":"G"}],"linked_from":{"id":"l1"}}
{"id":"t1","name":"Test","artists":[{"name":"H"}],"duration_ms":1000,"external_ids":{"isrc":"TCAAA0000001"}}
{"id":"t2","name":"Test 2","artists":[{"name":"I"}],"duration_ms":1000,"external_ids":{"isrc":"TCAAA0000001"}}
EOF
check "ingest" "$WINNOW" ingest -C "$T/a" -q "$T/a.jsonl"
must_fail "dups before any cluster run: exit 1" 1 "$WINNOW" dups -C "$T/a"
grep -q 'run `winnow cluster -C' "$T/.err"
is "... and the message names the command to run" "$?" 0
check "cluster --json" "$WINNOW" cluster -C "$T/a" --json
cp "$T/.out" "$T/a.json"
is "cluster --json: records, clusters, merged" "$(jget "$T/a.json" 'd["records"], d["clusters"], d["merged"]')" "(16, 11, 5)"
is "... edges per kind" "$(jget "$T/a.json" 'd["edges"]')" "{'id': 0, 'linked': 1, 'isrc': 2, 'text': 2, 'similar': 0}"
is "... one candidate (the chain c1-c2-c3)" "$(jget "$T/a.json" 'd["candidates"]')" 1
is "records == clusters + merged" "$(jget "$T/a.json" 'd["records"] - d["clusters"] - d["merged"]')" 0
members "$T/a" >"$T/a.members"
is "feat./remaster variants merge; ISRC within 3 s (any spelling); the chain stops at c2; linked_from" \
	"$(cat "$T/a.members")" "$(printf '%s\n' 'a1 a2 a3' 'b1 b2' 'c1 c2' 'l1 l2')"
check "cluster again is a no-op" "$WINNOW" cluster -C "$T/a" --json
is "... nothing added, same clusters" "$(jget "$T/.out" 'd["added"], d["clusters"], d["rebuilt"]')" "(0, 11, False)"
"$WINNOW" dups -C "$T/a" --edge candidate >"$T/cand"
is "dups --edge candidate: c3 against c1 (different ISRCs, 4.4 s apart)" \
	"$(python3 -c 'import json,sys; [print(d["edge"], d["reason"], sorted(m["id"] for m in d["members"])) for d in map(json.loads, open(sys.argv[1]))]' "$T/cand")" \
	"text isrc and duration differ ['c2', 'c3']"
"$WINNOW" dups -C "$T/a" --edge isrc >"$T/isrc"
is "dups --edge isrc: the clusters an ISRC joined" "$(wc -l <"$T/isrc")" 2
grep -q '"evidence":{"isrc":"GBXYZ0500001","duration_ms":\[182900,180000\]}' "$T/isrc"
is "... with the ISRC and both durations as evidence" "$?" 0
"$WINNOW" dups -C "$T/a" --min-size 3 >"$T/big"
is "dups --min-size 3" "$(wc -l <"$T/big")" 1
id=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["cluster"])' "$T/big")
check "get --cluster ID" "$WINNOW" get -C "$T/a" --cluster "$id"
is "... every member's record, survivor first" "$(python3 -c 'import json,sys; print(" ".join(json.loads(l)["id"] for l in open(sys.argv[1])))' "$T/.out")" "a1 a2 a3"
must_fail "get --cluster of an unknown id: exit 1" 1 "$WINNOW" get -C "$T/a" --cluster 0123456789abcdef0123456789abcdef
check "get --json of a merged record" "$WINNOW" get -C "$T/a" --json a3
is "... names its cluster and survivor" "$(jget "$T/.out" 'd["cluster"] == "'"$id"'", d["survivor"], d["merged"], d["record"]["id"]')" "(True, 'a1', True, 'a3')"
check "export --one-per-cluster" "$WINNOW" export -C "$T/a" --one-per-cluster
is "... one record per cluster, in catalog order" "$(python3 -c 'import json,sys; print(" ".join(json.loads(l)["id"] for l in open(sys.argv[1])))' "$T/.out")" \
	"a1 a4 a5 a6 b1 b3 c1 c3 l1 t1 t2"
is "... a test code (TC...) is no ISRC: t1 and t2 stay apart" "$(grep -c '"id":"t[12]"' "$T/.out")" 2

# ---- survivor policies ----
check "export --one-per-cluster --survivor first" "$WINNOW" export -C "$T/a" --one-per-cluster --survivor first
must_fail "--survivor canonical on clusters built with first: exit 1" 1 "$WINNOW" export -C "$T/a" --one-per-cluster --survivor canonical
grep -q 'run `winnow cluster -C .* --survivor canonical`' "$T/.err"
is "... naming the command that stores it" "$?" 0
survivor_of() { "$WINNOW" dups -C "$T/a" --min-size 3 | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["survivor"])'; }
for p in "canonical a3" "complete a1" "priority:popularity a2" "first a1"; do
	set -- $p
	check "cluster --survivor $1" "$WINNOW" cluster -C "$T/a" --survivor "$1" --json
	is "... rebuilt with the new policy, same clusters" "$(jget "$T/.out" 'd["rebuilt"], d["survivor"], d["clusters"]')" "(True, '$1', 11)"
	is "... the survivor of a1 a2 a3 is $2" "$(survivor_of)" "$2"
done
"$WINNOW" cluster -C "$T/a" --survivor complete >/dev/null
check "cluster --rebuild" "$WINNOW" cluster -C "$T/a" --rebuild --json
is "... keeps the stored policy" "$(jget "$T/.out" 'd["rebuilt"], d["survivor"]')" "(True, 'complete')"
check "back to first" "$WINNOW" cluster -C "$T/a" --survivor first
must_fail "an unknown policy is a usage error" 2 "$WINNOW" cluster -C "$T/a" --survivor best
must_fail "dups --edge of an unknown kind" 2 "$WINNOW" dups -C "$T/a" --edge fuzzy

# ---- stale clusters, incremental == rebuild ----
cat >"$T/b.jsonl" <<'EOF'
{"id":"a7","name":"Song (feat. Y)","artists":[{"name":"Artist A"}],"duration_ms":200700}
{"id":"a1","name":"Song (feat. X) - Live","artists":[{"name":"Artist A"}],"duration_ms":200000}
{"id":"c4","name":"Chain","artists":[{"name":"E"}],"duration_ms":204000,"external_ids":{"isrc":"FRBBB0000002"}}
{"id":"n1","linked_from":{"id":"b2"},"name":"x"}
EOF
check "ingest more, with --on-conflict last (a1 revised)" "$WINNOW" ingest -C "$T/a" -q --on-conflict last "$T/b.jsonl"
must_fail "dups on clusters that are not current: exit 1" 1 "$WINNOW" dups -C "$T/a"
grep -q 'cover 16 of its 20 tracks: run `winnow cluster -C' "$T/.err"
is "... saying what they cover and what to run" "$?" 0
must_fail "export --one-per-cluster too" 1 "$WINNOW" export -C "$T/a" --one-per-cluster
check "cluster (incremental)" "$WINNOW" cluster -C "$T/a" --json
is "... looked at the 4 new records only" "$(jget "$T/.out" 'd["added"], d["rebuilt"]')" "(4, False)"
cp "$T/a/clusters/track.bin" "$T/incr.bin"
members "$T/a" >"$T/incr.members"
check "cluster --rebuild" "$WINNOW" cluster -C "$T/a" --rebuild --json
is "... rebuilt" "$(jget "$T/.out" 'd["rebuilt"]')" True
cmp -s "$T/a/clusters/track.bin" "$T/incr.bin"
is "incremental state == rebuilt state, byte for byte" "$?" 0
is "... the same clusters" "$(members "$T/a")" "$(cat "$T/incr.members")"
is "a1 revised to a live version: its cluster is a4's; its old version stays hidden in a2's" "$(cat "$T/incr.members")" \
	"$(printf '%s\n' 'a1 a4' 'a2 a3 a7' 'b1 b2 n1' 'c1 c2' 'c3 c4' 'l1 l2')"
"$WINNOW" dups -C "$T/a" --edge candidate >"$T/cand2"
grep -q '"edge":"id","reason":"qualifiers differ","members":\[{"id":"a1"' "$T/cand2"
is "... the blocked id edge between a1's versions is a candidate" "$?" 0

# ---- stable cluster ids: reruns, reindex ----
"$WINNOW" dups -C "$T/a" >"$T/dups1"
rm -rf "$T/a2" && cp -r "$T/a" "$T/a2" && rm -rf "$T/a2/clusters"
check "a fresh run on a copy" "$WINNOW" cluster -C "$T/a2"
"$WINNOW" dups -C "$T/a2" | cmp -s - "$T/dups1"
is "... gives the same dups lines, cluster ids included" "$?" 0
rm -rf "$T/a/index"
check "reindex" "$WINNOW" reindex -C "$T/a"
"$WINNOW" dups -C "$T/a" | cmp -s - "$T/dups1"
is "after reindex the clusters are current and their ids the same" "$?" 0

# ---- damage ----
check "verify --deep with clusters" "$WINNOW" verify -C "$T/a" --deep
cp "$T/a/clusters/track.bin" "$T/good.bin"
python3 - "$T/a/clusters/track.bin" <<'EOF'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[300] ^= 1; open(p, 'wb').write(bytes(b))
EOF
must_fail "dups on a flipped byte: exit 1" 1 "$WINNOW" dups -C "$T/a"
grep -q 'clusters/track.bin fails its checksum: build the clusters again with `winnow cluster -C .* --rebuild`' "$T/.err"
is "... the state fails its checksum, and the message says what to run" "$?" 0
must_fail "verify finds it" 1 "$WINNOW" verify -C "$T/a"
grep -q 'clusters/track.bin' "$T/.out"
is "... naming the file" "$?" 0
must_fail "an incremental cluster refuses a damaged state" 1 "$WINNOW" cluster -C "$T/a"
check "cluster --rebuild replaces it" "$WINNOW" cluster -C "$T/a" --rebuild
cmp -s "$T/a/clusters/track.bin" "$T/good.bin"
is "... with the state it had" "$?" 0
head -c 100 "$T/good.bin" >"$T/a/clusters/track.bin"
must_fail "a truncated state: exit 1" 1 "$WINNOW" get -C "$T/a" --cluster "$id"
cp "$T/good.bin" "$T/a/clusters/track.bin"

# ---- ingest --cluster ----
check "ingest --cluster --json" "$WINNOW" ingest -C "$T/i" -q --cluster --json "$T/a.jsonl"
is "... adds the clusters' counts" "$(jget "$T/.out" 'd["kept"], d["cluster"]["records"], d["cluster"]["clusters"]')" "(16, 16, 11)"
check "... and they are current" "$WINNOW" dups -C "$T/i"
is "... the same clusters as winnow cluster" "$(members "$T/i")" "$(printf '%s\n' 'a1 a2 a3' 'b1 b2' 'c1 c2' 'l1 l2')"
must_fail "cluster of a catalog that is not there" 1 "$WINNOW" dups -C "$T/nothing"

# ---- kill -9 during an incremental cluster, then a rerun == an uninterrupted run ----
"$GEN" --count 60000 --seed 9 -o "$T/g1.jsonl" && "$GEN" --count 120000 --seed 9 | tail -n 60000 >"$T/g2.jsonl"
check "generated tracks" "$WINNOW" ingest -C "$T/k" -q --cluster "$T/g1.jsonl"
check "... and more, not clustered yet" "$WINNOW" ingest -C "$T/k" -q "$T/g2.jsonl"
cp -r "$T/k" "$T/ref"
check "an uninterrupted incremental cluster" "$WINNOW" cluster -C "$T/ref" --json
secs=$(jget "$T/.out" 'd["seconds"]')
cp "$T/k/clusters/track.bin" "$T/before.bin"
kills=0 i=0 torn=0
maxms=$(python3 -c "print(max(1, int($secs * 750)))")
while [ $kills -lt 3 ] && [ $i -lt 20 ]; do
	i=$((i + 1))
	"$WINNOW" cluster -C "$T/k" >/dev/null 2>&1 &
	pid=$!
	ms=$((RANDOM % (maxms + 1)))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	[ $? -eq 137 ] && kills=$((kills + 1))
	# killed or not, the state is the old one or the finished one, never a mix
	if ! cmp -s "$T/k/clusters/track.bin" "$T/before.bin"; then
		cmp -s "$T/k/clusters/track.bin" "$T/ref/clusters/track.bin" || torn=$((torn + 1))
		cp "$T/before.bin" "$T/k/clusters/track.bin"   # again from the old state
	fi
done
diag "cluster killed $kills times in $i runs"
[ $kills -gt 0 ]
is "cluster was killed mid-run" "$?" 0
is "every killed run left the old state or the finished one" "$torn" 0
check "the rerun" "$WINNOW" cluster -C "$T/k"
cmp -s "$T/k/clusters/track.bin" "$T/ref/clusters/track.bin"
is "... gives the uninterrupted run's state, byte for byte" "$?" 0
rm -rf "$T/k/clusters"
check "a rebuild of all 120k records" "$WINNOW" cluster -C "$T/k"
cmp -s "$T/k/clusters/track.bin" "$T/ref/clusters/track.bin"
is "... equals the incremental state too" "$?" 0
"$WINNOW" cluster -C "$T/k" --json >"$T/g.json"
"$WINNOW" stats -C "$T/k" --json >"$T/g.stats"
is "generated data: every record is a survivor or merged" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=json.load(open(sys.argv[2]))["kinds"]["track"]; print(d["clusters"] + d["merged"] == s["records"])' "$T/g.json" "$T/g.stats")" True

# ---- real samples ----
DUMP=$SHARED/annas-archive-sample
if [ -f "$DUMP/tracks.jsonl" ]; then
	check "the dump sample's tracks, clustered at ingest" "$WINNOW" ingest -C "$T/dump" -q --cluster "$DUMP/tracks.jsonl"
	"$WINNOW" dups -C "$T/dump" >"$T/dump.dups"
	"$WINNOW" dups -C "$T/dump" --edge candidate >"$T/dump.cand"
	# every ISRC shared by several track ids: one cluster, or a candidate that says why not
	python3 - "$DUMP/tracks.jsonl" "$T/dump.dups" "$T/dump.cand" >"$T/dump.check" <<'EOF'
import json, sys, collections
by = collections.defaultdict(set)
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("external_id_isrc"):
        by[r["external_id_isrc"].upper()].add(r["id"])
shared = {k: v for k, v in by.items() if len(v) > 1}
cl = {}
for l in open(sys.argv[2]):
    d = json.loads(l)
    for m in d["members"]:
        cl[m["id"]] = d["cluster"]
cand = [set(m["id"] for m in json.loads(l)["members"]) for l in open(sys.argv[3])]
one = sum(1 for v in shared.values() if len({cl.get(i, i) for i in v}) == 1)
why = sum(1 for v in shared.values() if len({cl.get(i, i) for i in v}) > 1 and any(c <= v for c in cand))
print(len(shared), one, why)
EOF
	read -r nshared none nwhy <"$T/dump.check"
	is "the dump sample has 23 ISRCs shared by several track ids" "$nshared" 23
	is "... each is one cluster, or the guard's candidate says why not" "$((none + nwhy))" 23
	diag "dump sample: $none of them one cluster, $nwhy kept apart by the guard"
	check "the dump's SQLite form, joined (artists: text edges too)" "$WINNOW" ingest -C "$T/dumpj" -q --sqlite-join --cluster --json "$DUMP/spotify_clean_sample.sqlite3"
	diag "dump sample joined: $(jget "$T/.out" 'd["cluster"]')"
else
	skip "the dump sample" "no $DUMP"
fi
TT=$SHARED/tidytuesday-spotify-songs-subset-5k.csv
if [ -f "$TT" ]; then
	check "a CSV with repeated songs under several ids" "$WINNOW" ingest -C "$T/tt" -q --map id=track_id \
		--map title=track_name --map artist=track_artist --map duration=duration_ms --cluster "$TT"
	"$WINNOW" dups -C "$T/tt" --edge text >"$T/tt.dups"
	python3 - "$TT" "$T/tt.dups" >"$T/tt.check" <<'EOF'
import csv, json, sys
rows = {r["track_id"]: r for r in csv.DictReader(open(sys.argv[1], encoding="utf-8"))}
bad = 0
n = 0
for l in open(sys.argv[2]):
    d = json.loads(l)
    n += 1
    ms = [rows[m["id"]] for m in d["members"]]
    # the same artist, a title equal up to case and neutral parts, durations within 2 s of a neighbour
    if len({m["track_artist"].lower() for m in ms}) != 1:
        bad += 1
print(n, bad)
EOF
	read -r ntt nbad <"$T/tt.check"
	is "... its text clusters each have one artist" "$nbad" 0
	diag "tidytuesday: $ntt clusters of the same song under several ids"
	[ "$ntt" -gt 100 ]
	is "... and there are more than 100 of them" "$?" 0
else
	skip "the tidytuesday CSV" "no $TT"
fi
