#!/usr/bin/env bash
# t0971-dist-contributions.sh - the scale-out of listening histories: plan, map, reduce and
# merge in shell loops over several exports with contributors (accounts named by their
# username, one account's history sent again under another name, an export given twice, an
# account with more released values than a contribution keeps, sketches longer than 256)
# give the contributions one winnow ingest of the same inputs gives: `winnow contributors
# --json` byte for byte, the same contributions lines, numbered as the single ingest numbers
# them (FORMAT.md 17.5); the merged catalog verifies, and reindex keeps them.
. "$(dirname "$0")/lib.sh"

W() { "$WINNOW" "$@"; }
head -c 32 /dev/urandom >"$T/key"
cd "$T" || exit 1
"$GEN" --kind listen --layout endsong --members 3 --count 400 --seed 5 -o a.json
"$GEN" --kind listen --layout endsong --members 2 --member-base 3 --count 300 --seed 5 -o b.json
python3 - <<'PY'
import json
b = json.load(open("b.json"))
# member3's history under another account's name
json.dump([dict(r, username="copycat") for r in b if r.get("username") == "member3"], open("c.json", "w"))
# an account that played from 30 countries: more released values than a contribution keeps (16)
cc = ["%c%c" % (65 + i // 6, 65 + i % 6) for i in range(30)]
json.dump([{"ts": "2021-03-%02dT%02d:%02d:00Z" % (1 + i // 600, i // 25 % 24, i % 60), "username": "globetrotter",
            "platform": "p%d" % (i % 20), "conn_country": cc[(29 - i) % 30], "ms_played": 1000 + i,
            "spotify_track_uri": "spotify:track:G%d" % i} for i in range(600)], open("g.json", "w"))
PY
IN=(a.json b.json a.json c.json g.json)
OPTS=(--kind listen --key-file "$T/key" --frame-size 16K)
check "one ingest of the exports" W ingest -C single -q "${OPTS[@]}" "${IN[@]}"
W contributors -C single --json >single.json
is "... 7 contributors, one contribution each" \
	"$(python3 -c 'import json; j=json.load(open("single.json")); print(len(j["contributors"]), j["contributions"])')" "7 7"

pipeline() {   # pipeline WORK OUT PARTS TASKS [ingest options]: the whole scale-out
	local w=$1 o=$2 parts=$3 tasks=$4 m i p
	shift 4
	m=$(W plan -C "$w" --parts "$parts" --tasks "$tasks" "$@" "${IN[@]}") || return 1
	for ((i = 0; i < m; i++)); do W map -C "$w" --task $i -q || return 1; done
	for ((p = 0; p < parts; p++)); do W reduce -C "$w" --part $p -q || return 1; done
	W merge -C "$w" -o "$o" -q
}
for shape in "4 3" "7 2" "1 1"; do
	read -r parts tasks <<<"$shape"
	o=merged-$parts
	check "plan, map, reduce, merge: $parts partitions, $tasks map tasks" pipeline "work-$parts" "$o" "$parts" "$tasks" "${OPTS[@]}"
	W contributors -C "$o" --json | cmp -s - single.json
	is "... contributors --json is the single ingest's" "$?" 0
	is "... the same contributions lines" "$(zstd -dcq "$o"/contributions/*.zst | md5sum)" \
		"$(zstd -dcq single/contributions/*.zst | md5sum)"
	check "... verify --deep is clean" W verify -C "$o" --deep
done
n=$(ls work-4/part/*/contributions/* | wc -l)
is "the partitions' catalogs have contributions files of their own" "$n" 4
is "a partition holds part of a contributor's plays" "$(W contributors -C work-4/part/0 --json | python3 -c 'import json,sys
s={c["contributor"]:c["plays"] for c in json.load(open("single.json"))["contributors"]}
p={c["contributor"]:c["plays"] for c in json.load(sys.stdin)["contributors"]}
print(all(0 < p[k] < s[k] for k in p) and len(p) == len(s))')" True
check "reindex of the merged catalog" W reindex -C merged-4 -q
W contributors -C merged-4 --json | cmp -s - single.json
is "... keeps its contributions" "$?" 0

# one contributor named by --contributor, an export twice
IN=(a.json a.json)
OPTS=(--kind listen --key-file "$T/key" --contributor "Ann Quill")
check "one ingest of an export given twice, --contributor" W ingest -C single2 -q "${OPTS[@]}" "${IN[@]}"
check "... and the pipeline" pipeline work2 merged2 3 2 "${OPTS[@]}"
W contributors -C merged2 --json | cmp -s - <(W contributors -C single2 --json)
is "... give the same contributors --json" "$?" 0
