#!/usr/bin/env bash
# t0800-ingest-cancel.sh - SIGINT and SIGTERM stop an ingest within a second wherever its
# reader is: inside a line that never ends (/dev/zero), waiting on a pipe that says
# nothing, or between records; exit 130, and the catalog is at its last checkpoint (a
# rerun of the same command ends with the counts of an uninterrupted run). Also: an
# over-long line is rejected and its buffer freed (make check finds a leak).
. "$(dirname "$0")/lib.sh"

ms_now() { date +%s%3N; }
# wait_gone PID MAX_MS: wait until PID has exited (at most MAX_MS); prints the ms it took
wait_gone() {
	local t0 now
	t0=$(ms_now)
	while kill -0 "$1" 2>/dev/null; do
		now=$(ms_now)
		[ $((now - t0)) -gt "$2" ] && break
		sleep 0.01
	done
	echo $(($(ms_now) - t0))
}
# stop_after WHAT SIGNAL INPUT...: start an ingest reading INPUT (a file or "-" with a
# pipe on stdin as the caller set it up), send SIGNAL after 0.5 s, and check that it exits
# 130 within 1 s. A run that does not stop is killed after 10 s.
stop_after() {
	local what=$1 sig=$2 pid took st
	shift 2
	rm -rf "$T/c"
	"$@" <&0 >"$T/s.out" 2>"$T/s.err" &   # <&0: a job in the background would read /dev/null
	pid=$!
	sleep 0.5
	kill -"$sig" "$pid" 2>/dev/null
	took=$(wait_gone "$pid" 10000)
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	st=$?
	diag "$what: exit $st, $took ms after SIG$sig"
	is "$what: exit 130 after SIG$sig" "$st" 130
	if [ "$took" -le 1000 ]; then ok "$what: stopped within 1 s of SIG$sig ($took ms)"
	else not_ok "$what: stopped within 1 s of SIG$sig ($took ms)"; fi
}

# ---- inside a line that never ends ----
stop_after "/dev/zero" INT "$WINNOW" ingest -C "$T/c" /dev/zero
stop_after "/dev/zero" TERM "$WINNOW" ingest -C "$T/c" /dev/zero
grep -q "interrupted" "$T/s.err"
is "/dev/zero: stderr says it was interrupted" "$?" 0
t0=$(ms_now)
timeout -k 5 1 "$WINNOW" ingest -C "$T/t" /dev/zero >/dev/null 2>&1 &
tpid=$!
took=$(wait_gone $tpid 10000)
kill -9 $tpid 2>/dev/null
wait $tpid 2>/dev/null
if [ "$took" -le 2500 ]; then ok "timeout 1 winnow ingest /dev/zero ends ($took ms)"
else not_ok "timeout 1 winnow ingest /dev/zero ends ($took ms)"; fi

# ---- waiting on a silent pipe (the reader is blocked in read()) ----
exec 3< <(sleep 20)
silent=$!
stop_after "silent pipe on stdin" INT "$WINNOW" ingest -C "$T/c" - <&3
exec 3<&-
kill "$silent" 2>/dev/null

# ---- with records and a checkpoint, then silence ----
"$GEN" --count 5000 --seed 7 -o "$T/in.jsonl"
"$WINNOW" ingest -q -C "$T/ref" --json --checkpoint 1000 "$T/in.jsonl" >"$T/ref.json" 2>/dev/null
rm -rf "$T/c"
mkfifo "$T/fifo"
"$WINNOW" ingest -q -C "$T/c" --json --checkpoint 1000 - <"$T/fifo" >"$T/p.json" 2>"$T/p.err" &
pid=$!
exec 4>"$T/fifo"
cat "$T/in.jsonl" >&4
# wait for the checkpoints of the records written so far (the last frame waits for more)
for _ in $(seq 100); do
	"$WINNOW" stats -C "$T/c" --json 2>/dev/null | grep -q '"read":[1-9]' && break
	sleep 0.1
done
sleep 0.3
kill -INT $pid
took=$(wait_gone $pid 10000)
kill -9 $pid 2>/dev/null
wait $pid
st=$?
exec 4>&-
is "records, then a silent pipe: exit 130 after SIGINT" "$st" 130
if [ "$took" -le 1000 ]; then ok "records, then a silent pipe: stopped within 1 s ($took ms)"
else not_ok "records, then a silent pipe: stopped within 1 s ($took ms)"; fi
kept=$("$WINNOW" stats -C "$T/c" --json 2>/dev/null | grep -o '"read":[0-9]*' | head -n 1 | cut -d: -f2)
if [ "${kept:-0}" -gt 0 ] && [ $((kept % 1000)) -eq 0 ]; then ok "the catalog is at a checkpoint ($kept records read)"
else not_ok "the catalog is at a checkpoint (${kept:-none} records read)"; fi
check "verify --deep after the stop: clean" "$WINNOW" verify -C "$T/c" --deep
# the same input as it was: a pipe on stdin
cat "$T/in.jsonl" | "$WINNOW" ingest -q -C "$T/c" --json --checkpoint 1000 - >"$T/p2.json" 2>"$T/p2.err"
is "the rerun exits 0" "$?" 0
is "the rerun's counts == an uninterrupted run's" "$(counts "$T/p2.json")" "$(counts "$T/ref.json")"
is "the rerun resumed at the checkpoint" "$(json_get "$T/p2.json" resumed)" "$kept"
"$WINNOW" export -C "$T/c" >"$T/c.export"
"$WINNOW" export -C "$T/ref" >"$T/ref.export"
cmp -s "$T/c.export" "$T/ref.export"
is "export == an uninterrupted run's" "$?" 0

# ---- an over-long line: rejected, and nothing leaks (under make check) ----
{ head -n 10 "$T/in.jsonl"; head -c 300000 /dev/zero | tr '\0' x; echo; sed -n 11,20p "$T/in.jsonl"; } >"$T/long.jsonl"
"$WINNOW" ingest -q -C "$T/l" --json --max-line 64K "$T/long.jsonl" >"$T/l.json" 2>"$T/l.err"
is "over-long line: exit 0" "$?" 0
is "over-long line: 21 read, 1 rejected" "$(json_get "$T/l.json" read) $(json_get "$T/l.json" rejected)" "21 1"
