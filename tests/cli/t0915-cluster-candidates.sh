#!/usr/bin/env bash
# t0915-cluster-candidates.sh - scored candidates (FORMAT.md 14.6): tracks of one block
# (same artist and title start, or same title and 5 s duration bucket) that look alike
# are reported by dups --edge candidate with their score and evidence, never merged
# unless cluster --merge-candidates (stored; edge "similar"; the chain guard still
# holds); a hot block is cut at 8 records and counted; incremental equals rebuild.
. "$(dirname "$0")/lib.sh"

jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
cands() { python3 -c '
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    print(d["reason"], " ".join(sorted(m["id"] for m in d["members"])), d.get("score", "-"))' "$1"; }

cat >"$T/a.jsonl" <<'JSON'
{"id":"h1","name":"Halo","artists":[{"name":"Beyoncé"}],"duration_ms":261000,"external_ids":{"isrc":"USSM10803461"}}
{"id":"h2","name":"Hallo","artists":[{"name":"Beyonce"}],"duration_ms":261400}
{"id":"h3","name":"Halo","artists":[{"name":"Beyoncé"}],"duration_ms":264500}
{"id":"h4","name":"Halo","artists":[{"name":"Beyoncé"}],"duration_ms":300000}
{"id":"h5","name":"Halo - Live","artists":[{"name":"Beyoncé"}],"duration_ms":261000}
{"id":"h6","name":"Halo","artists":[{"name":"Someone Else"}],"duration_ms":261000}
{"id":"h7","name":"Halo","artists":[{"name":"Beyoncé"}],"duration_ms":268000,"external_ids":{"isrc":"GBAAA0800001"}}
JSON
check "ingest" "$WINNOW" ingest -C "$T/a" -q "$T/a.jsonl"
check "cluster --json" "$WINNOW" cluster -C "$T/a" --json
cp "$T/.out" "$T/a.json"
is "nothing merged by text alone" "$(jget "$T/a.json" 'd["clusters"], d["merged"], d["merge_candidates"]')" "(7, 0, False)"
check "dups --edge candidate" "$WINNOW" dups -C "$T/a" --edge candidate
cp "$T/.out" "$T/a.cand"
cands "$T/a.cand" >"$T/a.list"
# h2 ~ h1 (a typo, 0.4 s), h3 ~ h1 (3.5 s: no text edge), h7 ~ h3 (3.5 s); h4 is 39 s
# off, h5 is live, h6 another artist, h7 has another ISRC 7 s from h1 (the guard forbids
# that pair)
is "the scored pairs" "$(cut -d' ' -f1-3 "$T/a.list" | sort)" "$(printf '%s\n' 'similar h1 h2' 'similar h1 h3' 'similar h3 h7' | sort)"
is "... with scores of at least 0.85" "$(awk '$4 < 0.85' "$T/a.list")" ""
grep -q '"score":0.9[0-9]*,"evidence":{"artists":\["beyonce","beyonce"\],"titles":\["hallo","halo"\],"qualifiers":\[\[\],\[\]\],"duration_ms":\[261400,261000\]}' "$T/a.cand"
is "... and the keys and durations as evidence" "$?" 0
is "cluster --json counts them" "$(jget "$T/a.json" 'd["candidates"]')" 3

check "cluster --merge-candidates" "$WINNOW" cluster -C "$T/a" --merge-candidates --json
is "... rebuilds and merges them where the guard allows" \
	"$(jget "$T/.out" 'd["rebuilt"], d["merge_candidates"], d["edges"]["similar"], d["clusters"], d["candidates"]')" "(True, True, 2, 5, 1)"
"$WINNOW" dups -C "$T/a" >"$T/m.dups"
is "... h1 h2 h3 one cluster; h7 kept apart from h1 by the guard" \
	"$(python3 -c 'import json,sys; [print(" ".join(sorted(m["id"] for m in json.loads(l)["members"]))) for l in open(sys.argv[1])]' "$T/m.dups")" \
	"h1 h2 h3"
grep -q '"edge":"similar","to":"h1","evidence":{"artists":\["beyonce","beyonce"\],"titles":\["hallo","halo"\],"duration_ms":\[261400,261000\],"score":0\.9' "$T/m.dups"
is "... a similar edge shows its score" "$?" 0
check "a plain cluster run keeps the setting" "$WINNOW" cluster -C "$T/a" --json
is "... a no-op" "$(jget "$T/.out" 'd["added"], d["rebuilt"], d["merge_candidates"]')" "(0, False, True)"
check "--no-merge-candidates" "$WINNOW" cluster -C "$T/a" --no-merge-candidates --json
is "... rebuilds, reporting only" "$(jget "$T/.out" 'd["rebuilt"], d["merge_candidates"], d["clusters"]')" "(True, False, 7)"
must_fail "dups --edge bogus" 2 "$WINNOW" dups -C "$T/a" --edge bogus

# a hot block: one artist, 100 tracks named alike; each scores the 8 newest only
python3 -c 'import json
for i in range(100): print(json.dumps({"id": "x%03d" % i, "name": "Intro", "artists": [{"name": "Hot"}], "duration_ms": 60000 + 3000 * i}))' >"$T/hot.jsonl"
check "a hot block" "$WINNOW" ingest -C "$T/h" -q --cluster --json "$T/hot.jsonl"
# blocks: (hot, "int") holds all 100, (intro, 5 s bucket) at most two: records 9..99
# have their first block cut
is "... capped walks counted" "$(jget "$T/.out" 'd["cluster"]["blocks_capped"]')" 91

# incremental equals rebuild with scored candidates
"$GEN" --count 30000 --seed 21 -o "$T/g1.jsonl" && "$GEN" --count 60000 --seed 21 | tail -n 30000 >"$T/g2.jsonl"
check "generated, clustered in two steps" "$WINNOW" ingest -C "$T/g" -q --cluster "$T/g1.jsonl"
check "... second step" "$WINNOW" ingest -C "$T/g" -q --cluster "$T/g2.jsonl"
cp "$T/g/clusters/track.bin" "$T/inc.bin"
check "... and a rebuild" "$WINNOW" cluster -C "$T/g" --rebuild
cmp -s "$T/g/clusters/track.bin" "$T/inc.bin"
is "... the same state, byte for byte" "$?" 0

# real data: the tidytuesday CSV holds the same songs under several ids, some of them
# other masters a few seconds longer: scored candidates, each of one artist and title
TT=$SHARED/tidytuesday-spotify-songs-subset-5k.csv
if [ -f "$TT" ]; then
	check "the tidytuesday CSV, clustered" "$WINNOW" ingest -C "$T/tt" -q --map id=track_id --map title=track_name \
		--map artist=track_artist --map duration=duration_ms --cluster --json "$TT"
	diag "tidytuesday: $(jget "$T/.out" 'd["cluster"]')"
	"$WINNOW" dups -C "$T/tt" --edge candidate >"$T/tt.cand"
	python3 - "$T/tt.cand" >"$T/tt.check" <<'PY'
import json, sys
c = [json.loads(l) for l in open(sys.argv[1])]
s = [d for d in c if d["reason"] == "similar"]
bad = [d for d in s if d["score"] < 0.85 or len(set(d["evidence"]["artists"])) != 1]
print(len(s), len(bad))
PY
	read -r nsim nbad <"$T/tt.check"
	[ "$nsim" -gt 10 ]
	is "... more than 10 scored candidates ($nsim)" "$?" 0
	is "... each of one artist, scored at least 0.85" "$nbad" 0
else
	skip "the tidytuesday CSV" "no $TT"
fi
