#!/usr/bin/env bash
# t0905-cluster-truth.sh - winnow cluster equals the generator's cluster truth exactly:
# bench/gen --cluster-facts writes what every stored track is, bench/ctruth applies the
# rules of FORMAT.md 16.1 to it independently of lib/cluster.c, and `winnow cluster
# --json` must report the same records, clusters, merged, edges per kind and candidates,
# for several seeds and sizes, with revisions stored (id edges), at ingest (--cluster) and
# incrementally. Also that the generator's near-duplicates exercise what they should:
# remaster suffixes merge, live/remix suffixes do not, and the chain guard refuses joins.
. "$(dirname "$0")/lib.sh"

# the machine-independent part of a cluster --json object (or of ingest's "cluster")
counts_of() { python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
d = d.get("cluster", d)
print(json.dumps({k: d[k] for k in ("records", "clusters", "merged", "edges", "candidates", "blocks_capped")}, sort_keys=True))' "$1"; }

# truth NAME SEED COUNT [GEN OPTIONS...] [-- INGEST OPTIONS...]
truth() {
	local name=$1 seed=$2 count=$3
	shift 3
	local gopt=() iopt=() rev=
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do gopt+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	iopt=("$@")
	case " ${iopt[*]-} " in *" last "*) rev=--revisions ;; esac
	"$GEN" --count "$count" --seed "$seed" ${gopt[@]+"${gopt[@]}"} -o "$T/$name.jsonl" --cluster-facts "$T/$name.facts" &&
		"$CTRUTH" $rev "$T/$name.facts" >"$T/$name.truth.json"
	is "$name: the generator wrote the facts and their truth" "$?" 0
	check "$name: ingest" "$WINNOW" ingest -C "$T/$name" -q ${iopt[@]+"${iopt[@]}"} "$T/$name.jsonl"
	check "$name: cluster --json" "$WINNOW" cluster -C "$T/$name" --json
	cp "$T/.out" "$T/$name.json"
	is "$name: winnow cluster equals the truth" "$(counts_of "$T/$name.json")" "$(counts_of "$T/$name.truth.json")"
	diag "$name: $(counts_of "$T/$name.truth.json")"
}

truth s1 1 20000
truth s3 3 80000
truth s11 11 50000 --near-rate 0.15 --isrc-share-rate 0.15
truth rev7 7 40000 --revision-rate 0.1 -- --on-conflict last
truth dump5 5 30000 --layout dump

# the same data clustered at ingest, in two steps: equal to the truth of the whole
"$GEN" --count 40000 --seed 3 >"$T/half1.jsonl"
"$GEN" --count 80000 --seed 3 | tail -n 40000 >"$T/half2.jsonl"
check "ingest --cluster of the first half" "$WINNOW" ingest -C "$T/inc" -q --cluster "$T/half1.jsonl"
check "ingest --cluster of the second half" "$WINNOW" ingest -C "$T/inc" -q --cluster --json "$T/half2.jsonl"
cp "$T/.out" "$T/inc.json"
is "... the incremental clusters equal the truth of all 80k lines" "$(counts_of "$T/inc.json")" "$(counts_of "$T/s3.truth.json")"

# the truth is no tautology: a clusterer that merged live versions would differ
python3 - "$T/s3.facts" >"$T/plant" <<'PY'
import re, sys
first = {}
rem = live = 0
for l in open(sys.argv[1]):
    f = l.rstrip("\n").split("\t")
    title, artist = f[4], f[5] if len(f) > 5 else ""
    first.setdefault((artist, title, f[3]), f[1])
    m = re.match(r"(.*) - Remastered (19|20)\d\d$", title)
    if m and (artist, m.group(1), f[3]) in first and not rem:
        rem = (f[1], first[(artist, m.group(1), f[3])])
    m = re.match(r"(.*)( - Live| \(Live\)| - Remix| \(Remix\))$", title)
    if m and (artist, m.group(1), f[3]) in first and not live and not re.search(r"live|remix", m.group(1), re.I):
        live = (f[1], first[(artist, m.group(1), f[3])])
print(*rem, *live)
PY
read -r rem_id rem_src live_id live_src <"$T/plant"
cluster_of() { "$WINNOW" get -C "$T/s3" --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cluster"])'; }
is "a near-duplicate ' - Remastered YYYY' is in its source's cluster" "$(cluster_of "$rem_id")" "$(cluster_of "$rem_src")"
[ "$(cluster_of "$live_id")" != "$(cluster_of "$live_src")" ]
is "a near-duplicate ' - Live' or ' - Remix' is not in its source's cluster" "$?" 0
"$WINNOW" dups -C "$T/s3" --edge candidate >"$T/s3.cand"
grep -q '"reason":"isrc and duration differ"' "$T/s3.cand"
is "the chain guard kept records apart (ISRC re-uses 2.1-3 s longer)" "$?" 0
