/*
 * lsm.c - the three hashed maps of the index (id, fp, isrc) as ingest uses them.
 *
 * Why runs: ids and fingerprints are hashes, so they arrive in random key order. A
 * B-tree that takes random keys has to rewrite a page for almost every insert once it
 * is larger than memory (measured here: ~100k puts/s at 20M keys), and the cost per
 * record keeps growing with the catalog. Instead, new entries collect in a memtable
 * and are written at each checkpoint as one sorted run with MDB_APPEND (~3M puts/s,
 * full pages), and runs of similar size are merged (tiered, FANOUT at a time, in
 * lsm_merge.c), so each entry is rewritten O(log_FANOUT(N / checkpoint)) times in all.
 * How a run lies in LMDB, block by block, is lsm_run.c's.
 *
 * This file owns the memtable (an open-addressing table of id entries, and the fp and
 * isrc pairs), the bloom filters (one over every id, one per run of the id map), the
 * fences that find an id's block without descending LMDB's tree, and "freezing": a
 * checkpoint writing the memtable on another thread while the next one fills.
 *
 * Lookups during ingest go: bloom filter over every id hash (memory, one cache line) ->
 * memtable -> runs newest to oldest. Only ids the filter has seen reach LMDB.
 */
#include "lsm.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- bloom filters ----
 * One over every id (memory only, rebuilt at open): most records are new ids and cost
 * one cache line here. And one per run of the id map (kept in meta "bloom.<kind>.<run>"):
 * an id the first one may have seen is looked up only in the runs whose filter says so,
 * which matters once the index is larger than memory and every probe of a run costs
 * page faults. */

rbloom *wn_rb_find(wn_lsm *m, uint32_t no)
{
	for (size_t i = 0; i < m->nrb; i++)
		if (m->rb[i].no == no)
			return &m->rb[i];
	return NULL;
}

/* ~12 bits an entry: about 0.5% false positives with 6 probes in 512-bit blocks */
static int rb_init(rbloom *b, uint32_t no, uint64_t entries)
{
	size_t blocks = (size_t)((entries * 12 + 511) / 512);
	if (!blocks)
		blocks = 1;
	memset(b, 0, sizeof *b);
	if (!(b->bits = calloc(blocks, 64)))
		return WN_E_NOMEM;
	b->no = no;
	b->blocks = blocks;
	b->fscan = 1;
	return 0;
}

/* Add a filter to the list; *b is moved in (on failure it is freed). */
static rbloom *rb_add(wn_lsm *m, rbloom *b)
{
	if (WN_GROW(m->rb, m->nrb, m->caprb, 16)) {
		free(b->bits);
		return NULL;
	}
	m->rb[m->nrb] = *b;
	return &m->rb[m->nrb++];
}

rbloom *wn_rb_new(wn_lsm *m, uint32_t no, uint64_t entries)
{
	rbloom b;
	return rb_init(&b, no, entries) ? NULL : rb_add(m, &b);
}

static void rb_drop(wn_lsm *m, uint32_t no)
{
	rbloom *b = wn_rb_find(m, no);
	if (!b)
		return;
	free(b->bits);
	free(b->f);
	*b = m->rb[--m->nrb];
}

int wn_rb_store(wn_lsm *m, MDB_txn *txn, const rbloom *b)
{
	char key[64];
	snprintf(key, sizeof key, "bloom.%s.%u", wn_catalog_kind_name(m->c, m->kind), b->no);
	if (!b->bits)
		return wn_meta_del(m->c, txn, key);
	return wn_meta_put(m->c, txn, key, b->bits, b->blocks * 64);
}

int wn_rb_forget(wn_lsm *m, MDB_txn *txn, uint32_t no)
{
	char key[64];
	snprintf(key, sizeof key, "bloom.%s.%u", wn_catalog_kind_name(m->c, m->kind), no);
	rb_drop(m, no);
	return wn_meta_del(m->c, txn, key);
}

/* Load a run's filter, or build it from the run's entries if it is not stored (a merge
 * that a crash interrupted). */
int wn_rb_load(wn_lsm *m, MDB_txn *txn, const run *r)
{
	char key[64];
	MDB_val v;
	snprintf(key, sizeof key, "bloom.%s.%u", wn_catalog_kind_name(m->c, m->kind), r->no);
	int rc = wn_meta_get(m->c, txn, key, &v);
	if (rc && rc != WN_E_NOTFOUND)
		return rc;
	if (!rc && v.mv_size % 64 == 0 && v.mv_size) {
		rbloom *b = wn_rb_new(m, r->no, 0);
		if (!b)
			return WN_E_NOMEM;
		uint64_t *bits = malloc(v.mv_size);
		if (!bits)
			return WN_E_NOMEM;
		memcpy(bits, v.mv_data, v.mv_size);
		free(b->bits);
		b->bits = bits;
		b->blocks = v.mv_size / 64;
		return 0;
	}
	rbloom *b = wn_rb_new(m, r->no, r->entries);
	if (!b)
		return WN_E_NOMEM;
	MDB_cursor *cur;
	MDB_val k;
	uint8_t kb[4];
	if ((rc = mdb_cursor_open(txn, m->c->db_map[m->kind][WN_MAP_ID], &cur)))
		return wn_lmdb_err(m->c, rc, "cursor");
	wn_put_be32(kb, r->no);
	k.mv_size = 4;
	k.mv_data = kb;
	int bad = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc && k.mv_size >= 4 && wn_get_be32(k.mv_data) == r->no;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *e;
		size_t n;
		if ((bad = wn_block_entries(m->c, WN_ID_ENTRY, &k, &v, &e, &n)))
			break;
		for (size_t i = 0; i < n; i++)
			bb_add(b->bits, b->blocks, wn_get_be64(e + i * WN_ID_ENTRY));
	}
	mdb_cursor_close(cur);
	if (bad)
		return bad;
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : wn_lmdb_err(m->c, rc, "bloom scan");
}


/* ---- fences ---- */

/* Read the fences of the blocks of run b->no added since the last call (all of them
 * the first time), from txn. Only the B-tree's leaves are read: an overflow page's
 * number is where its value lies in the map. */
static int fence_extend(wn_lsm *m, MDB_txn *txn, rbloom *b)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t kb[12];
	const uint8_t *map = wn_index_map(m->c);
	int rc = mdb_cursor_open(txn, m->c->db_map[m->kind][WN_MAP_ID], &cur);
	if (rc)
		return wn_lmdb_err(m->c, rc, "cursor");
	wn_put_be32(kb, b->no);
	k.mv_size = 4;
	k.mv_data = kb;
	if (b->nf) {
		wn_put_be64(kb + 4, b->f[b->nf - 1].last);
		k.mv_size = 12;
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (!rc && b->nf && k.mv_size == 12 && !memcmp(k.mv_data, kb, 12))
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);   /* the last block we have */
	for (; !rc && k.mv_size >= 4 && wn_get_be32(k.mv_data) == b->no; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 12 || v.mv_size <= WN_SUM_BYTES || (v.mv_size - WN_SUM_BYTES) % WN_ID_ENTRY ||
		    v.mv_size > BLOCK_BYTES) {
			mdb_cursor_close(cur);
			return wn_seterr(m->c, WN_E_CORRUPT, "index: id block of run %u has a %zu-byte key and %zu bytes",
				b->no, k.mv_size, v.mv_size);
		}
		if (WN_GROW(b->f, b->nf, b->capf, 256)) {
			mdb_cursor_close(cur);
			return WN_E_NOMEM;
		}
		fence *f = &b->f[b->nf++];
		f->last = wn_get_be64((const uint8_t *)k.mv_data + 4);
		f->n = (uint32_t)((v.mv_size - WN_SUM_BYTES) / WN_ID_ENTRY);
		f->pgno = 0;
		f->ok = 0;
		/* an overflow page's value starts right after its 16-byte header */
		const uint8_t *p = v.mv_data;
		if (map && p >= map + 16 && (size_t)(p - 16 - map) % m->psize == 0 &&
		    (size_t)(p - 16 - map) / m->psize < UINT32_MAX)
			f->pgno = (uint32_t)((size_t)(p - 16 - map) / m->psize);
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return wn_lmdb_err(m->c, rc, "fence scan");
	b->fscan = 0;
	return 0;
}

/* A merge step committed with its sources' blocks below key k deleted (see
 * wn_blocks_delete): their fences go too. */
void wn_fence_trim(rbloom *b, uint64_t k)
{
	while (b->f0 < b->nf && b->f[b->f0].last < k)
		b->f0++;
}

#define FENCE_NONE 2   /* fence_find: the block is not in an overflow page; ask LMDB */

/* Look hash/check up in run b->no by its fences. 1 found, 0 not in the run,
 * FENCE_NONE, or <0. */
static int fence_find(wn_lsm *m, MDB_txn *txn, rbloom *b, uint64_t hash, uint16_t check, wn_idrec *out)
{
	int rc;
	if (b->fscan && (rc = fence_extend(m, txn, b)))
		return rc;
	size_t lo = b->f0, hi = b->nf;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->f[mid].last < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == b->nf)
		return 0;
	fence *f = &b->f[lo];
	if (!f->pgno)
		return FENCE_NONE;
	size_t want = 16 + (size_t)f->n * WN_ID_ENTRY + WN_SUM_BYTES;
	const uint8_t *map = m->via_map ? wn_index_map(m->c) : NULL, *pgp;
	if (map) {
		pgp = map + (size_t)f->pgno * m->psize;
	} else {
		if (pread(m->fd, m->page, want, (off_t)f->pgno * (off_t)m->psize) != (ssize_t)want)
			return FENCE_NONE;
		pgp = m->page;
	}
	/* the page's header names its own number and says overflow (LMDB's P_OVERFLOW) */
	uint64_t pg;
	uint16_t flags;
	memcpy(&pg, pgp, 8);
	memcpy(&flags, pgp + 10, 2);
	if (pg != f->pgno || !(flags & 0x04))
		return FENCE_NONE;
	/* A block that fails its checksum is read again through LMDB, which reports it. A
	 * block is checked once per run: it does not change while its fence is listed (a
	 * merge deletes blocks and trims their fences; the page header is checked above),
	 * and hashing 4 KiB for each lookup of a known id would cost ~8% of such a run. */
	if (!f->ok) {
		uint8_t kb[12];
		wn_put_be32(kb, b->no);
		wn_put_be64(kb + 4, f->last);
		if (!wn_sum_ok(kb, 12, pgp + 16, want - 16))
			return FENCE_NONE;
		f->ok = 1;
	}
	m->n_fence++;
	return wn_block_find_id(pgp + 16, f->n, hash, check, out);
}


static inline uint64_t *bloom_block(const wn_lsm *m, uint64_t h)
{
	return m->bloom + (((unsigned __int128)h * m->bloom_blocks) >> 64) * 8;
}

static inline void bloom_add(wn_lsm *m, uint64_t h)
{
	uint64_t *b = bloom_block(m, h);
	uint64_t g = h * 0x9E3779B97F4A7C15ull ^ (h >> 29);
	for (int i = 0; i < 6; i++, g >>= 9)
		b[(g >> 6) & 7] |= 1ull << (g & 63);
	m->bloom_n++;
}

static inline int bloom_maybe(const wn_lsm *m, uint64_t h)
{
	const uint64_t *b = bloom_block(m, h);
	uint64_t g = h * 0x9E3779B97F4A7C15ull ^ (h >> 29);
	for (int i = 0; i < 6; i++, g >>= 9)
		if (!(b[(g >> 6) & 7] & (1ull << (g & 63))))
			return 0;
	return 1;
}

static int bloom_scan_fn(const uint8_t *e, uint32_t runno, void *ud)
{
	wn_lsm *m = ud;
	bloom_add(m, wn_get_be64(e));
	/* the scan maps the whole id map: keep our resident set small while it runs (the
	 * cursor's pages just come back on the next touch) */
	if ((m->bloom_n & ((1u << 20) - 1)) == 0)
		wn_index_release_pages(m->c);
	return 0;
}

/* (Re)build the filter for `capacity` ids at ~10 bits each (false positives ~1%: an id
 * that passes it by mistake is stopped by the per-run filters, still in memory). */
static int bloom_build(wn_lsm *m, MDB_txn *txn, uint64_t capacity)
{
	size_t blocks = (size_t)((capacity * 10 + 511) / 512);   /* any count: blocks are picked by multiply-shift */
	if (blocks < 64)
		blocks = 64;
	uint64_t *b = wn_big_alloc(blocks * 64);
	if (!b)
		return WN_E_NOMEM;
	wn_big_free(m->bloom, m->bloom_blocks * 64);
	m->bloom = b;
	m->bloom_blocks = blocks;
	m->bloom_n = 0;
	int rc = wn_map_scan(m->c, txn, m->kind, WN_MAP_ID, bloom_scan_fn, m);
	if (rc)
		return rc;
	for (size_t i = 0; m->mem.slot && i <= m->mem.mask; i++)
		if (mslot_ord1(&m->mem.slot[i]))
			bloom_add(m, m->mem.slot[i].hash);
	for (size_t i = 0; m->frozen && i <= m->fz.mask; i++)
		if (mslot_ord1(&m->fz.slot[i]))
			bloom_add(m, m->fz.slot[i].hash);
	return 0;
}

/* ---- memtable ---- */

static int idtab_init(idtab *t, size_t want)
{
	size_t cap = 1024;
	while (cap * 7 < want * 10)
		cap *= 2;
	t->slot = wn_big_alloc(cap * sizeof *t->slot);
	if (!t->slot)
		return WN_E_NOMEM;
	t->mask = cap - 1;
	t->n = 0;
	t->shift = 64;
	while (cap > 1) {
		cap >>= 1;
		t->shift--;
	}
	return 0;
}

static void idtab_free(idtab *t)
{
	wn_big_free(t->slot, (t->mask + 1) * sizeof *t->slot);
	t->slot = NULL;
}

static inline size_t idtab_home(const idtab *t, uint64_t hash)
{
	return (size_t)(hash >> t->shift);
}

static mslot *idtab_find(const idtab *t, uint64_t hash, uint16_t check)
{
	for (size_t i = idtab_home(t, hash);; i = (i + 1) & t->mask) {
		mslot *s = &t->slot[i];
		if (!mslot_ord1(s))
			return NULL;
		if (s->hash == hash && s->check == check)
			return s;
	}
}

static void idtab_set(mslot *s, const wn_idrec *r)
{
	s->hash = r->hash;
	s->ord_lo = (uint32_t)(r->ord + 1);
	s->ord_hi = (uint8_t)((r->ord + 1) >> 32);
	s->check = r->check;
	s->flags = r->flags;
	memcpy(s->fp, r->fp, 16);
}

static void idtab_get(const mslot *s, wn_idrec *r)
{
	r->hash = s->hash;
	r->ord = mslot_ord1(s) - 1;
	r->check = s->check;
	r->flags = s->flags;
	memcpy(r->fp, s->fp, 16);
}

static int idtab_grow(idtab *t)
{
	idtab n;
	if (idtab_init(&n, (t->mask + 1) * 2 * 7 / 10))
		return WN_E_NOMEM;
	for (size_t i = 0; i <= t->mask; i++) {
		mslot *s = &t->slot[i];
		if (!mslot_ord1(s))
			continue;
		size_t j = idtab_home(&n, s->hash);
		while (mslot_ord1(&n.slot[j]))
			j = (j + 1) & n.mask;
		n.slot[j] = *s;
		n.n++;
	}
	idtab_free(t);
	*t = n;
	return 0;
}

/* insert or replace */
static int idtab_put(idtab *t, const wn_idrec *r)
{
	if ((t->n + 1) * 10 > (t->mask + 1) * 7 && idtab_grow(t))
		return WN_E_NOMEM;
	for (size_t i = idtab_home(t, r->hash);; i = (i + 1) & t->mask) {
		mslot *s = &t->slot[i];
		if (!mslot_ord1(s)) {
			idtab_set(s, r);
			t->n++;
			return 0;
		}
		if (s->hash == r->hash && s->check == r->check) {
			idtab_set(s, r);
			return 0;
		}
	}
}

static void idtab_clear(idtab *t)
{
	if (t->n)
		memset(t->slot, 0, (t->mask + 1) * sizeof *t->slot);
	t->n = 0;
}

static int keyset_put(keyset *s, uint64_t k)
{
	if (!s->k || (s->n + 1) * 2 > s->mask + 1) {
		size_t cap = s->k ? (s->mask + 1) * 2 : 1024;
		uint64_t *nk = calloc(cap, 8);
		if (!nk)
			return WN_E_NOMEM;
		for (size_t i = 0; s->k && i <= s->mask; i++) {
			if (!s->k[i])
				continue;
			size_t j = (size_t)s->k[i] & (cap - 1);
			while (nk[j])
				j = (j + 1) & (cap - 1);
			nk[j] = s->k[i];
		}
		free(s->k);
		s->k = nk;
		s->mask = cap - 1;
	}
	k |= 1;   /* 0 marks a free slot; the low bit is not significant enough to matter */
	size_t i = (size_t)k & s->mask;
	while (s->k[i] && s->k[i] != k)
		i = (i + 1) & s->mask;
	if (!s->k[i]) {
		s->k[i] = k;
		s->n++;
	}
	return 0;
}

static int keyset_has(const keyset *s, uint64_t k)
{
	if (!s->k)
		return 0;
	k |= 1;
	for (size_t i = (size_t)k & s->mask; s->k[i]; i = (i + 1) & s->mask)
		if (s->k[i] == k)
			return 1;
	return 0;
}

static int pairvec_push(pairvec *v, uint64_t hash, uint64_t ord)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 65536;
		pair *p = wn_big_realloc(v->p, v->cap * sizeof *p, cap * sizeof *p);
		if (!p)
			return WN_E_NOMEM;
		v->p = p;
		v->cap = cap;
	}
	v->p[v->n].hash = hash;
	v->p[v->n].ord = ord;
	v->n++;
	return 0;
}

/* ---- ingest-side API ---- */

/* expect: new ids per checkpoint (sizes the memtable); expect_total: new ids this run, as
 * far as known (sizes the filter, with a floor of mem_budget / 64 ids: 1/50 of the budget
 * in filter, which saves rebuilding it by doubling, a scan of every id each time, when
 * the input's size is not known). */
int wn_lsm_open(wn_catalog *c, int kind, uint64_t expect, uint64_t expect_total, size_t mem_budget, wn_lsm **out)
{
	wn_lsm *m = calloc(1, sizeof *m);
	MDB_txn *txn;
	*out = NULL;
	if (!m)
		return WN_E_NOMEM;
	m->c = c;
	m->kind = kind;
	m->merge_step = MERGE_STEP;
	m->fd = -1;
	MDB_stat ms;
	int fd;
	if (!mdb_env_stat(c->env, &ms) && !mdb_env_get_fd(c->env, &fd)) {
		m->fd = fd;
		m->psize = ms.ms_psize;
	}
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
	if (rc) {
		free(m);
		return wn_lmdb_err(c, rc, "begin");
	}
	for (int i = 0; i < WN_NMAPS && !rc; i++)
		rc = wn_runs_load(c, txn, kind, i, &m->runs[i]);
	uint64_t existing = 0;
	for (size_t i = 0; !rc && i < m->runs[WN_MAP_ID].n; i++)
		existing += m->runs[WN_MAP_ID].r[i].entries;
	/* the memtable holds one checkpoint's ids: size it once */
	if (!rc)
		rc = idtab_init(&m->mem, expect);
	if (expect_total < expect)
		expect_total = expect;
	if (expect_total < mem_budget / 64)
		expect_total = mem_budget / 64;
	if (!rc)
		rc = bloom_build(m, txn, existing + expect_total);
	for (size_t i = 0; !rc && i < m->runs[WN_MAP_ID].n; i++)
		rc = wn_rb_load(m, txn, &m->runs[WN_MAP_ID].r[i]);
	mdb_txn_abort(txn);
	wn_index_release_pages(c);
	if (rc) {
		wn_lsm_close(m);
		return rc;
	}
	*out = m;
	return 0;
}

void wn_lsm_close(wn_lsm *m)
{
	if (!m)
		return;
	for (int i = 0; i < WN_NMAPS; i++) {
		free(m->runs[i].r);
		free(m->new_runs[i].r);
		wn_big_free(m->pairs[i].p, m->pairs[i].cap * sizeof(pair));
		wn_big_free(m->fz_pairs[i].p, m->fz_pairs[i].cap * sizeof(pair));
	}
	idtab_free(&m->mem);
	idtab_free(&m->fz);
	idtab_free(&m->spare);
	free(m->revfp.k);
	free(m->fz_rev.k);
	if (m->new_rb)
		free(m->new_rb->bits);
	free(m->new_rb);
	wn_big_free(m->bloom, m->bloom_blocks * 64);
	wn_big_free(m->sortbuf, m->sortcap);
	for (size_t i = 0; i < m->nrb; i++) {
		free(m->rb[i].bits);
		free(m->rb[i].f);
	}
	free(m->rb);
	free(m);
}

void wn_lsm_prefetch(const wn_lsm *m, uint64_t hash)
{
	__builtin_prefetch(bloom_block(m, hash));
	__builtin_prefetch(&m->mem.slot[idtab_home(&m->mem, hash)]);
}

int wn_lsm_find_id(wn_lsm *m, MDB_txn *txn, uint64_t hash, uint16_t check, wn_idrec *out)
{
	if (!bloom_maybe(m, hash))
		return 0;
	mslot *r = idtab_find(&m->mem, hash, check);
	if (!r && m->frozen)
		r = idtab_find(&m->fz, hash, check);
	if (r) {
		idtab_get(r, out);
		return 1;
	}
	runlist *rl = &m->runs[WN_MAP_ID];
	if (!rl->n)
		return 0;
	MDB_cursor *cur = NULL;
	int rc = 0;
	for (size_t i = rl->n; i-- > 0 && rc == 0;) {
		rbloom *b = wn_rb_find(m, rl->r[i].no);
		if (b && !bb_maybe(b->bits, b->blocks, hash))
			continue;
		if (b && m->fd >= 0) {
			rc = fence_find(m, txn, b, hash, check, out);
			if (rc != FENCE_NONE)
				continue;
			rc = 0;
		}
		m->n_tree++;
		if (!cur && (rc = mdb_cursor_open(txn, m->c->db_map[m->kind][WN_MAP_ID], &cur)))
			return wn_lmdb_err(m->c, rc, "cursor");
		rc = wn_run_find_id(m->c, cur, rl->r[i].no, hash, check, out);
	}
	if (cur)
		mdb_cursor_close(cur);
	return rc;
}

void wn_lsm_via_map(wn_lsm *m, int on)
{
	m->via_map = on;
}

void wn_lsm_probes(const wn_lsm *m, uint64_t *by_fence, uint64_t *by_tree)
{
	*by_fence = m->n_fence;
	*by_tree = m->n_tree;
}

static int found_fn(uint64_t ord, void *ud)
{
	return 1;
}

int wn_lsm_has_fp(wn_lsm *m, MDB_txn *txn, const uint8_t fp[16], uint64_t ord)
{
	uint64_t k = wn_fp_key(fp);
	if (keyset_has(&m->revfp, k) || (m->frozen && keyset_has(&m->fz_rev, k)))
		return 1;
	/* Fingerprints of this memtable that are not the current one of their id (ledger
	 * revisions, superseded versions) are all in revfp; older ones are in the runs. */
	runlist *rl = &m->runs[WN_MAP_FP];
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, m->c->db_map[m->kind][WN_MAP_FP], &cur);
	if (rc)
		return wn_lmdb_err(m->c, rc, "cursor");
	rc = 0;
	for (size_t i = rl->n; i-- > 0 && rc == 0;)
		rc = wn_run_pairs(m->c, cur, rl->r[i].no, k, found_fn, NULL);
	mdb_cursor_close(cur);
	return rc;
}

int wn_lsm_put_id(wn_lsm *m, const wn_idrec *r, int known)
{
	if (!known) {
		bloom_add(m, r->hash);
		if (m->bloom_n * 10 > (uint64_t)m->bloom_blocks * 512 * 5 / 4) {
			/* far past its design load: rebuild larger (rare, doubling) */
			MDB_txn *txn;
			int rc = mdb_txn_begin(m->c->env, NULL, MDB_RDONLY, &txn);
			if (rc)
				return wn_lmdb_err(m->c, rc, "begin");
			if (!(rc = idtab_put(&m->mem, r)))
				rc = bloom_build(m, txn, m->bloom_n * 2);
			mdb_txn_abort(txn);
			return rc;
		}
	}
	return idtab_put(&m->mem, r);
}

int wn_lsm_put_pair(wn_lsm *m, int map, uint64_t hash, uint64_t ord)
{
	return pairvec_push(&m->pairs[map], hash, ord);
}

int wn_lsm_note_revfp(wn_lsm *m, const uint8_t fp[16])
{
	return keyset_put(&m->revfp, wn_fp_key(fp));
}


static inline int mslot_less(const mslot *a, const mslot *b)
{
	return a->hash < b->hash || (a->hash == b->hash && a->check < b->check);
}

/* Sort a cluster of entries (few: the table is at most 70% full). */
static void sort_cluster(mslot *c, size_t n)
{
	for (size_t k = 1; k < n; k++) {
		if (!mslot_less(&c[k], &c[k - 1]))
			continue;
		mslot tmp = c[k];
		size_t j = k;
		while (j > 0 && mslot_less(&tmp, &c[j - 1])) {
			c[j] = c[j - 1];
			j--;
		}
		c[j] = tmp;
	}
}

static int cluster_push(mslot **b, size_t *n, size_t *cap, const mslot *e)
{
	if (WN_GROW(*b, *n, *cap, 256))
		return WN_E_NOMEM;
	(*b)[(*n)++] = *e;
	return 0;
}

typedef int (*id_fn)(const mslot *e, void *ud);

/* Visit the ids of a table in key order without moving them. A home slot is the top
 * bits of the hash, and a cluster of linear probing (occupied slots between two free
 * ones) holds exactly the entries whose home is in it: sorting cluster by cluster sorts
 * the whole. The one cluster that wraps around the end of the table holds the smallest
 * hashes (homes at its head) and the largest (homes at its tail): they go first and
 * last. */
static int ids_in_order(const idtab *t, id_fn fn, void *ud)
{
	const mslot *s = t->slot;
	size_t cap = t->mask + 1, a = cap, b = 0;
	mslot *c = NULL, *high = NULL;
	size_t nc = 0, capc = 0, nh = 0, caph = 0;
	int rc = 0;
	if (mslot_ord1(&s[0]) && mslot_ord1(&s[cap - 1])) {
		while (b < cap && mslot_ord1(&s[b]))
			b++;
		while (a > b && mslot_ord1(&s[a - 1]))
			a--;
		/* its slots: [0, b) and [a, cap) */
		for (size_t i = 0; i < cap && !rc; i = i + 1 == b ? a : i + 1) {
			if (idtab_home(t, s[i].hash) >= a)
				rc = cluster_push(&high, &nh, &caph, &s[i]);
			else
				rc = cluster_push(&c, &nc, &capc, &s[i]);
		}
		sort_cluster(c, nc);
		sort_cluster(high, nh);
		for (size_t k = 0; k < nc && !rc; k++)
			rc = fn(&c[k], ud);
	}
	for (size_t i = b; i < a && !rc;) {
		if (!mslot_ord1(&s[i])) {
			i++;
			continue;
		}
		nc = 0;
		for (; i < a && mslot_ord1(&s[i]) && !rc; i++)
			rc = cluster_push(&c, &nc, &capc, &s[i]);
		sort_cluster(c, nc);
		for (size_t k = 0; k < nc && !rc; k++)
			rc = fn(&c[k], ud);
	}
	for (size_t k = 0; k < nh && !rc; k++)
		rc = fn(&high[k], ud);
	free(c);
	free(high);
	return rc;
}

static inline int pair_less(const pair *a, const pair *b)
{
	return a->hash < b->hash || (a->hash == b->hash && a->ord < b->ord);
}

/* Sort pairs: two LSD radix passes of 8 bits over the top 16 bits of the (uniformly
 * random) hash, through a scratch array of the same size (256 write streams stay in
 * cache, unlike a one-pass scatter into 65536 buckets), then insertion sort of the
 * few dozen pairs that share their top 16 bits. The result is in p again. */
static int sort_pairs(wn_lsm *m, pair *p, size_t n)
{
	size_t need = n * sizeof *p;
	if (need > m->sortcap) {
		size_t cap = need + need / 2;
		void *q = wn_big_realloc(m->sortbuf, m->sortcap, cap);
		if (!q)
			return WN_E_NOMEM;
		m->sortbuf = q;
		m->sortcap = cap;
	}
	pair *tmp = m->sortbuf, *src = p, *dst = tmp;
	for (int shift = 48; shift <= 56; shift += 8) {
		size_t cnt[256] = { 0 }, pos = 0;
		for (size_t i = 0; i < n; i++)
			cnt[(src[i].hash >> shift) & 255]++;
		for (int k = 0; k < 256; k++) {
			size_t c = cnt[k];
			cnt[k] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[cnt[(src[i].hash >> shift) & 255]++] = src[i];
		pair *t = src;
		src = dst;
		dst = t;
	}
	/* two passes: the sorted data is back in p */
	for (size_t i = 1; i < n; i++) {
		if (!pair_less(&p[i], &p[i - 1]))
			continue;
		pair x = p[i];
		size_t j = i;
		while (j > 0 && pair_less(&x, &p[j - 1])) {
			p[j] = p[j - 1];
			j--;
		}
		p[j] = x;
	}
	return 0;
}

/* ---- freezing ----
 *
 * A checkpoint's index transaction runs on a thread of its own while the ingesting
 * thread goes on deciding records. wn_lsm_freeze (ingesting thread) sets the memtable
 * aside with its pairs and revfp; an empty table takes its place. Lookups then go:
 * memtable -> frozen table -> runs. wn_lsm_flush_frozen (checkpoint thread) writes the
 * frozen ids in key order as they lie (ids_in_order: the table stays a hash table for
 * lookups) and the frozen pairs as new runs, building the new run lists and the new
 * run's filter apart from the ones lookups use; wn_lsm_install (ingesting
 * thread, once the transaction committed) swaps them in and clears the frozen table for
 * the next freeze. Between freeze and install the ingesting thread only reads what was
 * committed before (its read transaction keeps those pages), and the checkpoint thread
 * only writes what lookups do not read.
 */

static int runs_copy(runlist *dst, const runlist *src)
{
	free(dst->r);
	memset(dst, 0, sizeof *dst);
	if (!src->n)
		return 0;
	if (!(dst->r = malloc(src->n * sizeof *src->r)))
		return WN_E_NOMEM;
	memcpy(dst->r, src->r, src->n * sizeof *src->r);
	dst->n = dst->cap = src->n;
	return 0;
}

typedef struct idwrite {
	blockw *w;
	rbloom *b;
} idwrite;

static int id_write(const mslot *s, void *ud)
{
	idwrite *iw = ud;
	uint8_t e[WN_ID_ENTRY];
	wn_idrec r;
	idtab_get(s, &r);
	wn_idrec_pack(e, &r);
	bb_add(iw->b->bits, iw->b->blocks, r.hash);
	return wn_blockw_add(iw->w, e);
}

int wn_lsm_freeze(wn_lsm *m)
{
	if (m->frozen)
		return wn_seterr(m->c, WN_E_USAGE, "index: a memtable is already being written");
	if (!m->spare.slot && idtab_init(&m->spare, (m->mem.mask + 1) * 7 / 10))
		return WN_E_NOMEM;
	m->fz = m->mem;
	m->mem = m->spare;
	memset(&m->spare, 0, sizeof m->spare);
	for (int map = WN_MAP_FP; map <= WN_MAP_ISRC; map++) {
		pairvec t = m->fz_pairs[map];
		m->fz_pairs[map] = m->pairs[map];
		t.n = 0;
		m->pairs[map] = t;
	}
	free(m->fz_rev.k);
	m->fz_rev = m->revfp;
	memset(&m->revfp, 0, sizeof m->revfp);
	m->frozen = 1;
	return 0;
}

int wn_lsm_flush_frozen(wn_lsm *m, MDB_txn *txn)
{
	int rc = 0;
	for (int map = 0; map < WN_NMAPS && !rc; map++)
		rc = runs_copy(&m->new_runs[map], &m->runs[map]);
	if (rc)
		return rc;
	blockw *w = malloc(sizeof *w);
	if (!w)
		return WN_E_NOMEM;
	if (m->fz.n) {
		/* in key order, read where they are: the table serves lookups meanwhile */
		rc = wn_blockw_open(m->c, m->kind, txn, WN_MAP_ID, w);
		rbloom *b = rc ? NULL : calloc(1, sizeof *b);
		if (!rc && (!b || rb_init(b, w->no, m->fz.n))) {
			free(b);
			b = NULL;
			rc = WN_E_NOMEM;
		}
		m->new_rb = b;
		idwrite iw = { w, b };
		if (!rc)
			rc = ids_in_order(&m->fz, id_write, &iw);
		if (!rc)
			rc = wn_blockw_close(w, 0, &m->new_runs[WN_MAP_ID]);
		else if (w->cur)
			mdb_cursor_close(w->cur);
		if (!rc)
			rc = wn_rb_store(m, txn, b);
	}
	for (int map = WN_MAP_FP; map <= WN_MAP_ISRC && !rc; map++) {
		pairvec *pv = &m->fz_pairs[map];
		if (!pv->n)
			continue;
		if ((rc = sort_pairs(m, pv->p, pv->n)))
			break;
		rc = wn_blockw_open(m->c, m->kind, txn, map, w);
		for (size_t i = 0; i < pv->n && !rc; i++) {
			uint8_t e[WN_PAIR_ENTRY];
			if (i && pv->p[i].hash == pv->p[i - 1].hash && pv->p[i].ord == pv->p[i - 1].ord)
				continue;   /* the same pair twice */
			wn_pair_pack(e, &pv->p[i]);
			rc = wn_blockw_add(w, e);
		}
		if (!rc)
			rc = wn_blockw_close(w, 0, &m->new_runs[map]);
		else if (w->cur)
			mdb_cursor_close(w->cur);
	}
	free(w);
	for (int map = 0; map < WN_NMAPS && !rc; map++)
		rc = wn_runs_store(m->c, txn, m->kind, map, &m->new_runs[map]);
	return rc;
}

/* The frozen memtable's transaction committed: its runs are now the ones to read. */
int wn_lsm_install(wn_lsm *m)
{
	if (!m->frozen)
		return 0;
	for (int map = 0; map < WN_NMAPS; map++) {
		free(m->runs[map].r);
		m->runs[map] = m->new_runs[map];
		memset(&m->new_runs[map], 0, sizeof m->new_runs[map]);
	}
	int rc = 0;
	if (m->new_rb) {
		if (!rb_add(m, m->new_rb))
			rc = WN_E_NOMEM;
		free(m->new_rb);
		m->new_rb = NULL;
	}
	idtab_clear(&m->fz);
	m->spare = m->fz;
	memset(&m->fz, 0, sizeof m->fz);
	for (int map = 0; map < WN_NMAPS; map++)
		m->fz_pairs[map].n = 0;
	free(m->fz_rev.k);
	memset(&m->fz_rev, 0, sizeof m->fz_rev);
	m->frozen = 0;
	return rc;
}

int wn_lsm_flush(wn_lsm *m, MDB_txn *txn)
{
	int rc = wn_lsm_freeze(m);
	return rc ? rc : wn_lsm_flush_frozen(m, txn);
}

void wn_lsm_committed(wn_lsm *m)
{
	(void)wn_lsm_install(m);
}

/* The flush's transaction was aborted: reload the run lists as committed. The frozen
 * memtable was not written and is dropped: the ingest fails, and a rerun resumes from
 * the last checkpoint. */
int wn_lsm_aborted(wn_lsm *m)
{
	for (int map = 0; map < WN_NMAPS; map++) {
		free(m->new_runs[map].r);
		memset(&m->new_runs[map], 0, sizeof m->new_runs[map]);
	}
	if (m->new_rb) {
		free(m->new_rb->bits);
		free(m->new_rb);
		m->new_rb = NULL;
	}
	MDB_txn *txn;
	int rc = mdb_txn_begin(m->c->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return wn_lmdb_err(m->c, rc, "begin");
	for (int i = 0; i < WN_NMAPS && !rc; i++)
		rc = wn_runs_load(m->c, txn, m->kind, i, &m->runs[i]);
	mdb_txn_abort(txn);
	for (size_t i = 0; i < m->nrb; i++) {   /* read the fences again as committed */
		m->rb[i].f0 = m->rb[i].nf = 0;
		m->rb[i].fscan = 1;
	}
	return rc;
}

