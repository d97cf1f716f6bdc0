#!/usr/bin/env bash
# t0670-ingest-archive.sh - tar (plain, .gz, .xz, .zst) and zip inputs: every regular
# member an input named ARCHIVE!MEMBER, the same records as the members as plain files,
# members that are not records passed over with a remark (or chosen with --member), a
# kill -9 inside a member resumed at member and offset, a damaged archive an error
# naming it, member names with .. or / never opened as paths.
. "$(dirname "$0")/lib.sh"

# the members: a README and a TIMESTAMP as in a MusicBrainz dump, a JSONL member without
# extension in a folder (mbdump/recording), and a second one with its extension
mkdir -p "$T/m/mbdump"
printf 'The MusicBrainz dump, with its licence, see COPYING\n' >"$T/m/README"
echo '2024-05-01 00:00:00.000000+00' >"$T/m/TIMESTAMP"
"$GEN" --count 20000 --seed 7 -o "$T/m/mbdump/recording"
"$GEN" --count 3000 --seed 8 -o "$T/m/extra.jsonl"
(cd "$T/m" && "$WINNOW" ingest -C "$T/ref" -q --json mbdump/recording extra.jsonl) >"$T/ref.json" 2>/dev/null
"$WINNOW" export -C "$T/ref" >"$T/ref.out"
want=$(counts "$T/ref.json")
(cd "$T/m" && tar cf "$T/a.tar" README TIMESTAMP mbdump extra.jsonl)

names() { zstdcat "$1"/ledger/*.zst | grep -o '"input":"[^"]*"' | sort -u | tr '\n' ' '; }

archive_case() {   # archive_case NAME FILE
	local n=$1 f=$2
	"$WINNOW" ingest -C "$T/c-$n" -q --json "$f" >"$T/$n.json" 2>"$T/$n.err"
	is "$n: the same counts as the members as plain files" "$(counts "$T/$n.json")" "$want"
	"$WINNOW" export -C "$T/c-$n" >"$T/$n.out"
	cmp -s "$T/ref.out" "$T/$n.out" && ok "$n: the same records" || not_ok "$n: the same records"
	local b; b=$(basename "$f")
	# (the ledger has an entry for every record that is not kept: both members have some)
	is "$n: ledger entries name ARCHIVE!MEMBER" "$(names "$T/c-$n")" "\"input\":\"$f!extra.jsonl\" \"input\":\"$f!mbdump/recording\" "
	grep -q "$b!README: passed over, not records" "$T/$n.err" && grep -q "$b!TIMESTAMP: passed over" "$T/$n.err" &&
		ok "$n: README and TIMESTAMP passed over with a remark naming them" ||
		{ not_ok "$n: README and TIMESTAMP passed over with a remark naming them"; diag "$(cat "$T/$n.err")"; }
}

archive_case tar "$T/a.tar"
for c in gzip xz zstd bzip2; do
	have $c || { skip "$c tar" "no $c here"; continue; }
	case $c in gzip) ext=tar.gz ;; xz) ext=tar.xz ;; zstd) ext=tar.zst ;; bzip2) ext=tar.bz2 ;; esac
	$c -c "$T/a.tar" >"$T/a.$ext"
	archive_case "$c" "$T/a.$ext"
done
if have gzip; then cp "$T/a.tar.gz" "$T/a.tgz"; archive_case tgz "$T/a.tgz"; fi
if have zip; then
	(cd "$T/m" && zip -q -r "$T/a.zip" README TIMESTAMP mbdump extra.jsonl)
	archive_case zip "$T/a.zip"
elif have python3; then
	python3 -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for m in ("README", "TIMESTAMP", "mbdump/recording", "extra.jsonl"): z.write(sys.argv[2] + "/" + m, m)' "$T/a.zip" "$T/m"
	archive_case zip "$T/a.zip"
else
	skip "zip archive" "neither zip nor python3 here"
fi

# --member: only the chosen members; a chosen member that is not records is an error
# naming ARCHIVE!MEMBER (the exit of the same file given as a plain input)
"$WINNOW" ingest -C "$T/sel" -q --json --member 'mbdump/*' "$T/a.tar" >"$T/sel.json" 2>/dev/null
is "--member mbdump/*: only mbdump/recording" "$(json_get "$T/sel.json" read)" 20000
"$WINNOW" ingest -C "$T/readme-plain" -q "$T/m/README" >/dev/null 2>&1; plain=$?
must_fail "--member README: refused as the plain file is (exit $plain)" "$plain" "$WINNOW" ingest -C "$T/sel2" -q --member README "$T/a.tar"
grep -q "a.tar!README: " "$T/.err" && ok "... naming a.tar!README" || { not_ok "... naming a.tar!README"; diag "$(cat "$T/.err")"; }

# damaged: a .tar.xz cut short is an error naming the archive (exit 3), never a short read
if have xz; then
	head -c $(( $(stat -c %s "$T/a.tar.xz") / 2 )) "$T/a.tar.xz" >"$T/half.tar.xz"
	must_fail "a .tar.xz cut in half: exit 3" 3 "$WINNOW" ingest -C "$T/half" -q "$T/half.tar.xz"
	grep -q "half.tar.xz" "$T/.err" && grep -qi "damaged or cut short\|truncat" "$T/.err" && ok "... naming the archive and why" ||
		{ not_ok "... naming the archive and why"; diag "$(cat "$T/.err")"; }
fi
head -c 30000 "$T/a.tar" >"$T/cut.tar"
must_fail "a plain .tar cut inside a member: exit 3" 3 "$WINNOW" ingest -C "$T/cut" -q "$T/cut.tar"
grep -q "cut.tar" "$T/.err" && ok "... naming the archive" || { not_ok "... naming the archive"; diag "$(cat "$T/.err")"; }

# a member name with .. or an absolute path is a name: the file it would name is not read
if have python3; then
	mkdir -p "$T/up/sub"
	printf '{"id":"outside","title":"not this"}\n' >"$T/up/evil.jsonl"
	printf '{"id":"inside","title":"the member"}\n{"id":"inside2","title":"the member"}\n' >"$T/up/member.jsonl"
	# (TarInfo names are stored as given; the first member's records are kept, the
	# second's are duplicates, which the ledger names)
	python3 -c 'import io, sys, tarfile
data = open(sys.argv[2], "rb").read()
with tarfile.open(sys.argv[1], "w") as t:
    for n in (sys.argv[3] + "/evil.jsonl", "../evil.jsonl"):
        i = tarfile.TarInfo(n); i.size = len(data); t.addfile(i, io.BytesIO(data))' "$T/up/sub/dots.tar" "$T/up/member.jsonl" "$T/up"
	tar tf "$T/up/sub/dots.tar" 2>/dev/null | grep -q '^\.\./evil' || diag "tar lists: $(tar tf "$T/up/sub/dots.tar" 2>&1 | tr '\n' ' ')"
	(cd "$T/up/sub" && "$WINNOW" ingest -C "$T/dots" -q --json dots.tar) >"$T/dots.json" 2>"$T/dots.err"
	is "members ../evil.jsonl and /abs/evil.jsonl: the members' records, twice" "$(counts "$T/dots.json")" "4 2 2 0 0"
	"$WINNOW" export -C "$T/dots" | grep -q outside && not_ok "... the files they name are not read" || ok "... the files they name are not read"
	names "$T/dots" | grep -qF '"input":"dots.tar!../evil.jsonl"' && ok "... named dots.tar!../evil.jsonl" ||
		{ not_ok "... named dots.tar!../evil.jsonl"; diag "$(names "$T/dots")"; }
else
	skip "member names with .." "no python3 here"
fi

# kill -9 inside an archive member (a .tar.xz: the resume decompresses up to the member
# and skips bytes within it): the rerun ends with the catalog of one clean run
if have xz; then
	"$GEN" --count 300000 --seed 9 -o "$T/m/mbdump/recording"
	(cd "$T/m" && tar cf - README mbdump extra.jsonl | xz -1 -T1 -c >"$T/big.tar.xz")
	(cd "$T/m" && "$WINNOW" ingest -C "$T/bigref" -q --json --checkpoint 20000 mbdump/recording extra.jsonl) >"$T/bigref.json" 2>/dev/null
	kill_after_checkpoint "$T/k" 500 "$WINNOW" ingest -C "$T/k" -q --checkpoint 20000 "$T/big.tar.xz"
	if [ $killed = 1 ]; then
		"$WINNOW" ingest -C "$T/k" -q --json --checkpoint 20000 "$T/big.tar.xz" >"$T/k.json" 2>/dev/null
		r=$(json_get "$T/k.json" resumed)
		if [ -n "$r" ] && [ "$r" -gt 0 ]; then ok "killed inside an archive member: the rerun resumed after $r records"
		else not_ok "killed inside an archive member: the rerun resumed ($r)"; fi
		is "... the counts of one clean run of the members" "$(counts "$T/k.json")" "$(counts "$T/bigref.json")"
		"$WINNOW" export -C "$T/bigref" >"$T/bigref.out"; "$WINNOW" export -C "$T/k" >"$T/k.out"
		cmp -s "$T/bigref.out" "$T/k.out" && ok "... the same records" || not_ok "... the same records"
		check "... and the catalog verifies" "$WINNOW" verify -C "$T/k"
	else
		skip "resume inside an archive member" "no run was killed after a checkpoint in 10 tries"
	fi
fi

# real MusicBrainz responses: a dump tarball if one is there, else the lookups as a tar
mb="$SHARED/musicbrainz"
tarball=$(ls "$mb"/*.tar* 2>/dev/null | head -n 1)
if [ -n "$tarball" ]; then
	check "the MusicBrainz tarball $(basename "$tarball") as downloaded" "$WINNOW" ingest -C "$T/mbt" -q "$tarball"
else
	skip "a MusicBrainz dump tarball" "none in $mb"
fi
if [ -d "$mb" ] && ls "$mb"/recording*.json >/dev/null 2>&1; then
	(cd "$mb" && "$WINNOW" ingest -C "$T/mbp" -q --json recording*.json) >"$T/mbp.json" 2>/dev/null
	(cd "$mb" && tar cf "$T/mb.tar" recording*.json)
	"$WINNOW" ingest -C "$T/mba" -q --json "$T/mb.tar" >"$T/mba.json" 2>/dev/null
	is "real MusicBrainz lookups in a tar: the counts of the files" "$(counts "$T/mba.json")" "$(counts "$T/mbp.json")"
	"$WINNOW" export -C "$T/mbp" >"$T/mbp.out"; "$WINNOW" export -C "$T/mba" >"$T/mba.out"
	cmp -s "$T/mbp.out" "$T/mba.out" && ok "... the same records" || not_ok "... the same records"
else
	skip "real MusicBrainz lookups in a tar" "no $mb"
fi
