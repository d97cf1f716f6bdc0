#!/usr/bin/env bash
# Every fuzz target runs its saved corpus (tests/fuzz/corpus/<target>/: the seeds and
# every input a fuzzer found, crashes included once fixed), built without libFuzzer
# (tests/fuzz/replay.c), so that make test replays them with any compiler, and under
# make check with the sanitizers. A target without a corpus is a failure: each has one.
. "$(dirname "$0")/lib.sh"
bin=$(dirname "$WINNOW")/tests/fuzz
for src in "$TOP"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	dir=$TOP/tests/fuzz/corpus/$name
	count=$(find "$dir" -type f 2>/dev/null | wc -l)
	if [ "$count" -eq 0 ]; then
		not_ok "$name has a corpus in tests/fuzz/corpus/$name"
		continue
	fi
	if out=$("$bin/$name" "$dir" 2>&1); then
		ok "$name replays its $count saved inputs"
	else
		not_ok "$name replays its $count saved inputs"
		printf '%s\n' "$out" | tail -20 | sed 's/^/#   /'
	fi
done

