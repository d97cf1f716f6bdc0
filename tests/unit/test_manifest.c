/*
 * test_manifest.c - unit tests for the MANIFEST.json decoder of lib/manifest.c and the
 * integers of lib/jread.c it reads them with.
 *
 * What the writer writes must come back exact, every member usable; and a member winnow
 * always writes that is missing, or whose value is not an integer from 0 to 2^64-1 (a
 * string, null, a boolean, a fraction, an exponent, a sign, 2^64) or not a known name or
 * hash, must come back unusable with the reason and the line of its object, never as a
 * value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "jread.h"
#include "manifest.h"
#include "tap.h"

/* ---- wn_jread_u64 ---- */

static void u64_case(const char *text, int want_rc, const char *want_why, uint64_t want_v)
{
	wn_jread j = { text, text + strlen(text) };
	uint64_t v = 12345;
	const char *why = "unset";
	int rc = wn_jread_u64(&j, &v, &why);
	IS_INT(rc, want_rc, "u64 %s: return code", text);
	if (rc)
		return;
	if (!want_why) {
		OK(!why && v == want_v, "u64 %s: the value %llu", text, (unsigned long long)want_v);
		if (why)
			printf("#   why: %s\n", why);
	} else {
		OK(why && strstr(why, want_why), "u64 %s: refused, \"%s\"", text, want_why);
		if (why && !strstr(why, want_why))
			printf("#   why: %s\n", why);
	}
	OK(j.p == j.e || *j.p == ',', "u64 %s: passed over the whole value", text);
}

static void test_u64(void)
{
	u64_case("0", 0, NULL, 0);
	u64_case("143", 0, NULL, 143);
	u64_case("18446744073709551615", 0, NULL, UINT64_MAX);
	u64_case("18446744073709551610", 0, NULL, UINT64_MAX - 5);
	u64_case("18446744073709551616", 0, "larger than 2^64-1", 0);
	u64_case("99999999999999999999999", 0, "larger than 2^64-1", 0);
	u64_case("-1", 0, "negative", 0);
	u64_case("1e3", 0, "fraction or an exponent", 0);
	u64_case("1.5", 0, "fraction or an exponent", 0);
	u64_case("\"x\"", 0, "a string", 0);
	u64_case("null", 0, "null", 0);
	u64_case("true", 0, "a boolean", 0);
	u64_case("{\"a\":1}", 0, "an object", 0);
	u64_case("[1,2]", 0, "an array", 0);
	u64_case(",", -1, NULL, 0);
}

/* ---- files[] ---- */

typedef struct seen {
	int n;
	wn_mfile m[8];
	char path[8][64];
	int have_path[8];
	int nfield;
	char field[8][64];
	unsigned fline[8];
	const char *fwhy[8];
} seen;

static int on_file(void *ud, size_t idx, const char *path, size_t plen, int have_path, const wn_mfile *m)
{
	seen *s = ud;
	if (s->n < 8) {
		s->m[s->n] = *m;
		snprintf(s->path[s->n], sizeof s->path[0], "%.*s", (int)plen, path);
		s->have_path[s->n] = have_path;
		s->n++;
	}
	return 0;
}

static void on_field(void *ud, unsigned line, const char *field, const char *why)
{
	seen *s = ud;
	if (s->nfield < 8) {
		snprintf(s->field[s->nfield], sizeof s->field[0], "%s", field);
		s->fline[s->nfield] = line;
		s->fwhy[s->nfield] = why;
		s->nfield++;
	}
}

static const char *COUNTS =
	"\"counts\":{\"track\":{\"records\":2,\"read\":3,\"kept\":2,\"duplicates\":1,\"revisions\":0,\"rejected\":0,"
	"\"superseded\":0},\"artist\":{\"records\":0,\"read\":0,\"kept\":0,\"duplicates\":0,\"revisions\":0,"
	"\"rejected\":0,\"superseded\":0}}}\n";

/* A MANIFEST.json with one ledger object and the given shard object, read back. */
static void read_doc(const char *shard, seen *s, wn_mjson *out)
{
	wn_buf b = { 0 };
	wn_buf_printf(&b, "{\"format_version\":1,\"fingerprint_version\":1,\"generation\":1,\"files\":[\n"
		"  {\"path\":\"ledger/track-000001.jsonl.zst\",\"role\":\"ledger\",\"kind\":\"track\",\"bytes\":10,"
		"\"raw_bytes\":20,\"records\":1,\"frames\":1,\"xxh128\":\"000102030405060708090a0b0c0d0e0f\"},\n  %s\n],%s",
		shard, COUNTS);
	memset(s, 0, sizeof *s);
	wn_mjson_cb cb = { .file = on_file, .field = on_field, .ud = s };
	IS_INT(wn_mjson_read(b.p, b.len, &cb, out), 0, "read: returns 0");
	wn_buf_free(&b);
}

#define SHARD_OK "{\"path\":\"shards/track-000001.jsonl.zst\",\"role\":\"shard\",\"kind\":\"track\",\"bytes\":300," \
	"\"raw_bytes\":18446744073709551615,\"records\":2,\"frames\":1,\"xxh128\":\"ffeeddccbbaa99887766554433221100\"," \
	"\"first_ordinal\":0,\"last_ordinal\":1}"

static void test_good(void)
{
	seen s;
	wn_mjson out;
	read_doc(SHARD_OK, &s, &out);
	IS_INT(s.n, 2, "good: two file objects");
	IS_INT(out.bad, 0, "good: the layout is winnow's");
	OK(out.have_counts && out.counts[0][WN_C_read] == 3, "good: counts read");
	OK(out.have_generation && out.generation == 1, "good: generation read");
	IS_INT(s.nfield, 0, "good: no member of the top level named");
	int unusable = 0;
	for (int f = 0; f < s.n; f++)
		for (int i = 0; i < WN_MF_N; i++)
			unusable += s.m[f].why[i] != NULL;
	IS_INT(unusable, 0, "good: every member usable");
	IS_INT(s.m[0].line, 2, "good: the ledger object is on line 2");
	IS_INT(s.m[1].line, 3, "good: the shard object is on line 3");
	OK(s.m[1].have[WN_MF_RAW_BYTES] && s.m[1].raw_bytes == UINT64_MAX, "good: 2^64-1 is a value");
	OK(s.m[1].role == WN_ROLE_SHARD && s.m[1].kind == 0 && s.m[1].records == 2 && s.m[1].xxh128[0] == 0xff,
		"good: role, kind, records and xxh128 decoded");
	tap_is_str(s.path[1], "shards/track-000001.jsonl.zst", "good: the path");
}

/* A shard object with one member changed (from "FROM" text to "TO" text in SHARD_OK). */
static void bad_case(const char *from, const char *to, int field, const char *want_why)
{
	char shard[1024];
	const char *at = strstr(SHARD_OK, from);
	if (!at) {
		OK(0, "test set-up: %s is in the shard object", from);
		return;
	}
	snprintf(shard, sizeof shard, "%.*s%s%s", (int)(at - SHARD_OK), SHARD_OK, to, at + strlen(from));
	seen s;
	wn_mjson out;
	read_doc(shard, &s, &out);
	IS_INT(s.n, 2, "%s -> %s: both objects handed over", from, to);
	if (s.n < 2)
		return;
	const wn_mfile *m = &s.m[1];
	OK(!m->have[field], "%s -> %s: \"%s\" is not usable", from, to, wn_mfield_name(field));
	OK(m->why[field] && strstr(m->why[field], want_why), "%s -> %s: why: %s", from, to, want_why);
	if (m->why[field] && !strstr(m->why[field], want_why))
		printf("#   why: %s\n", m->why[field]);
	IS_INT(m->line, 3, "%s -> %s: the line of the object", from, to);
	int others = 0;
	for (int i = 0; i < WN_MF_N; i++)
		others += i != field && m->why[i] != NULL;
	IS_INT(others, 0, "%s -> %s: no other member named", from, to);
}

static void test_bad(void)
{
	static const struct { const char *name; int field; } num[] = {
		{ "\"bytes\":300", WN_MF_BYTES }, { "\"raw_bytes\":18446744073709551615", WN_MF_RAW_BYTES },
		{ "\"records\":2", WN_MF_RECORDS }, { "\"frames\":1", WN_MF_FRAMES },
		{ "\"first_ordinal\":0", WN_MF_FIRST_ORDINAL }, { "\"last_ordinal\":1", WN_MF_LAST_ORDINAL },
	};
	static const struct { const char *v, *why; } vals[] = {
		{ "\"x\"", "a string" }, { "1e3", "exponent" }, { "-1", "negative" }, { "null", "null" },
		{ "18446744073709551616", "larger than 2^64-1" }, { "2.0", "fraction" }, { "false", "boolean" },
	};
	char to[128];
	for (size_t f = 0; f < sizeof num / sizeof num[0]; f++) {
		const char *colon = strchr(num[f].name, ':');
		for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++) {
			snprintf(to, sizeof to, "%.*s%s", (int)(colon + 1 - num[f].name), num[f].name, vals[v].v);
			bad_case(num[f].name, to, num[f].field, vals[v].why);
		}
		/* removed: "name":N, */
		snprintf(to, sizeof to, "%s,", num[f].name);
		if (strstr(SHARD_OK, to))
			bad_case(to, "", num[f].field, "missing");
		else {
			snprintf(to, sizeof to, ",%s", num[f].name);
			bad_case(to, "", num[f].field, "missing");
		}
	}
	bad_case("\"role\":\"shard\",", "", WN_MF_ROLE, "missing");
	bad_case("\"role\":\"shard\"", "\"role\":\"x\"", WN_MF_ROLE, "not a role");
	bad_case("\"role\":\"shard\"", "\"role\":0", WN_MF_ROLE, "not a string");
	bad_case("\"kind\":\"track\",", "", WN_MF_KIND, "missing");
	bad_case("\"kind\":\"track\"", "\"kind\":\"Track\"", WN_MF_KIND, "not a kind name");
	bad_case("\"kind\":\"track\"", "\"kind\":\"9x\"", WN_MF_KIND, "not a kind name");
	bad_case("\"kind\":\"track\"", "\"kind\":\"re-lease\"", WN_MF_KIND, "not a kind name");
	bad_case("\"kind\":\"track\"", "\"kind\":\"a23456789012345678901234567890123\"", WN_MF_KIND, "not a kind name");
	bad_case("\"kind\":\"track\"", "\"kind\":null", WN_MF_KIND, "not a string");
	bad_case("\"xxh128\":\"ffeeddccbbaa99887766554433221100\",", "", WN_MF_XXH128, "missing");
	bad_case("\"xxh128\":\"ffeeddccbbaa99887766554433221100\"", "\"xxh128\":\"zz\"", WN_MF_XXH128, "32 hex digits");
	bad_case("\"xxh128\":\"ffeeddccbbaa99887766554433221100\"", "\"xxh128\":7", WN_MF_XXH128, "not a string");
	bad_case("\"xxh128\":\"ffeeddccbbaa99887766554433221100\"",
		"\"xxh128\":\"ffeeddccbbaa99887766554433221100\",\"sha256\":\"00\"", WN_MF_SHA256, "64 hex digits");
	bad_case("\"path\":\"shards/track-000001.jsonl.zst\"", "\"path\":3", WN_MF_PATH, "not a string");
	bad_case("\"path\":\"shards/track-000001.jsonl.zst\",", "", WN_MF_PATH, "missing");
}

/* A shard without records has no ordinals; a ledger never has them. */
static void test_optional(void)
{
	seen s;
	wn_mjson out;
	read_doc("{\"path\":\"shards/track-000001.jsonl.zst\",\"role\":\"shard\",\"kind\":\"track\",\"bytes\":300,"
		"\"raw_bytes\":0,\"records\":0,\"frames\":0,\"xxh128\":\"ffeeddccbbaa99887766554433221100\"}", &s, &out);
	int unusable = 0;
	for (int i = 0; i < WN_MF_N && s.n == 2; i++)
		unusable += s.m[1].why[i] != NULL;
	OK(s.n == 2 && !unusable, "a shard without records needs no ordinals");
	OK(s.n == 2 && !s.m[0].why[WN_MF_FIRST_ORDINAL], "a ledger needs no ordinals");
}

/* The top level: generation and counts, named by field and line. */
static void test_top(void)
{
	const char *doc = "{\"format_version\":1,\"fingerprint_version\":1,\"generation\":-3,\"files\":[\n],\n"
		"\"counts\":{\"track\":{\"records\":2,\"read\":null,\"kept\":2,\"duplicates\":1,\"revisions\":0,\"rejected\":0},\n"
		"\"artist\":{\"records\":0,\"read\":0,\"kept\":0,\"duplicates\":0,\"revisions\":0,\"rejected\":0,\"superseded\":0}}}\n";
	seen s;
	wn_mjson out;
	memset(&s, 0, sizeof s);
	wn_mjson_cb cb = { .file = on_file, .field = on_field, .ud = &s };
	IS_INT(wn_mjson_read(doc, strlen(doc), &cb, &out), 0, "top: read returns 0");
	IS_INT(s.nfield, 3, "top: three members named");
	if (s.nfield == 3) {
		tap_is_str(s.field[0], "generation", "top: generation named");
		IS_INT(s.fline[0], 1, "top: generation on line 1");
		OK(strstr(s.fwhy[0], "negative") != NULL, "top: generation is negative");
		tap_is_str(s.field[1], "counts.track.read", "top: counts.track.read named");
		IS_INT(s.fline[1], 3, "top: on line 3");
		OK(strstr(s.fwhy[1], "null") != NULL, "top: it is null");
		tap_is_str(s.field[2], "counts.track.superseded", "top: counts.track.superseded named");
		OK(strstr(s.fwhy[2], "missing") != NULL, "top: it is missing");
	}
	OK(!out.have_generation && !out.have_counts, "top: neither generation nor counts usable");
}

/* Kinds: numbered in the order counts names them although files[] comes first; a kind
 * only files[] names is added after, and its counts are missing; a name that breaks the
 * rule is named, not taken. */
static void test_kinds(void)
{
	static const char *const zero = "{\"records\":0,\"read\":0,\"kept\":0,\"duplicates\":0,\"revisions\":0,"
		"\"rejected\":0,\"superseded\":0}";
	wn_buf b = { 0 };
	wn_buf_printf(&b, "{\"format_version\":1,\"fingerprint_version\":1,\"generation\":1,\"files\":[\n"
		"  {\"path\":\"ledger/label-000001.jsonl.zst\",\"role\":\"ledger\",\"kind\":\"label\",\"bytes\":10,"
		"\"raw_bytes\":20,\"records\":1,\"frames\":1,\"xxh128\":\"000102030405060708090a0b0c0d0e0f\"},\n"
		"  {\"path\":\"ledger/master-000001.jsonl.zst\",\"role\":\"ledger\",\"kind\":\"master\",\"bytes\":10,"
		"\"raw_bytes\":20,\"records\":1,\"frames\":1,\"xxh128\":\"000102030405060708090a0b0c0d0e0f\"}\n"
		"],\"counts\":{\"track\":%s,\"artist\":%s,\"release\":%s,\"label\":%s,\"Bad\":%s}}\n", zero, zero, zero, zero, zero);
	seen s;
	wn_mjson out;
	memset(&s, 0, sizeof s);
	wn_mjson_cb cb = { .file = on_file, .field = on_field, .ud = &s };
	IS_INT(wn_mjson_read(b.p, b.len, &cb, &out), 0, "kinds: read returns 0");
	IS_INT(out.kinds.n, 5, "kinds: track, artist, the two counts names, the one only files[] names");
	if (out.kinds.n == 5) {
		tap_is_str(out.kinds.name[2], "release", "kinds: release third (counts' order)");
		tap_is_str(out.kinds.name[3], "label", "kinds: label fourth");
		tap_is_str(out.kinds.name[4], "master", "kinds: master last");
	}
	OK(s.n == 2 && s.m[0].kind == 3 && s.m[1].kind == 4, "kinds: the file callback sees the final numbers");
	OK(!out.have_counts, "kinds: counts not usable (a bad name, master missing)");
	int bad = 0, missing = 0;
	for (int i = 0; i < s.nfield; i++) {
		bad += !strcmp(s.field[i], "counts.Bad") && strstr(s.fwhy[i], "not a kind name");
		missing += !strcmp(s.field[i], "counts.master") && strstr(s.fwhy[i], "missing");
	}
	OK(bad == 1, "kinds: counts.Bad named as not a kind name");
	OK(missing == 1, "kinds: counts.master named missing");
	/* a table given by the caller: its kinds keep their numbers and must be counted */
	wn_kinds t;
	wn_kinds_init(&t);
	wn_kinds_add(&t, "label", 5);
	wn_kinds_add(&t, "recording", 9);
	memset(&s, 0, sizeof s);
	cb.kinds = &t;
	wn_mjson_read(b.p, b.len, &cb, &out);
	OK(t.n == 6 && !strcmp(t.name[2], "label") && !strcmp(t.name[4], "release") && !strcmp(t.name[5], "master"),
		"kinds: the caller's table kept, the others added after it");
	OK(s.n == 2 && s.m[0].kind == 2 && s.m[1].kind == 5, "kinds: files numbered in the caller's table");
	missing = 0;
	for (int i = 0; i < s.nfield; i++)
		missing += !strcmp(s.field[i], "counts.recording");
	OK(missing == 1, "kinds: a kind of the caller's table without counts is named");
	wn_buf_free(&b);
	/* the name rule */
	OK(wn_kind_valid("a") && wn_kind_valid("release_group") && wn_kind_valid("k64") &&
		wn_kind_valid("a2345678901234567890123456789012"), "kind names that follow the rule");
	OK(!wn_kind_valid("") && !wn_kind_valid(NULL) && !wn_kind_valid("A") && !wn_kind_valid("_a") &&
		!wn_kind_valid("1a") && !wn_kind_valid("a-b") && !wn_kind_valid("a.b") && !wn_kind_valid("a/b") &&
		!wn_kind_valid("a23456789012345678901234567890123"), "kind names that break it");
	size_t kl;
	uint32_t seq;
	OK(!wn_kind_file_name("release_group-000012.jsonl.zst", &kl, &seq) && kl == 13 && seq == 12, "a data file name split");
	OK(wn_kind_file_name("Release-000012.jsonl.zst", &kl, &seq) && wn_kind_file_name("release-12.jsonl.zst", &kl, &seq) &&
		wn_kind_file_name("release-000000.jsonl.zst", &kl, &seq) && wn_kind_file_name("release-000001.jsonl", &kl, &seq),
		"names that are not a data file's");
}

int main(void)
{
	test_u64();
	test_good();
	test_bad();
	test_optional();
	test_top();
	test_kinds();
	return tap_done();
}
