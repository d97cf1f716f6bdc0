/*
 * test_contrib.c - unit tests for lib/contrib.c: a contribution's parts fold into the
 * whole, and the contributions files' line codec.
 *
 * A seeded random run of plays (several contributors, times, items, released values from
 * more than a contribution keeps, more distinct plays than a sketch holds) is noted once
 * whole and once split among parts by a hash of the play (as the scale-out partitions by
 * id); the parts folded (wn_contribs_fold) must encode to the bytes of the whole, whatever
 * the order the parts are folded in. A line made by wn_contrib_line must read back to the
 * same contribution, and lines that are not as winnow writes them (a value that is not
 * lower-case hex, a member that is not the value's, cut short) must be refused; a changed
 * value that still decodes is the frame checksum's to find.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "contrib.h"
#include "tap.h"

static uint64_t rng;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define NPARTS 5
#define NWHO 4

/* One random play of contributor w: its strings in the caller's buffers. */
static void make_play(wn_play *p, int w, char who[NWHO][33], char *tm, char *tally0, char *tally1)
{
	memset(p, 0, sizeof *p);
	uint64_t r = next();
	p->who = who[w];
	p->who_len = 32;
	snprintf(tm, 40, "2021-%02d-%02dT%02d:%02d:00Z", (int)(r % 12) + 1, (int)(r >> 8) % 28 + 1, (int)(r >> 16) % 24,
		(int)(r >> 24) % 60);
	p->time = tm;
	p->time_len = strlen(tm);
	p->hash = next();
	snprintf(tally0, 8, "c%02d", (int)(next() % 40));   /* 40 values: more than the 16 kept */
	p->tally[0] = tally0;
	p->tally_len[0] = strlen(tally0);
	if (next() % 3) {
		snprintf(tally1, 8, "p%d", (int)(next() % 5));
		p->tally[1] = tally1;
		p->tally_len[1] = strlen(tally1);
	}
}

int main(void)
{
	rng = tap_seed() | 1;
	char who[NWHO][33];
	for (int w = 0; w < NWHO; w++)
		for (int i = 0; i < 32; i++)
			who[w][i] = "0123456789abcdef"[next() % 16];
	for (int w = 0; w < NWHO; w++)
		who[w][32] = 0;
	wn_contribs whole = { 0 }, part[NPARTS];
	memset(part, 0, sizeof part);
	int rc = 0;
	for (int i = 0; i < 3000 && !rc; i++) {
		wn_play p;
		char tm[40], t0[8], t1[8];
		int w = (int)(next() % NWHO);
		make_play(&p, w, who, tm, t0, t1);
		int outcome = 1 + (int)(next() % 3);
		int k = (int)(p.hash % NPARTS);
		rc = wn_contribs_note(&whole, &p, outcome, 2) || wn_contribs_note(&part[k], &p, outcome, 2);
	}
	OK(!rc, "3000 plays of %d contributors noted whole and in %d parts", NWHO, NPARTS);
	OK(whole.n == NWHO && whole.v[0].nsk == WN_SKETCH_K && whole.v[0].ntally[0] == WN_TALLY_VALUES,
		"... each contributor's sketch and released values are full");
	for (int f = 0; f < 2; f++)
		for (int i = 1; i < whole.v[0].ntally[f]; i++)
			if (strcmp(whole.v[0].tally[f][i - 1], whole.v[0].tally[f][i]) >= 0)
				rc = 1;
	OK(!rc, "... released values kept ascending");
	IS_INT(strcmp(whole.v[0].tally[0][0], "c00") == 0 && strcmp(whole.v[0].tally[0][15], "c15") == 0, 1,
		"... the 16 smallest of the 40");

	/* the parts folded, in two orders: the whole, in the order each contributor first came */
	wn_buf a = { 0 }, b = { 0 };
	rc = wn_contribs_encode(&whole, &a);
	for (int pass = 0; pass < 2; pass++) {
		wn_contribs all = { 0 };
		size_t at;
		/* fold in the whole's order of contributors (what the merge numbers by) */
		for (int w = 0; w < NWHO && !rc; w++)
			for (int q = 0; q < NPARTS && !rc; q++) {
				int k = pass ? NPARTS - 1 - q : q;
				for (size_t j = 0; j < part[k].n && !rc; j++) {
					if (strcmp(part[k].v[j].who, whole.v[w].who))
						continue;
					/* a part as the merge has it: read from its partition's file */
					wn_contrib x = part[k].v[j];
					wn_buf one = { 0 }, sc = { 0 };
					x.no = 1;
					if (!(rc = wn_contrib_line(&x, &one)) && !(rc = wn_contrib_line_parse(one.p, one.len, &x, &sc)))
						rc = wn_contribs_fold(&all, &x, &at);
					wn_buf_free(&one);
					wn_buf_free(&sc);
				}
			}
		b.len = 0;
		if (!rc)
			rc = wn_contribs_encode(&all, &b);
		OK(!rc && a.len == b.len && !memcmp(a.p, b.p, a.len), "the parts folded (%s order) are the whole, byte for byte",
			pass ? "reverse" : "part");
		wn_contribs_free(&all);
	}

	/* the line codec */
	wn_contrib x = whole.v[1], y;
	x.no = 42;
	x.generation = 7;
	wn_buf line = { 0 }, scratch = { 0 }, v1 = { 0 }, v2 = { 0 };
	rc = wn_contrib_line(&x, &line);
	OK(!rc && line.len > 60 && !memcmp(line.p, "{\"contributor\":\"", 16) && !memcmp(line.p + 16, x.who, 32) &&
		!memcmp(line.p + 48, "\",\"contribution\":42,\"generation\":7,\"value\":\"", 44), "a line starts with its contributor, number and generation");
	rc = wn_contrib_line_parse(line.p, line.len, &y, &scratch);
	OK(!rc && !wn_contrib_value(&x, &v1) && !wn_contrib_value(&y, &v2) && v1.len == v2.len && !memcmp(v1.p, v2.p, v1.len),
		"... and reads back to the same contribution");
	char *bad = malloc(line.len + 1);
	memcpy(bad, line.p, line.len);
	bad[line.len - 10] = 'g';   /* not a hex digit */
	OK(wn_contrib_line_parse(bad, line.len, &y, &scratch) == WN_E_CORRUPT, "a value that is not hex is refused");
	memcpy(bad, line.p, line.len);
	char *h = memchr(bad + 100, 'a', line.len - 110);   /* upper-case hex: not as winnow writes it */
	if (h)
		*h = 'A';
	OK(h && wn_contrib_line_parse(bad, line.len, &y, &scratch) == WN_E_CORRUPT, "upper-case hex is refused");
	memcpy(bad, line.p, line.len);
	bad[16 + 31] = bad[16 + 31] == 'a' ? 'b' : 'a';   /* the contributor, not the value's */
	OK(wn_contrib_line_parse(bad, line.len, &y, &scratch) == WN_E_CORRUPT, "a contributor that is not the value's is refused");
	memcpy(bad, line.p, line.len);
	bad[64] = '3';   /* the number: 42 -> 32 */
	OK(wn_contrib_line_parse(bad, line.len, &y, &scratch) == WN_E_CORRUPT, "a number that is not the value's is refused");
	OK(wn_contrib_line_parse(line.p, line.len - 3, &y, &scratch) == WN_E_CORRUPT, "a line cut short is refused");
	OK(wn_contrib_line_parse("{}", 2, &y, &scratch) == WN_E_CORRUPT, "a line that is not one is refused");
	free(bad);
	wn_buf_free(&line);
	wn_buf_free(&scratch);
	wn_buf_free(&v1);
	wn_buf_free(&v2);
	wn_buf_free(&a);
	wn_buf_free(&b);
	wn_contribs_free(&whole);
	for (int k = 0; k < NPARTS; k++)
		wn_contribs_free(&part[k]);
	return tap_done();
}
