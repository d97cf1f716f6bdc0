#!/usr/bin/env bash
# t0985-forget.sh - winnow forget: a contributor's plays, ledger entries (duplicates, a
# revision that lost, one that won) and rejects leave the pool: no decompressed byte of
# a data file or manifest holds its pseudonym, times or tracks; get, get - and export find
# none of them; the other contributors' plays, files and answers are untouched; only the
# files that held the contributor's entries are rewritten; the counts add up and lose
# exactly its contribution; verify --deep, xxhsum -c and reindex agree; a tombstone
# refuses its export again without --allow-forgotten; killed (-9) at each step, the same
# command again ends with the very pool an uninterrupted forget makes; after compact,
# forget still finds the contributor's files.
. "$(dirname "$0")/lib.sh"

GL="python3 $TOP/bench/gen-listen.py"
head -c 32 /dev/urandom >"$T/key"
$GL --members 5 --plays 400 --repeat 40 --bad 97 --seed 7 -o "$T/L"
# a revision of one of member 1's plays (another ms_played), and another that wins
python3 - "$T/L/member-1.json" "$T/rev1.json" "$T/rev2.json" <<'PY'
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if isinstance(r, dict)]
a, b = dict(rows[3]), dict(rows[5])
a["ms_played"] += 1
b["ms_played"] += 2
json.dump([a], open(sys.argv[2], "w"))
json.dump([b], open(sys.argv[3], "w"))
PY
P=$T/pool
ing() { "$WINNOW" ingest -C "$P" -q --kind listen --key-file "$T/key" --frame-size 16K "$@" >/dev/null; }
for m in 0 1 2 3 4; do ing --contributor "member $m" "$T/L/member-$m.json" || not_ok "ingest member $m"; done
ing --contributor "member 1" "$T/L/member-1.json"                      # the same export again
ing --contributor "member 1" "$T/rev1.json"                            # a revision that loses
ing --contributor "member 1" --on-conflict last "$T/rev2.json"         # one that wins
ing --contributor "member 3" "$T/L/member-3.json"
pseudo() { python3 -c 'import hmac,hashlib,sys; print(hmac.new(open(sys.argv[1],"rb").read(), sys.argv[2].encode(), hashlib.sha256).hexdigest()[:32])' "$T/key" "$1"; }
p1=$(pseudo "member 1")
counts_of() { "$WINNOW" stats -C "$1" --json | python3 -c 'import json,sys; k=json.load(sys.stdin)["kinds"]["listen"]
print(" ".join(str(k[x]) for x in ("records","read","kept","duplicates","revisions","rejected","superseded")))'; }
before=$(counts_of "$P")
read -r _ r0 k0 d0 v0 j0 s0 <<<"$before"
is "the pool has a superseded play and revisions" "$([ "$s0" -ge 1 ] && [ "$v0" -ge 2 ] && echo yes)" yes

# what member 1 contributed, counted apart: the same runs into a pool of its own
Q=$T/alone
for a in "$T/L/member-1.json" "$T/L/member-1.json" "$T/rev1.json"; do
	"$WINNOW" ingest -C "$Q" -q --kind listen --key-file "$T/key" --contributor "member 1" "$a" >/dev/null
done
"$WINNOW" ingest -C "$Q" -q --kind listen --key-file "$T/key" --contributor "member 1" --on-conflict last "$T/rev2.json" >/dev/null
read -r _ r1 k1 d1 v1 j1 s1 <<<"$(counts_of "$Q")"

# the others' answers, to compare after
"$WINNOW" export -C "$P" --kind listen | grep -v "\"contributor\":\"$p1\"" | sort >"$T/others.before"
"$WINNOW" export -C "$P" --kind listen | grep "\"contributor\":\"$p1\"" >"$T/mine.before"
is "member 1's plays are in the pool" "$([ "$(wc -l <"$T/mine.before")" -gt 300 ] && echo yes)" yes
python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l); print(json.dumps([r["contributor"],r["ts"],r["spotify_track_uri"]]))' "$T/others.before" >"$T/others.ids"
python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l); print(json.dumps([r["contributor"],r["ts"],r["spotify_track_uri"]]))' "$T/mine.before" >"$T/mine.ids"
"$WINNOW" get -C "$P" --kind listen - <"$T/others.ids" >"$T/others.get.before" 2>&1
# the times only member 1 played at
python3 -c 'import json,sys
mine=set(json.loads(l)["ts"] for l in open(sys.argv[1]))
others=set(json.loads(l)["ts"] for l in open(sys.argv[2]))
print("\n".join(sorted(mine-others)))' "$T/mine.before" "$T/others.before" >"$T/mine.ts"
is "... many at times no one else played at" "$([ "$(wc -l <"$T/mine.ts")" -gt 300 ] && echo yes)" yes
cp -r "$P" "$T/orig"
hashes() { (cd "$1" && for f in shards/* ledger/* rejects/* contributions/*; do echo "$f $(xxhsum -H2 "$f" 2>/dev/null | cut -d' ' -f1)"; done); }
hashes "$P" >"$T/hashes.before"

# ---- forget ----
"$WINNOW" contributors -C "$P" --json >"$T/contrib.before" 2>/dev/null
check "forget member 1" "$WINNOW" forget -C "$P" --contributor "member 1" --key-file "$T/key" --json
mv "$T/.out" "$T/forget.out"; cp "$T/forget.out" "$T/.out"
"$WINNOW" contributors -C "$P" --json >"$T/contrib.after" 2>/dev/null
is "winnow contributors listed member 1 before" "$(grep -c "$p1" "$T/contrib.before")" 1
is "... and not after: its contributions are forgotten with it" "$(grep -c "$p1" "$T/contrib.after")" 0
cp "$T/.out" "$T/forget.json"
is "... reports its pseudonym" "$(grep -o '"contributor":"[0-9a-f]*"' "$T/forget.json" | cut -d'"' -f4)" "$p1"
is "... and the plays it took out (kept and superseded ones)" "$(json_get "$T/forget.json" records)" "$((k1 + s1))"
is "... and its ledger entries" "$(json_get "$T/forget.json" ledger_entries)" "$((d1 + v1))"
is "... and its rejects" "$(json_get "$T/forget.json" rejects)" "$j1"
check "verify --deep is clean" "$WINNOW" verify -C "$P" --deep
(cd "$P" && xxhsum -c --strict MANIFEST >/dev/null 2>&1)
is "xxhsum -c MANIFEST passes" "$?" 0
check "verify --deep of the pool as a bare folder (the manifests' counts hold the forgotten places)" \
	"$WINNOW" verify --manifest "$P/MANIFEST" --deep "$P"
is "... MANIFEST.json counts them" "$(grep -o '"forgotten":[0-9]*' "$P/MANIFEST.json" | cut -d: -f2)" "$((k1 + s1))"
datatext() { (cd "$1" && for f in shards/* ledger/* rejects/* contributions/*; do zstd -dcq "$f"; done; cat MANIFEST MANIFEST.json catalog.json); }
datatext "$P" | grep -aqF "$p1"
is "its pseudonym is in no decompressed byte of a data file or manifest" "$?" 1
datatext "$P" | grep -aqF -f "$T/mine.ts"
is "... nor any time only it played at" "$?" 1
mdb_dump -a -p "$P/index" | grep -aqF "$p1"
is "... nor in the index (the tombstone keeps a digest of it)" "$?" 1
tid=$(printf 'winnow tombstone 1\n%s' "$p1" | sha256sum | cut -c1-32)
grep -q "\"tombstones\":{\"$tid\":\"$(date -u +%Y-%m-%d)\"}" "$P/catalog.json"
is "catalog.json keeps the tombstone: the digest and the date" "$?" 0
"$WINNOW" export -C "$P" --kind listen | sort >"$T/all.after"
cmp -s "$T/all.after" "$T/others.before"
is "export: the other contributors' plays, exactly" "$?" 0
"$WINNOW" get -C "$P" --kind listen - <"$T/others.ids" >"$T/others.get.after" 2>&1
cmp -s "$T/others.get.before" "$T/others.get.after"
is "get: every other play answers as before" "$?" 0
"$WINNOW" get -C "$P" --kind listen - <"$T/mine.ids" >"$T/mine.get" 2>&1
is "get: none of its plays is found" "$(grep -c '"contributor"' "$T/mine.get")" 0
is "... each one reported not found" "$(grep -c 'no listen with id' "$T/mine.get")" "$(wc -l <"$T/mine.ids")"
after=$(counts_of "$P")
is "counts: the pool's less exactly its contribution" "$after" \
	"$((k0 - k1)) $((r0 - r1)) $((k0 - k1)) $((d0 - d1)) $((v0 - v1)) $((j0 - j1)) $((s0 - s1))"
read -r _ r k d v j s <<<"$after"
is "... and read = kept + duplicates + revisions + rejected" "$r" "$((k + d + v + j))"
hashes "$P" >"$T/hashes.after"
cut -d' ' -f2 "$T/hashes.before" | sort >"$T/h.before"
cut -d' ' -f2 "$T/hashes.after" | sort >"$T/h.after"
is "only the files that held its entries were rewritten (as reported): the others keep their bytes" \
	"$(comm -23 "$T/h.before" "$T/h.after" | wc -l)" "$(json_get "$T/forget.json" files_rewritten)"
is "... which are most of them" "$([ "$(comm -12 "$T/h.before" "$T/h.after" | wc -l)" -ge 10 ] && echo yes)" yes
grep -F -f <(comm -23 "$T/h.before" "$T/h.after") "$T/hashes.before" | grep -q '^shards/'
is "... its shards among the rewritten" "$?" 0

must_fail "cluster of a kind with forgotten records is refused" 2 "$WINNOW" cluster -C "$P" --kind listen
grep -q 'forgotten ones (winnow forget)' "$T/.err"
is "... saying why" "$?" 0

# ---- reindex agrees ----
cp -r "$P" "$T/rx"
check "reindex of the pool" "$WINNOW" reindex -C "$T/rx" -q
is "... same counts" "$(counts_of "$T/rx")" "$after"
"$WINNOW" export -C "$T/rx" --kind listen | sort | cmp -s - "$T/all.after"
is "... same export" "$?" 0
check "... verify --deep clean" "$WINNOW" verify -C "$T/rx" --deep
must_fail "... and keeps the tombstone: the export again is refused" 2 \
	"$WINNOW" ingest -C "$T/rx" -q --kind listen --key-file "$T/key" --contributor "member 1" "$T/L/member-1.json"
rm -rf "$T/rx2" && cp -r "$T/orig" "$T/rx2"
"$WINNOW" reindex -C "$T/rx2" -q
check "forget after a reindex (which finds each contributor's files again)" \
	"$WINNOW" forget -C "$T/rx2" --contributor "member 1" --key-file "$T/key" --json
is "... takes out as much" "$(json_get "$T/.out" records) $(json_get "$T/.out" ledger_entries) $(json_get "$T/.out" rejects)" \
	"$(json_get "$T/forget.json" records) $(json_get "$T/forget.json" ledger_entries) $(json_get "$T/forget.json" rejects)"
"$WINNOW" export -C "$T/rx2" --kind listen | sort | cmp -s - "$T/all.after"
is "... and leaves the same export" "$?" 0

# ---- the tombstone ----
must_fail "its export again is refused" 2 "$WINNOW" ingest -C "$P" -q --kind listen --key-file "$T/key" --contributor "member 1" "$T/L/member-1.json"
grep -q "was forgotten ($(date -u +%Y-%m-%d))" "$T/.err"
is "... naming the date it was forgotten" "$?" 0
is "... and nothing is added" "$(counts_of "$P")" "$after"
check "another member's export is taken" "$WINNOW" ingest -C "$P" -q --kind listen --key-file "$T/key" --contributor "member 4" "$T/L/member-4.json"
check "forget again: nothing to take out" "$WINNOW" forget -C "$P" --contributor "member 1" --key-file "$T/key" --json
is "... it says it was forgotten before" "$(json_get "$T/.out" already_forgotten) $(json_get "$T/.out" records)" "true 0"
must_fail "forget with another key is refused" 2 "$WINNOW" forget -C "$P" --contributor "member 2" --key-file <(head -c 32 /dev/urandom)
check "with --allow-forgotten its export is taken again" "$WINNOW" ingest -C "$P" -q --kind listen --key-file "$T/key" --contributor "member 1" --allow-forgotten --json "$T/L/member-1.json"
is "... all its plays kept anew" "$(json_get "$T/.out" kept)" "$(wc -l <"$T/mine.before")"
check "... and verify --deep is clean" "$WINNOW" verify -C "$P" --deep
check "... and the next run of it needs no --allow-forgotten" "$WINNOW" ingest -C "$P" -q --kind listen --key-file "$T/key" --contributor "member 1" "$T/rev1.json"

# ---- kill -9 at each step, then the same command ----
ref=$T/ref
cp -r "$T/orig" "$ref"
"$WINNOW" forget -C "$ref" --contributor "member 1" --key-file "$T/key" -q --json >/dev/null
state() { (cd "$1" && cat MANIFEST && ls shards ledger rejects) && "$WINNOW" export -C "$1" --kind listen | md5sum && counts_of "$1"; }
bad=0 n=0
for at in planned shards/listen-000002.jsonl.zst committed "phase 1" "phase 2" "phase 3"; do
	D=$T/crash
	rm -rf "$D" && cp -r "$T/orig" "$D"
	WINNOW_TEST_KILL=$at "$WINNOW" forget -C "$D" --contributor "member 1" --key-file "$T/key" -q >/dev/null 2>&1 &
	wait $!
	st=$?
	[ $st -eq 137 ] && n=$((n + 1)) || diag "no kill at \"$at\" (exit $st)"
	"$WINNOW" forget -C "$D" --contributor "member 1" --key-file "$T/key" -q 2>"$T/.err" ||
		{ bad=$((bad + 1)); diag "rerun after \"$at\": $(cat "$T/.err")"; continue; }
	[ "$(state "$D")" = "$(state "$ref")" ] || { bad=$((bad + 1)); diag "after a kill at \"$at\" the pool differs"; continue; }
	"$WINNOW" verify -C "$D" --deep >/dev/null 2>&1 || { bad=$((bad + 1)); diag "after a kill at \"$at\" verify fails"; }
	datatext "$D" | grep -aqF "$p1" && { bad=$((bad + 1)); diag "after a kill at \"$at\" the pseudonym is left"; }
done
is "forget was killed at each of 6 steps" "$n" 6
is "... and each rerun made the pool an uninterrupted forget makes" "$bad" 0

# ---- after compact, forget finds the contributor's files under their new numbers ----
C=$T/cmp
rm -rf "$C" && cp -r "$T/orig" "$C"
check "compact of the pool" "$WINNOW" compact -C "$C"
is "... into one shard" "$(ls "$C/shards" | wc -l)" 1
check "forget member 3 after compact" "$WINNOW" forget -C "$C" --contributor "member 3" --key-file "$T/key" --json
is "... takes out its plays" "$([ "$(json_get "$T/.out" records)" -gt 300 ] && echo yes)" yes
datatext "$C" | grep -aqF "$(pseudo "member 3")"
is "... all of them" "$?" 1
check "... and verify --deep is clean" "$WINNOW" verify -C "$C" --deep
check "compact after forget" "$WINNOW" compact -C "$P"
check "... and verify --deep is clean" "$WINNOW" verify -C "$P" --deep

# ---- a generation-1 export names its account: the username is the contributor ----
# (no --contributor: the runs' contributors are the records' pseudonymised usernames, and
# forget by that name finds them, and refuses that export again, as for --contributor)
U=$T/users
mkdir -p "$U/in"
python3 - "$U/in" <<'PY'
import json, sys
for n, user in enumerate(["alice", "bob"]):
    plays = [{"ts": "2021-03-0%dT10:00:0%dZ" % (i + 1, i), "username": user, "platform": "Android OS 9",
              "ms_played": 1000 + i, "conn_country": "SE", "ip_addr_decrypted": "10.9.8.%d" % i,
              "user_agent_decrypted": "ua-%s" % user, "master_metadata_track_name": "T%d" % i,
              "master_metadata_album_artist_name": "A", "master_metadata_album_album_name": "B",
              "spotify_track_uri": "spotify:track:%022d" % (i + 10 * n), "episode_name": None,
              "episode_show_name": None, "spotify_episode_uri": None, "reason_start": "clickrow",
              "reason_end": "trackdone", "shuffle": False, "skipped": None, "offline": False,
              "offline_timestamp": 0, "incognito_mode": False} for i in range(6)]
    json.dump(plays, open("%s/endsong_%d.json" % (sys.argv[1], n), "w"))
PY
for n in 0 1; do
	check "ingest endsong_$n.json without --contributor" "$WINNOW" ingest -C "$U/pool" -q --kind listen --key-file "$T/key" "$U/in/endsong_$n.json"
done
check "forget alice, the username of endsong_0.json" "$WINNOW" forget -C "$U/pool" --contributor alice --key-file "$T/key" --json
is "... takes out her 6 plays" "$(json_get "$T/.out" records)" 6
"$WINNOW" stats -C "$U/pool" --json >"$T/ustats.json"
is "... and stats counts their 6 places as forgotten" "$(grep -o '"listen":{[^{]*"forgotten":[0-9]*' "$T/ustats.json" | grep -o '[0-9]*$')" 6
is "... and leaves bob's" "$("$WINNOW" export -C "$U/pool" --kind listen | wc -l | tr -d ' ')" 6
datatext "$U/pool" | grep -aqF "$(pseudo alice)"
is "... her pseudonym is in no file of the pool" "$?" 1
must_fail "her export again is refused" 2 "$WINNOW" ingest -C "$U/pool" -q --kind listen --key-file "$T/key" "$U/in/endsong_0.json"
is "... and nothing is added" "$("$WINNOW" export -C "$U/pool" --kind listen | wc -l | tr -d ' ')" 6
check "... unless --allow-forgotten" "$WINNOW" ingest -C "$U/pool" -q --kind listen --key-file "$T/key" --allow-forgotten "$U/in/endsong_0.json"
is "... which takes her plays again" "$("$WINNOW" export -C "$U/pool" --kind listen | wc -l | tr -d ' ')" 12
check "... and verify --deep is clean" "$WINNOW" verify -C "$U/pool" --deep
