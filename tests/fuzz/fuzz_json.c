/*
 * fuzz_json.c - libFuzzer target for lib/json.c.
 *
 * Parses the input as one record with a few slots and ignore paths set. Whatever the
 * input, the parser must not crash and must either fail with a record-level code and a
 * reason, or succeed on strictly valid UTF-8. When it succeeds, more must hold:
 * - the fingerprint is XXH3-128 of the canonical bytes, and parsing again gives the
 *   same bytes;
 * - the canonical bytes, written back out as JSON (wn_json_quote() for the strings),
 *   parse to exactly the same canonical bytes;
 * - every string slot, quoted with wn_json_quote() and parsed again, comes back as
 *   the same bytes; other slots point into the input at a value of their type.
 *
 * Build: make fuzz (or clang -fsanitize=fuzzer,address,undefined -Iinclude -Ilib
 * tests/fuzz/fuzz_json.c lib/json.c -lxxhash); run: build-fuzz/fuzz_json tests/data
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "winnow.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const slot_paths[] = { "id", "album.name", "external_ids.isrc", "a", "a.b", "n" };
static const char *const ignore_paths[] = { "fetched_at", "album.popularity", "a.b.c" };

static int valid_utf8(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t len, k;
		uint8_t c = s[i];
		if (c < 0x80) { i++; continue; }
		if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
		else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
		else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
		else return 0;
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

struct buf {
	char *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		if (!(b->p = realloc(b->p, b->cap)))
			abort();
	}
	if (n)
		memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void put_quoted(struct buf *b, const uint8_t *s, size_t n)
{
	char *q = malloc(6 * n + 2);
	if (!q)
		abort();
	put(b, q, wn_json_quote(q, (const char *)s, n));
	free(q);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Canonical bytes back to JSON text; returns bytes used, 0 if malformed. */
static size_t to_json(const uint8_t *c, size_t n, struct buf *out)
{
	size_t used, len, k;
	uint32_t cnt, i;

	if (n < 1)
		return 0;
	switch (c[0]) {
	case 'n': put(out, "null", 4); return 1;
	case 't': put(out, "true", 4); return 1;
	case 'f': put(out, "false", 5); return 1;
	case 'd':
	case 's':
		if (n < 5 || (len = get32(c + 1)) > n - 5)
			return 0;
		if (c[0] == 'd')
			put(out, c + 5, len);
		else
			put_quoted(out, c + 5, len);
		return 5 + len;
	case 'a':
	case 'o':
		if (n < 5)
			return 0;
		cnt = get32(c + 1);
		used = 5;
		put(out, c[0] == 'a' ? "[" : "{", 1);
		for (i = 0; i < cnt; i++) {
			if (i)
				put(out, ",", 1);
			if (c[0] == 'o') {
				if (n - used < 4 || (len = get32(c + used)) > n - used - 4)
					return 0;
				put_quoted(out, c + used + 4, len);
				put(out, ":", 1);
				used += 4 + len;
			}
			if (!(k = to_json(c + used, n - used, out)))
				return 0;
			used += k;
		}
		put(out, c[0] == 'a' ? "]" : "}", 1);
		return used;
	}
	return 0;
}

static wn_json *setup(void)
{
	wn_json *j = wn_json_new();
	size_t i;

	if (!j)
		abort();
	for (i = 0; i < sizeof slot_paths / sizeof *slot_paths; i++)
		if (wn_json_set_slot(j, (int)i, slot_paths[i]))
			abort();
	for (i = 0; i < sizeof ignore_paths / sizeof *ignore_paths; i++)
		if (wn_json_add_ignore(j, ignore_paths[i]))
			abort();
	return j;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static wn_json *j, *k;
	wn_jresult r, r2;
	XXH128_canonical_t c;
	struct buf canon = { 0 }, json = { 0 };
	uint8_t fp[16];
	int rc, i;

	if (!j) {
		j = setup();
		k = wn_json_new();
		if (!k || wn_json_set_slot(k, 0, "k"))
			abort();
	}
	rc = wn_json_record(j, (const char *)data, size, &r);
	if (rc) {
		if (rc != WN_E_PARSE && rc != WN_E_UTF8 && rc != WN_E_DEPTH && rc != WN_E_DUPKEY &&
		    rc != WN_E_NOTOBJECT)
			abort();
		if (!r.err[0] || r.err_offset > size || r.canon)
			abort();
		for (i = 0; i < WN_JSON_MAX_SLOTS; i++)
			if (r.slot[i].type != WN_JT_NONE)
				abort();
		return 0;
	}
	if (!valid_utf8(data, size) || r.canon_len < 5 || r.canon[0] != 'o')
		abort();
	XXH128_canonicalFromHash(&c, XXH3_128bits(r.canon, r.canon_len));
	if (memcmp(c.digest, r.fp, 16) != 0)
		abort();
	memcpy(fp, r.fp, 16);
	put(&canon, r.canon, r.canon_len);

	/* Slots: where they point and what they hold. */
	for (i = 0; i < WN_JSON_MAX_SLOTS; i++) {
		const wn_jslot *s = &r.slot[i];
		const char *in = (const char *)data;
		int inside = s->ptr >= in && s->ptr + s->len <= in + size;
		switch (s->type) {
		case WN_JT_NONE:
			break;
		case WN_JT_STRING: {
			struct buf q = { 0 };
			put(&q, "{\"k\":", 5);
			put_quoted(&q, (const uint8_t *)s->ptr, s->len);
			put(&q, "}", 1);
			if (wn_json_record(k, q.p, q.n, &r2) != 0 || r2.slot[0].type != WN_JT_STRING ||
			    r2.slot[0].len != s->len || (s->len && memcmp(r2.slot[0].ptr, s->ptr, s->len) != 0))
				abort();
			if (!valid_utf8((const uint8_t *)q.p, q.n))
				abort();
			free(q.p);
			break;
		}
		case WN_JT_NUMBER:
			if (!inside || !s->len || (s->ptr[0] != '-' && (s->ptr[0] < '0' || s->ptr[0] > '9')))
				abort();
			break;
		case WN_JT_OBJECT:
			if (!inside || s->len < 2 || s->ptr[0] != '{' || s->ptr[s->len - 1] != '}')
				abort();
			break;
		case WN_JT_ARRAY:
			if (!inside || s->len < 2 || s->ptr[0] != '[' || s->ptr[s->len - 1] != ']')
				abort();
			break;
		case WN_JT_TRUE:
			if (!inside || s->len != 4 || memcmp(s->ptr, "true", 4) != 0)
				abort();
			break;
		case WN_JT_FALSE:
			if (!inside || s->len != 5 || memcmp(s->ptr, "false", 5) != 0)
				abort();
			break;
		case WN_JT_NULL:
			if (!inside || s->len != 4 || memcmp(s->ptr, "null", 4) != 0)
				abort();
			break;
		default:
			abort();
		}
	}

	/* Deterministic. */
	if (wn_json_record(j, (const char *)data, size, &r) != 0 || memcmp(fp, r.fp, 16) != 0 ||
	    r.canon_len != canon.n || memcmp(r.canon, canon.p, canon.n) != 0)
		abort();

	/* The canonical form, written back as JSON, is its own canonical form. */
	if (to_json((const uint8_t *)canon.p, canon.n, &json) != canon.n)
		abort();
	if (wn_json_record(j, json.p, json.n, &r) != 0 || memcmp(fp, r.fp, 16) != 0 ||
	    r.canon_len != canon.n || memcmp(r.canon, canon.p, canon.n) != 0)
		abort();
	free(canon.p);
	free(json.p);
	return 0;
}
