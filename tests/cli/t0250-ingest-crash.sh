#!/usr/bin/env bash
# t0250-ingest-crash.sh - kill -9 an ingest at random moments, again and again, then run it
# to the end: the catalog must be the one an uninterrupted run makes (export, counts,
# ledger, rejects, MANIFEST), and every file must still check out with xxhsum and zstd.
# Then SIGINT: exit 130, and a rerun finishes the job. Randomised: prints "# seed N";
# rerun with SEED=N to repeat the same kill times (as far as timing allows).
. "$(dirname "$0")/lib.sh"

need=""
for t in zstd xxhsum; do have $t || need="$need $t"; done
if [ -n "$need" ]; then
	skip "crash test" "missing:$need"
	exit 0
fi
seed=${SEED:-$(((RANDOM << 15 | RANDOM) % 1000000))}
echo "# seed $seed"
RANDOM=$seed

IN=$T/tracks.jsonl
# ~40k lines with duplicates, revisions and bad lines, so that shards, ledger and rejects
# are all written while the process is killed.
if [ -x "$GEN" ] && "$GEN" --help 2>&1 | grep -q -- '--seed'; then
	"$GEN" --count 40000 --seed 11 -o "$IN"
	diag "input: $GEN --count 40000 --seed 11"
else
	awk 'BEGIN {
		srand(11)
		for (i = 1; i <= 40000; i++) {
			r = rand()
			if (r < 0.005) { print "{\"id\":\"broken" i "\",\"name\":\"caf\351\"}"; continue }
			if (r < 0.010) { print "{\"name\":\"no id " i "\"}"; continue }
			j = i
			if (r < 0.08 && i > 10) j = int(rand() * (i - 1)) + 1
			pop = j % 100
			if (r < 0.03 && i > 10) pop = j % 100 + 1
			printf "{\"id\":\"trk%07d\",\"name\":\"Song %d caf\303\251\",\"album\":{\"id\":\"alb%05d\",\"name\":\"Album %d\"},\"duration_ms\":%d,\"external_ids\":{\"isrc\":\"QZ%010d\"},\"popularity\":%d,\"pad\":\"%s%s%s\"}\n",
				j, j, j % 997, j % 997, 120000 + j * 37 % 200000, j, pop, j, substr("abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789", 1 + j % 50, 150 + j % 200), j * 7
		}
	}' >"$IN"
	diag "input: awk loop (no usable $GEN)"
fi
nlines=$(wc -l <"$IN")
OPTS=(-q --json --checkpoint 2000 --frame-size 16K --shard-size 512K)
ms_now() { date +%s%3N; }
kstats() {
	"$WINNOW" stats -C "$1" --json 2>/dev/null | grep -o '"track":{[^}]*}' | head -n 1 |
		grep -o '"\(records\|read\|kept\|duplicates\|revisions\|rejected\|superseded\)":[0-9]*' | tr '\n' ' '
}
stream() { cat "$1"/"$2"/*.zst 2>/dev/null | zstd -dc 2>/dev/null; }

# ---- reference: one uninterrupted run ----
A=$T/A
t0=$(ms_now)
"$WINNOW" ingest -C "$A" "${OPTS[@]}" "$IN" >"$T/a.json" 2>"$T/a.err"
st=$?
dur=$(($(ms_now) - t0))
is "reference run exits 0" "$st" 0
diag "reference run: $dur ms; $(counts "$T/a.json") (read kept duplicates revisions rejected)"
read -r ar ak ad av aj <<<"$(counts "$T/a.json")"
is "reference run reads every line" "$ar" "$nlines"
if [ "${ad:-0}" -gt 0 ] && [ "${av:-0}" -gt 0 ] && [ "${aj:-0}" -gt 0 ]; then ok "the input has duplicates, revisions and bad lines"
else not_ok "the input has duplicates, revisions and bad lines"; fi
"$WINNOW" export -C "$A" >"$T/a.export" 2>/dev/null
stream "$A" ledger >"$T/a.ledger"
stream "$A" rejects >"$T/a.rejects"
cp "$A/MANIFEST" "$T/a.MANIFEST"
astats=$(kstats "$A")
if [ "$(ls "$A"/shards | wc -l)" -ge 3 ] && [ -s "$T/a.ledger" ] && [ -s "$T/a.rejects" ]; then ok "reference catalog has several shards, a ledger and rejects"
else not_ok "reference catalog has several shards, a ledger and rejects"; fi

# ---- catalog B: kill -9 at random moments ----
B=$T/B
maxms=$((dur / 5 + 30))
kills=0 episode_kills=0 completed=0 unexpected=0 iter=0 episode_bad=0
while { [ $kills -lt 20 ] || [ $episode_kills -lt 10 ]; } && [ $iter -lt 100 ]; do
	iter=$((iter + 1))
	"$WINNOW" ingest -C "$B" "${OPTS[@]}" "$IN" >"$T/b.json" 2>"$T/b.err" &
	pid=$!
	ms=$((RANDOM % maxms))
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	st=$?
	case $st in
	0 | 137) ;;
	*) unexpected=$((unexpected + 1)); diag "run $iter (killed after ${ms} ms) exited $st: $(tail -n 2 "$T/b.err")"; continue ;;
	esac
	[ $st -eq 137 ] && kills=$((kills + 1)) episode_kills=$((episode_kills + 1))
	# Did the run get as far as its final commit (the kill may land after it)? Then the
	# next run would be a second ingest of the same input, not a resumption: check this
	# catalog against the reference, and start a fresh one, so that the final catalog has
	# seen one (interrupted) run only.
	gen=$("$WINNOW" stats -C "$B" --json 2>/dev/null | grep -o '"generation":[0-9]*' | cut -d: -f2)
	if [ "${gen:-0}" -ge 1 ]; then
		completed=$((completed + 1))
		diag "run $iter finished (exit $st, after $episode_kills kills): checking it and starting over"
		"$WINNOW" export -C "$B" 2>/dev/null | cmp -s - "$T/a.export" || { episode_bad=$((episode_bad + 1)); diag "... its export differs"; }
		[ "$(kstats "$B")" = "$astats" ] || { episode_bad=$((episode_bad + 1)); diag "... its stats: $(kstats "$B")"; }
		rm -rf "$B"
		episode_kills=0
	fi
done
diag "$kills kills in $iter runs (sleep 0-$maxms ms), $completed finished early; the final catalog saw $episode_kills kills"
if [ $kills -ge 20 ]; then ok "at least 20 runs killed with SIGKILL"; else not_ok "at least 20 runs killed with SIGKILL ($kills)"; fi
if [ $episode_kills -ge 10 ]; then ok "the final catalog went through at least 10 kills"; else not_ok "the final catalog went through at least 10 kills ($episode_kills)"; fi
is "no run after a kill failed (each reopened and rolled back the catalog)" "$unexpected" 0
is "runs that finished between kills made the reference catalog" "$episode_bad" 0

# ---- finish ----
"$WINNOW" ingest -C "$B" "${OPTS[@]}" "$IN" >"$T/b.json" 2>"$T/b.err"
is "the final run exits 0" "$?" 0
[ -s "$T/b.err" ] && diag "$(tail -n 3 "$T/b.err")"
read -r br bk bd bv bj <<<"$(counts "$T/b.json")"
resumed=$(json_get "$T/b.json" resumed)
diag "final run: $br $bk $bd $bv $bj (read kept duplicates revisions rejected), resumed $resumed"
case "$resumed" in '' | *[!0-9]*) not_ok "the final run's --json has an integer \"resumed\""; resumed=0 ;; *) ok "the final run's --json has an integer \"resumed\"" ;; esac
is "final run: read == kept + duplicates + revisions + rejected" "$br" "$((bk + bd + bv + bj))"
is "final run: read == the input's line count (the whole run's counts)" "$br" "$nlines"
is "final run: the same counts as the uninterrupted run" "$br $bk $bd $bv $bj" "$ar $ak $ad $av $aj"
is "final run: \"bytes\" == the input's size, as in the uninterrupted run" \
	"$(json_get "$T/b.json" bytes)/$(json_get "$T/a.json" bytes)" "$(wc -c <"$IN")/$(wc -c <"$IN")"
if [ "$resumed" -le "$br" ] && [ $((resumed % 2000)) -eq 0 ]; then ok "final run: resumed ($resumed) is a whole number of checkpoints, at most read"
else not_ok "final run: resumed ($resumed) is a whole number of checkpoints, at most read ($br)"; fi
"$WINNOW" export -C "$B" >"$T/b.export" 2>/dev/null
if cmp -s "$T/b.export" "$T/a.export"; then ok "export(B) == export(A) byte for byte"
else not_ok "export(B) == export(A) byte for byte"; diag "$(wc -l <"$T/b.export") vs $(wc -l <"$T/a.export") lines"; fi
is "stats(B) == stats(A): records read kept duplicates revisions rejected superseded" "$(kstats "$B")" "$astats"
stream "$B" ledger | cmp -s - "$T/a.ledger"
is "ledger(B) == ledger(A): no entry lost or written twice" "$?" 0
stream "$B" rejects | cmp -s - "$T/a.rejects"
is "rejects(B) == rejects(A): no entry lost or written twice" "$?" 0
(cd "$B" && xxhsum -c MANIFEST) >"$T/xxh.out" 2>&1
st=$?
is "cd B && xxhsum -c MANIFEST passes" "$st" 0
[ $st -eq 0 ] || diag "$(grep -v ': OK$' "$T/xxh.out" | head -n 5)"
# every file row and digest the resumed runs recorded matches the files
"$WINNOW" verify -C "$B" --deep >"$T/bverify.out" 2>&1
st=$?
is "winnow verify --deep B: clean after the kills" "$st" 0
[ $st -eq 0 ] || diag "$(head -n 5 "$T/bverify.out")"
(cd "$B" && ls shards/*.zst ledger/*.zst rejects/*.zst 2>/dev/null) | sort >"$T/b.files"
sed -n 's/^XXH128 (\(.*\)) = .*/\1/p' "$B/MANIFEST" | sort | cmp -s - "$T/b.files"
is "MANIFEST(B) lists every file, no leftover of a killed run" "$?" 0
zstd -q -t "$B"/shards/*.zst "$B"/ledger/*.zst "$B"/rejects/*.zst >/dev/null 2>&1
is "zstd -t passes on every shard, ledger and rejects file of B" "$?" 0
# "a resumed run writes the same bytes as one that was never interrupted" (lib/ingest.c)
if cmp -s "$B/MANIFEST" "$T/a.MANIFEST"; then ok "MANIFEST(B) == MANIFEST(A): the same files, byte for byte"
else not_ok "MANIFEST(B) == MANIFEST(A): the same files, byte for byte"; diag "$(diff "$T/a.MANIFEST" "$B/MANIFEST" | head -n 6)"; fi

# ---- SIGINT ----
I=$T/I
st=0
for attempt in 1 2 3; do
	rm -rf "$I"
	"$WINNOW" ingest -C "$I" "${OPTS[@]}" "$IN" >"$T/i.json" 2>"$T/i.err" &
	pid=$!
	ms=$((dur / (2 * attempt) + RANDOM % (dur / (4 * attempt) + 1)))
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	kill -INT $pid 2>/dev/null
	wait $pid
	st=$?
	[ $st -ne 0 ] && break
	diag "SIGINT attempt $attempt: the run finished within $ms ms, trying earlier"
done
if [ $st -eq 0 ]; then
	skip "SIGINT: exit status 130" "every run finished before the signal"
else
	is "SIGINT during a run: exit status 130" "$st" 130
	is "SIGINT: --json says complete false" "$(json_get "$T/i.json" complete)" false
	grep -q -i "interrupt" "$T/i.err"
	is "SIGINT: stderr says it was interrupted" "$?" 0
	"$WINNOW" ingest -C "$I" "${OPTS[@]}" "$IN" >"$T/i2.json" 2>"$T/i2.err"
	is "SIGINT: the rerun exits 0" "$?" 0
	"$WINNOW" export -C "$I" 2>/dev/null | cmp -s - "$T/a.export"
	is "SIGINT: after the rerun, export == the uninterrupted run's" "$?" 0
	read -r ir ik id iv ij <<<"$(counts "$T/i2.json")"
	is "SIGINT: the rerun reports the whole run's counts (read == lines)" "$ir" "$nlines"
	is "SIGINT: the rerun's counts == the uninterrupted run's" "$ir $ik $id $iv $ij" "$ar $ak $ad $av $aj"
	is "SIGINT: the rerun's \"bytes\" == the input's size (bytes read before the interruption counted once)" \
		"$(json_get "$T/i2.json" bytes)" "$(wc -c <"$IN")"
	r=$(json_get "$T/i2.json" resumed)
	if [ "${r:-0}" -gt 0 ]; then ok "SIGINT: the rerun resumed ($r records done before)"; else not_ok "SIGINT: the rerun resumed (resumed=$r)"; fi
	is "SIGINT: stats == the uninterrupted run's" "$(kstats "$I")" "$astats"
	(cd "$I" && xxhsum -c MANIFEST) >/dev/null 2>&1
	is "SIGINT: xxhsum -c MANIFEST passes" "$?" 0
fi
