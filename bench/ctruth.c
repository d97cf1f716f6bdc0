/*
 * bench/ctruth.c - the clusters a correct `winnow cluster` must report on bench/gen's
 * tracks, from the facts the generator wrote (bench/gen --cluster-facts FILE).
 *
 *   build/bench/ctruth [--revisions] FACTS > truth.json
 *
 * The generator knows, by construction, what every stored record is (its id, ISRC,
 * duration, title and credited artists, in acceptance order); this program applies the
 * rules of doc/FORMAT.md section 16.1 to them in the plainest way there is and prints
 * one JSON object: records, clusters (singletons included), merged, edges per kind,
 * candidates (the guard's and the scored ones, FORMAT.md 14.6) and blocks_capped, the
 * keys of `winnow cluster --json` that do not depend on the machine.
 * Only the text keys and the similarity come from the library (lib/norm.c: the title
 * analysis, the artist keys, the bigram sets and wn_match_score, which
 * tests/unit/test_norm.c checks rule by rule, and the ISRC rule);
 * the clustering is written again here, independently of lib/cluster.c: candidate
 * lists per key compared by their key strings, union by lowest ordinal, the chain guard
 * over every pair of members, so that an error in the builder's chains, rings or
 * incremental runs shows as a difference.
 *
 * --revisions: the catalog stores revisions too (ingest --on-conflict last), so the
 * facts lines marked `r` are records (of an id seen before) as well.
 */
#include "internal.h"
#include "norm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

typedef struct rec {
	char *id;            /* the id */
	char *text;          /* "artist\0core\0quals" or NULL (no text key) */
	size_t textlen;
	char *quals;         /* the qualifier keys, each followed by \0 ("" none) */
	size_t qualslen;
	uint64_t isrc;       /* packed valid ISRC, 0 none */
	uint32_t dur;        /* ms, NONE unknown */
	wn_match m;          /* for wn_match_score */
	char *b1, *b2;       /* the block keys: "artist\0first three characters of the core",
	                        "core\0duration bucket"; NULL when not blocked */
	size_t b1len, b2len;
	uint32_t root, next, tail; /* union-find parent; member list (next), its tail at the root */
} rec;

/* A map from key strings to the ordinals that have them, oldest first. */
typedef struct slot {
	uint64_t h;
	const char *k;
	size_t n;
	uint32_t *ords;
	size_t nords, cap;
} slot;

typedef struct map {
	slot *s;
	size_t cap, used;
} map;

static rec *R;
static size_t NR, CAPR;
static map ids, isrcs, texts, blocks1, blocks2;
static uint64_t edges[5], capped;
#define BLOCK_TRIES 8    /* as lib/cluster.c: the newest 8 of a block are scored */

/* Note (o, p) as a candidate, once per pair. */
static void note(uint32_t o, uint32_t p);

static void nomem(void)
{
	fprintf(stderr, "ctruth: out of memory\n");
	exit(3);
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q)
		nomem();
	return q;
}

static uint64_t fnv(const char *k, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
	return h | 1;
}

static slot *map_get(map *m, const char *k, size_t n, int add)
{
	if (add && (m->used + 1) * 2 > m->cap) {
		map old = *m;
		m->cap = old.cap ? old.cap * 2 : 1024;
		m->s = calloc(m->cap, sizeof *m->s);
		if (!m->s)
			nomem();
		for (size_t i = 0; i < old.cap; i++)
			if (old.s[i].h) {
				size_t j = old.s[i].h & (m->cap - 1);
				while (m->s[j].h)
					j = (j + 1) & (m->cap - 1);
				m->s[j] = old.s[i];
			}
		free(old.s);
	}
	if (!m->cap)
		return NULL;
	uint64_t h = fnv(k, n);
	for (size_t j = h & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
		slot *s = &m->s[j];
		if (!s->h) {
			if (!add)
				return NULL;
			s->h = h;
			s->k = k;
			s->n = n;
			m->used++;
			return s;
		}
		if (s->h == h && s->n == n && !memcmp(s->k, k, n))
			return s;
	}
}

static void map_add(map *m, const char *k, size_t n, uint32_t o)
{
	slot *s = map_get(m, k, n, 1);
	if (s->nords == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 2;
		s->ords = xrealloc(s->ords, s->cap * sizeof *s->ords);
	}
	s->ords[s->nords++] = o;
}

static uint32_t find(uint32_t x)
{
	while (R[x].root != x)
		x = R[x].root = R[R[x].root].root;
	return x;
}

static int same_quals(const rec *a, const rec *b)
{
	return a->qualslen == b->qualslen && !memcmp(a->quals, b->quals, a->qualslen);
}

static uint32_t dist(const rec *a, const rec *b)
{
	return a->dur > b->dur ? a->dur - b->dur : b->dur - a->dur;
}

/* The chain guard between the clusters of roots a and b: 0 ok, 1 qualifiers, 2 isrc. */
static int guard(uint32_t a, uint32_t b)
{
	if (!same_quals(&R[a], &R[b]))
		return 1;
	for (uint32_t x = a; x != NONE; x = R[x].next)
		for (uint32_t y = b; y != NONE; y = R[y].next) {
			const rec *p = &R[x], *q = &R[y];
			if (p->isrc && q->isrc && p->isrc != q->isrc && p->dur != NONE && q->dur != NONE &&
			    dist(p, q) > 2000)
				return 2;
		}
	return 0;
}

/* The edge of kind k from o to p; cands[0..ncands_o): the records o has a candidate
 * with, so that a pair is noted once. */
static uint32_t *cands;
static size_t ncands_o, candcap;
static uint32_t (*pairs)[2];   /* every candidate: the later record, the earlier */
static size_t npairs, paircap;

static void join(uint32_t o, uint32_t p, int k)
{
	uint32_t ro = find(o), rp = find(p);
	if (ro == rp)
		return;
	if (guard(ro, rp)) {
		note(o, p);
		return;
	}
	uint32_t lo = ro < rp ? ro : rp, hi = ro < rp ? rp : ro;
	R[hi].root = lo;
	R[R[lo].tail].next = hi;
	R[lo].tail = R[hi].tail;
	edges[k]++;
}

static void note(uint32_t o, uint32_t p)
{
	for (size_t i = 0; i < ncands_o; i++)
		if (cands[i] == p)
			return;
	if (ncands_o == candcap) {
		candcap = candcap ? candcap * 2 : 64;
		cands = xrealloc(cands, candcap * sizeof *cands);
	}
	cands[ncands_o++] = p;
	if (npairs == paircap) {
		paircap = paircap ? paircap * 2 : 64;
		pairs = xrealloc(pairs, paircap * sizeof *pairs);
	}
	pairs[npairs][0] = o;
	pairs[npairs++][1] = p;
}

static void walk(map *m, const char *k, size_t n, uint32_t o, int kind)
{
	slot *s = map_get(m, k, n, 0);
	if (!s)
		return;
	for (size_t i = s->nords; i-- > 0;) {
		uint32_t p = s->ords[i];
		const rec *a = &R[o], *b = &R[p];
		if (kind == 3 && !(a->dur != NONE && b->dur != NONE && dist(a, b) <= 3000 && same_quals(a, b)))
			continue;
		if (kind == 4 && !(a->dur != NONE && b->dur != NONE && dist(a, b) <= 2000))
			continue;
		join(o, p, kind);
	}
}

/* The scored candidates of o in its block k (FORMAT.md 14.6). */
static void score_block(map *m, const char *k, size_t n, uint32_t o)
{
	slot *s = map_get(m, k, n, 0);
	if (!s)
		return;
	unsigned tries = 0;
	for (size_t i = s->nords; i-- > 0;) {
		uint32_t p = s->ords[i];
		if (++tries > BLOCK_TRIES) {
			capped++;
			break;
		}
		const rec *x = &R[o], *y = &R[p];
		if (find(o) == find(p) || !same_quals(x, y) ||
		    (x->isrc && y->isrc && x->isrc != y->isrc && dist(x, y) > 2000) ||
		    wn_match_score(&x->m, &y->m) < WN_SCORE_MIN)
			continue;
		note(o, p);
	}
}

static char *dupmem(const char *p, size_t n)
{
	char *q = xrealloc(NULL, n + 1);
	memcpy(q, p, n);
	q[n] = 0;
	return q;
}

int main(int argc, char **argv)
{
	int revisions = 0;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--revisions"))
			revisions = 1;
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else {
			fprintf(stderr, "usage: ctruth [--revisions] FACTS\n");
			return 2;
		}
	}
	if (!path) {
		fprintf(stderr, "usage: ctruth [--revisions] FACTS\n");
		return 2;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return 3;
	}
	wn_norm wt, wa;
	wn_norm_init(&wt);
	wn_norm_init(&wa);
	char *line = NULL;
	size_t lcap = 0;
	ssize_t len;
	unsigned long long lineno = 0;
	while ((len = getline(&line, &lcap, f)) > 0) {
		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = 0;
		char *fld[3 + 2 + 16];
		int nf = 0;
		for (char *p = line; nf < (int)(sizeof fld / sizeof *fld);) {
			fld[nf++] = p;
			char *t = strchr(p, '\t');
			if (!t)
				break;
			*t = 0;
			p = t + 1;
		}
		if (nf < 5 || (fld[0][0] != 'n' && fld[0][0] != 'r')) {
			fprintf(stderr, "ctruth: %s line %llu: not a facts line\n", path, lineno);
			return 1;
		}
		if (fld[0][0] == 'r' && !revisions)
			continue;
		if (NR == CAPR) {
			CAPR = CAPR ? CAPR * 2 : 4096;
			R = xrealloc(R, CAPR * sizeof *R);
		}
		uint32_t o = (uint32_t)NR++;
		rec *r = &R[o];
		memset(r, 0, sizeof *r);
		r->root = o;
		r->next = NONE;
		r->tail = o;
		r->id = dupmem(fld[1], strlen(fld[1]));
		wn_match m;
		wn_match_init(&m);
		wn_match_add_isrc(&m, fld[2], strlen(fld[2]));
		r->isrc = m.isrc[0];
		r->dur = (uint32_t)strtoul(fld[3], NULL, 10);
		wn_title t;
		wn_str names[16];
		size_t nn = 0;
		for (int i = 5; i < nf && nn < 16; i++)
			names[nn++] = (wn_str){ fld[i], strlen(fld[i]) };
		wn_artists a;
		if (wn_norm_title(&wt, fld[4], strlen(fld[4]), &t) ||
		    wn_norm_artists(&wa, names, nn, NULL, 0, &a)) {
			fprintf(stderr, "ctruth: out of memory\n");
			return 3;
		}
		size_t ql = 0;
		for (size_t i = 0; i < t.nqual; i++)
			ql += t.qual[i].n + 1;
		r->quals = xrealloc(NULL, ql + 1);
		for (size_t i = 0, q = 0; i < t.nqual; i++) {
			memcpy(r->quals + q, t.qual[i].p, t.qual[i].n);
			q += t.qual[i].n;
			r->quals[q++] = 0;
		}
		r->qualslen = ql;
		wn_match_init(&r->m);
		wn_match_set_text(&r->m, &a, &t);
		r->m.dur_ms = r->dur;
		if (a.n && a.key[0].n && t.core.n) {
			size_t pl = 0;
			for (int chars = 0; pl < t.core.n; pl++)
				if (((unsigned char)t.core.p[pl] & 0xC0) != 0x80 && ++chars > 3)
					break;
			char bucket[24];
			int bl = snprintf(bucket, sizeof bucket, "%u", r->dur / WN_SCORE_BUCKET_MS);
			r->b1len = a.key[0].n + 1 + pl;
			r->b1 = xrealloc(NULL, r->b1len);
			memcpy(r->b1, a.key[0].p, a.key[0].n);
			r->b1[a.key[0].n] = 0;
			memcpy(r->b1 + a.key[0].n + 1, t.core.p, pl);
			r->b2len = t.core.n + 1 + (size_t)bl;
			r->b2 = xrealloc(NULL, r->b2len);
			memcpy(r->b2, t.core.p, t.core.n);
			r->b2[t.core.n] = 0;
			memcpy(r->b2 + t.core.n + 1, bucket, (size_t)bl);
		}
		if (a.n && a.key[0].n && t.core.n) {
			r->textlen = a.key[0].n + 1 + t.core.n + 1 + ql;
			r->text = xrealloc(NULL, r->textlen);
			memcpy(r->text, a.key[0].p, a.key[0].n);
			r->text[a.key[0].n] = 0;
			memcpy(r->text + a.key[0].n + 1, t.core.p, t.core.n);
			r->text[a.key[0].n + 1 + t.core.n] = 0;
			memcpy(r->text + a.key[0].n + 2 + t.core.n, r->quals, ql);
		}
		/* the edges to earlier records, in the order of FORMAT.md 16.1 */
		ncands_o = 0;
		walk(&ids, r->id, strlen(r->id), o, 1);
		if (r->isrc)
			walk(&isrcs, (const char *)&R[o].isrc, 8, o, 3);
		if (R[o].text)
			walk(&texts, R[o].text, R[o].textlen, o, 4);
		if (R[o].b1) {
			score_block(&blocks1, R[o].b1, R[o].b1len, o);
			score_block(&blocks2, R[o].b2, R[o].b2len, o);
		}
		r = &R[o];
		map_add(&ids, r->id, strlen(r->id), o);
		if (r->isrc) {   /* keys must outlive R's reallocations: a copy, once a key */
			slot *old = map_get(&isrcs, (const char *)&r->isrc, 8, 0);
			map_add(&isrcs, old ? old->k : dupmem((const char *)&r->isrc, 8), 8, o);
		}
		if (r->text)
			map_add(&texts, r->text, r->textlen, o);
		if (r->b1) {
			map_add(&blocks1, r->b1, r->b1len, o);
			map_add(&blocks2, r->b2, r->b2len, o);
		}
	}
	if (ferror(f)) {
		perror(path);
		return 3;
	}
	/* a record survives unless a later version of its id was stored (section 4.3); a
	 * cluster counts when it has a survivor, a candidate when its records are still in
	 * two clusters, merged are the surviving records that are not their cluster's
	 * survivor */
	uint8_t *live = calloc(NR ? NR : 1, 1), *shown = calloc(NR ? NR : 1, 1);
	if (!live || !shown)
		nomem();
	for (size_t i = 0; i < ids.cap; i++)
		if (ids.s[i].h)
			live[ids.s[i].ords[ids.s[i].nords - 1]] = 1;
	uint64_t nlive = 0, clusters = 0, ncand = 0;
	for (size_t i = 0; i < NR; i++)
		if (live[i]) {
			nlive++;
			shown[find((uint32_t)i)] = 1;
		}
	for (size_t i = 0; i < NR; i++)
		clusters += shown[i];
	for (size_t i = 0; i < npairs; i++)
		ncand += find(pairs[i][0]) != find(pairs[i][1]);
	printf("{\"records\":%zu,\"clusters\":%llu,\"merged\":%llu,\"edges\":{\"id\":%llu,\"linked\":%llu,"
		"\"isrc\":%llu,\"text\":%llu,\"similar\":0},\"candidates\":%llu,\"blocks_capped\":%llu}\n",
		NR, (unsigned long long)clusters, (unsigned long long)(nlive - clusters),
		(unsigned long long)edges[1], (unsigned long long)edges[2], (unsigned long long)edges[3],
		(unsigned long long)edges[4], (unsigned long long)ncand, (unsigned long long)capped);
	/* everything freed, so that the sanitizers' leak check passes (make check) */
	free(live);
	free(shown);
	free(line);
	fclose(f);
	wn_norm_free(&wt);
	wn_norm_free(&wa);
	map *maps[] = { &ids, &isrcs, &texts, &blocks1, &blocks2 };
	for (size_t m = 0; m < sizeof maps / sizeof *maps; m++) {
		for (size_t i = 0; i < maps[m]->cap; i++) {
			free(maps[m]->s[i].ords);
			if (maps[m] == &isrcs && maps[m]->s[i].h)
				free((char *)maps[m]->s[i].k);   /* the only keys the map owns */
		}
		free(maps[m]->s);
	}
	for (size_t i = 0; i < NR; i++) {
		free(R[i].id);
		free(R[i].text);
		free(R[i].quals);
		free(R[i].b1);
		free(R[i].b2);
	}
	free(R);
	free(cands);
	free(pairs);
	return fflush(stdout) ? 3 : 0;
}
