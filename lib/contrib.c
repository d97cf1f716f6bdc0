/*
 * contrib.c - contributions: what each ingest run brought of each contributor, stored
 * with the run's checkpoints, and read back as winnow contributors reports them
 * (contrib.h; doc/FORMAT.md 15.4).
 *
 * A run notes each play it decides in its contributor's accumulator: counts, the span
 * of times, the distinct values of the released fields, and a bottom-k sketch of the
 * hashes of its (time, item) pairs. The sketch is what makes overlaps cheap: the share
 * of A's plays that B holds is estimated by the share of A's sampled hashes, up to the
 * largest B's sketch keeps, that B's sketch holds (exact while both sets have fewer
 * than k plays, and 1 whenever B holds all of A).
 *
 * The check across contributors must not compare every pair (10,000 contributors are
 * 50 million pairs): an inverted index over the sketches' hashes (every (hash,
 * contribution) pair, sorted by hash) yields only the pairs that share a hash, and two
 * contributions that share most of their plays share most of their sketches. Distinct
 * people's plays rarely share a (second, item) pair, so the index's runs are short and
 * the work is close to linear in the number of contributions.
 */
#include "contrib.h"
#include "series.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>

#define CONTRIB_VERSION 1

/* ---- the run's accumulators ---- */

void wn_contribs_free(wn_contribs *a)
{
	free(a->v);
	free(a->tab);
	memset(a, 0, sizeof *a);
}

static size_t who_slot(const wn_contribs *a, const char *who, size_t n)
{
	size_t mask = a->tabcap - 1, i = (size_t)XXH3_64bits(who, n) & mask;
	for (; a->tab[i]; i = (i + 1) & mask) {
		const wn_contrib *x = &a->v[a->tab[i] - 1];
		if (!memcmp(x->who, who, n) && !x->who[n])
			break;
	}
	return i;
}

/* Make the table twice n + 1 at least (rehashing what is there). 0 or WN_E_NOMEM. */
static int who_grow(wn_contribs *a)
{
	if (a->tabcap >= 2 * (a->n + 1))
		return 0;
	size_t cap = a->tabcap ? a->tabcap * 2 : 64;
	while (cap < 2 * (a->n + 1))
		cap *= 2;
	uint32_t *t = calloc(cap, sizeof *t);
	if (!t)
		return WN_E_NOMEM;
	free(a->tab);
	a->tab = t;
	a->tabcap = cap;
	for (size_t k = 0; k < a->n; k++)
		a->tab[who_slot(a, a->v[k].who, strlen(a->v[k].who))] = (uint32_t)k + 1;
	return 0;
}

static wn_contrib *acc_for(wn_contribs *a, const char *who, size_t n)
{
	if (n > WN_WHO_MAX)
		n = WN_WHO_MAX;
	if (a->last < a->n && !memcmp(a->v[a->last].who, who, n) && !a->v[a->last].who[n])
		return &a->v[a->last];
	if (who_grow(a))
		return NULL;
	size_t i = who_slot(a, who, n);
	if (a->tab[i])
		return &a->v[a->last = a->tab[i] - 1];
	if (WN_GROW(a->v, a->n, a->cap, 4))
		return NULL;
	wn_contrib *x = &a->v[a->n];
	memset(x, 0, sizeof *x);
	memcpy(x->who, who, n);
	a->tab[i] = (uint32_t)a->n + 1;
	a->last = a->n++;
	return x;
}

/* The sketch while a run fills it: a max-heap of distinct hashes, at most WN_SKETCH_K. */
static void heap_down(uint64_t *h, uint32_t n, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && h[l] > h[m])
			m = l;
		if (r < n && h[r] > h[m])
			m = r;
		if (m == i)
			return;
		uint64_t t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void sketch_add(wn_contrib *x, uint64_t h)
{
	if (x->nsk == WN_SKETCH_K && h >= x->sk[0])
		return;
	for (uint32_t i = 0; i < x->nsk; i++)
		if (x->sk[i] == h)
			return;
	if (x->nsk < WN_SKETCH_K) {
		uint32_t i = x->nsk++;
		x->sk[i] = h;
		while (i && x->sk[(i - 1) / 2] < x->sk[i]) {
			uint64_t t = x->sk[i];
			x->sk[i] = x->sk[(i - 1) / 2];
			x->sk[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
		return;
	}
	x->sk[0] = h;
	heap_down(x->sk, x->nsk, 0);
}

static void put_text(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = 0;
}

static void tally_add(wn_contrib *x, int f, const char *v);

int wn_contribs_note(wn_contribs *a, const wn_play *p, int outcome, int ntally)
{
	wn_contrib *x = acc_for(a, p->who, p->who_len);
	if (!x)
		return WN_E_NOMEM;
	x->plays++;
	x->kept += outcome == 1;
	x->duplicates += outcome == 2;
	x->revisions += outcome == 3;
	if (p->time && p->time_len) {
		size_t n = p->time_len > WN_TIME_MAX ? WN_TIME_MAX : p->time_len;
		if (!*x->first || strncmp(p->time, x->first, n) < 0 || (!strncmp(p->time, x->first, n) && n < strlen(x->first)))
			put_text(x->first, sizeof x->first, p->time, n);
		if (!*x->last || strncmp(p->time, x->last, n) > 0 || (!strncmp(p->time, x->last, n) && n > strlen(x->last)))
			put_text(x->last, sizeof x->last, p->time, n);
	}
	sketch_add(x, p->hash);
	for (int f = 0; f < ntally && f < WN_TALLY_MAX; f++) {
		if (!p->tally[f])
			continue;
		char v[WN_TALLY_LEN + 1];
		put_text(v, sizeof v, p->tally[f], p->tally_len[f]);
		tally_add(x, f, v);
	}
	return 0;
}

/* Value v into the distinct values of released field f: the WN_TALLY_VALUES smallest
 * (strcmp), kept ascending, so that the values of a contribution made of parts (the
 * partitions of a scale-out run) are those of the whole, whatever the order. */
static void tally_add(wn_contrib *x, int f, const char *v)
{
	int n = x->ntally[f], at = 0;
	while (at < n && strcmp(x->tally[f][at], v) < 0)
		at++;
	if ((at < n && !strcmp(x->tally[f][at], v)) || at == WN_TALLY_VALUES)
		return;
	if (n == WN_TALLY_VALUES)
		n--;
	memmove(x->tally[f][at + 1], x->tally[f][at], (size_t)(n - at) * sizeof x->tally[f][0]);
	snprintf(x->tally[f][at], sizeof x->tally[f][at], "%s", v);
	x->ntally[f] = (uint8_t)(n + 1);
}

/* ---- contributions of parts made one (the scale-out's partitions) ----
 *
 * A partitioned run's plays of a contributor are split among the partitions by id, and
 * what a contribution keeps is made so that its parts give the whole: the counts add up,
 * the span is the least first and the greatest last time, the released values are the
 * WN_TALLY_VALUES smallest of the union, the sketch the WN_SKETCH_K smallest hashes of
 * the union (a bottom-k sketch of a union is the bottom k of the parts' sketches). */

static int cmp_u64(const void *a, const void *b);

int wn_contribs_fold(wn_contribs *a, const wn_contrib *x, size_t *at)
{
	wn_contrib *t = acc_for(a, x->who, strlen(x->who));
	if (!t)
		return WN_E_NOMEM;
	*at = (size_t)(t - a->v);
	t->plays += x->plays;
	t->kept += x->kept;
	t->duplicates += x->duplicates;
	t->revisions += x->revisions;
	if (*x->first && (!*t->first || strcmp(x->first, t->first) < 0))
		snprintf(t->first, sizeof t->first, "%s", x->first);
	if (*x->last && (!*t->last || strcmp(x->last, t->last) > 0))
		snprintf(t->last, sizeof t->last, "%s", x->last);
	for (int f = 0; f < WN_TALLY_MAX; f++)
		for (int i = 0; i < x->ntally[f]; i++)
			tally_add(t, f, x->tally[f][i]);
	uint64_t u[2 * WN_SKETCH_K];
	uint32_t n = 0;
	memcpy(u, t->sk, t->nsk * sizeof *u);
	n = t->nsk;
	memcpy(u + n, x->sk, x->nsk * sizeof *u);
	n += x->nsk;
	qsort(u, n, sizeof *u, cmp_u64);
	t->nsk = 0;
	for (uint32_t i = 0; i < n && t->nsk < WN_SKETCH_K; i++)
		if (!i || u[i] != u[i - 1])
			t->sk[t->nsk++] = u[i];
	return 0;
}

/* ---- the codec: one contribution (FORMAT.md 15.4), big-endian ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int put_bytes8(wn_buf *b, const char *s)
{
	uint8_t n = (uint8_t)strlen(s);
	return wn_buf_put(b, &n, 1) || wn_buf_put(b, s, n);
}

static int put_be(wn_buf *b, uint64_t v, int bytes)
{
	uint8_t t[8];
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		t[i] = (uint8_t)v;
	return wn_buf_put(b, t, (size_t)bytes);
}

/* x with its sketch ascending (a stored contribution's order). */
static int encode_one(const wn_contrib *x, wn_buf *b)
{
	uint64_t sk[WN_SKETCH_K];
	memcpy(sk, x->sk, sizeof sk[0] * x->nsk);
	qsort(sk, x->nsk, sizeof sk[0], cmp_u64);
	int rc = put_be(b, CONTRIB_VERSION, 1) || put_be(b, x->no, 4) || put_be(b, x->generation, 8) ||
		put_bytes8(b, x->who) || put_be(b, x->plays, 8) || put_be(b, x->kept, 8) || put_be(b, x->duplicates, 8) ||
		put_be(b, x->revisions, 8) || put_bytes8(b, x->first) || put_bytes8(b, x->last) || put_be(b, x->nsk, 2);
	for (uint32_t i = 0; i < x->nsk && !rc; i++)
		rc = put_be(b, sk[i], 8);
	rc = rc || put_be(b, WN_TALLY_MAX, 1);
	for (int f = 0; f < WN_TALLY_MAX && !rc; f++) {
		rc = put_be(b, x->ntally[f], 1);
		for (int i = 0; i < x->ntally[f] && !rc; i++)
			rc = put_bytes8(b, x->tally[f][i]);
	}
	return rc ? WN_E_NOMEM : 0;
}

typedef struct rd {
	const uint8_t *p, *end;
	int bad;
} rd;

static uint64_t get_be(rd *r, int bytes)
{
	uint64_t v = 0;
	if (r->end - r->p < bytes) {
		r->bad = 1;
		return 0;
	}
	for (int i = 0; i < bytes; i++)
		v = v << 8 | *r->p++;
	return v;
}

static void get_text(rd *r, char *dst, size_t cap)
{
	size_t n = (size_t)get_be(r, 1);
	if (r->bad || n >= cap || (size_t)(r->end - r->p) < n || memchr(r->p, 0, n)) {
		r->bad = 1;
		*dst = 0;
		return;
	}
	memcpy(dst, r->p, n);
	dst[n] = 0;
	r->p += n;
}

/* A heap is read back as it was written: ascending order is a valid max-heap only
 * reversed, so the sketch is made a heap again when the run goes on (resume). */
static int decode_one(rd *r, wn_contrib *x)
{
	memset(x, 0, sizeof *x);
	if (get_be(r, 1) != CONTRIB_VERSION)
		return WN_E_CORRUPT;
	x->no = (uint32_t)get_be(r, 4);
	x->generation = get_be(r, 8);
	get_text(r, x->who, sizeof x->who);
	x->plays = get_be(r, 8);
	x->kept = get_be(r, 8);
	x->duplicates = get_be(r, 8);
	x->revisions = get_be(r, 8);
	get_text(r, x->first, sizeof x->first);
	get_text(r, x->last, sizeof x->last);
	x->nsk = (uint32_t)get_be(r, 2);
	if (r->bad || x->nsk > WN_SKETCH_K || x->plays != x->kept + x->duplicates + x->revisions)
		return WN_E_CORRUPT;
	for (uint32_t i = 0; i < x->nsk; i++) {
		x->sk[i] = get_be(r, 8);
		if (i && x->sk[i] <= x->sk[i - 1])
			r->bad = 1;
	}
	if (get_be(r, 1) != WN_TALLY_MAX)
		return WN_E_CORRUPT;
	for (int f = 0; f < WN_TALLY_MAX && !r->bad; f++) {
		x->ntally[f] = (uint8_t)get_be(r, 1);
		if (x->ntally[f] > WN_TALLY_VALUES)
			return WN_E_CORRUPT;
		for (int i = 0; i < x->ntally[f]; i++)
			get_text(r, x->tally[f][i], WN_TALLY_LEN + 1);
	}
	return r->bad ? WN_E_CORRUPT : 0;
}

static int cmp_tally(const void *a, const void *b)
{
	return strcmp(a, b);
}

int wn_contribs_encode(const wn_contribs *a, wn_buf *b)
{
	b->len = 0;
	if (put_be(b, a->n, 4))
		return WN_E_NOMEM;
	for (size_t i = 0; i < a->n; i++) {
		size_t at = b->len;
		int rc = put_be(b, 0, 4);
		if (rc || (rc = encode_one(&a->v[i], b)))
			return WN_E_NOMEM;
		wn_put_be32((uint8_t *)b->p + at, (uint32_t)(b->len - at - 4));
	}
	return 0;
}

int wn_contribs_decode(wn_contribs *a, const void *p, size_t n)
{
	rd r = { p, (const uint8_t *)p + n, 0 };
	uint64_t cnt = get_be(&r, 4);
	a->n = 0;
	free(a->tab);   /* made again from v when it is next needed */
	a->tab = NULL;
	a->tabcap = 0;
	for (uint64_t i = 0; i < cnt && !r.bad; i++) {
		uint64_t len = get_be(&r, 4);
		if (r.bad || len > (uint64_t)(r.end - r.p) || WN_GROW(a->v, a->n, a->cap, 4))
			return r.bad || len > (uint64_t)(r.end - r.p) ? WN_E_CORRUPT : WN_E_NOMEM;
		rd one = { r.p, r.p + len, 0 };
		wn_contrib *x = &a->v[a->n];
		if (decode_one(&one, x) || one.p != one.end)
			return WN_E_CORRUPT;
		/* a run written before the values were kept smallest first goes on with them so */
		for (int f = 0; f < WN_TALLY_MAX; f++)
			qsort(x->tally[f], x->ntally[f], sizeof x->tally[f][0], cmp_tally);
		/* ascending is a min-heap: the run goes on with a max-heap */
		for (uint32_t k = 0; k < x->nsk / 2; k++) {
			uint64_t t = x->sk[k];
			x->sk[k] = x->sk[x->nsk - 1 - k];
			x->sk[x->nsk - 1 - k] = t;
		}
		a->n++;
		r.p += len;
	}
	return r.bad || r.p != r.end ? WN_E_CORRUPT : 0;
}

/* ---- storing them (in a checkpoint's transaction) ---- */

static void key_pending(char *k, size_t cap, const wn_catalog *c, int kind)
{
	snprintf(k, cap, "contribs_pending.%s", wn_catalog_kind_name(c, kind));
}

/* The number the kind's next contribution gets (meta "contrib_next.<kind>", named in
 * key[0..cap)): 1 when there is none. 0 or an error. */
static int next_number(wn_catalog *c, MDB_txn *txn, int kind, uint32_t *next, char *key, size_t cap)
{
	snprintf(key, cap, "contrib_next.%s", wn_catalog_kind_name(c, kind));
	MDB_val v;
	*next = 1;
	int rc = wn_meta_get(c, txn, key, &v);
	if (!rc && v.mv_size == 4)
		*next = wn_get_be32(v.mv_data);
	else if (!rc)
		rc = wn_index_damaged(c, "meta %s", key);
	else if (rc == WN_E_NOTFOUND)
		rc = 0;
	return rc;
}

int wn_contribs_commit(wn_catalog *c, MDB_txn *txn, int kind, const void *blob, size_t n, int final, uint64_t gen)
{
	char key[WN_KIND_NAME_MAX + 40];
	key_pending(key, sizeof key, c, kind);
	if (!final)
		return wn_meta_put(c, txn, key, blob, n);
	int rc = wn_meta_del(c, txn, key);
	if (rc)
		return rc;
	wn_contribs a = { 0 };
	if ((rc = wn_contribs_decode(&a, blob, n))) {
		wn_contribs_free(&a);
		return wn_seterr(c, rc, "contributions of the run: cannot encode them");
	}
	char nk[WN_KIND_NAME_MAX + 40];
	uint32_t next;
	rc = next_number(c, txn, kind, &next, nk, sizeof nk);
	wn_buf b = { 0 };
	for (size_t i = 0; i < a.n && !rc; i++) {
		wn_contrib *x = &a.v[i];
		x->no = next++;
		x->generation = gen;
		b.len = 0;
		snprintf(key, sizeof key, "contrib.%s.%010" PRIu32, wn_catalog_kind_name(c, kind), x->no);
		if (!(rc = encode_one(x, &b)))
			rc = wn_meta_put(c, txn, key, b.p, b.len);
	}
	if (!rc && a.n) {
		uint8_t nb[4];
		wn_put_be32(nb, next);
		rc = wn_meta_put(c, txn, nk, nb, 4);
	}
	wn_buf_free(&b);
	wn_contribs_free(&a);
	return rc;
}

int wn_contribs_resume(wn_catalog *c, MDB_txn *txn, int kind, wn_contribs *a)
{
	char key[WN_KIND_NAME_MAX + 40];
	key_pending(key, sizeof key, c, kind);
	MDB_val v;
	int rc = wn_meta_get(c, txn, key, &v);
	if (rc == WN_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	rc = wn_contribs_decode(a, v.mv_data, v.mv_size);
	if (rc == WN_E_CORRUPT)
		return wn_index_damaged(c, "meta %s", key);
	return rc;
}

/* ---- the contributions files (FORMAT.md 15.7) ----
 *
 * Each completed run's contributions are also lines of a sealed data file of their own
 * series (contributions/<kind>-<seq>.jsonl.zst), written and sealed before the final
 * checkpoint's transaction records it with them, so that the data files hold everything
 * the index holds: reindex takes them back, forget takes a contributor's lines out, the
 * scale-out's merge combines the partitions'. A line holds the contribution's bytes (the
 * meta value, 15.6) in hex, after the members a reader looks for without decoding them;
 * it is read back by decoding those bytes and writing the line again, which must give
 * the same bytes. */

#define LINE_PRE "{\"contributor\":"

int wn_contrib_line(const wn_contrib *x, wn_buf *b)
{
	wn_buf v = { 0 };
	b->len = 0;
	int rc = encode_one(x, &v);
	if (!rc && (wn_buf_puts(b, LINE_PRE) || wn_buf_json_bytes(b, x->who, strlen(x->who)) ||
	    wn_buf_printf(b, ",\"contribution\":%" PRIu32 ",\"generation\":%" PRIu64 ",\"value\":\"", x->no, x->generation)))
		rc = WN_E_NOMEM;
	for (size_t i = 0; !rc && i < v.len; i += 32) {
		char h[65];
		size_t n = v.len - i < 32 ? v.len - i : 32;
		wn_hex(h, (const uint8_t *)v.p + i, n);
		rc = wn_buf_put(b, h, 2 * n) ? WN_E_NOMEM : 0;
	}
	if (!rc && wn_buf_puts(b, "\"}"))
		rc = WN_E_NOMEM;
	wn_buf_free(&v);
	return rc;
}

int wn_contrib_line_parse(const char *p, size_t n, wn_contrib *x, wn_buf *scratch)
{
	static const char vk[] = ",\"value\":\"";
	const char *v = n > strlen(LINE_PRE) && !memcmp(p, LINE_PRE, strlen(LINE_PRE)) ? memmem(p, n, vk, strlen(vk)) : NULL;
	if (!v || n < 2 || p[n - 1] != '}' || p[n - 2] != '"')
		return WN_E_CORRUPT;
	v += strlen(vk);
	size_t hl = (size_t)(p + n - 2 - v);
	if (hl % 2 || !hl)
		return WN_E_CORRUPT;
	scratch->len = 0;
	if (wn_buf_put(scratch, v, hl / 2))   /* room for the bytes */
		return WN_E_NOMEM;
	if (wn_unhex((uint8_t *)scratch->p, v, hl / 2))
		return WN_E_CORRUPT;
	rd r = { (const uint8_t *)scratch->p, (const uint8_t *)scratch->p + hl / 2, 0 };
	if (decode_one(&r, x) || r.p != r.end || !x->no)
		return WN_E_CORRUPT;
	wn_buf again = { 0 };
	int rc = wn_contrib_line(x, &again);
	if (!rc && (again.len != n || memcmp(again.p, p, n)))
		rc = WN_E_CORRUPT;
	wn_buf_free(&again);
	return rc;
}

int wn_contrib_value(const wn_contrib *x, wn_buf *b)
{
	b->len = 0;
	return encode_one(x, b);
}

int wn_contrib_put(wn_catalog *c, MDB_txn *txn, int kind, const wn_contrib *x)
{
	char key[WN_KIND_NAME_MAX + 40];
	wn_buf b = { 0 };
	snprintf(key, sizeof key, "contrib.%s.%010" PRIu32, wn_catalog_kind_name(c, kind), x->no);
	int rc = encode_one(x, &b);
	if (!rc)
		rc = wn_meta_put(c, txn, key, b.p, b.len);
	wn_buf_free(&b);
	return rc;
}

int wn_contrib_get(wn_catalog *c, MDB_txn *txn, int kind, uint32_t no, wn_contrib *x)
{
	char key[WN_KIND_NAME_MAX + 40];
	snprintf(key, sizeof key, "contrib.%s.%010" PRIu32, wn_catalog_kind_name(c, kind), no);
	MDB_val v;
	int rc = wn_meta_get(c, txn, key, &v);
	if (rc)
		return rc;
	rd r = { v.mv_data, (const uint8_t *)v.mv_data + v.mv_size, 0 };
	if (decode_one(&r, x) || r.p != r.end)
		return wn_index_damaged(c, "meta %s", key);
	return 0;
}

int wn_contribs_write(wn_catalog *c, MDB_txn *txn, int kind, wn_pool *pool, const wn_contribs *a, uint64_t gen,
	size_t frame_bytes, uint64_t file_bytes, wn_series_snap *out)
{
	memset(out, 0, sizeof *out);
	if (!a->n)
		return 0;
	char nk[WN_KIND_NAME_MAX + 40];
	uint32_t next;
	int rc = next_number(c, txn, kind, &next, nk, sizeof nk);
	wn_series *s = NULL;
	if (!rc)
		rc = wn_series_open(c, txn, WN_ROLE_CONTRIB, kind, pool, 2, frame_bytes, file_bytes, WN_SERIES_AFTER, &s);
	wn_contrib *x = rc ? NULL : malloc(sizeof *x);
	wn_buf b = { 0 };
	if (!rc && !x)
		rc = WN_E_NOMEM;
	for (size_t i = 0; !rc && i < a->n; i++) {
		*x = a->v[i];
		x->no = next + (uint32_t)i;
		x->generation = gen;
		if (!(rc = wn_contrib_line(x, &b)))
			rc = wn_series_add(s, b.p, b.len);
	}
	if (!rc && !(rc = wn_series_sync(s)) && !(rc = wn_series_seal(s)))
		rc = wn_series_snapshot(s, out);
	wn_buf_free(&b);
	free(x);
	wn_series_close(s);
	return rc;
}

static int each_contrib(wn_catalog *c, MDB_txn *txn, int kind, int (*fn)(MDB_cursor *cur, const wn_contrib *x,
	void *ud), void *ud);

static int sums_one(MDB_cursor *cur, const wn_contrib *x, void *ud)
{
	uint64_t *t = ud;
	wn_buf b = { 0 };
	int rc = encode_one(x, &b);
	if (!rc) {
		t[0]++;
		t[1] += x->plays;
		t[2] += XXH64(b.p, b.len, 0);
	}
	wn_buf_free(&b);
	return rc;
}

int wn_contribs_sums(wn_catalog *c, MDB_txn *txn, int kind, uint64_t *n, uint64_t *plays, uint64_t *sum)
{
	uint64_t t[3] = { 0, 0, 0 };
	int rc = each_contrib(c, txn, kind, sums_one, t);
	*n = t[0];
	*plays = t[1];
	*sum = t[2];
	return rc;
}

/* ---- reading them back: winnow contributors ---- */

typedef struct report {
	wn_contrib_report pub;
	wn_contrib *v;              /* every contribution, in number order */
	size_t n, cap;
	uint64_t *distinct;         /* per contribution */
	wn_contribution *items;     /* per contribution, grouped by contributor */
	wn_contributor *people;
	wn_overlap *ov;
	size_t nov, capov;
	wn_rare_value *rare;
	size_t nrare, caprare;
	const wn_profile *prof;
} report;

static double distinct_of(const wn_contrib *x)
{
	if (x->nsk < WN_SKETCH_K)
		return x->nsk;
	/* k minimum values: the k-th smallest of n uniform hashes is near k/n of the range */
	return (double)(WN_SKETCH_K - 1) / ((double)x->sk[WN_SKETCH_K - 1] / 18446744073709551616.0);
}

/* The share of a's plays that b holds, from their sketches: of a's sampled hashes that
 * b's sketch would hold if b had them (those up to b's largest, when b's is full), the
 * share b holds. Exact when b's sketch is not full and a's is not either; when b holds
 * all of a, 1 whatever the sizes. */
static double contained(const wn_contrib *a, const wn_contrib *b)
{
	uint64_t limit = b->nsk == WN_SKETCH_K ? b->sk[WN_SKETCH_K - 1] : UINT64_MAX;
	uint32_t j = 0, n = 0, both = 0;
	for (uint32_t i = 0; i < a->nsk && a->sk[i] <= limit; i++) {
		n++;
		while (j < b->nsk && b->sk[j] < a->sk[i])
			j++;
		both += j < b->nsk && b->sk[j] == a->sk[i];
	}
	return n ? (double)both / n : 0;
}

static int same_plays(const report *r, size_t a, size_t b)
{
	const wn_contrib *x = &r->v[a], *y = &r->v[b];
	return x->plays == y->plays && x->nsk == y->nsk && !memcmp(x->sk, y->sk, sizeof x->sk[0] * x->nsk);
}

/* Every stored contribution of kind (meta "contrib.<kind>.<N>", in number order), each
 * checked and decoded, handed to fn with the cursor on its key (fn may delete it there).
 * 0, fn's error, or an error (c->err). */
static int each_contrib(wn_catalog *c, MDB_txn *txn, int kind, int (*fn)(MDB_cursor *cur, const wn_contrib *x,
	void *ud), void *ud)
{
	char pfx[WN_KIND_NAME_MAX + 16];
	int pl = snprintf(pfx, sizeof pfx, "contrib.%s.", wn_catalog_kind_name(c, kind));
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, c->db_meta, &cur);
	if (rc)
		return wn_lmdb_err(c, rc, "meta");
	wn_contrib *x = malloc(sizeof *x);
	if (!x) {
		mdb_cursor_close(cur);
		return WN_E_NOMEM;
	}
	MDB_val k = { (size_t)pl, pfx }, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < (size_t)pl || memcmp(k.mv_data, pfx, (size_t)pl))
			break;
		if (!wn_sum_ok(k.mv_data, k.mv_size, v.mv_data, v.mv_size)) {
			rc = wn_index_damaged(c, "meta %.*s", (int)k.mv_size, (const char *)k.mv_data);
			break;
		}
		rd one = { v.mv_data, (const uint8_t *)v.mv_data + v.mv_size - WN_SUM_BYTES, 0 };
		if (decode_one(&one, x) || one.p != one.end) {
			rc = wn_seterr(c, WN_E_CORRUPT, "index: meta %.*s is not a contribution; rebuild the index with "
				"`winnow reindex -C %s` (which takes them back from the contributions files)", (int)k.mv_size,
				(const char *)k.mv_data, c->dir);
			break;
		}
		if ((rc = fn(cur, x, ud)))
			break;
	}
	free(x);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc > 0 || rc < -30000 ? wn_lmdb_err(c, rc, "meta") : rc;
}

static int load_one(MDB_cursor *cur, const wn_contrib *x, void *ud)
{
	report *r = ud;
	(void)cur;
	if (WN_GROW(r->v, r->n, r->cap, 64))
		return WN_E_NOMEM;
	r->v[r->n++] = *x;
	return 0;
}

static int load(wn_catalog *c, MDB_txn *txn, int kind, report *r)
{
	return each_contrib(c, txn, kind, load_one, r);
}

static int by_who(const void *a, const void *b, void *ud)
{
	const report *r = ud;
	const wn_contrib *x = &r->v[*(const size_t *)a], *y = &r->v[*(const size_t *)b];
	int d = strcmp(x->who, y->who);
	return d ? d : (x->no > y->no) - (x->no < y->no);
}

/* Per contributor: its contributions, and each one's overlap with its earlier ones. */
static int group(report *r, size_t *order)
{
	for (size_t i = 0; i < r->n; i++)
		order[i] = i;
	qsort_r(order, r->n, sizeof *order, by_who, r);
	if (!(r->items = calloc(r->n ? r->n : 1, sizeof *r->items)) || !(r->people = calloc(r->n ? r->n : 1, sizeof *r->people)))
		return WN_E_NOMEM;
	size_t np = 0;
	for (size_t s = 0, e; s < r->n; s = e) {
		for (e = s + 1; e < r->n && !strcmp(r->v[order[e]].who, r->v[order[s]].who); e++)
			;
		wn_contributor *p = &r->people[np++];
		p->who = r->v[order[s]].who;
		p->n = e - s;
		p->contrib = &r->items[s];
		for (size_t i = s; i < e; i++) {
			const wn_contrib *x = &r->v[order[i]];
			wn_contribution *it = &r->items[i];
			it->no = x->no;
			it->generation = x->generation;
			it->plays = x->plays;
			it->kept = x->kept;
			it->duplicates = x->duplicates;
			it->revisions = x->revisions;
			it->distinct = r->distinct[order[i]];
			it->first = x->first;
			it->last = x->last;
			p->plays += x->plays;
			p->kept += x->kept;
			p->duplicates += x->duplicates;
			if (*x->first && (!p->first || strcmp(x->first, p->first) < 0))
				p->first = x->first;
			if (*x->last && (!p->last || strcmp(x->last, p->last) > 0))
				p->last = x->last;
			for (size_t j = s; j < i; j++) {
				if (same_plays(r, order[i], order[j])) {
					it->same_as = r->v[order[j]].no;
					it->repeats = 0;
					it->repeats_share = 1;
					break;
				}
				double share = contained(&r->v[order[j]], &r->v[order[i]]);
				if (share > it->repeats_share && share >= 0.005) {
					it->repeats = r->v[order[j]].no;
					it->repeats_share = share;
				}
			}
		}
		if (!p->first)
			p->first = p->last = "";
	}
	r->pub.ncontributors = np;
	r->pub.contributor = r->people;
	r->pub.ncontributions = r->n;
	return 0;
}

/* ---- across contributors: the inverted index over sketch hashes ---- */

typedef struct posting {
	uint64_t h;
	uint32_t c;   /* contribution (index in r->v) */
} posting;

static int cmp_posting(const void *a, const void *b)
{
	const posting *x = a, *y = b;
	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return (x->c > y->c) - (x->c < y->c);
}

static int cmp_pair(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int cmp_overlap(const void *a, const void *b)
{
	const wn_overlap *x = a, *y = b;
	if (x->overlap != y->overlap)
		return x->overlap > y->overlap ? -1 : 1;
	return x->a != y->a ? (x->a > y->a) - (x->a < y->a) : (x->b > y->b) - (x->b < y->b);
}

/* A hash held by more sketches than this is common to too many contributions to tell
 * anything (a run of it would cost its square); such hashes are passed over. */
#define POSTING_CAP 1024

static int cross(report *r, double threshold)
{
	size_t np = 0;
	for (size_t i = 0; i < r->n; i++)
		np += r->v[i].nsk;
	posting *ps = malloc((np ? np : 1) * sizeof *ps);
	uint64_t *pairs = NULL;
	size_t npairs = 0, cappairs = 0;
	if (!ps)
		return WN_E_NOMEM;
	size_t o = 0;
	for (size_t i = 0; i < r->n; i++)
		for (uint32_t k = 0; k < r->v[i].nsk; k++)
			ps[o++] = (posting){ r->v[i].sk[k], (uint32_t)i };
	qsort(ps, np, sizeof *ps, cmp_posting);
	int rc = 0;
	for (size_t s = 0, e; s < np && !rc; s = e) {
		for (e = s + 1; e < np && ps[e].h == ps[s].h; e++)
			;
		if (e - s < 2 || e - s > POSTING_CAP)
			continue;
		for (size_t a = s; a < e && !rc; a++)
			for (size_t b = a + 1; b < e && !rc; b++) {
				if (!strcmp(r->v[ps[a].c].who, r->v[ps[b].c].who))
					continue;
				if (!(rc = WN_GROW(pairs, npairs, cappairs, 1024)))
					pairs[npairs++] = (uint64_t)ps[a].c << 32 | ps[b].c;
			}
	}
	free(ps);
	if (rc) {
		free(pairs);
		return rc;
	}
	if (npairs > 1)
		qsort(pairs, npairs, sizeof *pairs, cmp_pair);
	for (size_t s = 0, e; s < npairs && !rc; s = e) {
		for (e = s + 1; e < npairs && pairs[e] == pairs[s]; e++)
			;
		size_t a = (size_t)(pairs[s] >> 32), b = (size_t)(uint32_t)pairs[s];
		uint32_t small = r->v[a].nsk < r->v[b].nsk ? r->v[a].nsk : r->v[b].nsk;
		r->pub.candidate_pairs++;
		/* two sets that share 90% share about 80% of their sketches: a handful is no sign */
		if ((e - s) * 4 < small)
			continue;
		/* shared plays / the plays of the smaller: the larger of the two containments */
		double ov = contained(&r->v[a], &r->v[b]), ov2 = contained(&r->v[b], &r->v[a]);
		if (ov2 > ov)
			ov = ov2;
		if (ov + 1e-9 < threshold)
			continue;
		if ((rc = WN_GROW(r->ov, r->nov, r->capov, 16)))
			break;
		const wn_contrib *x = &r->v[a], *y = &r->v[b];
		int swap = x->no > y->no;
		r->ov[r->nov++] = (wn_overlap){ swap ? y->no : x->no, swap ? x->no : y->no, swap ? y->who : x->who,
			swap ? x->who : y->who, ov };
	}
	free(pairs);
	if (!rc && r->nov > 1)
		qsort(r->ov, r->nov, sizeof *r->ov, cmp_overlap);
	r->pub.noverlaps = r->nov;
	r->pub.overlaps = r->ov;
	return rc;
}

/* ---- released values that fewer than k contributors share ---- */

typedef struct tv {
	int field;
	const char *value, *who;
} tv;

static int cmp_tv(const void *a, const void *b)
{
	const tv *x = a, *y = b;
	if (x->field != y->field)
		return x->field - y->field;
	int d = strcmp(x->value, y->value);
	return d ? d : strcmp(x->who, y->who);
}

static int rare_values(report *r, unsigned k)
{
	size_t n = 0, o = 0;
	for (size_t i = 0; i < r->n; i++)
		for (int f = 0; f < WN_TALLY_MAX; f++)
			n += r->v[i].ntally[f];
	tv *t = malloc((n ? n : 1) * sizeof *t);
	if (!t)
		return WN_E_NOMEM;
	for (size_t i = 0; i < r->n; i++)
		for (int f = 0; f < WN_TALLY_MAX; f++)
			for (int j = 0; j < r->v[i].ntally[f]; j++)
				t[o++] = (tv){ f, r->v[i].tally[f][j], r->v[i].who };
	qsort(t, n, sizeof *t, cmp_tv);
	int rc = 0;
	for (size_t s = 0, e; s < n && !rc; s = e) {
		uint32_t people = 0;
		for (e = s; e < n && t[e].field == t[s].field && !strcmp(t[e].value, t[s].value); e++)
			people += e == s || strcmp(t[e].who, t[e - 1].who);
		if (people >= k || t[s].field >= r->prof->n_tally)
			continue;
		if (!(rc = WN_GROW(r->rare, r->nrare, r->caprare, 16)))
			r->rare[r->nrare++] = (wn_rare_value){ r->prof->tally[t[s].field], t[s].value, people };
	}
	free(t);
	r->pub.nrare = r->nrare;
	r->pub.rare = r->rare;
	return rc;
}

int wn_contributors(wn_catalog *c, const char *kind, double threshold, unsigned k, wn_contrib_report **out)
{
	*out = NULL;
	c->err[0] = 0;
	if (!(threshold > 0 && threshold <= 1) || k < 1)
		return wn_seterr(c, WN_E_USAGE, "the overlap threshold must be in (0, 1] and k at least 1");
	const char *kname = kind ? kind : "listen";
	int kd = wn_kinds_find(&c->kinds, kname, strlen(kname));
	if (kd < 0)
		return wn_seterr(c, WN_E_NOTFOUND, "the catalog has no %s records", kname);
	report *r = calloc(1, sizeof *r);
	if (!r)
		return WN_E_NOMEM;
	r->pub.priv_ = r;
	r->prof = wn_catalog_profile(c, kd);
	MDB_txn *txn;
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
	if (rc) {
		free(r);
		return wn_lmdb_err(c, rc, "begin");
	}
	rc = load(c, txn, kd, r);
	mdb_txn_abort(txn);
	size_t *order = NULL;
	if (!rc && (!(r->distinct = malloc((r->n ? r->n : 1) * sizeof *r->distinct)) ||
		    !(order = malloc((r->n ? r->n : 1) * sizeof *order))))
		rc = WN_E_NOMEM;
	for (size_t i = 0; !rc && i < r->n; i++)
		r->distinct[i] = (uint64_t)(distinct_of(&r->v[i]) + 0.5);
	if (!rc)
		rc = group(r, order);
	free(order);
	if (!rc)
		rc = cross(r, threshold);
	if (!rc)
		rc = rare_values(r, k);
	if (rc) {
		wn_contrib_report_free(&r->pub);
		return rc == WN_E_NOMEM && !*c->err ? wn_seterr(c, rc, "out of memory") : rc;
	}
	*out = &r->pub;
	return 0;
}

void wn_contrib_report_free(wn_contrib_report *pub)
{
	if (!pub)
		return;
	report *r = pub->priv_;
	free(r->v);
	free(r->distinct);
	free(r->items);
	free(r->people);
	free(r->ov);
	free(r->rare);
	free(r);
}

/* ---- forgetting a contributor ---- */

static int forget_one(MDB_cursor *cur, const wn_contrib *x, void *ud)
{
	return strcmp(x->who, ud) ? 0 : mdb_cursor_del(cur, 0);
}

int wn_contribs_forget(wn_catalog *c, MDB_txn *txn, int kind, const char *who)
{
	return each_contrib(c, txn, kind, forget_one, (void *)who);
}
