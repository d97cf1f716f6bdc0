#!/usr/bin/env bash
# t0720-output-pipe.sh - a reader that closes the pipe (`winnow export | head`) ends the
# output quietly and successfully: exit 0 and nothing on stderr, for every command that
# writes to standard output (export, get, get --isrc, stats, verify, ingest --json). What
# a command found still sets its status: verify of a damaged catalog exits 1 whatever
# became of its output. A full disk on a redirect is still an error (exit 3).
. "$(dirname "$0")/lib.sh"

if ! have python3; then
	skip "closed pipe tests" "python3 not installed (runs a command on a pipe already closed)"
	exit 0
fi

IN=$T/in.jsonl
"$GEN" --count 5000 --seed 5 -o "$IN"
C=$T/cat
"$WINNOW" ingest -C "$C" -q "$IN" >/dev/null 2>&1
is "ingest exits 0" "$?" 0

# closed CMD...: run CMD with standard output a pipe whose reading end is already
# closed, so that its first write fails with EPIPE; sets ST and leaves stderr in $T/err
closed() {
	python3 - "$@" 2>"$T/err" <<'EOF'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
sys.exit(subprocess.run(sys.argv[1:], stdout=w).returncode % 256)
EOF
	ST=$?
}
quiet() {
	is "$1: exit $2 on a closed pipe" "$ST" "$2"
	is "$1: nothing on stderr" "$(cat "$T/err")" ""
}

closed "$WINNOW" export -C "$C"
quiet "export" 0
ID=$(head -n 1 "$IN" | grep -a -o '^{"id":"[^"]*"' | cut -d'"' -f4)
closed "$WINNOW" get -C "$C" "$ID"
quiet "get" 0
ISRC=$(head -n 1 "$IN" | grep -a -o '"isrc":"[^"]*"' | cut -d'"' -f4)
closed "$WINNOW" get -C "$C" --isrc "$ISRC"
quiet "get --isrc" 0
closed "$WINNOW" stats -C "$C"
quiet "stats" 0
closed "$WINNOW" stats -C "$C" --json
quiet "stats --json" 0
closed "$WINNOW" verify -C "$C"
quiet "verify" 0
closed "$WINNOW" ingest -C "$T/cat2" -q --json "$IN"
quiet "ingest --json" 0

# export | head: the pipe closes in the middle of the output
"$WINNOW" export -C "$C" 2>"$T/err" | head -n 1 >/dev/null
is "export | head -n 1: exit 0" "${PIPESTATUS[0]}" 0
is "export | head -n 1: nothing on stderr" "$(cat "$T/err")" ""
"$WINNOW" export -C "$C" | grep -a -o '^{"id":"[A-Za-z0-9]*"' | cut -d'"' -f4 | head -n 3000 >"$T/ids"
"$WINNOW" get -C "$C" $(tr '\n' ' ' <"$T/ids") 2>"$T/err" | head -n 1 >/dev/null
is "get of 3000 ids | head -n 1: exit 0" "${PIPESTATUS[0]}" 0
is "get of 3000 ids | head -n 1: nothing on stderr" "$(cat "$T/err")" ""

# damage still counts: verify of a damaged catalog on a closed pipe exits 1
D=$T/damaged
cp -a "$C" "$D"
printf Z | dd of="$D/shards/track-000001.jsonl.zst" bs=1 seek=3000 conv=notrunc 2>/dev/null
closed "$WINNOW" verify -C "$D"
is "verify of a damaged catalog on a closed pipe still exits 1" "$ST" 1

# a write error that is not a closed pipe is still reported
if [ -w /dev/full ]; then
	"$WINNOW" export -C "$C" >/dev/full 2>"$T/err"
	is "export >/dev/full exits 3" "$?" 3
	grep -q "standard output: No space left on device" "$T/err"
	is "... saying why" "$?" 0
else
	skip "export >/dev/full" "no /dev/full"
fi
