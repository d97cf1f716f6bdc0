#!/usr/bin/env bash
# t0100-gen.sh - bench/gen, the test-data generator: options, determinism, line counts,
# and above all that its --truth is exact. The truth is checked against an independent
# deduplicator written here in Python (json.loads on strictly decoded UTF-8, canonical
# form with sorted keys), for both kinds, both layouts and several seeds.
# Prints TAP. Environment: GEN (default bench/gen beside this tree), TOP (repo root).
set -u
here=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$here/../.." && pwd)}
GEN=${GEN:-$here/../../bench/gen}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/t0100.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { # check "description" command...
	local d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
have_py=0
command -v python3 >/dev/null 2>&1 && have_py=1

if [ ! -x "$GEN" ]; then
	not_ok "bench/gen is built ($GEN)"
	echo "1..$n"
	exit 1
fi

sha() { sha256sum | cut -d' ' -f1; }

# a key of the truth object, without needing python or jq
tkey() { # tkey FILE KEY
	sed -n "s/.*\"$2\":\\([0-9.]*\\).*/\\1/p" "$1"
}

# --- usage -----------------------------------------------------------------------
"$GEN" --help >"$tmp/help" 2>"$tmp/err"
check "--help exits 0 and prints usage on stdout" \
	test $? -eq 0 -a -s "$tmp/help" -a ! -s "$tmp/err"
check "--help documents every option" \
	bash -c "for o in --seed --count --kind --layout --dup-rate --reorder-rate --escape-rate \
		--revision-rate --isrc-share-rate --near-rate --bad-rate --clean --truth --output; do \
		grep -q -e \"\$o\" '$tmp/help' || exit 1; done"
for bad in "--bogus" "--count" "--count x" "--count 5Q" "--seed -1" "--kind album" \
	"--layout csv" "--dup-rate 1.5" "--dup-rate abc" "--dup-rate 0.6 --bad-rate 0.6" \
	"--truth -"; do
	# shellcheck disable=SC2086
	"$GEN" $bad >"$tmp/out" 2>"$tmp/err"
	rc=$?
	check "misuse '$bad' exits 2 with a message on stderr" \
		test $rc -eq 2 -a -s "$tmp/err" -a ! -s "$tmp/out"
done

# --- determinism and counts ------------------------------------------------------
for args in "" "--layout dump" "--kind artist" "--kind artist --layout dump"; do
	# shellcheck disable=SC2086
	a=$("$GEN" --seed 7 --count 20000 $args | sha)
	# shellcheck disable=SC2086
	b=$("$GEN" --seed 7 --count 20000 $args | sha)
	# shellcheck disable=SC2086
	c=$("$GEN" --seed 8 --count 20000 $args | sha)
	check "same seed gives identical output ($args)" test "$a" = "$b"
	check "another seed gives other output ($args)" test "$a" != "$c"
done
"$GEN" --count 3000 >"$tmp/long"
"$GEN" --count 1000 >"$tmp/short"
check "a shorter run is a prefix of a longer one" cmp -s "$tmp/short" <(head -n 1000 "$tmp/long")
check "the default seed is 1" cmp -s "$tmp/short" <("$GEN" --count 1000 --seed 1)
for c in 0 1 2 999 12345; do
	got=$("$GEN" --count $c --bad-rate 0.2 | wc -l)
	check "--count $c writes exactly $c lines (20% bad)" test "$got" -eq $c
done
got=$("$GEN" --count 2k --kind artist | wc -l)
check "--count accepts the k suffix" test "$got" -eq 2000
"$GEN" --count 5000 --seed 3 -o "$tmp/o.jsonl" --truth - >"$tmp/o.truth"
check "-o FILE writes the same bytes as stdout" cmp -s "$tmp/o.jsonl" <("$GEN" --count 5000 --seed 3)
# --vmsplice hands the pipe pages that are written again later: a reader that is slower
# than the writer (here: reads of 1 byte to 1 MiB, with pauses) must still get the same bytes
"$GEN" --count 60000 --seed 3 >"$tmp/v.plain"
"$GEN" --count 60000 --seed 3 --vmsplice | { sleep 0.2; dd bs=1 count=100 status=none; sleep 0.2; cat; } >"$tmp/v.spliced"
check "--vmsplice to a pipe: the same bytes, whatever the reader's pace" cmp -s "$tmp/v.plain" "$tmp/v.spliced"
"$GEN" --count 60000 --seed 3 --vmsplice -o "$tmp/v.file"
check "--vmsplice to a file: plain writes, the same bytes" cmp -s "$tmp/v.plain" "$tmp/v.file"
check "--truth - with -o prints the truth on stdout" grep -q '"lines":5000' "$tmp/o.truth"
"$GEN" --count 200000 -o /dev/full 2>"$tmp/err"
rc=$?
check "a write error (ENOSPC) exits 3 with a message" test $rc -eq 3 -a -s "$tmp/err"
check "and leaves /dev/full alone" test -c /dev/full
if grep -q __asan_init "$GEN" 2>/dev/null; then
	skip "1.5M lines run in 64 MiB of address space (streaming)" "built with ASan"
else
	(ulimit -v 65536; "$GEN" --count 1500000 --kind track >/dev/null)
	check "1.5M lines run in 64 MiB of address space (streaming)" test $? -eq 0
fi

# --- truth, shell-level --------------------------------------------------------------
for kind in track artist; do
	for layout in api dump; do
		f="$tmp/$kind.$layout"
		"$GEN" --seed 11 --count 20000 --kind $kind --layout $layout --truth "$f.truth" >"$f.jsonl"
		lines=$(tkey "$f.truth" lines)
		sum=$(($(tkey "$f.truth" kept) + $(tkey "$f.truth" duplicates) + $(tkey "$f.truth" revisions) \
			+ $(tkey "$f.truth" rejected)))
		check "$kind/$layout: truth lines = kept + duplicates + revisions + rejected" \
			test "$lines" -eq 20000 -a "$sum" -eq 20000
		check "$kind/$layout: truth bytes = file size" \
			test "$(tkey "$f.truth" bytes)" -eq "$(wc -c <"$f.jsonl")"
	done
done
truths=("$tmp"/*.*.truth)
if [ $have_py = 1 ]; then
	check "every truth file is one valid JSON object (python3)" python3 -c '
import json, sys
for p in sys.argv[1:]:
    assert isinstance(json.load(open(p)), dict), p' "${truths[@]}"
elif command -v jq >/dev/null 2>&1; then
	check "every truth file is one valid JSON object (jq)" jq -e 'type == "object"' "${truths[@]}"
else
	check "every truth file looks like one JSON object" grep -q '^{"lines":.*}$' "${truths[@]}"
fi
for layout in api dump; do
	"$GEN" --count 20000 --layout $layout --seed 5 | wc -lc >"$tmp/wc"
	read -r l c <"$tmp/wc"
	mean=$((c / l))
	check "track/$layout: mean line length $mean is within 380-480 bytes" test $mean -ge 380 -a $mean -le 480
done
"$GEN" --clean --count 20000 --truth "$tmp/clean.truth" >"$tmp/clean.jsonl"
check "--clean: no duplicates, revisions or bad lines" \
	test "$(tkey "$tmp/clean.truth" duplicates)" -eq 0 -a "$(tkey "$tmp/clean.truth" revisions)" -eq 0 \
		-a "$(tkey "$tmp/clean.truth" rejected)" -eq 0 -a "$(tkey "$tmp/clean.truth" kept)" -eq 20000
"$GEN" --clean --dup-rate 0.1 --count 20000 --truth "$tmp/clean2.truth" >/dev/null
check "--clean keeps a rate given explicitly, in any order" \
	test "$(tkey "$tmp/clean2.truth" exact_dups)" -gt 1500 -a "$(tkey "$tmp/clean2.truth" revisions)" -eq 0

# --- truth, verified by an independent deduplicator ----------------------------------
cat >"$tmp/verify.py" <<'EOF'
import json, re, sys

def parse(raw):
    """The record as a dict, or None when a strict parser must reject it."""
    try:
        text = raw.decode('utf-8', errors='strict')
    except UnicodeDecodeError:
        return None, 'utf8'
    def no_dup_keys(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError('duplicate key')
        return dict(pairs)
    def no_constants(c):
        raise ValueError('non-standard constant ' + c)
    try:
        obj = json.loads(text, object_pairs_hook=no_dup_keys, parse_constant=no_constants)
    except ValueError:
        return None, 'json'
    if not isinstance(obj, dict) or not isinstance(obj.get('id'), str):
        return None, 'noid'
    return obj, None

def canon(obj):
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(',', ':'))

def run(path, truth_path):
    truth = json.load(open(truth_path))
    kind = truth['kind']
    c = dict.fromkeys(['lines', 'kept', 'duplicates', 'revisions', 'rejected',
                       'duplicates_ignoring_volatile', 'revisions_ignoring_volatile'], 0)
    seen, seen_iv = {}, {}
    isrc_count = {}
    blank = noid = unparsable = 0
    id_re = re.compile(r'^[0-7][0-9A-Za-z]{21}$')
    isrc_re = re.compile(r'^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$')
    date_re = re.compile(r'^[12][0-9]{3}(-[01][0-9]-[0-3][0-9])?$')
    scripts = set()
    data = open(path, 'rb').read()
    assert data == b'' or data.endswith(b'\n'), 'last line not terminated'
    raw_lines = data.split(b'\n')[:-1]
    escaped = slash = pair = False
    for raw in raw_lines:
        c['lines'] += 1
        obj, why = parse(raw)
        if obj is None:
            c['rejected'] += 1
            if raw.strip(b' \t') == b'':
                blank += 1
            elif why == 'noid':
                noid += 1
            else:
                unparsable += 1
            continue
        if b'\\u' in raw: escaped = True
        if b'\\/' in raw: slash = True
        if re.search(rb'\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F]', raw): pair = True
        i = obj['id']
        assert id_re.match(i), 'bad id %r' % i
        full = canon(obj)
        stripped = {k: v for k, v in obj.items() if k not in ('fetched_at', 'popularity')}
        iv = canon(stripped)
        if i not in seen:
            c['kept'] += 1
            seen[i] = {full}
            seen_iv[i] = {iv}
            if kind == 'track':
                isrc = obj['external_ids']['isrc'] if 'external_ids' in obj else obj['external_id_isrc']
                assert isrc_re.match(isrc), 'bad isrc %r' % isrc
                isrc_count[isrc] = isrc_count.get(isrc, 0) + 1
                if 'album' in obj:
                    assert date_re.match(obj['album']['release_date'])
                    assert 1 <= len(obj['artists']) <= 3
                    for a in obj['artists']:
                        assert id_re.match(a['id'])
            for ch in obj['name']:
                o = ord(ch)
                if 0x400 <= o < 0x500: scripts.add('cyrillic')
                elif 0x600 <= o < 0x700: scripts.add('arabic')
                elif 0x3040 <= o < 0xa000 or o >= 0x20000: scripts.add('cjk')
                elif 0xc0 <= o < 0x180: scripts.add('latin-diacritics')
        else:
            if full in seen[i]:
                c['duplicates'] += 1
            else:
                c['revisions'] += 1
                seen[i].add(full)
            if iv in seen_iv[i]:
                c['duplicates_ignoring_volatile'] += 1
            else:
                c['revisions_ignoring_volatile'] += 1
                seen_iv[i].add(iv)
    errors = []
    for k, v in c.items():
        if truth[k] != v:
            errors.append('%s: truth %s, counted %s' % (k, truth[k], v))
    if kind == 'track':
        distinct = len(isrc_count)
        shared = sum(n for n in isrc_count.values() if n > 1)
    else:
        distinct = shared = 0
    for k, v in (('distinct_isrcs', distinct), ('isrc_shared', shared),
                 ('bad_empty', blank), ('bad_noid', noid)):
        if truth[k] != v:
            errors.append('%s: truth %s, counted %s' % (k, truth[k], v))
    parts = truth['bad_malformed'] + truth['bad_utf8'] + truth['bad_binary']
    if parts != unparsable:
        errors.append('malformed+utf8+binary %d, unparsable lines %d' % (parts, unparsable))
    if truth['exact_dups'] + truth['reordered_dups'] + truth['escaped_dups'] != truth['duplicates']:
        errors.append('duplicate kinds do not add up')
    if truth['lines'] >= 20000 and truth['duplicates'] > 0:
        # artist names rarely hold '/' or characters above U+FFFF: check those on tracks
        if not escaped or (kind == 'track' and not (slash and pair)):
            errors.append('re-escaped duplicates lack \\u, \\/ or surrogate pairs')
        want = {'cyrillic', 'arabic', 'cjk', 'latin-diacritics'}
        if not want <= scripts:
            errors.append('scripts missing: %s' % (want - scripts))
    return errors

# one process for every case: starting python is the slow part of this test
for i in range(1, len(sys.argv), 2):
    try:
        errors = run(sys.argv[i], sys.argv[i + 1])
    except Exception as e:
        errors = ['%s: %s' % (type(e).__name__, e)]
    print('%s %s' % ('PASS' if not errors else 'FAIL', sys.argv[i]))
    for e in errors:
        print('# ' + e)
EOF

# Each case is generated now and verified below, all in one python run.
nv=0
names=()
verify() { # verify NAME GEN-ARGS...
	local name=$1; shift
	nv=$((nv + 1))
	names[$nv]=$name
	"$GEN" "$@" --truth "$tmp/v$nv.truth" >"$tmp/v$nv.jsonl"
}
for kind in track artist; do
	for layout in api dump; do
		for seed in 1 2 99; do
			verify "$kind/$layout/seed $seed" --seed $seed --count 20000 --kind $kind --layout $layout
		done
	done
done
# heavy rates: many repeats of the same few records, revisions of revised ids, many
# ISRC re-uses chained on each other, many bad lines of every type
verify "track/api, heavy rates" --seed 4 --count 20000 --dup-rate 0.15 --reorder-rate 0.1 \
	--escape-rate 0.1 --revision-rate 0.15 --isrc-share-rate 0.15 --near-rate 0.1 --bad-rate 0.1
verify "track/dump, heavy rates" --seed 5 --count 20000 --layout dump --dup-rate 0.2 \
	--revision-rate 0.3 --isrc-share-rate 0.3 --bad-rate 0.1
verify "artist/api, heavy rates" --seed 6 --count 20000 --kind artist --revision-rate 0.4 \
	--near-rate 0.2 --escape-rate 0.2
verify "track/api, only repeats after the first line" --seed 9 --count 3000 --dup-rate 0.5 \
	--revision-rate 0.5 --reorder-rate 0 --escape-rate 0 --isrc-share-rate 0 --near-rate 0 --bad-rate 0
verify "track/api, --clean" --seed 10 --count 20000 --clean
verify "track/api, 100 lines" --seed 12 --count 100

if [ $have_py = 1 ]; then
	args=()
	for i in $(seq 1 $nv); do args+=("$tmp/v$i.jsonl" "$tmp/v$i.truth"); done
	python3 "$tmp/verify.py" "${args[@]}" >"$tmp/verify.out" 2>&1
fi
for i in $(seq 1 $nv); do
	d="truth of ${names[$i]} matches an independent deduplicator"
	if [ $have_py = 0 ]; then
		skip "$d" "python3 not available"
	elif grep -qx "PASS $tmp/v$i.jsonl" "$tmp/verify.out"; then
		ok "$d"
	else
		not_ok "$d"
		# the case's own messages, or everything if python failed outright
		awk -v f="$tmp/v$i.jsonl" '$0 ~ /^(PASS|FAIL) / { on = ($2 == f) } on && /^#/' \
			"$tmp/verify.out" | head -20
		grep -q "^[PF][AI][SI][SL] $tmp/v$i.jsonl" "$tmp/verify.out" || sed 's/^/# /' "$tmp/verify.out" | head -20
	fi
done

echo "1..$n"
[ $failed -eq 0 ]
