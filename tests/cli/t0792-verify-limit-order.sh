#!/usr/bin/env bash
# t0792-verify-limit-order.sh - with more problems of a kind in a file than --limit shows,
# verify shows the first ones by place, whatever order they were found in: the map scans
# find them in hash order, the threads in any order. The output of --deep is the same
# with any number of threads, and the ledger's damage and the index's are both found in
# one run (the map scans share the pool with the ledger's frames).
. "$(dirname "$0")/lib.sh"

WNC=${WNC:-$(dirname "$WINNOW")/tests/tools/wn-corrupt}
IN=$T/tracks.jsonl
"$GEN" --count 5000 --seed 7 -o "$IN"
C=$T/cat
# twice: the second run's duplicates fill the ledger
for i in 1 2; do "$WINNOW" ingest -C "$C" -q --shard-size 256K --frame-size 8K "$IN" >/dev/null 2>&1; done
check "the catalog verifies clean first" "$WINNOW" verify -C "$C" --deep
S=shards/track-000001.jsonl.zst
fresh() { rm -rf "$T/$1"; cp -r "$C" "$T/$1"; D=$T/$1; }
# verify --deep --json ARGS: the output without its timing
vjson() { timeout 120 "$WINNOW" verify --deep --json "$@" | sed 's/"seconds":[0-9.]*,//'; }
# the problems of kind KIND in FILE.json about the shard $S: "frame record" a line, in order
shown() {
	python3 - "$1" "$2" "$S" <<'EOF'
import json, sys
for p in json.load(open(sys.argv[1]))["problems"]:
    if p["kind"] == sys.argv[2] and p["shard"] == sys.argv[3]:
        print(p["frame"], p["record"])
EOF
}

if ! have python3; then
	skip "limit order tests" "python3 not installed (reads --json)"
	exit 0
fi

# ---- found in hash order: id entries sent to records 200-211 ----
if [ -x "$WNC" ]; then
	"$WINNOW" export -C "$C" >"$T/export.jsonl"
	fresh ids
	for i in $(seq 0 11); do
		id=$(sed -n "$((301 + i))p" "$T/export.jsonl" | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)
		"$WNC" "$D" set-id-ord track "$id" $((200 + i)) || not_ok "wn-corrupt set-id-ord $id"
	done
	vjson -C "$D" --limit 3 >"$T/ids.json"
	is "12 id entries sent elsewhere: 12 dangling, 12 unindexed (and the notes)" \
		"$(grep -o '"problem_count":[0-9]*' "$T/ids.json")" '"problem_count":24'
	is "--limit 3 shows the dangling entries of the first 3 records by place" \
		"$(shown "$T/ids.json" index-dangling | cut -d' ' -f2 | tr '\n' ' ')" "200 201 202 "
	is "and the first 3 unindexed records" \
		"$(shown "$T/ids.json" record-unindexed | cut -d' ' -f2 | tr '\n' ' ')" "300 301 302 "
	grep -q '"detail":"9 more index-dangling problems in this file not shown"' "$T/ids.json"
	is "the rest are counted in a note" "$?" 0
	grep -q '"kind":"index-dangling","shard":"'$S'",[^}]*"record":200,[^}]*"detail":"index: the id entry [0-9a-f.]* points at record 200, whose id is another' "$T/ids.json"
	is "a shown entry is described in full" "$?" 0
	for j in 1 3; do
		vjson -C "$D" --limit 3 -j $j | cmp -s - "$T/ids.json"
		is "-j $j: the same output" "$?" 0
	done
else
	skip "index damage" "no $WNC (make test builds it)"
fi

# ---- found by the threads: 30 damaged frames of a shard, and a ledger frame ----
fresh frames
python3 - "$D/$S" "$D/ledger/track-000002.jsonl.zst" <<'EOF'
import sys
for path, offs in ((sys.argv[1], range(1000, 60000, 1700)), (sys.argv[2], (3000,))):
    b = bytearray(open(path, "rb").read())
    for o in offs:
        b[o] ^= 1
    open(path, "wb").write(b)
EOF
vjson -C "$D" -j 1 >"$T/f1.json"
is "20 of the shard's damaged frames are shown" "$(shown "$T/f1.json" frame-corrupt | grep -c '^')" 20
is "the first 20 by place, frames 0-19" "$(shown "$T/f1.json" frame-corrupt | cut -d' ' -f1 | tr '\n' ' ')" \
	"0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 "
grep -q '"kind":"frame-corrupt","shard":"ledger/track-000002.jsonl.zst"' "$T/f1.json"
is "and the ledger's damaged frame" "$?" 0
same=0
for i in $(seq 8); do
	for j in 2 4; do
		vjson -C "$D" -j $j | cmp -s - "$T/f1.json" && same=$((same + 1))
	done
done
is "-j 2 and -j 4, 8 runs each: the output of -j 1 every time" "$same" 16
