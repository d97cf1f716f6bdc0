#!/usr/bin/env bash
# t0970-dist.sh - the scale-out without a scheduler: winnow plan, then map, reduce and
# merge in shell loops, as a Slurm job array would run them. The merged catalog must
# equal one winnow ingest of the same inputs: merge restores input order, so the same
# records at the same ordinals, the same ledger and reject entries in the same order, the
# same counts and fingerprints, the same clusters (winnow dups byte for byte); verify
# --deep clean, MANIFEST checked by xxhsum -c.
# Then the crash and rerun cases: a map and a reduce task killed with -9 mid-run and run
# again give byte-identical data files; a completed task run again is a no-op; a damaged
# run file is refused; an input changed since the plan is refused; SLURM_ARRAY_TASK_ID is
# the default task index, and without it and without the flag the command is a usage
# error. Randomised kill times: prints "# seed N" (SEED=N repeats them).
. "$(dirname "$0")/lib.sh"

need=""
for t in zstd xxhsum python3 tar; do have $t || need="$need $t"; done
if [ -n "$need" ]; then
	skip "scale-out pipeline" "missing:$need"
	exit 0
fi
seed=${SEED:-$(((RANDOM << 15 | RANDOM) % 1000000))}
echo "# seed $seed"
RANDOM=$seed

# ---- inputs: one large file cut into byte ranges, several small ones, a .zst, a tar ----
cd "$T" || exit 1
"$GEN" --count 100000 --seed 21 --bad-rate 0.01 -o big.jsonl
"$GEN" --count 4000 --seed 22 -o small1.jsonl
"$GEN" --count 4000 --seed 23 --kind track --layout dump -o small2.jsonl
"$GEN" --count 3000 --seed 24 -o z.jsonl && zstd -q --rm z.jsonl
"$GEN" --count 1500 --seed 25 -o m1.jsonl && "$GEN" --count 1500 --seed 26 -o m2.jsonl
tar cf members.tar m1.jsonl m2.jsonl && rm m1.jsonl m2.jsonl
# lines of every kind of trouble: a BOM, CRLF, an empty line, an over-long line, no id,
# a revision, and no final newline
printf '\357\273\277{"id":"odd1","a":1}\r\n\r\n{"id":"odd2","pad":"%s"}\n{"id":"odd1","a":2}\n{"noid":1}\n{"id":"odd3"' \
	"$(head -c 5000 /dev/zero | tr '\0' a)" >odd.jsonl
IN=(big.jsonl small1.jsonl small2.jsonl z.jsonl.zst members.tar odd.jsonl)
# said "what" PATTERN: the last command's stderr says it (check would overwrite it)
said() { cp "$T/.err" "$T/.said"; check "$1" grep -q -- "$2" "$T/.said"; }
OPTS=(--on-conflict last --max-line 4K --frame-size 64K --shard-size 4M --checkpoint 5000)

# plan, then every task in turn: the whole pipeline
pipeline() { # WORK OUT
	local w=$1 o=$2 m p
	m=$("$WINNOW" plan -C "$w" --parts 4 --tasks 5 --slice-size 8M "${OPTS[@]}" "${IN[@]}") || return 1
	for ((i = 0; i < m; i++)); do "$WINNOW" map -C "$w" --task $i -q || return 1; done
	for p in 0 1 2 3; do "$WINNOW" reduce -C "$w" --part $p -q || return 1; done
	"$WINNOW" merge -C "$w" -o "$o" -q
}

# ---- the single-machine reference ----
check "single-machine ingest" "$WINNOW" ingest -C single -q --json "${OPTS[@]}" "${IN[@]}"
cp "$T/.out" single.json

# ---- the pipeline ----
m=$("$WINNOW" plan -C work --parts 4 --tasks 5 --slice-size 8M "${OPTS[@]}" "${IN[@]}" 2>"$T/plan.err")
is "plan exits 0 and prints the number of map tasks" "$?:$m" "0:5"
ranges=$(grep -c '"input":0,.*"whole":false' work/plan.json)
check "plan cuts the large file into byte ranges ($ranges)" test "$ranges" -ge 3
check "plan.json records each input's size and head hash" grep -q '"name":"z.jsonl.zst","path":"[^"]*","size":[0-9]*,"head":"[0-9a-f]\{16\}"' work/plan.json
"$WINNOW" plan -C work --parts 4 --tasks 5 --slice-size 8M "${OPTS[@]}" "${IN[@]}" >"$T/plan2.out" 2>"$T/plan2.err"
is "the same plan again is a no-op" "$?:$(cat "$T/plan2.out"):$(grep -c 'nothing to do' "$T/plan2.err")" "0:5:1"
must_fail "another plan in the same folder is refused" 2 "$WINNOW" plan -C work --parts 3 "${IN[@]}"
must_fail "plan refuses --strict" 2 "$WINNOW" plan -C w2 --parts 2 --strict small1.jsonl
must_fail "plan refuses standard input" 2 "$WINNOW" plan -C w2 --parts 2 -
must_fail "plan needs --parts" 2 "$WINNOW" plan -C w2 small1.jsonl

must_fail "map without --task or SLURM_ARRAY_TASK_ID is a usage error" 2 env -u SLURM_ARRAY_TASK_ID "$WINNOW" map -C work
must_fail "map of a task the plan does not have" 2 "$WINNOW" map -C work --task 5
must_fail "reduce before the maps have run names the missing task (exit 3)" 3 "$WINNOW" reduce -C work --part 0
said "reduce's message names the map task to run" 'map task 0 has not completed'
for ((i = 0; i < m; i++)); do
	SLURM_ARRAY_TASK_ID=$i "$WINNOW" map -C work -q || not_ok "map task $i (SLURM_ARRAY_TASK_ID)"
done
check "every map task completed, by SLURM_ARRAY_TASK_ID" test -f work/map/4/done.json -a -f work/map/0/done.json
SLURM_ARRAY_TASK_ID=2 "$WINNOW" map -C work 2>"$T/noop.err"
is "a completed map task run again is a no-op" "$?:$(grep -c 'nothing to do' "$T/noop.err")" "0:1"
must_fail "merge before the reduce tasks have run" 3 "$WINNOW" merge -C work -o merged
for p in 0 1 2 3; do SLURM_ARRAY_TASK_ID=$p "$WINNOW" reduce -C work -q || not_ok "reduce $p"; done
"$WINNOW" reduce -C work --part 1 2>"$T/noop.err"
is "a completed reduce task run again is a no-op" "$?:$(grep -c 'nothing to do' "$T/noop.err")" "0:1"
check "merge" "$WINNOW" merge -C work -o merged
"$WINNOW" merge -C work -o merged 2>"$T/noop.err"
is "a completed merge run again is a no-op" "$?:$(grep -c 'nothing to do' "$T/noop.err")" "0:1"

# ---- the merged catalog equals the single-machine one ----
# merge puts the records back in input order: the same ordinals, ledger and reject
# entries in the same order, so the outputs compare as they are, unsorted
for c in single merged; do
	"$WINNOW" export -C $c >$c.recs
	zstd -dc $c/ledger/*.zst >$c.ledger
	zstd -dc $c/rejects/*.zst >$c.rej
	zstd -dc $c/shards/*.zst >$c.shards
	"$WINNOW" stats -C $c --json | python3 -c '
import json, sys
k = json.load(sys.stdin)["kinds"]["track"]
print(" ".join(str(k[x]) for x in ("records", "read", "kept", "duplicates", "revisions", "rejected", "superseded", "fp_entries", "isrc_entries")), json.dumps(k["profile"], sort_keys=True))' >$c.stats
done
check "the same kept records, in the same order ($(wc -l <single.recs))" cmp single.recs merged.recs
check "the same stored records, ordinal for ordinal (superseded ones too)" cmp single.shards merged.shards
check "the same ledger entries, survivors and superseded ordinals ($(wc -l <single.ledger))" cmp single.ledger merged.ledger
check "the same reject entries, each once ($(wc -l <single.rej))" cmp single.rej merged.rej
check "the same counts, fp and isrc entries and profile" cmp single.stats merged.stats
read -r _ r k d v j s _ <merged.stats
is "merged counts add up: read = kept + duplicates + revisions + rejected" "$r" "$((k + d + v + j))"
is "the merged counts are the single ingest's" "$r $k $d $v $j" "$(counts single.json)"
check "some records were revisions that won (ledger ordinals moved)" test "$s" -gt 0
check "verify --deep of the merged catalog is clean" "$WINNOW" verify -C merged --deep
check "xxhsum -c MANIFEST of the merged catalog" sh -c 'cd merged && xxhsum -c --strict MANIFEST >/dev/null'
check "zstd -t of every merged data file" sh -c 'zstd -tq merged/shards/*.zst merged/ledger/*.zst merged/rejects/*.zst'
ids=$(sed -n '1p;500p;5000p;20000p' single.recs | python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in sys.stdin]')
# shellcheck disable=SC2086
is "get finds the same records in both" "$("$WINNOW" get -C merged $ids | md5sum)" "$("$WINNOW" get -C single $ids | md5sum)"

# ---- clusters on the merged catalog equal a single machine's ----
check "winnow cluster on the single catalog" "$WINNOW" cluster -C single
check "winnow cluster on the merged catalog" "$WINNOW" cluster -C merged
"$WINNOW" dups -C single >single.dups
"$WINNOW" dups -C merged >merged.dups
check "some clusters to compare ($(wc -l <single.dups))" test -s single.dups
check "the same clusters: winnow dups prints the same, byte for byte" cmp single.dups merged.dups
check "the same cluster state file" cmp single/clusters/track.bin merged/clusters/track.bin

# ---- crash safety: kill -9 a map task and a reduce task mid-run, then run again ----
# the data files of the rerun's merged catalog must be those of the clean pipeline's
cp -r work work.clean
kill_task() { # WHAT DIR-THAT-APPEARS-WHEN-DONE command...: kill -9 it mid-run, until it was
	local what=$1 done=$2 tries=0 killed=0 pid ms
	shift 2
	while [ $killed -eq 0 ] && [ $tries -lt 30 ]; do
		tries=$((tries + 1))
		rm -rf "$done" "$done.tmp"
		"$@" >/dev/null 2>&1 &
		pid=$!
		ms=$((RANDOM % 150 + 10))
		sleep "0.$(printf %03d $ms)"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		[ $? -eq 137 ] && [ ! -e "$done" ] && killed=1
	done
	if [ $killed -eq 1 ]; then ok "$what killed with -9 mid-run (after $tries tries)"; else skip "$what killed mid-run" "it always finished first"; fi
}
kill_task "map task 0" work/map/0 "$WINNOW" map -C work --task 0
check "a killed map task leaves no output, only its .tmp" test ! -e work/map/0/done.json
check "the killed map task, run again" "$WINNOW" map -C work --task 0
check "its runs are byte for byte the clean run's" cmp work/map/0/1.run work.clean/map/0/1.run
check "its done.json is the clean run's" cmp work/map/0/done.json work.clean/map/0/done.json
rm -rf work/part work/merge.json merged
for p in 0 1 3; do "$WINNOW" reduce -C work --part $p -q; done
kill_task "reduce task 2" work/part/2 "$WINNOW" reduce -C work --part 2
check "a killed reduce task leaves no partition catalog" test ! -e work/part/2/dist.json
check "the killed reduce task, run again" "$WINNOW" reduce -C work --part 2 -q
check "merge after the reruns" "$WINNOW" merge -C work -o merged -q
# MANIFEST lists the XXH128 of every data file: equal lists, equal files
mv merged merged.rerun
"$WINNOW" merge -C work.clean -o merged.clean -q
check "the rerun's merged data files equal the clean pipeline's (MANIFEST, byte for byte)" cmp merged.rerun/MANIFEST merged.clean/MANIFEST
"$WINNOW" export -C merged.rerun >rerun.recs
check "and its records" cmp rerun.recs single.recs

# ---- damage and changed inputs are refused ----
rm -rf work/part/1
printf '\377' | dd of=work/map/3/1.run bs=1 seek=100 conv=notrunc 2>/dev/null
must_fail "reduce refuses a damaged run file (exit 1)" 1 "$WINNOW" reduce -C work --part 1
said "the refusal names the file and the reason" 'map/3/1.run: damaged: its XXH128 is'
check "nothing of the partition was made" test ! -e work/part/1
truncate -s -10 work/map/3/1.run
must_fail "reduce refuses a run file cut short (exit 1)" 1 "$WINNOW" reduce -C work --part 1
said "the refusal says its size" 'map/3/1.run: [0-9]* bytes, and its map task wrote'
cp work.clean/map/3/1.run work/map/3/1.run
check "the run file restored, reduce completes" "$WINNOW" reduce -C work --part 1 -q
echo '{"id":"late","a":1}' >>small1.jsonl
t1=$(python3 -c 'import json; print([s["task"] for s in json.load(open("work/plan.json"))["slices"] if s["input"] == 1][0])')
rm -rf work/map/$t1 work/part/0
must_fail "map refuses an input that changed since the plan (exit 2)" 2 "$WINNOW" map -C work --task $t1
said "the refusal names the input" 'small1.jsonl: changed since the plan'
must_fail "reduce refuses it too" 2 "$WINNOW" reduce -C work --part 0
said "its refusal names the input" 'small1.jsonl: changed since the plan'
rm -rf w3 && mkdir w3 && cp work.clean/plan.json w3/
must_fail "merge refuses a partition catalog that is not the one its task wrote" 1 sh -c '
	cp -r work.clean/map w3/ && cp -r work.clean/part w3/ &&
	printf "{}" >>w3/part/2/MANIFEST.json && "$0" merge -C w3 -o m3' "$WINNOW"
said "that refusal names the file" 'part/2/MANIFEST.json: not the one its reduce task wrote'
rm -rf w3/part && cp -r work.clean/part w3/
printf '\377' | dd of=w3/part/1/keys bs=1 seek=40 conv=notrunc 2>/dev/null
must_fail "merge refuses a damaged keys file (the index is built from it)" 1 "$WINNOW" merge -C w3 -o m3
said "that refusal names the keys file" 'part/1/keys: damaged: not the one its reduce task wrote'
check "and leaves no merged catalog" test ! -e m3
# a keys file one record short whose digest was made to match: the counts disagree
rm -rf w3/part && cp -r work.clean/part w3/
python3 - w3/part/1 <<'PY'
import json, sys
d = sys.argv[1]
k = open(d + "/keys", "rb").read()
n = 27 + 8 * k[26]
open(d + "/keys", "wb").write(k[n:])
j = json.load(open(d + "/dist.json"))
j["keys"] = len(k) - n
j["keys_records"] -= 1
open(d + "/dist.json", "w").write(json.dumps(j, separators=(",", ":")) + "\n")
PY
h=$(xxhsum -H2 w3/part/1/keys 2>/dev/null | cut -d' ' -f1)
sed -i "s/\"keys_xxh128\":\"[0-9a-f]*\"/\"keys_xxh128\":\"$h\"/" w3/part/1/dist.json
must_fail "merge refuses keys that do not account for every stored record" 1 "$WINNOW" merge -C w3 -o m3
said "that refusal says so" 'part/1/keys: fewer keys than its shards hold'
must_fail "merge into a folder that exists" 2 "$WINNOW" merge -C work.clean -o single

# ---- small cases: more partitions than records, records larger than a run's buffer, a
# kind named as the parser reads it ----
printf '{"id":"a","v":1}\n{"id":"b"}\n{"id":"a","v":2}\n' >tiny.jsonl
python3 -c '
import json
print(json.dumps({"id": "big1", "pad": "x" * 3000000}))
print(json.dumps({"id": "big2", "pad": "y" * 1500000}))
print(json.dumps({"id": "big1", "pad": "x" * 3000000}))' >bigrec.jsonl
small() { # WORK OUT: 8 partitions, most of them empty
	local m p i
	m=$("$WINNOW" plan -C "$1" --parts 8 --kind tracks tiny.jsonl bigrec.jsonl) || return 1
	for ((i = 0; i < m; i++)); do "$WINNOW" map -C "$1" --task $i -q || return 1; done
	for p in 0 1 2 3 4 5 6 7; do "$WINNOW" reduce -C "$1" --part $p -q || return 1; done
	"$WINNOW" merge -C "$1" -o "$2" -q
}
check "8 partitions for 6 records (empty ones), 3 MB records, --kind tracks" small w8 m8
check "... the single ingest of the same" "$WINNOW" ingest -C s8 -q --kind tracks tiny.jsonl bigrec.jsonl
is "... the same records" "$("$WINNOW" export -C m8 | md5sum)" "$("$WINNOW" export -C s8 | md5sum)"
is "... the same ledger" "$(zstd -dc m8/ledger/*.zst | md5sum)" "$(zstd -dc s8/ledger/*.zst | md5sum)"
check "... verify --deep" "$WINNOW" verify -C m8 --deep

# ---- a kind with contributors: its merged index is built from the records (the holds
# of each file come from them), not from the partitions' keys ----
head -c 32 /dev/urandom >key
"$GEN" --kind listen --layout endsong --members 3 --count 3000 --seed 27 -o plays.json
check "listen plays: the single ingest" "$WINNOW" ingest -C sl -q --kind listen --key-file key plays.json
plays() { # WORK OUT
	local m p i
	m=$("$WINNOW" plan -C "$1" --parts 2 --kind listen --key-file key plays.json) || return 1
	for ((i = 0; i < m; i++)); do "$WINNOW" map -C "$1" --task $i -q || return 1; done
	for p in 0 1; do "$WINNOW" reduce -C "$1" --part $p -q || return 1; done
	"$WINNOW" merge -C "$1" -o "$2" -q
}
check "... the pipeline" plays wl ml
is "... the same records" "$("$WINNOW" export -C ml | md5sum)" "$("$WINNOW" export -C sl | md5sum)"
is "... the same ledger" "$(zstd -dc ml/ledger/*.zst | md5sum)" "$(zstd -dc sl/ledger/*.zst | md5sum)"
check "... verify --deep" "$WINNOW" verify -C ml --deep
