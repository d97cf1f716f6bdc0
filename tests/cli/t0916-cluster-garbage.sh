#!/usr/bin/env bash
# t0916-cluster-garbage.sh - the clusters never depend on memory nobody wrote: built
# with every allocation filled with garbage (glibc's perturb tunable), a rebuild and an
# incremental run write the state, byte for byte, that they write without it.
. "$(dirname "$0")/lib.sh"

SEED=${SEED:-7}
diag "seed $SEED"
"$GEN" --count 6000 --seed "$SEED" -o "$T/all.jsonl" 2>/dev/null
head -n 5000 "$T/all.jsonl" >"$T/a.jsonl"
tail -n +5001 "$T/all.jsonl" >"$T/b.jsonl"
check "ingest generated tracks" "$WINNOW" ingest -q -C "$T/c" "$T/all.jsonl"
check "cluster --rebuild" "$WINNOW" cluster -C "$T/c" --rebuild
cp "$T/c/clusters/track.bin" "$T/plain.bin"
for p in 165 90; do
	check "cluster --rebuild, allocations filled with $p" env GLIBC_TUNABLES=glibc.malloc.perturb=$p \
		"$WINNOW" cluster -C "$T/c" --rebuild
	cmp -s "$T/c/clusters/track.bin" "$T/plain.bin"
	is "... the same state" "$?" 0
done
check "ingest 5000 of them" "$WINNOW" ingest -q -C "$T/i" "$T/a.jsonl"
check "... clustered" "$WINNOW" cluster -C "$T/i"
check "... then the other 1000" "$WINNOW" ingest -q -C "$T/i" "$T/b.jsonl"
check "incremental cluster, allocations filled with 165" env GLIBC_TUNABLES=glibc.malloc.perturb=165 \
	"$WINNOW" cluster -C "$T/i"
cmp -s "$T/i/clusters/track.bin" "$T/plain.bin"
is "... the state of the rebuild" "$?" 0
