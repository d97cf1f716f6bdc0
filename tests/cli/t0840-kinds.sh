#!/usr/bin/env bash
# t0840-kinds.sh - record kinds are any name [a-z][a-z0-9_]{0,31}: recording, release and
# label records go into one catalog beside tracks and artists, each kind with its own
# shards, ledger, rejects, ids and counts; export, get and stats answer per kind; verify
# (of the catalog and of a bare copy) and reindex know every kind; a run of a new kind
# killed after a checkpoint resumes; a bad name is a usage error; a damaged kinds table
# is reported, never used.
. "$(dirname "$0")/lib.sh"

WNC=${WNC:-$(dirname "$WINNOW")/tests/tools/wn-corrupt}
C=$T/cat
"$GEN" --count 3000 --seed 11 -o "$T/tracks.jsonl"
"$GEN" --count 500 --seed 12 --kind artist -o "$T/artists.jsonl"
# recordings: two kept, a duplicate, a revision, a line without an id, one more kept
cat >"$T/rec.jsonl" <<'EOF'
{"id":"r1","title":"One"}
{"id":"r2","title":"Two"}
{"id":"r1","title":"One"}
{"id":"r2","title":"Two (live)"}
{"title":"no id"}
{"id":"r3","title":"Three"}
EOF
# releases: numeric ids, one duplicate written with other spacing
printf '{"id":10,"name":"A"}\n{"id":11,"name":"B"}\n{ "name" : "A", "id" : 10 }\n' >"$T/rel.jsonl"
# labels: an id "r1" as a recording has (kinds are separate id spaces), a broken line
printf '{"id":"l1"}\n{"id":"r1","name":"L"}\n{"id":\n{"id":"l3"}\n' >"$T/lab.jsonl"

ingest() { "$WINNOW" ingest -C "$C" -q --json "$@" 2>"$T/.err"; }
ingest "$T/tracks.jsonl" >"$T/t.json"; is "tracks ingested" "$?" 0
ingest --kind artist "$T/artists.jsonl" >"$T/a.json"; is "artists ingested" "$?" 0
ingest --kind recording "$T/rec.jsonl" >"$T/r.json"; is "recordings ingested" "$?" 0
is "recordings: read kept duplicates revisions rejected" "$(counts "$T/r.json")" "6 3 1 1 1"
ingest --kind release "$T/rel.jsonl" >"$T/e.json"; is "releases ingested" "$?" 0
is "releases: their own counts" "$(counts "$T/e.json")" "3 2 1 0 0"
ingest --kind label "$T/lab.jsonl" >"$T/l.json"; is "labels ingested" "$?" 0
is "labels: their own counts" "$(counts "$T/l.json")" "4 3 0 0 1"
# a second run of a kind: duplicates of that kind only (the revision's version is in its ledger)
ingest --kind recording "$T/rec.jsonl" >"$T/r2.json"
is "recordings again: duplicates and rejects of its own" "$(counts "$T/r2.json")" "6 0 5 0 1"

# ---- stats: every kind, in the order of first use, each with its own counts ----
"$WINNOW" stats -C "$C" --json >"$T/s.json"; is "stats --json exits 0" "$?" 0
is "stats --json lists the kinds in the order of their first run" \
	"$(grep -o '"[a-z_]*":{"records"' "$T/s.json" | cut -d'"' -f2 | tr '\n' ' ')" "track artist recording release label "
grep -q '"recording":{"records":3,"read":12,"kept":3,"duplicates":6,"revisions":1,"rejected":2,' "$T/s.json"
is "stats --json: the recording counts of both runs" "$?" 0
grep -q '"release":{"records":2,"read":3,"kept":2,"duplicates":1,"revisions":0,"rejected":0,' "$T/s.json"
is "stats --json: the release counts" "$?" 0
tk=$(json_get "$T/t.json" kept)
grep -q "\"track\":{\"records\":$tk,\"read\":3000," "$T/s.json"; is "stats --json: the track counts are the track run's" "$?" 0
"$WINNOW" stats -C "$C" >"$T/s.txt"
grep -q '^recordings: 3 records (read 12: kept 3, duplicates 6, revisions 1, rejected 2)' "$T/s.txt"
is "stats: a line for recordings" "$?" 0
grep -q '^labels: 3 records (read 4: kept 3, duplicates 0, revisions 0, rejected 1)' "$T/s.txt"
is "stats: a line for labels" "$?" 0

# ---- files: each kind its own series ----
n=0
for f in shards/recording-000001 ledger/recording-000001 rejects/recording-000001 shards/release-000001 \
	ledger/release-000001 shards/label-000001 rejects/label-000001; do
	[ -f "$C/$f.jsonl.zst" ] && n=$((n + 1))
done
is "each new kind has its own shards, ledger and rejects" "$n" 7
grep -q '(shards/label-000001.jsonl.zst)' "$C/MANIFEST"; is "MANIFEST lists the label shard" "$?" 0
is "MANIFEST.json counts every kind, in order" \
	"$(grep -o '"counts":{.*' "$C/MANIFEST.json" | grep -o '"[a-z_]*":{"records"' | cut -d'"' -f2 | tr '\n' ' ')" \
	"track artist recording release label "
grep -q '"label":{"records":3,"read":4,' "$C/catalog.json"; is "catalog.json counts labels" "$?" 0
if have xxhsum; then
	(cd "$C" && xxhsum -c MANIFEST >/dev/null 2>&1); is "xxhsum -c MANIFEST passes" "$?" 0
else
	skip "xxhsum -c MANIFEST" "xxhsum not installed"
fi

# ---- export and get per kind ----
"$WINNOW" export -C "$C" --kind recording >"$T/x.rec"
printf '{"id":"r1","title":"One"}\n{"id":"r2","title":"Two"}\n{"id":"r3","title":"Three"}\n' >"$T/want.rec"
cmp -s "$T/x.rec" "$T/want.rec"; is "export --kind recording: the kept recordings, in order" "$?" 0
"$WINNOW" export -C "$C" --kind release >"$T/x.rel"
printf '{"id":10,"name":"A"}\n{"id":11,"name":"B"}\n' | cmp -s - "$T/x.rel"; is "export --kind release" "$?" 0
"$WINNOW" export -C "$C" >"$T/x.trk"
is "export (tracks) holds only tracks" "$(wc -l <"$T/x.trk")" "$tk"
is "get --kind release 11" "$("$WINNOW" get -C "$C" --kind release 11)" '{"id":11,"name":"B"}'
is "get --kind label r1: the label, not the recording" "$("$WINNOW" get -C "$C" --kind label r1)" '{"id":"r1","name":"L"}'
is "get --kind recording r1: the recording" "$("$WINNOW" get -C "$C" --kind recording r1)" '{"id":"r1","title":"One"}'
must_fail "get --kind release r1: not found (exit 1)" 1 "$WINNOW" get -C "$C" --kind release r1
must_fail "export --kind master, a kind the catalog does not have: exit 1" 1 "$WINNOW" export -C "$C" --kind master
grep -q 'no master records (its kinds: track, artist, recording, release, label)' "$T/.err"
is "... the message lists the kinds it has" "$?" 0
must_fail "get --isrc with --kind label (labels carry no ISRC): not found, exit 1" 1 "$WINNOW" get -C "$C" --kind label --isrc XX

# ---- bad names: usage errors naming the rule; nothing created ----
for bad in Recording 9lives re-lease "two words" "" a234567890123456789012345678901234 "ré"; do
	must_fail "--kind '$bad' refused: exit 2" 2 "$WINNOW" ingest -C "$T/bad" --kind "$bad" "$T/rec.jsonl"
	grep -qF '[a-z][a-z0-9_]{0,31}' "$T/.err" || not_ok "... the message names the rule ('$bad'): $(cat "$T/.err")"
done
[ ! -e "$T/bad" ]; is "a refused kind creates no catalog" "$?" 0
must_fail "export --kind with a bad name: exit 2" 2 "$WINNOW" export -C "$C" --kind "Bad"
must_fail "get --kind with a bad name: exit 2" 2 "$WINNOW" get -C "$C" --kind "x.y" r1
long=a2345678901234567890123456789012
check "a kind name of 32 characters is taken" "$WINNOW" ingest -C "$T/long" -q --kind "$long" "$T/rec.jsonl"
printf '%s\n' '{"rid":"a","t":1}' '{"rid":"b","t":2}' '{"rid":"a","t":3}' >"$T/rid.jsonl"
check "--id-field for a kind other than track and artist (was: refused)" \
	"$WINNOW" ingest -C "$T/rid" --json -q --kind recording --id-field rid "$T/rid.jsonl"
is "... is that kind's id" "$(counts "$T/.out")" "3 2 0 1 0"

# ---- verify: the catalog, and a bare copy of its files ----
check "verify --deep of the catalog is clean" "$WINNOW" verify -C "$C" --deep
B=$T/bare
mkdir "$B" && cp -r "$C/shards" "$C/ledger" "$C/rejects" "$C/MANIFEST" "$C/MANIFEST.json" "$C/catalog.json" "$B/"
check "verify --deep of a bare copy (no index) is clean" "$WINNOW" verify --deep --manifest "$B/MANIFEST"
grep -q "^clean: $(wc -l <"$C/MANIFEST") files" "$T/.out"; is "... it checked the files of every kind" "$?" 0
rm "$B/shards/label-000001.jsonl.zst"
must_fail "bare copy without the label shard: exit 1" 1 "$WINNOW" verify --manifest "$B/MANIFEST"
grep -q 'shards/label-000001.jsonl.zst.*missing' "$T/.out"; is "... the label shard is named missing" "$?" 0
cp "$C/shards/label-000001.jsonl.zst" "$B/shards/master-000001.jsonl.zst"
must_fail "bare copy with a shard of a kind MANIFEST does not list: exit 1" 1 "$WINNOW" verify --manifest "$B/MANIFEST"
grep -q '^extra: shards/master-000001.jsonl.zst' "$T/.out"; is "... it is an extra file" "$?" 0

# a manifest that names a kind the index does not have
rm -rf "$T/mk" && cp -r "$C" "$T/mk"
sed -i 's/"label":{"records"/"lable":{"records"/' "$T/mk/MANIFEST.json"
must_fail "MANIFEST.json counting a kind the index lacks: verify exits 1" 1 "$WINNOW" verify -C "$T/mk"
grep -q 'MANIFEST.json names the kind lable, which the index does not have' "$T/.out"; is "... it is named" "$?" 0
grep -q '^metadata: MANIFEST.json has no counts of label$' "$T/.out"; is "... and the label counts are missing" "$?" 0

# ---- reindex: the same answers ----
for k in track artist recording release label; do "$WINNOW" export -C "$C" --kind $k >"$T/before.$k"; done
stats_of() { "$WINNOW" stats -C "$1" --json | sed 's/"index_[a-z_]*":[0-9.]*//g; s/"runs":[0-9]*//g'; }
stats_of "$C" >"$T/before.stats"
cp "$C/MANIFEST.json" "$T/before.mjson"
check "reindex" "$WINNOW" reindex -C "$C"
same=0
for k in track artist recording release label; do
	"$WINNOW" export -C "$C" --kind $k | cmp -s - "$T/before.$k" && same=$((same + 1))
done
is "reindex: export of every kind identical" "$same" 5
stats_of "$C" | cmp -s - "$T/before.stats"; is "reindex: stats identical (kinds in the same order)" "$?" 0
cmp -s "$C/MANIFEST.json" "$T/before.mjson"; is "reindex: MANIFEST.json identical" "$?" 0
rm "$B/shards/master-000001.jsonl.zst"
cp "$C/shards/label-000001.jsonl.zst" "$B/shards/"
check "reindex --from a bare copy" "$WINNOW" reindex -C "$T/fromcopy" --from "$B"
stats_of "$T/fromcopy" | cmp -s - "$T/before.stats"; is "reindex --from: stats identical" "$?" 0
"$WINNOW" export -C "$T/fromcopy" --kind label | cmp -s - "$T/before.label"; is "reindex --from: labels identical" "$?" 0
check "verify --deep after reindex --from" "$WINNOW" verify -C "$T/fromcopy" --deep

# ---- a damaged kinds table: reported, never used ----
fresh() { rm -rf "$T/$1"; cp -r "$C" "$T/$1"; D=$T/$1; }
fresh flip
"$WNC" "$D" flip-meta kinds 16
must_fail "kinds table with a flipped byte: stats exits 1" 1 "$WINNOW" stats -C "$D"
grep -q 'meta kinds fails its checksum.*winnow reindex' "$T/.err"; is "... the message says so and names winnow reindex" "$?" 0
must_fail "... export --kind recording exits 1" 1 "$WINNOW" export -C "$D" --kind recording
[ ! -s "$T/.out" ]; is "... and hands out nothing" "$?" 0
must_fail "... ingest exits 1" 1 "$WINNOW" ingest -C "$D" -q --kind recording "$T/rec.jsonl"
must_fail "... verify cannot check it: exit 3" 3 "$WINNOW" verify -C "$D"
grep -q 'meta kinds fails its checksum' "$T/.err"; is "... and says why" "$?" 0
check "... reindex rebuilds it" "$WINNOW" reindex -C "$D"
"$WINNOW" export -C "$D" --kind release | cmp -s - "$T/before.release"; is "... and the releases are back" "$?" 0
fresh badname
"$WNC" "$D" put-meta kinds 'track\nartist\nRec\n'
must_fail "kinds table holding a bad name (checksum right): exit 1" 1 "$WINNOW" stats -C "$D"
grep -q 'meta kinds holds what is not a kind name "Rec"' "$T/.err"; is "... the message names it" "$?" 0
fresh twice
"$WNC" "$D" put-meta kinds 'track\nartist\nlabel\nlabel\n'
must_fail "kinds table naming a kind twice: exit 1" 1 "$WINNOW" get -C "$D" --kind label l1
fresh short
"$WNC" "$D" put-meta kinds 'track\nartist\nrecording\nrelease\n'
must_fail "kinds table without a kind the files rows use: stats exits 1" 1 "$WINNOW" stats -C "$D"
grep -q 'files row of rejects/label-000001.jsonl.zst says role 2, kind 4 (?)' "$T/.err"; is "... naming the row" "$?" 0
must_fail "... verify exits 1" 1 "$WINNOW" verify -C "$D"
grep -q '^index-mismatch: shards/label-000001.jsonl.zst: index: a files row under a name' "$T/.out"
is "... and names the label shard's row" "$?" 0
fresh order
"$WNC" "$D" put-meta kinds 'artist\ntrack\nrecording\nrelease\nlabel\n'
must_fail "kinds table without track and artist first: exit 1" 1 "$WINNOW" export -C "$D"
grep -q 'does not begin with track and artist' "$T/.err"; is "... the message says so" "$?" 0

# ---- kill -9 in a new kind's first run, after a checkpoint: the rerun resumes ----
"$GEN" --count 60000 --seed 13 -o "$T/big.jsonl"
cp -r "$C" "$T/base"
cp -r "$C" "$T/ref"
"$WINNOW" ingest -C "$T/ref" -q --json --kind master --checkpoint 5000 "$T/big.jsonl" >"$T/ref.json" 2>/dev/null
CKPT_FROM=$T/base CKPT_KIND=master kill_after_checkpoint "$T/k" 300 \
	"$WINNOW" ingest -C "$T/k" -q --kind master --checkpoint 5000 "$T/big.jsonl"
if [ $killed = 1 ]; then
	"$WINNOW" ingest -C "$T/k" -q --json --kind master --checkpoint 5000 "$T/big.jsonl" >"$T/k.json" 2>/dev/null
	r=$(json_get "$T/k.json" resumed)
	if [ -n "$r" ] && [ "$r" -gt 0 ]; then ok "killed in the first master run: the rerun resumed after $r records"
	else not_ok "killed in the first master run: the rerun resumed ($r)"; fi
	is "... with the totals of one clean run" "$(counts "$T/k.json")" "$(counts "$T/ref.json")"
	"$WINNOW" export -C "$T/k" --kind master | cmp -s - <("$WINNOW" export -C "$T/ref" --kind master)
	is "... and the same masters" "$?" 0
	stats_of "$T/k" | cmp -s - <(stats_of "$T/ref"); is "... and the same stats for every kind" "$?" 0
	check "... verify --deep is clean" "$WINNOW" verify -C "$T/k" --deep
else
	skip "kill -9 in a new kind's first run" "no run was caught after a checkpoint and before its end"
fi

# ---- verify while the first run of a new kind is going on: no damage ----
rm -f "$T/feed" && mkfifo "$T/feed"
"$WINNOW" ingest -C "$T/ref" -q --kind playlist --checkpoint 5000 - <"$T/feed" >/dev/null 2>&1 &
pid=$!
exec 7>"$T/feed"
head -n 20000 "$T/big.jsonl" >&7
for _ in $(seq 300); do has_checkpoint "$T/ref" playlist && break; sleep 0.02; done
"$WINNOW" verify -C "$T/ref" >"$T/live.out" 2>&1
is "verify during a run of a new kind: exit 0" "$?" 0
grep -q '^note: shards/playlist-000001.jsonl.zst: unsealed: an ingest running now is writing it' "$T/live.out"
is "... the kind's unsealed shard is a note" "$?" 0
grep -q '^note: MANIFEST.json has no counts of playlist yet' "$T/live.out"
is "... and so are the counts the manifests do not have yet" "$?" 0
exec 7>&-
wait $pid
is "... and the run ends well" "$?" 0

# ---- a catalog holds at most 64 kinds ----
printf '{"id":"z"}\n' >"$T/one.jsonl"
M=$T/many
for i in $(seq 3 64); do "$WINNOW" ingest -C "$M" -q --kind "k$i" "$T/one.jsonl" >/dev/null 2>&1 || break; done
is "64 kinds in one catalog" "$(grep -o '"[a-z0-9_]*":{"records":1' "$M/MANIFEST.json" | wc -l)" 62
must_fail "a 65th kind: exit 2" 2 "$WINNOW" ingest -C "$M" -q --kind k65 "$T/one.jsonl"
grep -q 'the most it can hold' "$T/.err"; is "... the message says the catalog is full" "$?" 0
is "... a kind it has still takes records" "$("$WINNOW" ingest -C "$M" -q --json --kind k64 "$T/one.jsonl" | json_get /dev/stdin duplicates)" 1
check "verify --deep of a catalog of 64 kinds" "$WINNOW" verify -C "$M" --deep
