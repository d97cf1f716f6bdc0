#!/usr/bin/env bash
# t0830-ingest-first-checkpoint.sh - a run killed (-9) before its first checkpoint leaves
# a data file that no committed transaction knows: verify calls it a note (the next
# ingest removes it), not damage, and the rerun says that it starts over. The first
# checkpoint comes early (after 64 MiB of records, not after the 1.4M records of the
# default interval), so a run killed partway keeps what it did up to there: the rerun
# resumes, and ends with the counts, the export and a verify --deep of an uninterrupted
# run.
. "$(dirname "$0")/lib.sh"

ms_now() { date +%s%3N; }

# ---- killed before the first checkpoint ----
"$GEN" --count 20000 --seed 13 -o "$T/p.jsonl"
"$WINNOW" ingest -q -C "$T/pref" --json "$T/p.jsonl" >"$T/pref.json" 2>/dev/null
mkfifo "$T/fifo"
"$WINNOW" ingest -q -C "$T/k" --json - <"$T/fifo" >/dev/null 2>&1 &
pid=$!
exec 4>"$T/fifo"
cat "$T/p.jsonl" >&4
shard=$T/k/shards/track-000001.jsonl.zst
for _ in $(seq 200); do
	[ -s "$shard" ] && break
	sleep 0.05
done
sleep 0.2
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
exec 4>&-
if [ -s "$shard" ] && ! has_checkpoint "$T/k"; then ok "killed before the first checkpoint, with frames written"
else not_ok "killed before the first checkpoint, with frames written"; fi
"$WINNOW" verify -C "$T/k" >"$T/v.out" 2>&1
is "verify right after the kill: exit 0" "$?" 0
grep -q "^note: shards/track-000001.jsonl.zst: .*the next ingest removes it" "$T/v.out"
is "verify: the uncommitted file is a note" "$?" 0
grep -q "^damaged\|^extra" "$T/v.out"
is "verify: no damage, nothing extra" "$?" 1
[ -s "$T/v.out" ] && diag "$(cat "$T/v.out")"
"$WINNOW" verify -C "$T/k" --deep >"$T/vd.out" 2>&1
is "verify --deep right after the kill: exit 0" "$?" 0
cat "$T/p.jsonl" | "$WINNOW" ingest -q -C "$T/k" --json - >"$T/k.json" 2>"$T/k.err"
is "the rerun: exit 0" "$?" 0
grep -q "interrupted before its first checkpoint.*starts over" "$T/k.err"
is "the rerun says that it starts over" "$?" 0
is "--json: restarted true" "$(json_get "$T/k.json" restarted)" true
is "the rerun's counts == an uninterrupted run's" "$(counts "$T/k.json")" "$(counts "$T/pref.json")"
check "verify --deep after the rerun" "$WINNOW" verify -C "$T/k" --deep

# ---- the first checkpoint comes early ----
N=400000
"$GEN" --count $N --seed 21 -o "$T/big.jsonl"
diag "input: $N records, $(($(wc -c <"$T/big.jsonl") >> 20)) MiB"
"$WINNOW" ingest -q -C "$T/ref" --json "$T/big.jsonl" >"$T/ref.json" 2>/dev/null
"$WINNOW" export -C "$T/ref" >"$T/ref.export"
t0=$(ms_now)
"$WINNOW" ingest -q -C "$T/b" --json "$T/big.jsonl" >/dev/null 2>&1 &
pid=$!
held=0
while kill -0 $pid 2>/dev/null; do
	if has_checkpoint "$T/b"; then
		kill -9 $pid
		break
	fi
	sleep 0.02
done
wait $pid 2>/dev/null
st=$?
held=$("$WINNOW" stats -C "$T/b" --json 2>/dev/null | grep -o '"read":[0-9]*' | head -n 1 | cut -d: -f2)
diag "killed after $(($(ms_now) - t0)) ms (exit $st), with ${held:-0} records committed"
if [ "$st" -eq 137 ] && [ "${held:-0}" -gt 0 ] && [ "${held:-0}" -lt $N ]; then
	ok "a checkpoint came before the end of $N records (default interval: 1.4M), and the run was killed after it"
else
	not_ok "a checkpoint came before the end of $N records (default interval: 1.4M), and the run was killed after it"
fi
"$WINNOW" ingest -q -C "$T/b" --json "$T/big.jsonl" >"$T/b.json" 2>"$T/b.err"
is "the rerun: exit 0" "$?" 0
is "the rerun resumed after the records of the checkpoint" "$(json_get "$T/b.json" resumed)" "${held:-0}"
is "the rerun's counts == an uninterrupted run's" "$(counts "$T/b.json")" "$(counts "$T/ref.json")"
"$WINNOW" export -C "$T/b" | cmp -s - "$T/ref.export"
is "export == an uninterrupted run's" "$?" 0
check "verify --deep after the rerun" "$WINNOW" verify -C "$T/b" --deep
cmp -s "$T/b/MANIFEST" "$T/ref/MANIFEST"
is "MANIFEST == an uninterrupted run's (the same frames, byte for byte)" "$?" 0
