#!/usr/bin/env bash
# t0660-ingest-xml.sh - XML documents (the Discogs dumps): one record per child element
# of the root, by the mapping of doc/FORMAT.md "XML records"; broken documents stop the
# run with libxml2's reason and line; entities are never loaded; a killed run resumes.
. "$(dirname "$0")/lib.sh"

# ---- the mapping, case by case ----
"$WINNOW" ingest -C "$T/m" -q --json "$TOP/tests/data/xml-mapping.xml" >"$T/m.json" 2>"$T/m.err"
is "the mapping file: read 10, kept 9, rejected 1 (the record without an id)" "$(counts "$T/m.json")" "10 9 0 0 1"
"$WINNOW" export -C "$T/m" >"$T/m.jsonl"
cat >"$T/want.jsonl" <<'JSON'
{"id":"1","status":"Accepted","title":"Stockholm","country":"Sweden"}
{"id":"2","artists":[{"id":"7","name":"One"}]}
{"id":"3","artists":[{"id":"7"},{"id":"8"}]}
{"id":"4","genre":["Electronic","Jazz"],"style":"House"}
{"id":"5","master_id":{"is_main_release":"true","#text":"1660109"}}
{"id":"6","notes":"two\nlines & a ⅓ <tag>","anv":"","empty":""}
{"@id":"7","id":"77","title":"a <b> c"}
{"id":"9","tracklist":[{"position":"A","title":"Östermalm"}]}
{"#text":"mixed  here","id":"10","b":"text"}
JSON
if diff "$T/want.jsonl" "$T/m.jsonl" >"$T/d"; then ok "every mapping case gives the documented JSON"
else not_ok "every mapping case gives the documented JSON"; diag "$(cat "$T/d")"; fi
zstd -dc "$T"/m/rejects/*.zst >"$T/rej"
if grep -q '"reason":"missing_id"' "$T/rej" && grep -q 'Svek' "$T/rej"; then ok "the record without an id is in the rejects file, as JSON"
else not_ok "the record without an id is in the rejects file, as JSON"; diag "$(cat "$T/rej")"; fi
# a record's position is where its start tag begins (was: where the parser had read ahead to)
want_off=$(grep -b -o '<release><label' "$TOP/tests/data/xml-mapping.xml" | cut -d: -f1)
if grep -q '"line":12,"offset":'"$want_off"',' "$T/rej"; then ok "... at the line and byte of its start tag (line 12, byte $want_off)"
else not_ok "... at the line and byte of its start tag (line 12, byte $want_off)"; diag "$(cat "$T/rej")"; fi
# the same document again: all duplicates (the mapping is deterministic)
"$WINNOW" ingest -C "$T/m" -q --json "$TOP/tests/data/xml-mapping.xml" >"$T/m2.json" 2>/dev/null
is "the same document again: every record a duplicate" "$(counts "$T/m2.json")" "10 0 9 0 1"
# by content, not by name; and --format xml
cp "$TOP/tests/data/xml-mapping.xml" "$T/noext"
"$WINNOW" ingest -C "$T/n" -q --json "$T/noext" >"$T/n.json" 2>/dev/null
is "an XML document is recognised by its first bytes" "$(json_get "$T/n.json" kept)" 9
"$WINNOW" ingest -C "$T/s" -q --json --format xml - <"$TOP/tests/data/xml-mapping.xml" >"$T/s.json" 2>/dev/null
is "--format xml from standard input" "$(json_get "$T/s.json" kept)" 9

# ---- broken documents: a fatal error with libxml2's reason and the line ----
printf '<a>\n<r id="1">x</r>\n<r id="2"><x>1</r>\n</a>\n' >"$T/bad.xml"
must_fail "a tag mismatch stops the run" 3 "$WINNOW" ingest -C "$T/b" -q "$T/bad.xml"
if grep -q 'bad.xml line 3: not well-formed XML: .*mismatch.*line 3' "$T/.err"; then ok "... naming the reason and line 3 (of the error, not of the last record)"
else not_ok "... naming the reason and line 3 (of the error, not of the last record)"; diag "$(cat "$T/.err")"; fi
printf '<a><r id="1">x</r><r id="2">' >"$T/trunc.xml"
must_fail "a truncated document stops the run" 3 "$WINNOW" ingest -C "$T/tr" -q "$T/trunc.xml"
grep -q 'XML' "$T/.err" && ok "... saying so" || { not_ok "... saying so"; diag "$(cat "$T/.err")"; }

# ---- entities: never loaded, never expanded; the record is rejected with the reason ----
echo "secret-$$-value" >"$T/secret.txt"
printf '<!DOCTYPE a [<!ENTITY x SYSTEM "file://%s"><!ENTITY y "inner">]>\n<a><r id="1">&x;</r><r id="2">&y;</r><r id="3">ok</r></a>\n' "$T/secret.txt" >"$T/ent.xml"
"$WINNOW" ingest -C "$T/e" -q --json "$T/ent.xml" >"$T/e.json" 2>"$T/e.err"
is "entity references: two records rejected, one kept" "$(counts "$T/e.json")" "3 1 0 0 2"
if ! grep -rqa "secret-$$-value" "$T/e" && ! zstd -dc "$T"/e/shards/*.zst "$T"/e/rejects/*.zst "$T"/e/ledger/*.zst 2>/dev/null | grep -q "secret-$$"; then
	ok "an external entity's file is never read into the catalog"
else not_ok "an external entity's file is never read into the catalog"; fi
zstd -dc "$T"/e/rejects/*.zst | grep -q "entity reference that is not expanded" && ok "... the rejects file names the entity reference" || not_ok "... the rejects file names the entity reference"

# ---- what libxml2's tree told apart, and what it expanded, the records keep ----
# namespaces: a prefix declared on the element itself is a name of its own (libxml2's
# tree gives it a namespace node of its own); an undeclared prefix stays in the name
printf '<r xmlns:a="u1"><x id="1"><a:t>1</a:t><a:t>2</a:t><t>3</t><b:t xmlns:b="u1">4</b:t><b:t xmlns:b="u1">5</b:t><c:t>6</c:t><c:t>7</c:t></x><x id="2" xmlns="d"><t>1</t><t xmlns="e">2</t><t>3</t><q a:z="1" xml:lang="en" c:y="2" z="3"/></x><x id="3"><z xmlns="">1</z><z>2</z></x></r>\n' >"$T/ns.xml"
cat >"$T/ns.want" <<'JSON'
{"id":"1","a:t":["1","2"],"t":"3","b:t":"4","b:t":"5","c:t":["6","7"]}
{"id":"2","t":["1","3"],"t":"2","q":{"a:z":"1","xml:lang":"en","c:y":"2","z":"3"}}
{"id":"3","z":["1","2"]}
JSON
# (a name declared twice makes members of one name: the records as the source makes them)
"$(dirname "$WINNOW")/tests/tools/wn-records" "$T/ns.xml" | cut -f2 | grep -v '^end$' >"$T/ns.got"
if cmp -s "$T/ns.want" "$T/ns.got"; then ok "namespaces: the members libxml2's tree gives"
else not_ok "namespaces: the members libxml2's tree gives"; diag "$(diff "$T/ns.want" "$T/ns.got")"; fi
# entities in attribute values are expanded (as in libxml2's tree), in text they reject
# the record; attributes the DTD defaults are not added; text in pieces is joined
printf '<!DOCTYPE r [<!ENTITY e "E&amp;F"><!ENTITY f "&e;G"><!ATTLIST x d CDATA "def">]>\n<r><x id="1" a="&e;" b="&f;&#65;&lt;"/><x id="2">a&amp;b<!--c-->c&#65;<y/>d<![CDATA[e]]>f</x><x id="3"><y>&e;</y></x></r>\n' >"$T/ea.xml"
"$WINNOW" ingest -C "$T/ea" -q --json "$T/ea.xml" >"$T/ea.json" 2>/dev/null
is "entities: read 3, kept 2, rejected 1" "$(counts "$T/ea.json")" "3 2 0 0 1"
"$WINNOW" export -C "$T/ea" >"$T/ea.got"
printf '%s\n' '{"id":"1","a":"E&F","b":"E&FGA<"}' '{"id":"2","#text":"a&bcAdef","y":""}' >"$T/ea.want"
if cmp -s "$T/ea.want" "$T/ea.got"; then ok "... attribute entities expanded, no defaulted attribute, text pieces joined"
else not_ok "... attribute entities expanded, no defaulted attribute, text pieces joined"; diag "$(diff "$T/ea.want" "$T/ea.got")"; fi

# ---- an element larger than the memory allowed is rejected, not held ----
# --memory 16M: an element may take 4 MiB; this one has 300000 children (17 MB as a tree)
awk 'BEGIN { printf "<r><x id=\"1\">a</x>\n<x id=\"2\">"; for (i = 0; i < 300000; i++) printf "<a>b</a>"; printf "</x>\n<x id=\"3\">c</x></r>\n" }' >"$T/wide.xml"
"$WINNOW" ingest -C "$T/w" --json --memory 16M --max-line 1000 "$T/wide.xml" >"$T/w.json" 2>"$T/w.err"
is "an element too large for --memory: read 3, kept 2, rejected 1" "$(counts "$T/w.json")" "3 2 0 0 1"
if grep -q 'wide.xml line 2: an XML element too large to convert in a quarter of --memory' "$T/w.err"; then ok "... with its line and the reason"
else not_ok "... with its line and the reason"; diag "$(cat "$T/w.err")"; fi
# the same element within the default --memory: too long for --max-line, with its length
"$WINNOW" ingest -C "$T/w2" --json --max-line 1000 "$T/wide.xml" >"$T/w2.json" 2>"$T/w2.err"
if grep -q 'wide.xml line 2: record of 1200016 bytes is longer than the limit of 1000' "$T/w2.err"; then ok "... and within the default --memory, too long for --max-line, with its JSON's length"
else not_ok "... and within the default --memory, too long for --max-line, with its JSON's length"; diag "$(cat "$T/w2.err")"; fi
# libxml2's limit on one text node (10 MB) holds as it did for its tree: a fatal error
awk 'BEGIN { printf "<r><x id=\"1\">"; s = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; for (i = 0; i < 110000; i++) printf "%s", s; printf "</x></r>\n" }' >"$T/huge.xml"
must_fail "a text node over 10 MB stops the run" 3 "$WINNOW" ingest -C "$T/h" -q "$T/huge.xml"
grep -q 'huge text node' "$T/.err" && ok "... with libxml2's reason" || { not_ok "... with libxml2's reason"; diag "$(cat "$T/.err")"; }

# ---- a killed run resumes and ends with the same catalog ----
awk 'BEGIN { print "<releases>"; for (i = 1; i <= 60000; i++) printf "<release id=\"%d\"><title>t%d</title><tracks><track>%d</track></tracks></release>\n", i, i, i % 977; print "</releases>" }' >"$T/big.xml"
"$WINNOW" ingest -C "$T/ref" -q --json "$T/big.xml" >"$T/ref.json" 2>/dev/null
is "60000 generated releases: all kept" "$(json_get "$T/ref.json" kept)" 60000
kill_after_checkpoint "$T/k" 200 "$WINNOW" ingest -C "$T/k" -q --checkpoint 5000 "$T/big.xml"
if [ $killed = 1 ]; then
	"$WINNOW" ingest -C "$T/k" -q --json --checkpoint 5000 "$T/big.xml" >"$T/k.json" 2>/dev/null
	r=$(json_get "$T/k.json" resumed)
	if [ -n "$r" ] && [ "$r" -gt 0 ]; then ok "the rerun resumed after $r records"; else not_ok "the rerun resumed ($r)"; fi
	adds_up "$T/k.json" "the resumed run"
	"$WINNOW" export -C "$T/ref" >"$T/ref.out"; "$WINNOW" export -C "$T/k" >"$T/k.out"
	cmp -s "$T/ref.out" "$T/k.out" && ok "killed and resumed: the same records as one clean run" || not_ok "killed and resumed: the same records as one clean run"
	"$WINNOW" verify -C "$T/k" --deep >/dev/null 2>&1 && ok "verify --deep: clean" || not_ok "verify --deep: clean"
else
	skip "the rerun resumed" "no run was killed after a checkpoint in 10 tries"
fi

# ---- the real Discogs samples ----
if [ -d "$SHARED/discogs" ]; then
	for f in releases artists; do
		k=track; [ $f = artists ] && k=artist
		zcat "$SHARED/discogs/discogs_20200806_$f.xml.gz" >"$T/$f.xml"
		"$WINNOW" ingest -C "$T/d-$f" -q --json --kind $k "$T/$f.xml" >"$T/d-$f.json" 2>/dev/null
		is "Discogs $f sample: 1000 read, 1000 kept" "$(json_get "$T/d-$f.json" read) $(json_get "$T/d-$f.json" kept)" "1000 1000"
	done
	"$WINNOW" get -C "$T/d-releases" 1 >"$T/r1.json"
	if grep -q '"title":"Stockholm"' "$T/r1.json" && grep -q '"tracklist":\[{"position":"A","title":"Östermalm"' "$T/r1.json"; then
		ok "Discogs release 1 as a record: title, tracklist as an array"
	else not_ok "Discogs release 1 as a record"; diag "$(head -c 400 "$T/r1.json")"; fi
else
	skip "Discogs samples" "no ../shared/data/real/discogs"
fi
