/*
 * lsm_run.c - the run format of the hashed maps: entries, run lists, blocks written
 * and read, and the read-only access of get, verify and stats.
 *
 * A run is a sequence of blocks in its map's LMDB database. A block is one LMDB value
 * holding up to BLOCK_DATA bytes of fixed-size entries in key order and their checksum
 * (WN_SUM_BYTES, internal.h; checked whenever a block is read); its LMDB key is the
 * run number (u32be) followed by the sort key of its last entry, so MDB_SET_RANGE on
 * (run, key) lands on the only block that can hold key. Blocks of ~4 KiB fill exactly
 * one overflow page, so the maps cost little more than their entries (doc/FORMAT.md).
 * The runs of a map, oldest first, are listed in meta "runs.<kind>.<map>".
 */
#include "lsm.h"

#include <errno.h>
#include <stdlib.h>

/* ---- entries ---- */

void wn_idrec_pack(uint8_t *p, const wn_idrec *r)
{
	wn_put_be64(p, r->hash);
	p[8] = (uint8_t)(r->check >> 8);
	p[9] = (uint8_t)r->check;
	p[10] = r->flags;
	wn_put_be40(p + 11, r->ord);
	memcpy(p + 16, r->fp, 16);
}

void wn_idrec_unpack(wn_idrec *r, const uint8_t *p)
{
	r->hash = wn_get_be64(p);
	r->check = (uint16_t)(p[8] << 8 | p[9]);
	r->flags = p[10];
	r->ord = wn_get_be40(p + 11);
	memcpy(r->fp, p + 16, 16);
}

void wn_pair_pack(uint8_t *p, const pair *x)
{
	wn_put_be64(p, x->hash);
	wn_put_be40(p + 8, x->ord);
}

/* ---- run lists (meta "runs.<kind>.<map>") ---- */


int wn_runs_load(wn_catalog *c, MDB_txn *txn, int kind, int map, runlist *rl)
{
	char key[64];
	MDB_val v;
	snprintf(key, sizeof key, "runs.%s.%s", wn_catalog_kind_name(c, kind), wn_map_name(map));
	rl->n = 0;
	int rc = wn_meta_get(c, txn, key, &v);
	if (rc == WN_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (v.mv_size % RUN_BYTES)
		return wn_seterr(c, WN_E_CORRUPT, "index: meta %s has %zu bytes", key, v.mv_size);
	size_t n = v.mv_size / RUN_BYTES;
	if (n > rl->cap) {
		run *r = realloc(rl->r, n * sizeof *r);
		if (!r)
			return WN_E_NOMEM;
		rl->r = r;
		rl->cap = n;
	}
	const uint8_t *p = v.mv_data;
	for (size_t i = 0; i < n; i++, p += RUN_BYTES) {
		rl->r[i].no = wn_get_be32(p);
		rl->r[i].level = p[4];
		rl->r[i].entries = wn_get_be64(p + 8);
		rl->r[i].blocks = wn_get_be64(p + 16);
	}
	rl->n = n;
	return 0;
}

int wn_runs_store(wn_catalog *c, MDB_txn *txn, int kind, int map, const runlist *rl)
{
	char key[64];
	uint8_t *buf = calloc(rl->n ? rl->n : 1, RUN_BYTES);
	if (!buf)
		return WN_E_NOMEM;
	for (size_t i = 0; i < rl->n; i++) {
		uint8_t *p = buf + i * RUN_BYTES;
		wn_put_be32(p, rl->r[i].no);
		p[4] = rl->r[i].level;
		wn_put_be64(p + 8, rl->r[i].entries);
		wn_put_be64(p + 16, rl->r[i].blocks);
	}
	snprintf(key, sizeof key, "runs.%s.%s", wn_catalog_kind_name(c, kind), wn_map_name(map));
	int rc = wn_meta_put(c, txn, key, buf, rl->n * RUN_BYTES);
	free(buf);
	return rc;
}

int wn_runs_push(runlist *rl, run r)
{
	if (WN_GROW(rl->r, rl->n, rl->cap, 16))
		return WN_E_NOMEM;
	rl->r[rl->n++] = r;
	return 0;
}

/* ---- block lookup ---- */

/* Position on the block of run `no` that may hold sortkey (klen bytes). Returns 1 and
 * the block's key and value, 0 if the run has no such block, <0 on error. */
static int block_seek(wn_catalog *c, MDB_cursor *cur, uint32_t no, const uint8_t *sk, size_t klen, MDB_val *k,
	MDB_val *val)
{
	uint8_t kb[4 + 16];
	wn_put_be32(kb, no);
	memcpy(kb + 4, sk, klen);
	k->mv_size = 4 + klen;
	k->mv_data = kb;
	int rc = mdb_cursor_get(cur, k, val, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return wn_lmdb_err(c, rc, "block seek");
	if (k->mv_size < 4 || wn_get_be32(k->mv_data) != no)
		return 0;
	return 1;
}

int wn_block_entries(wn_catalog *c, size_t es, const MDB_val *k, const MDB_val *v, const uint8_t **b, size_t *n)
{
	uint32_t no = k->mv_size >= 4 ? wn_get_be32(k->mv_data) : 0;
	if (v->mv_size < WN_SUM_BYTES + es || (v->mv_size - WN_SUM_BYTES) % es || v->mv_size > BLOCK_BYTES)
		return wn_seterr(c, WN_E_CORRUPT, "index: %s block of run %u has %zu bytes: the index is damaged; "
			"rebuild it from the data files with `winnow reindex -C %s`", es == WN_ID_ENTRY ? "an id" : "a pair", no,
			v->mv_size, c->dir);
	if (!wn_sum_ok(k->mv_data, k->mv_size, v->mv_data, v->mv_size))
		return wn_index_damaged(c, "%s block of run %u", es == WN_ID_ENTRY ? "an id" : "a pair", no);
	*b = v->mv_data;
	*n = (v->mv_size - WN_SUM_BYTES) / es;
	return 0;
}

/* first entry index in block with hash >= h */
static size_t block_lower(const uint8_t *b, size_t n, size_t es, uint64_t h)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (wn_get_be64(b + mid * es) < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* the entry of (hash, check) in a block of n id entries: 1 and *out, or 0 */
int wn_block_find_id(const uint8_t *b, size_t n, uint64_t hash, uint16_t check, wn_idrec *out)
{
	for (size_t i = block_lower(b, n, WN_ID_ENTRY, hash); i < n; i++) {
		const uint8_t *e = b + i * WN_ID_ENTRY;
		if (wn_get_be64(e) != hash)
			break;
		if ((uint16_t)(e[8] << 8 | e[9]) == check) {
			wn_idrec_unpack(out, e);
			return 1;
		}
	}
	return 0;
}

int wn_run_find_id(wn_catalog *c, MDB_cursor *cur, uint32_t no, uint64_t hash, uint16_t check, wn_idrec *out)
{
	uint8_t sk[8];
	MDB_val k, v;
	const uint8_t *b;
	size_t n;
	wn_put_be64(sk, hash);
	int rc = block_seek(c, cur, no, sk, 8, &k, &v);
	if (rc <= 0)
		return rc;
	if ((rc = wn_block_entries(c, WN_ID_ENTRY, &k, &v, &b, &n)))
		return rc;
	return wn_block_find_id(b, n, hash, check, out);
}

/* Calls fn for each ordinal under `hash` in one run of a pair map. */
int wn_run_pairs(wn_catalog *c, MDB_cursor *cur, uint32_t no, uint64_t hash,
	int (*fn)(uint64_t ord, void *ud), void *ud)
{
	uint8_t sk[13] = { 0 };
	MDB_val k, v;
	wn_put_be64(sk, hash);
	int rc = block_seek(c, cur, no, sk, 13, &k, &v);
	if (rc <= 0)
		return rc;
	for (;;) {
		const uint8_t *b;
		size_t n;
		if ((rc = wn_block_entries(c, WN_PAIR_ENTRY, &k, &v, &b, &n)))
			return rc;
		size_t i = block_lower(b, n, WN_PAIR_ENTRY, hash);
		for (; i < n; i++) {
			const uint8_t *e = b + i * WN_PAIR_ENTRY;
			if (wn_get_be64(e) != hash)
				return 0;
			if ((rc = fn(wn_get_be40(e + 8), ud)))
				return rc;
		}
		/* the run of equal hashes may go on in the next block */
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc)
			return wn_lmdb_err(c, rc, "next block");
		if (k.mv_size < 4 || wn_get_be32(k.mv_data) != no)
			return 0;
	}
}

/* ---- read-only access (get, verify, stats) ---- */

/* The runs of a map and a cursor on its database: 0, or an error with nothing left open. */
static int runs_open(wn_catalog *c, MDB_txn *txn, int kind, int map, runlist *rl, MDB_cursor **cur)
{
	int rc = wn_runs_load(c, txn, kind, map, rl);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, c->db_map[kind][map], cur))) {
		free(rl->r);
		rl->r = NULL;
		return wn_lmdb_err(c, rc, "cursor");
	}
	return 0;
}

int wn_map_find_id(wn_catalog *c, MDB_txn *txn, int kind, uint64_t hash, uint16_t check, wn_idrec *out)
{
	runlist rl = { 0 };
	MDB_cursor *cur;
	int rc = runs_open(c, txn, kind, WN_MAP_ID, &rl, &cur);
	if (rc)
		return rc;
	rc = 0;
	for (size_t i = rl.n; i-- > 0 && rc == 0;)
		rc = wn_run_find_id(c, cur, rl.r[i].no, hash, check, out);
	mdb_cursor_close(cur);
	free(rl.r);
	return rc;
}

int wn_map_pairs(wn_catalog *c, MDB_txn *txn, int kind, int map, uint64_t hash,
	int (*fn)(uint64_t ord, void *ud), void *ud)
{
	runlist rl = { 0 };
	MDB_cursor *cur;
	int rc = runs_open(c, txn, kind, map, &rl, &cur);
	if (rc)
		return rc;
	rc = 0;
	for (size_t i = 0; i < rl.n && rc == 0; i++)
		rc = wn_run_pairs(c, cur, rl.r[i].no, hash, fn, ud);
	mdb_cursor_close(cur);
	free(rl.r);
	return rc;
}

int wn_map_count(wn_catalog *c, MDB_txn *txn, int kind, int map, uint64_t *entries, uint64_t *runs)
{
	runlist rl = { 0 };
	int rc = wn_runs_load(c, txn, kind, map, &rl);
	*entries = 0;
	for (size_t i = 0; i < rl.n; i++)
		*entries += rl.r[i].entries;
	*runs = rl.n;
	free(rl.r);
	return rc;
}

int wn_map_scan(wn_catalog *c, MDB_txn *txn, int kind, int map,
	int (*fn)(const uint8_t *entry, uint32_t run, void *ud), void *ud)
{
	runlist rl = { 0 };
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = runs_open(c, txn, kind, map, &rl, &cur);
	if (rc)
		return rc;
	size_t es = entry_size[map];
	for (size_t i = 0; i < rl.n && !rc; i++) {
		uint8_t kb[4];
		wn_put_be32(kb, rl.r[i].no);
		k.mv_size = 4;
		k.mv_data = kb;
		int r = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		while (!r && k.mv_size >= 4 && wn_get_be32(k.mv_data) == rl.r[i].no) {
			const uint8_t *b;
			size_t n;
			if ((rc = wn_block_entries(c, es, &k, &v, &b, &n)))
				break;
			for (size_t j = 0; j < n && !rc; j++)
				rc = fn(b + j * es, rl.r[i].no, ud);
			if (rc)
				break;
			r = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		if (!rc && r && r != MDB_NOTFOUND)
			rc = wn_lmdb_err(c, r, "scan");
	}
	mdb_cursor_close(cur);
	free(rl.r);
	return rc;
}

/* ---- taking entries out (forget) ---- */

/* Take the entries of ents[0..n) (sorted by sort key) that match one of run r's out of
 * it, starting with the block that may hold ents[0] and every entry of ents that falls in
 * that block (*used of them): the block is written again without them under the sort key
 * of its new last entry, or deleted when none is left. An id entry matches on hash and
 * check (the first 10 bytes), a pair on all 13. *taken counts the entries taken. */
static int run_take(wn_catalog *c, MDB_cursor *cur, int map, run *r, const uint8_t *ents, size_t n, size_t *used,
	uint64_t *taken)
{
	size_t es = entry_size[map], kl = sortkey_size[map], match = map == WN_MAP_ID ? 10 : 13;
	MDB_val k, v;
	const uint8_t *b;
	size_t nb;
	*used = 1;
	int rc = block_seek(c, cur, r->no, ents, kl, &k, &v);
	if (rc <= 0)
		return rc;
	if ((rc = wn_block_entries(c, es, &k, &v, &b, &nb)))
		return rc;
	const uint8_t *last = (const uint8_t *)k.mv_data + 4;
	size_t m = 1;
	while (m < n && memcmp(ents + m * es, last, kl) <= 0)
		m++;
	*used = m;
	uint8_t nbuf[BLOCK_BYTES], kb[4 + 16];
	size_t len = 0, gone = 0, i = 0, j = 0;
	while (i < nb) {
		int d = j < m ? memcmp(b + i * es, ents + j * es, match) : -1;
		if (d > 0) {
			j++;
			continue;
		}
		if (d == 0)
			gone++;
		else
			memcpy(nbuf + (len += es) - es, b + i * es, es);
		i++;
	}
	if (!gone)
		return 0;
	if ((rc = mdb_cursor_del(cur, 0)))
		return wn_lmdb_err(c, rc, "block");
	r->entries -= gone;
	*taken += gone;
	if (!len) {
		r->blocks--;
		return 0;
	}
	wn_put_be32(kb, r->no);
	memcpy(kb + 4, nbuf + len - es, kl);
	wn_sum_seal(kb, 4 + kl, nbuf, len);
	MDB_val nk = { 4 + kl, kb }, nv = { len + WN_SUM_BYTES, nbuf };
	if ((rc = mdb_cursor_put(cur, &nk, &nv, 0)))
		return wn_lmdb_err(c, rc, "block");
	return 0;
}

int wn_map_take(wn_catalog *c, MDB_txn *txn, int kind, int map, const uint8_t *ents, size_t n, uint64_t *taken)
{
	runlist rl = { 0 };
	MDB_cursor *cur;
	size_t es = entry_size[map];
	*taken = 0;
	int rc = runs_open(c, txn, kind, map, &rl, &cur);
	if (rc)
		return rc;
	for (size_t j = 0; !rc && j < rl.n; j++)
		for (size_t i = 0, used; !rc && i < n; i += used)
			rc = run_take(c, cur, map, &rl.r[j], ents + i * es, n - i, &used, taken);
	mdb_cursor_close(cur);
	/* a run left empty leaves the list (and its filter goes), unless a merge in progress
	 * names its runs: then it stays, with no blocks, and the merge takes it as any other */
	char key[96];
	MDB_val v;
	snprintf(key, sizeof key, "merge.%s.%s", wn_catalog_kind_name(c, kind), wn_map_name(map));
	int merging = !rc ? wn_meta_get(c, txn, key, &v) : 0;
	if (merging == WN_E_NOTFOUND)
		merging = 0;
	else if (merging && merging != WN_E_CORRUPT)
		rc = merging;
	else if (!merging)
		merging = 1;
	for (size_t j = 0; !rc && !merging && j < rl.n;) {
		if (rl.r[j].entries) {
			j++;
			continue;
		}
		snprintf(key, sizeof key, "bloom.%s.%u", wn_catalog_kind_name(c, kind), rl.r[j].no);
		if (map == WN_MAP_ID && (rc = wn_meta_del(c, txn, key)))
			break;
		wn_run_drop(&rl, rl.r[j].no);
	}
	if (!rc)
		rc = wn_runs_store(c, txn, kind, map, &rl);
	free(rl.r);
	return rc;
}

/* ---- writing runs ---- */

int wn_blockw_flush(blockw *w)
{
	if (!w->len)
		return 0;
	size_t es = entry_size[w->map], kl = sortkey_size[w->map];
	uint8_t kb[4 + 16];
	wn_put_be32(kb, w->no);
	memcpy(kb + 4, w->buf + w->len - es, kl);
	wn_sum_seal(kb, 4 + kl, w->buf, w->len);
	MDB_val k = { 4 + kl, kb }, v = { w->len + WN_SUM_BYTES, w->buf };
	int rc = mdb_cursor_put(w->cur, &k, &v, MDB_APPEND);
	if (rc)
		return wn_lmdb_err(w->c, rc, "append block");
	w->blocks++;
	w->len = 0;
	return 0;
}

int wn_blockw_add(blockw *w, const uint8_t *e)
{
	size_t es = entry_size[w->map];
	if (w->len + es > BLOCK_DATA) {
		/* equal id hashes must not straddle blocks: their block keys would be equal */
		if (w->map == WN_MAP_ID && w->len && !memcmp(w->buf + w->len - es, e, 8)) {
			size_t keep = w->len;
			while (keep >= es && !memcmp(w->buf + keep - es, e, 8))
				keep -= es;
			if (keep == 0)
				return wn_seterr(w->c, WN_E_CORRUPT, "index: too many ids share one hash");
			uint8_t tail[BLOCK_BYTES];
			size_t tl = w->len - keep;
			memcpy(tail, w->buf + keep, tl);
			w->len = keep;
			int rc = wn_blockw_flush(w);
			if (rc)
				return rc;
			memcpy(w->buf, tail, tl);
			w->len = tl;
		} else {
			int rc = wn_blockw_flush(w);
			if (rc)
				return rc;
		}
	}
	memcpy(w->buf + w->len, e, es);
	w->len += es;
	w->entries++;
	return 0;
}

int wn_blockw_open(wn_catalog *c, int kind, MDB_txn *txn, int map, blockw *w)
{
	memset(w, 0, offsetof(blockw, buf));
	w->len = 0;
	w->entries = w->blocks = 0;
	w->c = c;
	w->map = map;
	w->no = c->ks[kind].runs_next++;
	int rc = mdb_cursor_open(txn, c->db_map[kind][map], &w->cur);
	return rc ? wn_lmdb_err(c, rc, "cursor") : 0;
}

int wn_blockw_close(blockw *w, uint8_t level, runlist *rl)
{
	int rc = wn_blockw_flush(w);
	mdb_cursor_close(w->cur);
	if (rc)
		return rc;
	if (!w->entries)
		return 0;
	run r = { w->no, level, w->entries, w->blocks };
	return wn_runs_push(rl, r);
}

/* ---- reading runs in key order (merges, merged scans) ---- */

int wn_msrc_next(wn_catalog *c, msrc *s, int first, size_t es)
{
	MDB_val k, v;
	int rc;
	if (first) {
		uint8_t kb[4];
		wn_put_be32(kb, s->no);
		k.mv_size = 4;
		k.mv_data = kb;
		rc = mdb_cursor_get(s->cur, &k, &v, MDB_SET_RANGE);
	} else {
		rc = mdb_cursor_get(s->cur, &k, &v, MDB_NEXT);
	}
	if (rc == MDB_NOTFOUND || (!rc && (k.mv_size < 4 || wn_get_be32(k.mv_data) != s->no))) {
		s->done = 1;
		return 0;
	}
	if (rc)
		return wn_lmdb_err(c, rc, "merge read");
	s->i = 0;
	return wn_block_entries(c, es, &k, &v, &s->b, &s->n);
}

run *wn_run_find(runlist *rl, uint32_t no, size_t *at)
{
	for (size_t i = 0; i < rl->n; i++)
		if (rl->r[i].no == no) {
			if (at)
				*at = i;
			return &rl->r[i];
		}
	return NULL;
}

void wn_run_drop(runlist *rl, uint32_t no)
{
	size_t at;
	if (!wn_run_find(rl, no, &at))
		return;
	memmove(rl->r + at, rl->r + at + 1, (rl->n - at - 1) * sizeof *rl->r);
	rl->n--;
}

/* Delete the blocks of run `no` whose last key is below key[0..kl) (all of them if key
 * is NULL): their entries are all in the merge output. */
int wn_blocks_delete(wn_catalog *c, MDB_txn *txn, MDB_dbi dbi, uint32_t no, const uint8_t *key, size_t kl)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t kb[4];
	int rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc)
		return wn_lmdb_err(c, rc, "cursor");
	wn_put_be32(kb, no);
	k.mv_size = 4;
	k.mv_data = kb;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (!rc && k.mv_size >= 4 && wn_get_be32(k.mv_data) == no) {
		if (key) {
			size_t bl = k.mv_size - 4 < kl ? k.mv_size - 4 : kl;
			if (memcmp((const uint8_t *)k.mv_data + 4, key, bl) >= 0)
				break;
		}
		if ((rc = mdb_cursor_del(cur, 0)))
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND && rc != EINVAL)
		return wn_lmdb_err(c, rc, "delete blocks");
	return 0;
}

/* memcmp() of two sort keys (kl >= 8), the first 8 bytes as one number: the merge's
 * inner loop, once per run per entry. */
static inline int key_cmp(const uint8_t *a, const uint8_t *b, size_t kl)
{
	uint64_t x = wn_get_be64(a), y = wn_get_be64(b);
	if (x != y)
		return x < y ? -1 : 1;
	return kl > 8 ? memcmp(a + 8, b + 8, kl - 8) : 0;
}

/* Every entry of a map in key order across all runs (ties: older run first). */
int wn_map_merged_scan(wn_catalog *c, MDB_txn *txn, int kind, int map,
	int (*fn)(const uint8_t *entry, void *ud), void *ud)
{
	runlist rl = { 0 };
	size_t es = entry_size[map], kl = sortkey_size[map];
	int rc = wn_runs_load(c, txn, kind, map, &rl);
	if (rc)
		return rc;
	msrc *src = calloc(rl.n ? rl.n : 1, sizeof *src);
	if (!src) {
		free(rl.r);
		return WN_E_NOMEM;
	}
	for (size_t i = 0; i < rl.n && !rc; i++) {
		src[i].no = rl.r[i].no;
		if ((rc = mdb_cursor_open(txn, c->db_map[kind][map], &src[i].cur)))
			rc = wn_lmdb_err(c, rc, "cursor");
		else
			rc = wn_msrc_next(c, &src[i], 1, es);
	}
	while (!rc) {
		int best = -1;
		for (size_t i = 0; i < rl.n; i++) {
			if (src[i].done)
				continue;
			if (best < 0 || key_cmp(src[i].b + src[i].i * es, src[best].b + src[best].i * es, kl) < 0)
				best = (int)i;
		}
		if (best < 0)
			break;
		rc = fn(src[best].b + src[best].i * es, ud);
		if (!rc && ++src[best].i == src[best].n)
			rc = wn_msrc_next(c, &src[best], 0, es);
	}
	for (size_t i = 0; i < rl.n; i++)
		if (src[i].cur)
			mdb_cursor_close(src[i].cur);
	free(src);
	free(rl.r);
	return rc;
}
