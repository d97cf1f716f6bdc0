/*
 * fuzz_norm.c - libFuzzer target for lib/norm.c (the matching keys).
 *
 * The input, any bytes, is a title up to its first 0x0a byte and a credit string after
 * it. Whatever they hold, nothing may crash and every call returns 0; and:
 * - the per-character fast path gives what the utf8proc path alone gives;
 * - normalising the normalised text again changes nothing;
 * - qualifier and featured keys are non-empty, sorted bytewise and without repeats;
 *   the key and the core are empty only when the normalised title is;
 * - the artists of the credit are non-empty keys without repeats;
 * - the match predicates are symmetric.
 *
 * Build: make fuzz; run: build-fuzz/fuzz_norm tests/fuzz/corpus/fuzz_norm
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "winnow.h"
#include "norm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static wn_norm w, ref, again;

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_norm: %s\n", what);
		abort();
	}
}

static int cmp(const wn_str *a, const wn_str *b)
{
	size_t n = a->n < b->n ? a->n : b->n;
	int c = memcmp(a->p, b->p, n);
	return c ? c : (a->n > b->n) - (a->n < b->n);
}

static void sorted_set(const wn_str *s, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		check(s[i].n > 0, what);
		check(!i || cmp(&s[i - 1], &s[i]) < 0, what);
	}
}

static void match_symmetric(const wn_match *a, const wn_match *b)
{
	check(wn_match_isrc_edge(a, b) == wn_match_isrc_edge(b, a), "isrc edge not symmetric");
	check(wn_match_text_edge(a, b) == wn_match_text_edge(b, a), "text edge not symmetric");
	check(wn_match_guard(a, b) == wn_match_guard(b, a), "guard not symmetric");
	check(!wn_match_text_edge(a, b) || wn_match_guard(a, b) == WN_GUARD_OK, "a text edge the guard forbids");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *nl = memchr(s, '\n', size);
	size_t tn = nl ? (size_t)(nl - s) : size;
	const char *credit = nl ? nl + 1 : s + size;
	size_t cn = nl ? size - tn - 1 : 0;

	wn_str a, b, c;
	check(!wn_norm_text(&w, s, tn, &a) && !wn_norm_text_unicode(&ref, s, tn, &b), "text failed");
	check(a.n == b.n && !memcmp(a.p, b.p, a.n), "fast path differs from utf8proc's");
	check(!wn_norm_text(&again, a.p, a.n, &c) && c.n == a.n && !memcmp(c.p, a.p, a.n), "not idempotent");
	wn_str k;
	check(!wn_norm_key(&again, s, tn, WN_NORM_TITLE, &k) && (k.n > 0) == (a.n > 0), "empty key of a text");

	wn_title t;
	check(!wn_norm_title(&w, s, tn, &t), "title failed");
	sorted_set(t.qual, t.nqual, "qualifiers not a sorted set of keys");
	sorted_set(t.feat, t.nfeat, "featured not a sorted set of keys");
	check((t.core.n > 0) == (a.n > 0), "empty core of a title that is not empty");

	wn_match m1, m2;
	wn_match_init(&m1);
	wn_match_init(&m2);
	m1.core = wn_norm_hash(t.core.p, t.core.n);
	m1.quals = wn_norm_set_hash(t.qual, t.nqual);
	m1.dur_ms = size > 0 ? (uint32_t)data[0] * 40 : WN_MATCH_NODUR;
	wn_match_add_isrc(&m1, credit, cn < 15 ? cn : 15);

	wn_artists ar;
	check(!wn_norm_artists(&w, NULL, 0, credit, cn, &ar), "artists failed");
	for (size_t i = 0; i < ar.n; i++) {
		check(ar.key[i].n > 0, "empty artist key");
		for (size_t j = 0; j < i; j++)
			check(ar.key[i].n != ar.key[j].n || memcmp(ar.key[i].p, ar.key[j].p, ar.key[i].n), "repeated artist");
	}
	m2.artist = m1.artist = ar.n ? wn_norm_hash(ar.key[0].p, ar.key[0].n) : 0;
	m2.core = m1.core;
	m2.dur_ms = size > 1 ? (uint32_t)data[1] * 40 : WN_MATCH_NODUR;
	wn_match_add_isrc(&m2, s, tn < 15 ? tn : 15);
	match_symmetric(&m1, &m2);
	m2.quals = m1.quals;
	match_symmetric(&m1, &m2);
	return 0;
}
