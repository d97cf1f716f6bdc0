/*
 * test_ledger.c - unit tests for lib/ledger.c: the ledger and reject entry codec.
 *
 * Entries are encoded and decoded back, field by field: ids and input names with quotes,
 * backslashes, control characters and non-ASCII text; every case of FORMAT.md section 5
 * (duplicate, revision kept aside with its record, revision that superseded); rejects
 * with and without error offsets, truncated lines and raw bytes that are not UTF-8 (which
 * come back exact, from raw_base64). The encoder's bytes are checked against FORMAT.md's
 * examples, and lines that are not entries as winnow writes them must be refused. A
 * seeded randomised round trip covers ids of random bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "ledger.h"
#include "tap.h"

static const uint8_t FP[16] = { 0x63, 0x37, 0xd6, 0x07, 0x0e, 0x8b, 0x2a, 0x17, 0x7d, 0x92, 0x78, 0x0c, 0xb3, 0x71, 0x4a, 0xf2 };

static int same(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && (!al || !memcmp(a, b, al));
}

/* The encoder's and the decoder's verdicts on one entry: 1 if it decoded. */
static int coded(int enc, int rc, const wn_buf *line, const char *what)
{
	OK(!enc, "%s: encodes", what);
	OK(!rc, "%s: decodes", what);
	if (rc)
		printf("#   line: %.*s\n", (int)line->len, line->p);
	return !rc;
}

/* Encode e, decode it back with WN_LEDGER_ALL, compare every field. */
static void ledger_round_trip(const wn_ledger_entry *e, const char *what)
{
	wn_buf line = { 0 }, scratch = { 0 };
	wn_ledger_entry d, h;
	int enc = wn_ledger_encode(e, &line);
	int rc = wn_ledger_decode(line.p, line.len, WN_LEDGER_ALL, &d, &scratch);
	if (coded(enc, rc, &line, what)) {
		OK(same(d.input, d.input_len, e->input, e->input_len), "%s: input", what);
		OK(d.line == e->line && d.revision == e->revision && d.survivor == e->survivor, "%s: line, match, survivor", what);
		OK(same(d.id, d.id_len, e->id, e->id_len), "%s: id", what);
		OK(!memcmp(d.fp, e->fp, 16), "%s: fingerprint", what);
		OK(d.superseded == e->superseded, "%s: superseded", what);
		OK(!e->record ? !d.record : d.record && same(d.record, d.record_len, e->record, e->record_len), "%s: record", what);
	}
	rc = wn_ledger_decode(line.p, line.len, WN_LEDGER_HEAD, &h, NULL);
	OK(!rc && h.line == e->line &&
		h.revision == e->revision && h.survivor == e->survivor, "%s: the head alone decodes", what);
	wn_buf_free(&line);
	wn_buf_free(&scratch);
}

static wn_ledger_entry entry(const char *input, const char *id, uint64_t line, int rev, uint64_t survivor)
{
	wn_ledger_entry e = { .input = input, .input_len = strlen(input), .line = line, .revision = rev, .id = id,
		.id_len = strlen(id), .survivor = survivor, .superseded = -1 };
	memcpy(e.fp, FP, 16);
	return e;
}

static void ledger_cases(void)
{
	wn_ledger_entry e = entry("tracks.jsonl", "5CRPGdCSOfstyTVK9Ja5EQ", 1, 0, 0);
	wn_buf b = { 0 };
	wn_ledger_encode(&e, &b);
	wn_buf_puts(&b, "");
	tap_is_str(b.p, "{\"input\":\"tracks.jsonl\",\"line\":1,\"match\":\"duplicate\",\"id\":\"5CRPGdCSOfstyTVK9Ja5EQ\","
		"\"survivor\":0,\"fingerprint\":\"6337d6070e8b2a177d92780cb3714af2\"}", "a duplicate is written as FORMAT.md shows");
	wn_buf_free(&b);
	ledger_round_trip(&e, "duplicate");

	e = entry("dir/with \"quotes\" and \\backslash\\.jsonl", "id \"q\" \\ \x01\x1f\n\t\r\b\f end", 18342, 0, 77);
	ledger_round_trip(&e, "quotes, backslashes and control characters");

	e = entry("bücher/日本語.jsonl", "Ærø-\xf0\x9f\x8e\xb5-ключ", 3, 1, 9);
	e.record = "{\"id\":\"Ærø\",\"name\":\"a \\\"b\\\"\"}";
	e.record_len = strlen(e.record);
	ledger_round_trip(&e, "non-ASCII, a revision with its record");

	e = entry("(stdin)", "2IwDbXGISoQFuJ9nMagJsp", 89, 1, 80);
	e.superseded = 77;
	ledger_round_trip(&e, "a revision that superseded");

	e = entry("x", "", 1, 0, 0);
	e.input_json = "\"pre-encoded\"";
	e.input_json_len = strlen(e.input_json);
	wn_buf line = { 0 }, scratch = { 0 };
	wn_ledger_entry d;
	wn_ledger_encode(&e, &line);
	int rc = wn_ledger_decode(line.p, line.len, WN_LEDGER_ALL, &d, &scratch);
	OK(!rc && same(d.input, d.input_len, "pre-encoded", 11) &&
		same(d.input_json, d.input_json_len, "\"pre-encoded\"", 13), "input_json is written as given");
	wn_buf_free(&line);
	wn_buf_free(&scratch);
}

static int ledger_all(const char *line, size_t n, wn_buf *scratch)
{
	wn_ledger_entry d;
	return wn_ledger_decode(line, n, WN_LEDGER_ALL, &d, scratch);
}

static int reject_all(const char *line, size_t n, wn_buf *scratch)
{
	wn_reject_entry d;
	return wn_reject_decode(line, n, &d, scratch);
}

/* Each line must be refused (-1) by the decoder. */
static void refused(const char *const *bad, size_t n, int (*decode)(const char *, size_t, wn_buf *), const char *what)
{
	wn_buf scratch = { 0 };
	for (size_t i = 0; i < n; i++) {
		int rc = decode(bad[i], strlen(bad[i]), &scratch);
		OK(rc == -1, "refused: malformed %s %zu", what, i);
	}
	wn_buf_free(&scratch);
}

static void ledger_refused(void)
{
	static const char *const bad[] = {
		"",
		"{}",
		"{\"input\":\"a\",\"line\":1,\"match\":\"duplicate\",\"id\":\"x\",\"survivor\":0}",
		"{\"input\":\"a\",\"line\":1,\"match\":\"twin\",\"id\":\"x\",\"survivor\":0,\"fingerprint\":\"6337d6070e8b2a177d92780cb3714af2\"}",
		"{\"line\":1,\"input\":\"a\",\"match\":\"duplicate\",\"id\":\"x\",\"survivor\":0,\"fingerprint\":\"6337d6070e8b2a177d92780cb3714af2\"}",
		"{\"input\":\"a\", \"line\":1,\"match\":\"duplicate\",\"id\":\"x\",\"survivor\":0,\"fingerprint\":\"6337d6070e8b2a177d92780cb3714af2\"}",
		"{\"input\":\"a\",\"line\":-1,\"match\":\"duplicate\",\"id\":\"x\",\"survivor\":0,\"fingerprint\":\"6337d6070e8b2a177d92780cb3714af2\"}",
		"{\"input\":\"a,\"line\":1,\"match\":\"duplicate\",\"id\":\"x\",\"survivor\":0,\"fingerprint\":\"6337d6070e8b2a177d92780cb3714af2\"}",
		"{\"input\":\"a\",\"line\":1,\"match\":\"duplicate\",\"id\":\"x\",\"survivor\":0,\"fingerprint\":\"6337d6070e8b2a177d92780cb3714afz\"}",
		"{\"input\":\"a\",\"line\":1,\"match\":\"duplicate\",\"id\":\"x\",\"survivor\":0,\"fingerprint\":\"6337d6070e8b2a177d92780cb3714a\"}",
		"{\"input\":\"a\",\"line\":1,\"match\":\"duplicate\",\"id\":\"x\",\"survivor\":0,\"fingerprint\":\"6337d6070e8b2a177d92780cb3714af2\"",
		"{\"input\":\"a\",\"line\":1,\"match\":\"duplicate\",\"id\":\"x\",\"survivor\":0,\"fingerprint\":\"6337d6070e8b2a177d92780cb3714af2\"}x",
		"{\"input\":\"a\",\"line\":1,\"match\":\"revision\",\"id\":\"x\",\"survivor\":0,\"fingerprint\":\"6337d6070e8b2a177d92780cb3714af2\",\"superseded\":}",
		"{\"input\":\"a\",\"line\":1,\"match\":\"revision\",\"id\":\"x\",\"survivor\":0,\"fingerprint\":\"6337d6070e8b2a177d92780cb3714af2\",\"record\":[1]}",
		"{\"input\":\"a\",\"line\":1,\"match\":\"revision\",\"id\":\"x\",\"survivor\":0,\"fingerprint\":\"6337d6070e8b2a177d92780cb3714af2\",\"record\":}",
		"{\"input\":\"a\",\"line\":1,\"match\":\"duplicate\",\"id\":\"bad \\x escape\",\"survivor\":0,\"fingerprint\":\"6337d6070e8b2a177d92780cb3714af2\"}",
		"{\"input\":\"a\",\"line\":1,\"match\":\"duplicate\",\"id\":\"bad \\u12g4\",\"survivor\":0,\"fingerprint\":\"6337d6070e8b2a177d92780cb3714af2\"}",
		"{\"input\":\"a\",\"line\":1,\"match\":\"duplicate\",\"id\":\"raw \x01 control\",\"survivor\":0,\"fingerprint\":\"6337d6070e8b2a177d92780cb3714af2\"}",
		"{\"input\":\"a\",\"line\":1,\"match\":\"duplicate\",\"id\":\"x\",\"survivor\":0,\"fingerprint\":\"6337d6070e8b2a177d92780cb3714af2\",\"other\":1}",
	};
	wn_buf scratch = { 0 };
	refused(bad, sizeof bad / sizeof bad[0], ledger_all, "entry");
	/* a line cut anywhere is not an entry */
	wn_ledger_entry e = entry("in.jsonl", "abc", 5, 1, 3), d;
	e.record = "{\"id\":\"abc\"}";
	e.record_len = strlen(e.record);
	wn_buf line = { 0 };
	wn_ledger_encode(&e, &line);
	int cut_ok = 0;
	for (size_t n = 0; n < line.len; n++) {
		/* each prefix in a block of its own size, so that reading past it is seen (make
		 * check): a cut right after "record": was read one byte beyond the line */
		char *cut = malloc(n ? n : 1);
		memcpy(cut, line.p, n);
		cut_ok += wn_ledger_decode(cut, n, WN_LEDGER_ALL, &d, &scratch) == -1;
		free(cut);
	}
	IS_INT(cut_ok, line.len, "refused: every prefix of an entry");
	wn_buf_free(&line);
	wn_buf_free(&scratch);
}

/* Encode e, decode it back, compare every field. */
static void reject_round_trip(const wn_reject_entry *e, const char *what)
{
	wn_buf line = { 0 }, scratch = { 0 };
	wn_reject_entry d;
	int enc = wn_reject_encode(e, &line);
	int rc = wn_reject_decode(line.p, line.len, &d, &scratch);
	if (coded(enc, rc, &line, what)) {
		OK(same(d.input, d.input_len, e->input, e->input_len), "%s: input", what);
		OK(d.line == e->line && d.offset == e->offset && d.code == e->code, "%s: line, offset, reason", what);
		OK(same(d.detail, d.detail_len, e->detail, e->detail_len), "%s: detail", what);
		OK(d.has_error_offset == e->has_error_offset && (!d.has_error_offset || d.error_offset == e->error_offset),
			"%s: error_offset", what);
		OK(d.truncated == e->truncated && (!d.truncated || d.length == e->length), "%s: length", what);
		OK(same(d.raw, d.raw_len, e->raw, e->raw_len), "%s: raw bytes exact", what);
	}
	wn_buf_free(&line);
	wn_buf_free(&scratch);
}

static void reject_cases(void)
{
	static const char raw[] = "{\"id\":\"\xff\xfe\"}";
	wn_reject_entry e = { .input = "bad.jsonl", .input_len = 9, .line = 7, .offset = 78, .code = WN_E_UTF8,
		.detail = "invalid utf-8 byte 0xff", .detail_len = 23, .has_error_offset = 1, .error_offset = 7,
		.raw = raw, .raw_len = sizeof raw - 1 };
	wn_buf b = { 0 };
	wn_reject_encode(&e, &b);
	wn_buf_puts(&b, "");
	tap_is_str(b.p, "{\"input\":\"bad.jsonl\",\"line\":7,\"offset\":78,\"reason\":\"invalid_utf8\",\"detail\":\"invalid utf-8 "
		"byte 0xff\",\"error_offset\":7,\"raw\":\"{\\\"id\\\":\\\"\\u00ff\\u00fe\\\"}\",\"raw_base64\":\"eyJpZCI6Iv/+In0=\"}",
		"a reject is written as FORMAT.md shows");
	wn_buf_free(&b);
	reject_round_trip(&e, "invalid UTF-8, from raw_base64");

	for (size_t n = 0; n < 5; n++) {
		char what[64];
		e.raw = "\x80\x81\x82\x83\x84";
		e.raw_len = n;
		snprintf(what, sizeof what, "raw_base64 of %zu bytes", n);
		if (n)
			reject_round_trip(&e, what);
	}
	wn_reject_entry t = { .input = "q\"uo\\te\x02.jsonl", .input_len = 14, .line = 2, .offset = 100, .code = WN_E_TOOLONG,
		.detail = "record of 99 bytes is longer than the limit of 4", .detail_len = 48, .truncated = 1, .length = 99,
		.raw = "{\"id\"", .raw_len = 5 };
	reject_round_trip(&t, "a line too long, truncated");
	wn_reject_entry m = { .input = "ünï.csv", .input_len = strlen("ünï.csv"), .line = 1, .offset = 0, .code = WN_E_NOID,
		.detail = "missing id (no \"id\" field)", .detail_len = 26, .raw = "{\"a\":\"é\\t\"}", .raw_len = strlen("{\"a\":\"é\\t\"}") };
	reject_round_trip(&m, "missing id, UTF-8 raw");
	wn_reject_entry em = { .input = "(stdin)", .input_len = 7, .line = 3, .offset = 9, .code = WN_E_EMPTY,
		.detail = "empty line", .detail_len = 10, .raw = "", .raw_len = 0 };
	reject_round_trip(&em, "empty line");
	tap_is_str(wn_reject_reason(12345), "other", "an unknown code is \"other\"");

	static const char *const bad[] = {
		"{\"input\":\"a\",\"line\":1,\"offset\":0,\"reason\":\"empty_line\",\"detail\":\"x\"}",
		"{\"input\":\"a\",\"line\":1,\"offset\":0,\"reason\":\"empty_line\",\"detail\":\"x\",\"raw\":\"\"",
		"{\"input\":\"a\",\"line\":1,\"reason\":\"empty_line\",\"detail\":\"x\",\"raw\":\"\"}",
		"{\"input\":\"a\",\"line\":1,\"offset\":0,\"reason\":\"empty_line\",\"detail\":\"x\",\"length\":5,\"raw\":\"\"}",
		"{\"input\":\"a\",\"line\":1,\"offset\":0,\"reason\":\"empty_line\",\"detail\":\"x\",\"raw\":\"\",\"raw_base64\":\"abc\"}",
		"{\"input\":\"a\",\"line\":1,\"offset\":0,\"reason\":\"empty_line\",\"detail\":\"x\",\"raw\":\"\",\"raw_base64\":\"a=bc\"}",
		"{\"input\":\"a\",\"line\":1,\"offset\":0,\"reason\":\"empty_line\",\"detail\":\"x\",\"raw\":\"\",\"raw_base64\":\"ab!c\"}",
		"{\"input\":\"a\",\"line\":1,\"offset\":0,\"reason\":\"empty_line\",\"detail\":\"\\q\",\"raw\":\"\"}",
	};
	refused(bad, sizeof bad / sizeof bad[0], reject_all, "reject");
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
	return *s;
}

/* ids and names of random valid UTF-8 (ASCII, controls, quotes, 2-4 byte sequences) */
static size_t random_text(uint64_t *s, char *out, size_t cap)
{
	static const char *const pieces[] = { "\"", "\\", "\x01", "\n", "\x7f", "a", "Z", "/", "é", "日", "\xf0\x9f\x8e\xb5", " " };
	size_t n = 0, want = rnd(s) % 40;
	for (size_t i = 0; i < want; i++) {
		const char *p = pieces[rnd(s) % (sizeof pieces / sizeof pieces[0])];
		size_t l = strlen(p);
		if (n + l >= cap)
			break;
		memcpy(out + n, p, l);
		n += l;
	}
	out[n] = 0;
	return n;
}

static void randomised(void)
{
	uint64_t seed = tap_seed(), s = seed | 1;
	int bad = 0;
	wn_buf line = { 0 }, scratch = { 0 };
	for (int i = 0; i < 20000; i++) {
		char id[200], in[200];
		wn_ledger_entry e = { 0 }, d;
		e.id_len = random_text(&s, id, sizeof id);
		e.id = id;
		e.input_len = random_text(&s, in, sizeof in);
		e.input = in;
		e.line = rnd(&s) >> 20;
		e.revision = (int)(rnd(&s) & 1);
		e.survivor = rnd(&s) >> 24;
		e.superseded = rnd(&s) & 1 ? (int64_t)(rnd(&s) >> 24) : -1;
		for (int k = 0; k < 16; k++)
			e.fp[k] = (uint8_t)rnd(&s);
		line.len = 0;
		wn_ledger_encode(&e, &line);
		if (wn_ledger_decode(line.p, line.len, WN_LEDGER_ALL, &d, &scratch) || !same(d.id, d.id_len, id, e.id_len) ||
		    !same(d.input, d.input_len, in, e.input_len) || d.line != e.line || d.survivor != e.survivor ||
		    d.superseded != e.superseded || memcmp(d.fp, e.fp, 16) || d.revision != e.revision) {
			if (!bad++)
				printf("# first mismatch: %.*s\n", (int)line.len, line.p);
		}
	}
	IS_INT(bad, 0, "20000 random entries round-trip (seed %llu)", (unsigned long long)seed);
	wn_buf_free(&line);
	wn_buf_free(&scratch);
}

int main(void)
{
	ledger_cases();
	ledger_refused();
	reject_cases();
	randomised();
	return tap_done();
}
