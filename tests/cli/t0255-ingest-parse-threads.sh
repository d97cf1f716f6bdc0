#!/usr/bin/env bash
# t0255-ingest-parse-threads.sh - the records of an input are parsed on several threads
# (WINNOW_PARSE_THREADS, winnow-ingest(1)) and decided in input order, so one parsing
# thread and several give the same run: the same catalog files byte for byte, the same
# counts, exit status and messages. Inputs with rejects, revisions and checkpoints, the
# transforms (--rename, --drop, --pseudonymise, a contributor), a listening export (a
# JSON array), CSV rows the source rejects, an archive, errors in the middle of a
# source (a JSON array that breaks off, a truncated .zst), --strict, and a run killed
# (-9) with several threads and finished with several.
. "$(dirname "$0")/lib.sh"

NS=(1 2 5)   # one thread, as many as cores here, more than cores

# the catalog's files and their hashes (LMDB's lock file is the readers' table, not data)
cat_files() { (cd "$1" && find . -type f ! -name lock.mdb ! -name writer.lock | LC_ALL=C sort | xargs -d '\n' sha256sum); }
# an ingest's --json output without its timings
untimed() { sed 's/"seconds":[0-9.]*,"records_per_second":[0-9]*,//; s/,"stage_seconds":{[^}]*}//' "$1"; }

# run NAME N ARGS...: ingest with N parsing threads into $T/NAME.N; status in NAME.N.rc
run() {
	local name=$1 n=$2
	shift 2
	rm -rf "$T/$name.$n"
	WINNOW_PARSE_THREADS=$n "$WINNOW" ingest -C "$T/$name.$n" "$@" >"$T/$name.$n.out" 2>"$T/$name.$n.err"
	echo $? >"$T/$name.$n.rc"
}
# same NAME WHAT: the runs NAME.N (every N of NS) did the same as NAME.1
same() {
	local name=$1 what=$2 n bad=
	for n in "${NS[@]:1}"; do
		cmp -s "$T/$name.1.rc" "$T/$name.$n.rc" || bad="$bad exit($(cat "$T/$name.1.rc") vs $(cat "$T/$name.$n.rc") with $n)"
		[ "$(untimed "$T/$name.1.out")" = "$(untimed "$T/$name.$n.out")" ] || bad="$bad counts($n)"
		cmp -s "$T/$name.1.err" "$T/$name.$n.err" || bad="$bad messages($n)"
		[ "$(cat_files "$T/$name.1")" = "$(cat_files "$T/$name.$n")" ] || bad="$bad files($n)"
	done
	if [ -z "$bad" ]; then ok "$what: 1, 2 and 5 parsing threads give the same catalog, counts and messages"
	else not_ok "$what: 1, 2 and 5 parsing threads give the same catalog, counts and messages"; diag "differ:$bad"; fi
}
# both NAME WHAT ARGS...: run with every N of NS, then compare
both() {
	local name=$1 what=$2 n
	shift 2
	for n in "${NS[@]}"; do run "$name" "$n" "$@"; done
	same "$name" "$what"
}

head -c 32 /dev/urandom >"$T/key"
"$GEN" --count 30000 --seed 5 -o "$T/a.jsonl"
"$GEN" --count 12000 --seed 6 -o "$T/b.jsonl"

# ---- records with rejects, duplicates and revisions, two inputs, checkpoints ----
both plain "two JSONL inputs, checkpoints every 2000" -q --json --checkpoint 2000 "$T/a.jsonl" "$T/b.jsonl"
is "two JSONL inputs: exit 0" "$(cat "$T/plain.1.rc")" 0
r=$(json_get "$T/plain.1.out" rejected)
if [ "${r:-0}" -gt 0 ]; then ok "two JSONL inputs: some records rejected ($r)"; else not_ok "two JSONL inputs: some records rejected"; fi
both last "--on-conflict last" -q --json --on-conflict last "$T/a.jsonl" "$T/b.jsonl"
both newest "--on-conflict newest:fetched_at" -q --json --on-conflict newest:fetched_at "$T/a.jsonl"

# ---- transforms ----
both xf "--rename, --drop, --pseudonymise" -q --json --rename name=title --drop available_markets \
	--pseudonymise album.id --key-file "$T/key" "$T/a.jsonl"
is "transforms: exit 0" "$(cat "$T/xf.1.rc")" 0
"$GEN" --kind listen --count 20000 --seed 3 -o "$T/listen.json"
both listen "a listening export (a JSON array) of a contributor" -q --json --kind listen --key-file "$T/key" \
	--contributor "Member One" "$T/listen.json"
is "listening export: exit 0" "$(cat "$T/listen.1.rc")" 0

# ---- CSV rows the source rejects (a row with the wrong number of fields) ----
{
	echo "id,name,isrc"
	for i in $(seq 1 6000); do
		if [ $((i % 997)) = 0 ]; then echo "r$i,one field too many,X,Y"; else echo "r$((i % 5000)),Song $i,USAAA$(printf %07d $((i % 3000)))"; fi
	done
} >"$T/rows.csv"
both csv "CSV with rows of the wrong width" -q --json --map isrc=isrc "$T/rows.csv"
is "CSV: the 6 rows of the wrong width are rejected" "$(json_get "$T/csv.1.out" rejected)" 6

# ---- an archive ----
mkdir -p "$T/m"
cp "$T/b.jsonl" "$T/m/first.jsonl"
head -n 7000 "$T/a.jsonl" >"$T/m/second.jsonl"
(cd "$T/m" && tar cf "$T/in.tar" first.jsonl second.jsonl)
both tar "a tar of two JSONL members" -q --json "$T/in.tar"
is "archive: exit 0" "$(cat "$T/tar.1.rc")" 0

# ---- errors in the middle of a source ----
sed '9000s/.*/{"ts": oops/' "$T/listen.json" >"$T/broken.json"
both broken "a JSON array that breaks off at line 9000" -q --json --kind listen --key-file "$T/key" \
	--contributor "Member One" --checkpoint 2000 "$T/broken.json"
is "broken JSON array: exit 3" "$(cat "$T/broken.1.rc")" 3
grep -q "broken.json line [0-9]*: " "$T/broken.1.err"; is "broken JSON array: the message names the file and line" "$?" 0
if have zstd; then
	zstd -q -c "$T/a.jsonl" | head -c 2000000 >"$T/cut.jsonl.zst"
	both zst "a truncated .zst" -q --json --checkpoint 3000 "$T/cut.jsonl.zst"
	is "truncated .zst: exit 3" "$(cat "$T/zst.1.rc")" 3
else
	skip "a truncated .zst" "zstd not installed"
	skip "truncated .zst: exit 3" "zstd not installed"
fi
both strict "--strict: the run stops at the first rejected record" -q --json --strict --checkpoint 2000 "$T/a.jsonl"
is "--strict: exit 1" "$(cat "$T/strict.1.rc")" 1

# ---- killed (-9) with several threads, finished with several ----
OPTS=(-q --json --checkpoint 2000 --frame-size 16K)
"$GEN" --count 80000 --seed 8 -o "$T/c.jsonl"
run ref 1 "${OPTS[@]}" "$T/c.jsonl"
WINNOW_PARSE_THREADS=5 kill_after_checkpoint "$T/k" 1000 "$WINNOW" ingest -C "$T/k" "${OPTS[@]}" "$T/c.jsonl"
if [ "$killed" = 1 ]; then
	WINNOW_PARSE_THREADS=5 "$WINNOW" ingest -C "$T/k" "${OPTS[@]}" "$T/c.jsonl" >"$T/k.out" 2>/dev/null
	is "killed with 5 threads: the rerun exits 0" "$?" 0
	r=$(json_get "$T/k.out" resumed)
	if [ "${r:-0}" -gt 0 ]; then ok "killed with 5 threads: the rerun resumed ($r records)"; else not_ok "killed with 5 threads: the rerun resumed"; fi
	is "killed with 5 threads: counts == one thread's uninterrupted run" "$(counts "$T/k.out")" "$(counts "$T/ref.1.out")"
	# the index's pages are laid out otherwise after a crash: its keys and values are the same
	is "killed with 5 threads: the catalog's files == one thread's uninterrupted run (but the index)" \
		"$(cat_files "$T/k" | grep -v data.mdb)" "$(cat_files "$T/ref.1" | grep -v data.mdb)"
	if have mdb_dump; then
		is "killed with 5 threads: the index holds what one thread's uninterrupted run's does" \
			"$(mdb_dump -a "$T/k/index" | sha256sum)" "$(mdb_dump -a "$T/ref.1/index" | sha256sum)"
	else
		skip "killed with 5 threads: the index" "mdb_dump not installed"
	fi
else
	skip "killed with 5 threads" "no run was killed after a checkpoint"
fi

# ---- the variable ----
for v in 0 17 x; do
	WINNOW_PARSE_THREADS=$v "$WINNOW" ingest -C "$T/u" -q "$T/b.jsonl" >/dev/null 2>"$T/u.err"
	is "WINNOW_PARSE_THREADS=$v: usage error (exit 2)" "$?" 2
done
grep -q "WINNOW_PARSE_THREADS takes 1 to 16" "$T/u.err"; is "... saying what it takes" "$?" 0
