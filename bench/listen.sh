#!/usr/bin/env bash
# bench/listen.sh - pooled listening histories (issue 15): plays/s ingested from a
# generation-2 export (one JSON array) with the listen profile's privacy rules (IP
# addresses dropped, platform generalised, the contributor pseudonymised), minimum of
# BENCH_LISTEN_RUNS runs into fresh pools; then `winnow contributors` on a pool of
# BENCH_LISTEN_MEMBERS contributors (generation-1 plays, one contribution each), read
# BENCH_LISTEN_RUNS times. Checks the answers before it reports a speed. Appends its
# section to bench/RESULTS.md when BENCH_RECORD=1 (run after bench/run.sh).
set -eu
WINNOW=${WINNOW:-build-bench/winnow}
GEN=${GEN:-bench/gen}
N=${BENCH_LISTEN_PLAYS:-2000000}
M=${BENCH_LISTEN_MEMBERS:-10000}
P=${BENCH_LISTEN_MEMBER_PLAYS:-300}
RUNS=${BENCH_LISTEN_RUNS:-3}
D=${BENCH_DIR:-bench/out}/listen
mkdir -p "$D"
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }
jget() { grep -o "\"$2\":[0-9.]*" "$1" | head -n 1 | cut -d: -f2; }
fail() { echo "bench: CORRECTNESS CHECK FAILED: $*" >&2; exit 1; }
head -c 32 /dev/urandom >"$D/key"

# ---- ingest: one member's generation-2 export of N plays ----
f="$D/Streaming_History_Audio_bench.json"
[ -s "$f" ] && [ "$(cat "$D/plays" 2>/dev/null)" = "$N" ] || { "$GEN" --kind listen --count "$N" --seed 3 -o "$f"; echo "$N" >"$D/plays"; }
cat "$f" >/dev/null   # into the page cache
best=999999
for _ in $(seq "$RUNS"); do
	rm -rf "$D/pool"
	t0=$(date +%s.%N)
	"$WINNOW" ingest -q -C "$D/pool" --kind listen --key-file "$D/key" --contributor "Bench Member" --json "$f" >"$D/out.json" 2>/dev/null
	t1=$(date +%s.%N)
	best=$(min "$(secs "$t0" "$t1")" "$best")
done
read_=$(jget "$D/out.json" read) kept=$(jget "$D/out.json" kept) dups=$(jget "$D/out.json" duplicates) rej=$(jget "$D/out.json" rejected)
[ "$read_" -eq $((kept + dups + rej)) ] || fail "read $read_ != kept $kept + duplicates $dups + rejected $rej"
ip=$(head -n 2 "$f" | tail -n 1 | grep -o '"ip_addr":"[^"]*"' | cut -d'"' -f4)
for s in "$D"/pool/shards/*.zst; do zstd -dcq "$s"; done | grep -qF "$ip" && fail "an IP address is in the shards"
rate=$(awk -v n="$read_" -v t="$best" 'BEGIN { printf "%.0f", n / t }')
line1=$(printf 'listen ingest: %d plays of a generation-2 export (%s MB), %.2f s: %s plays/s (target >= 400k); %s kept, %s duplicates (Spotify'"'"'s repeated rows), %s rejected (incognito)' \
	"$read_" "$(($(stat -c %s "$f") / 1000000))" "$best" "$rate" "$kept" "$dups" "$rej")
echo "$line1"

# ---- contributors: M members of P plays each, one run, then the report ----
if [ "$(cat "$D/members" 2>/dev/null)" != "$M $P" ]; then
	rm -rf "$D/many"
	"$GEN" --kind listen --layout endsong --members "$M" --count "$P" --seed 5 |
		"$WINNOW" ingest -q -C "$D/many" --kind listen --key-file "$D/key" --json - >"$D/many.json" 2>/dev/null
	echo "$M $P" >"$D/members"
fi
bestc=999999
for _ in $(seq "$RUNS"); do
	t0=$(date +%s.%N)
	"$WINNOW" contributors -C "$D/many" --json >"$D/contributors.json"
	t1=$(date +%s.%N)
	bestc=$(min "$(secs "$t0" "$t1")" "$bestc")
done
python3 - "$D/contributors.json" "$M" <<'PY' || fail "contributors: not one contribution per member, or a false overlap"
import json, sys
j = json.load(open(sys.argv[1])); m = int(sys.argv[2])
assert j["contributions"] == m and len(j["contributors"]) == m, (j["contributions"], len(j["contributors"]))
assert not j["overlaps"], j["overlaps"][:3]
PY
pairs=$(jget "$D/contributors.json" candidate_pairs)
line2=$(printf 'listen contributors: %d contributors of %d plays each (one contribution each), report in %.2f s (target: seconds); %s candidate pairs compared of %d possible, no false overlap' \
	"$M" "$P" "$bestc" "$pairs" "$((M * (M - 1) / 2))")
echo "$line2"
if [ "${BENCH_RECORD:-0}" = 1 ] && [ -f bench/RESULTS.md ]; then
	{ echo; echo "$line1. Command: \`bench/listen.sh\` (\`winnow ingest -q -C POOL --kind listen --key-file KEY --contributor NAME export.json\`, minimum of $RUNS runs into fresh pools, wall clock, the file in the page cache)."
	  echo; echo "$line2. Command: \`bench/gen --kind listen --layout endsong --members $M --count $P | winnow ingest -C POOL --kind listen --key-file KEY -\`, then \`winnow contributors -C POOL --json\` (minimum of $RUNS)."; } >>bench/RESULTS.md
fi
