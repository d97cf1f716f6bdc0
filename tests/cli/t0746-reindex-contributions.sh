#!/usr/bin/env bash
# t0746-reindex-contributions.sh - contributions live in the data files too
# (contributions/<kind>-NNNNNN.jsonl.zst, FORMAT.md 15.7): after winnow reindex,
# `winnow contributors --json` is byte for byte what it was, on a pool of several
# contributors and runs (a repeated export, two contributors sharing a history, accounts
# named by the export's username); the files are sealed and listed like every data file
# (MANIFEST, xxhsum -c, verify --deep, which holds their lines against the index); forget
# takes a contributor's contributions out of them (no decompressed byte of the pool holds
# its pseudonym) and reindex after it still agrees; compact merges them; a crash after
# the file was sealed but before the run committed leaves a file the next writer removes,
# and the run again writes the same bytes; a catalog whose runs predate the files is
# reindexed with a note that names the plays whose contributions are lost.
. "$(dirname "$0")/lib.sh"

W() { "$WINNOW" "$@"; }
WNC=${WNC:-$(dirname "$WINNOW")/tests/tools/wn-corrupt}
head -c 32 /dev/urandom >"$T/key"
ing() { local cat=$1; shift; W ingest -C "$cat" -q --kind listen --key-file "$T/key" --frame-size 16K "$@" >/dev/null; }
pseudo() { python3 -c 'import hmac,hashlib,sys; print(hmac.new(open(sys.argv[1],"rb").read(), sys.argv[2].encode(), hashlib.sha256).hexdigest()[:32])' "$T/key" "$1"; }
cj() { W contributors -C "$1" --json; }
alltext() { (cd "$1" && for f in $(find . -type f -not -path "./index/*" | sort); do case $f in *.zst) zstd -dcq "$f" 2>/dev/null ;; *) cat "$f" ;; esac; done); }

"$GEN" --kind listen --count 400 --dup-rate 0 --seed 11 -o "$T/ann.json"
"$GEN" --kind listen --count 500 --dup-rate 0 --seed 11 -o "$T/ann2.json"     # a newer export: Ann's first 400 and more
"$GEN" --kind listen --count 300 --dup-rate 0 --seed 12 -o "$T/cy.json"
"$GEN" --kind listen --layout endsong --members 3 --member-base 20 --count 200 --seed 13 -o "$T/accts.json"
P=$T/pool
ok=1
ing "$P" --contributor "Ann" "$T/ann.json" || ok=0
ing "$P" --contributor "Ann" "$T/ann.json" || ok=0                            # the same export again
ing "$P" --contributor "Ann" "$T/ann2.json" || ok=0
ing "$P" --contributor "Bob" "$T/ann2.json" || ok=0                           # Ann's history under Bob's name
ing "$P" --contributor "Cy" "$T/cy.json" || ok=0
ing "$P" "$T/accts.json" || ok=0                                              # three accounts, by username
is "a pool of six runs" "$ok" 1
ann=$(pseudo Ann) bob=$(pseudo Bob)
cj "$P" >"$T/c.before"
is "contributors: 6 contributors, 8 contributions" \
	"$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(len(j["contributors"]), j["contributions"], len(j["overlaps"]) > 0)' "$T/c.before")" \
	"6 8 True"
is "every run wrote one contributions file" "$(ls "$P/contributions" | tr '\n' ' ')" \
	"listen-000001.jsonl.zst listen-000002.jsonl.zst listen-000003.jsonl.zst listen-000004.jsonl.zst listen-000005.jsonl.zst listen-000006.jsonl.zst "
is "... a contribution a line, numbered across the runs" \
	"$(zstd -dcq "$P"/contributions/*.zst | python3 -c 'import json,sys; print([json.loads(l)["contribution"] for l in sys.stdin])')" \
	"[1, 2, 3, 4, 5, 6, 7, 8]"
is "... each line starts with its contributor (what forget finds)" \
	"$(zstd -dcq "$P"/contributions/listen-000004.jsonl.zst | cut -c1-67)" "{\"contributor\":\"$bob\",\"contribution\":4,"
grep -q '^XXH128 (contributions/listen-000001.jsonl.zst) = ' "$P/MANIFEST"
is "MANIFEST lists them" "$?" 0
grep -q '"path":"contributions/listen-000006.jsonl.zst","role":"contributions","kind":"listen"' "$P/MANIFEST.json"
is "... and MANIFEST.json, with their role" "$?" 0
(cd "$P" && xxhsum -c --strict MANIFEST >/dev/null 2>&1)
is "xxhsum -c MANIFEST passes" "$?" 0
zstd -tq "$P"/contributions/*.zst
is "zstd -t checks their frames" "$?" 0
check "verify --deep is clean" W verify -C "$P" --deep

# ---- reindex: the same report, byte for byte ----
cp -r "$P" "$T/orig"
check "reindex" W reindex -C "$P" --json
is "... takes back 8 contributions and loses no play's" "$(json_get "$T/.out" contributions) $(json_get "$T/.out" contribution_plays_lost)" "8 0"
cj "$P" >"$T/c.after"
cmp -s "$T/c.before" "$T/c.after"
is "contributors --json after reindex is the one before" "$?" 0
check "... and verify --deep is clean" W verify -C "$P" --deep
rm -rf "$P/index"
check "reindex of the pool without an index" W reindex -C "$P" -q
cj "$P" | cmp -s - "$T/c.before"
is "... gives the same report" "$?" 0
check "a run after the reindex" ing "$P" --contributor "Dee" "$T/cy.json"
is "... gets the next number (9)" "$(cj "$P" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(max(i["contribution"] for c in j["contributors"] for i in c["items"]))')" 9
rm -rf "$P" && cp -r "$T/orig" "$P"

# ---- verify --deep holds the files against the index ----
cp -r "$P" "$T/v1"
"$WNC" "$T/v1" del-meta contrib.listen.0000000004 - >/dev/null
W verify -C "$T/v1" --deep >"$T/v1.out" 2>&1
is "a contribution missing from the index is reported (exit 1)" "$?" 1
grep -q 'contributions files rows hold 8 contributions, the index 7' "$T/v1.out"
is "... saying what" "$?" 0
cp -r "$P" "$T/v2"
f=$T/v2/contributions/listen-000003.jsonl.zst
printf 'Z' | dd of="$f" bs=1 seek=40 conv=notrunc 2>/dev/null
must_fail "a damaged contributions file: verify exits 1" 1 W verify -C "$T/v2"
grep -q 'contributions/listen-000003.jsonl.zst' "$T/.out"
is "... naming it" "$?" 0
must_fail "... and reindex refuses it (exit 1)" 1 W reindex -C "$T/v2" -q
cj "$T/v2" | cmp -s - "$T/c.before"
is "... and the catalog keeps the index it had" "$?" 0

# ---- a crash after the contributions file was sealed, before the run committed ----
Q=$T/q
ing "$Q" --contributor "Ann" "$T/ann.json" && ing "$Q" --contributor "Cy" "$T/cy.json"
cp -r "$Q" "$T/q2"
ing "$T/q2" --contributor "Bob" "$T/ann2.json"
cp "$T/q2/contributions/listen-000003.jsonl.zst" "$Q/contributions/"          # what the killed run left
check "the next run after such a crash" ing "$Q" --contributor "Bob" "$T/ann2.json"
cmp -s "$Q/contributions/listen-000003.jsonl.zst" "$T/q2/contributions/listen-000003.jsonl.zst"
is "... writes the very same contributions file" "$?" 0
cj "$Q" | cmp -s - <(cj "$T/q2")
is "... and the same report" "$?" 0
rm -rf "$Q" && mkdir "$Q"
cp "$T/q2/contributions/listen-000003.jsonl.zst" "$Q/stale"
ing "$Q" --contributor "Ann" "$T/ann.json" && ing "$Q" --contributor "Cy" "$T/cy.json"
cp "$Q/stale" "$Q/contributions/listen-000003.jsonl.zst" && rm "$Q/stale"
: >"$T/empty.jsonl"
check "a stale file is removed by the next writer open (an ingest of nothing)" W ingest -C "$Q" -q "$T/empty.jsonl"
[ ! -e "$Q/contributions/listen-000003.jsonl.zst" ] && ok "... it is gone" || not_ok "... it is gone"
check "... and verify is clean" W verify -C "$Q" --deep

# kill -9 at moments through runs of many accounts; the run again ends as one not killed
"$GEN" --kind listen --layout endsong --members 400 --count 150 --seed 14 -o "$T/many.json"
ing "$T/k0" "$T/many.json"
kill_mid_runs "$T/k" 1500 3 40 0 "$WINNOW" ingest -C "$T/k" -q --kind listen --key-file "$T/key" --frame-size 16K --checkpoint 20000 "$T/many.json"
diag "killed $kills times in $iter tries"
check "after kill -9, the run again" ing "$T/k" --checkpoint 20000 "$T/many.json"
cj "$T/k" | cmp -s - <(cj "$T/k0")
is "... gives the report of a run never killed" "$?" 0
is "... and the same contributions lines" "$(zstd -dcq "$T/k"/contributions/*.zst | md5sum)" "$(zstd -dcq "$T/k0"/contributions/*.zst | md5sum)"

# ---- forget: its contributions leave the files too ----
check "forget Bob" W forget -C "$P" --contributor Bob --key-file "$T/key"
cj "$P" >"$T/c.forgot"
is "... contributors lists 7 contributions, none of Bob's" \
	"$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["contributions"], sum(c["contributor"]==sys.argv[2] for c in j["contributors"]))' "$T/c.forgot" "$bob")" \
	"7 0"
alltext "$P" | grep -aqF "$bob"
is "... its pseudonym is in no decompressed byte of the pool's data files and manifests" "$?" 1
mdb_dump -a -p "$P/index" | grep -aqF "$bob"
is "... nor in the index" "$?" 1
is "... its contributions file is gone, the others numbered down" "$(ls "$P/contributions" | wc -l)" 5
check "... verify --deep is clean" W verify -C "$P" --deep
(cd "$P" && xxhsum -c --strict MANIFEST >/dev/null 2>&1)
is "... xxhsum -c MANIFEST passes" "$?" 0
check "reindex after forget" W reindex -C "$P" -q
cj "$P" | cmp -s - "$T/c.forgot"
is "... gives the report forget left" "$?" 0

# ---- compact merges the contributions files and keeps them ----
check "compact" W compact -C "$P"
is "... one contributions file" "$(ls "$P/contributions" | wc -l)" 1
cj "$P" | cmp -s - "$T/c.forgot"
is "... the same report" "$?" 0
check "reindex after compact" W reindex -C "$P" -q
cj "$P" | cmp -s - "$T/c.forgot"
is "... the same report" "$?" 0
check "... verify --deep is clean" W verify -C "$P" --deep

# ---- a catalog written before contributions files: reindex says what is lost ----
O=$T/old
cp -r "$T/orig" "$O"
rm -rf "$O/contributions" "$O/index"
grep -v '(contributions/' "$O/MANIFEST" >"$O/M" && mv "$O/M" "$O/MANIFEST"
python3 - "$O/MANIFEST.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["files"] = [f for f in j["files"] if f["role"] != "contributions"]
open(sys.argv[1], "w").write(json.dumps(j, separators=(",", ":")))
PY
plays=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(sum(c["plays"] for c in j["contributors"]))' "$T/c.before")
W reindex -C "$O" --json >"$T/old.out" 2>"$T/old.err"
is "reindex of such a catalog exits 0" "$?" 0
is "... counts the plays whose contributions are lost ($plays)" "$(json_get "$T/old.out" contribution_plays_lost)" "$plays"
grep -q "note: listen: $plays of the $plays plays have no contribution in the data files" "$T/old.err"
is "... and says so" "$?" 0
W reindex -C "$O" >"$T/old.txt" 2>/dev/null
grep -q "(the contributions of $plays plays are lost)" "$T/old.txt"
is "... in its report too" "$?" 0
is "... contributors then lists none" "$(cj "$O" | python3 -c 'import json,sys; print(json.load(sys.stdin)["contributions"])')" 0
