#!/usr/bin/env bash
# A full disk in the middle of an ingest: the run stops with exit 3 and a clear message,
# the catalog stays at its last checkpoint (readable, verify finds no damage), and once
# there is space again the same command finishes the job with exactly the files an
# uninterrupted run writes. Needs a small tmpfs (root, mount allowed): skipped otherwise.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$GEN" ]; then skip "full disk" "bench/gen not built"; exit 0; fi
"$GEN" --count 150000 --seed 5 -o "$T/in.jsonl"
mkdir -p "$T/small"
if ! mount -t tmpfs -o size=10M tmpfs "$T/small" 2>/dev/null; then
	skip "full disk" "cannot mount a small tmpfs here (needs root)"
	exit 0
fi
trap 'umount "$T/small" 2>/dev/null; _finish; exit $?' EXIT

"$WINNOW" ingest -q -C "$T/small/cat" --checkpoint 20000 --json "$T/in.jsonl" >"$T/a.json" 2>"$T/a.err"
is "disk full: exit 3" "$?" 3
grep -q "No space left on device" "$T/a.err"
is "disk full: the message says the disk is full" "$?" 0
diag "$(cat "$T/a.err")"
r=$(json_get "$T/a.json" read)
ok_sum=$(( $(json_get "$T/a.json" kept) + $(json_get "$T/a.json" duplicates) + $(json_get "$T/a.json" revisions) + $(json_get "$T/a.json" rejected) ))
is "disk full: the counts still add up" "$ok_sum" "$r"
"$WINNOW" verify -C "$T/small/cat" >"$T/v.out" 2>&1
is "disk full: verify finds no damage in what was committed" "$?" 0
"$WINNOW" export -C "$T/small/cat" >"$T/partial.jsonl"
is "disk full: the committed records can be exported" "$?" 0

mount -o remount,size=300M "$T/small"
"$WINNOW" ingest -q -C "$T/small/cat" --checkpoint 20000 --json "$T/in.jsonl" >"$T/b.json" 2>"$T/b.err"
is "space again: the same command finishes (exit 0)" "$?" 0
"$WINNOW" ingest -q -C "$T/ref" --checkpoint 20000 --json "$T/in.jsonl" >"$T/ref.json"
for k in read kept duplicates revisions rejected; do
	is "space again: $k equals an uninterrupted run's" "$(json_get "$T/b.json" $k)" "$(json_get "$T/ref.json" $k)"
done
cmp -s <("$WINNOW" export -C "$T/ref") <("$WINNOW" export -C "$T/small/cat")
is "space again: export equals an uninterrupted run's" "$?" 0
cmp -s "$T/ref/MANIFEST" "$T/small/cat/MANIFEST"
is "space again: every file is byte-identical to an uninterrupted run's (MANIFEST)" "$?" 0
(cd "$T/small/cat" && xxhsum -c --quiet MANIFEST >/dev/null 2>&1)
is "space again: xxhsum -c MANIFEST passes" "$?" 0
