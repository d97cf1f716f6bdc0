#!/usr/bin/env bash
# t0810-ingest-resume-identity.sh - a rerun after a crash resumes by what the inputs are,
# not by how they are named: killed on in.jsonl, rerun as /abs/path/in.jsonl, through a
# symlink, or after a rename, it goes on from the last checkpoint and ends with the
# counts and the catalog of an uninterrupted run. A run of other inputs (or of a file
# that changed) after a crash does not continue it and says so: on stderr, and in
# --json "abandoned". Randomised kill times: prints "# seed N" (SEED=N repeats them).
. "$(dirname "$0")/lib.sh"

seed=${SEED:-$(((RANDOM << 15 | RANDOM) % 1000000))}
echo "# seed $seed"
RANDOM=$seed
mkdir -p "$T/d/sub"
IN=$T/d/in.jsonl
"$GEN" --count 60000 --seed 5 -o "$IN"
OPTS=(-q --json --checkpoint 2000)
ms_now() { date +%s%3N; }

t0=$(ms_now)
"$WINNOW" ingest -C "$T/ref" "${OPTS[@]}" "$IN" >"$T/ref.json" 2>/dev/null
dur=$(($(ms_now) - t0))
"$WINNOW" export -C "$T/ref" >"$T/ref.export"
diag "uninterrupted run: $dur ms, $(counts "$T/ref.json")"

# crash CAT: an ingest of in.jsonl (so named, from its folder) into a fresh CAT, killed
# (-9) after a checkpoint
crash() {
	rm -rf "$1"
	(cd "$T/d" && kill_mid_runs "$1" "$dur" 1 40 1 "$WINNOW" ingest -C "$1" "${OPTS[@]}" in.jsonl)
	has_checkpoint "$1" && killed_mid_run 137 "$1"
}
# same_as_ref WHAT CAT JSON: the rerun ended as the uninterrupted run did
same_as_ref() {
	is "$1: counts == the uninterrupted run's" "$(counts "$3")" "$(counts "$T/ref.json")"
	local r
	r=$(json_get "$3" resumed)
	if [ "${r:-0}" -gt 0 ]; then ok "$1: resumed after $r records"; else not_ok "$1: resumed (resumed=$r)"; fi
	"$WINNOW" export -C "$2" | cmp -s - "$T/ref.export"
	is "$1: export == the uninterrupted run's" "$?" 0
	"$WINNOW" verify -C "$2" --deep >"$T/v.out" 2>&1
	is "$1: verify --deep clean" "$?" 0
}

# ---- the same file, named otherwise ----
if crash "$T/a"; then
	ok "killed a run of in.jsonl after a checkpoint"
	(cd "$T/d" && "$WINNOW" ingest -C "$T/a" "${OPTS[@]}" "$(pwd -P)/in.jsonl") >"$T/a.json" 2>"$T/a.err"
	is "rerun as /abs/path/in.jsonl: exit 0" "$?" 0
	same_as_ref "rerun as /abs/path/in.jsonl" "$T/a" "$T/a.json"
	grep -q "not continued" "$T/a.err"
	is "rerun as /abs/path/in.jsonl: nothing is abandoned" "$?" 1
else
	not_ok "killed a run of in.jsonl after a checkpoint"
fi

if crash "$T/b"; then
	ln -s ../in.jsonl "$T/d/sub/link.jsonl"
	(cd "$T/d/sub" && "$WINNOW" ingest -C "$T/b" "${OPTS[@]}" link.jsonl) >"$T/b.json" 2>"$T/b.err"
	is "rerun through a symlink: exit 0" "$?" 0
	same_as_ref "rerun through a symlink" "$T/b" "$T/b.json"
	rm -f "$T/d/sub/link.jsonl"
else
	not_ok "killed a run of in.jsonl after a checkpoint (symlink)"
fi

if crash "$T/c"; then
	mv "$IN" "$T/d/renamed.jsonl"
	"$WINNOW" ingest -C "$T/c" "${OPTS[@]}" "$T/d/renamed.jsonl" >"$T/c.json" 2>"$T/c.err"
	is "rerun after a rename: exit 0" "$?" 0
	same_as_ref "rerun after a rename (the same inode)" "$T/c" "$T/c.json"
	mv "$T/d/renamed.jsonl" "$IN"
else
	not_ok "killed a run of in.jsonl after a checkpoint (rename)"
fi

# ---- other inputs after a crash: the interrupted run is abandoned, out loud ----
"$GEN" --count 3000 --seed 9 -o "$T/other.jsonl"
"$WINNOW" ingest -C "$T/o" "${OPTS[@]}" "$T/other.jsonl" >"$T/o.json" 2>/dev/null
if crash "$T/e"; then
	done_before=$("$WINNOW" stats -C "$T/e" --json | grep -o '"read":[0-9]*' | head -n 1 | cut -d: -f2)
	"$WINNOW" ingest -C "$T/e" "${OPTS[@]}" "$T/other.jsonl" >"$T/e.json" 2>"$T/e.err"
	is "another input after a crash: exit 0" "$?" 0
	grep -q "interrupted run of in.jsonl.*not continued" "$T/e.err"
	is "another input after a crash: stderr names the abandoned run and its input" "$?" 0
	is "--json: abandoned records == what its last checkpoint held" \
		"$(grep -o '"abandoned":{"records":[0-9]*' "$T/e.json" | cut -d: -f3)" "$done_before"
	grep -qF '"inputs":["in.jsonl"]' "$T/e.json"
	is "--json: abandoned inputs name it" "$?" 0
	is "another input after a crash: this run's counts are its own (read == its lines)" \
		"$(json_get "$T/e.json" read)" 3000
	adds_up "$T/e.json" "another input after a crash"
	is "another input after a crash: resumed 0" "$(json_get "$T/e.json" resumed)" 0
	"$WINNOW" ingest -C "$T/e" "${OPTS[@]}" "$IN" >"$T/e2.json" 2>"$T/e2.err"
	is "then the first input again: read once, from its start" "$(json_get "$T/e2.json" read)" 60000
	grep -q "not continued" "$T/e2.err"
	is "then the first input again: nothing left to abandon" "$?" 1
	check "verify --deep after all that" "$WINNOW" verify -C "$T/e" --deep
else
	not_ok "killed a run of in.jsonl after a checkpoint (other input)"
fi
grep -q '"abandoned":null' "$T/o.json"
is "--json of a run with nothing to abandon: \"abandoned\":null" "$?" 0

# ---- the same name, other content: not resumed ----
if crash "$T/f"; then
	cp "$IN" "$T/in.saved"
	"$GEN" --count 50000 --seed 6 -o "$IN"
	"$WINNOW" ingest -C "$T/f" "${OPTS[@]}" "$IN" >"$T/f.json" 2>"$T/f.err"
	is "a changed file after a crash: exit 0" "$?" 0
	grep -q "not continued" "$T/f.err"
	is "a changed file after a crash: the interrupted run is abandoned" "$?" 0
	is "a changed file after a crash: read == its lines" "$(json_get "$T/f.json" read)" 50000
	is "a changed file after a crash: resumed 0" "$(json_get "$T/f.json" resumed)" 0
	adds_up "$T/f.json" "a changed file after a crash"
	mv "$T/in.saved" "$IN"
else
	not_ok "killed a run of in.jsonl after a checkpoint (changed file)"
fi
