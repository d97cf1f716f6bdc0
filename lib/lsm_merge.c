/*
 * lsm_merge.c - tiered merges of the runs of a map (compaction).
 *
 * FANOUT runs of one level are merged into one run of the next level, so each entry is
 * rewritten O(log_FANOUT(N / checkpoint)) times in all. Merges run on the ingesting
 * thread after a checkpoint committed, a step per transaction (below).
 */
#include "lsm.h"

#include <stdlib.h>

/* ---- merging ----
 * A merge of n runs into one is done in steps of MERGE_STEP output entries, each in its
 * own transaction, so that the memory it dirties and the index pages it maps stay
 * bounded, and the space of consumed source blocks is reused by the next steps instead
 * of the file growing by the size of the merge. Between steps the output run R holds
 * every merged key below K and sits right after the sources in the run list (newer than
 * they are), so lookups find R's entry first for keys below K and the sources' for the
 * rest; blocks of the sources that lie wholly below K are deleted at each step. The
 * state (R, the sources, K) is in meta "merge.<kind>.<map>", so a merge interrupted by a
 * crash is finished by the next ingest. */

#define MAX_SRC 16    /* sources a merge state can name: fixed by its meta format */

typedef struct mstate {
	uint32_t out, src[MAX_SRC];
	uint8_t level, nsrc, have_key;
	uint8_t key[16];          /* resume key: the smallest sort key not yet merged */
} mstate;
#define MSTATE_BYTES (4 + 4 * MAX_SRC + 3 + 16)

static void mstate_key(const wn_lsm *m, char *out, size_t cap, int map)
{
	snprintf(out, cap, "merge.%s.%s", wn_catalog_kind_name(m->c, m->kind), wn_map_name(map));
}

static int mstate_load(wn_lsm *m, MDB_txn *txn, int map, mstate *st)
{
	char key[64];
	MDB_val v;
	mstate_key(m, key, sizeof key, map);
	int rc = wn_meta_get(m->c, txn, key, &v);
	if (rc)
		return rc == WN_E_NOTFOUND ? 0 : rc;
	const uint8_t *p = v.mv_data;
	if (v.mv_size != MSTATE_BYTES || p[4 + 4 * MAX_SRC + 1] > MAX_SRC)
		return wn_seterr(m->c, WN_E_CORRUPT, "index: meta %s has %zu bytes", key, v.mv_size);
	st->out = wn_get_be32(p);
	for (int i = 0; i < MAX_SRC; i++)
		st->src[i] = wn_get_be32(p + 4 + 4 * i);
	st->level = p[4 + 4 * MAX_SRC];
	st->nsrc = p[4 + 4 * MAX_SRC + 1];
	st->have_key = p[4 + 4 * MAX_SRC + 2];
	memcpy(st->key, p + 4 + 4 * MAX_SRC + 3, 16);
	return 1;
}

static int mstate_store(wn_lsm *m, MDB_txn *txn, int map, const mstate *st)
{
	char key[64];
	uint8_t p[MSTATE_BYTES];
	mstate_key(m, key, sizeof key, map);
	if (!st)
		return wn_meta_del(m->c, txn, key);
	wn_put_be32(p, st->out);
	for (int i = 0; i < MAX_SRC; i++)
		wn_put_be32(p + 4 + 4 * i, st->src[i]);
	p[4 + 4 * MAX_SRC] = st->level;
	p[4 + 4 * MAX_SRC + 1] = st->nsrc;
	p[4 + 4 * MAX_SRC + 2] = st->have_key;
	memcpy(p + 4 + 4 * MAX_SRC + 3, st->key, 16);
	return wn_meta_put(m->c, txn, key, p, sizeof p);
}

/* One step of a merge, in txn. Returns 1 when the merge is complete, 0 if more steps
 * are needed, < 0 on error. */
static int merge_step(wn_lsm *m, MDB_txn *txn, int map, mstate *st)
{
	runlist *rl = &m->runs[map];
	size_t es = entry_size[map], kl = map == WN_MAP_ID ? 10 : 13;  /* id: hash+check identify */
	MDB_dbi dbi = m->c->db_map[m->kind][map];
	msrc src[MAX_SRC];
	blockw *w = malloc(sizeof *w);
	int rc = 0, done = 0;
	if (!w)
		return WN_E_NOMEM;
	memset(src, 0, sizeof src);
	/* position every source on the first entry not yet merged */
	for (size_t i = 0; i < st->nsrc && !rc; i++) {
		src[i].no = st->src[i];
		if ((rc = mdb_cursor_open(txn, dbi, &src[i].cur))) {
			rc = wn_lmdb_err(m->c, rc, "cursor");
			break;
		}
		MDB_val k, v;
		uint8_t kb[4 + 16];
		wn_put_be32(kb, st->src[i]);
		memcpy(kb + 4, st->key, sortkey_size[map]);
		k.mv_size = st->have_key ? 4 + sortkey_size[map] : 4;
		k.mv_data = kb;
		int r = mdb_cursor_get(src[i].cur, &k, &v, MDB_SET_RANGE);
		if (r == MDB_NOTFOUND || (!r && (k.mv_size < 4 || wn_get_be32(k.mv_data) != src[i].no))) {
			src[i].done = 1;
			continue;
		}
		if (r) {
			rc = wn_lmdb_err(m->c, r, "merge read");
			break;
		}
		if ((rc = wn_block_entries(m->c, es, &k, &v, &src[i].b, &src[i].n)))
			break;
		src[i].i = 0;
		while (st->have_key && src[i].i < src[i].n && memcmp(src[i].b + src[i].i * es, st->key, kl) < 0)
			src[i].i++;
		if (src[i].i == src[i].n)
			rc = wn_msrc_next(m->c, &src[i], 0, es);
	}
	/* the writer continues run `out` (appending: it is the newest run number) */
	memset(w, 0, offsetof(blockw, buf));
	w->len = 0;
	w->entries = w->blocks = 0;
	w->c = m->c;
	w->map = map;
	w->no = st->out;
	if (!rc && (rc = mdb_cursor_open(txn, dbi, &w->cur)))
		rc = wn_lmdb_err(m->c, rc, "cursor");
	/* the output's filter: built as entries are written (rebuilt from the run's entries
	 * if a crash interrupted the merge), stored when the merge is complete */
	rbloom *ob = NULL;
	if (!rc && map == WN_MAP_ID && !(ob = wn_rb_find(m, st->out))) {
		run *o = wn_run_find(rl, st->out, NULL);
		uint64_t total = 0;
		for (size_t i = 0; i < st->nsrc; i++) {
			run *r = wn_run_find(rl, st->src[i], NULL);
			total += r ? r->entries : 0;
		}
		if (o) {
			run big = *o;
			big.entries = total;
			rc = wn_rb_load(m, txn, &big);
			ob = wn_rb_find(m, st->out);
		} else if (!(ob = wn_rb_new(m, st->out, total))) {
			rc = WN_E_NOMEM;
		}
	}
	uint64_t written = 0;
	while (!rc) {
		/* smallest key; among equals the newest source (highest index) wins */
		int best = -1;
		for (size_t i = 0; i < st->nsrc; i++) {
			if (src[i].done)
				continue;
			if (best < 0 || memcmp(src[i].b + src[i].i * es, src[best].b + src[best].i * es, kl) <= 0)
				best = (int)i;
		}
		if (best < 0) {
			done = 1;
			break;
		}
		const uint8_t *e = src[best].b + src[best].i * es;
		if (written >= m->merge_step && (map != WN_MAP_ID || memcmp(e, w->buf + w->len - es, 8))) {
			/* step boundary (never between equal id hashes: see wn_blockw_add) */
			memcpy(st->key, e, kl);
			st->have_key = 1;
			break;
		}
		if (ob)
			bb_add(ob->bits, ob->blocks, wn_get_be64(e));
		rc = wn_blockw_add(w, e);
		written++;
		uint8_t key[16];
		memcpy(key, e, kl);
		for (size_t i = 0; i < st->nsrc && !rc; i++)
			while (!src[i].done && !memcmp(src[i].b + src[i].i * es, key, kl))
				if (++src[i].i == src[i].n && (rc = wn_msrc_next(m->c, &src[i], 0, es)))
					break;
	}
	for (size_t i = 0; i < st->nsrc; i++)
		if (src[i].cur)
			mdb_cursor_close(src[i].cur);
	if (!rc)
		rc = wn_blockw_flush(w);
	if (w->cur)
		mdb_cursor_close(w->cur);
	uint64_t add_e = w->entries, add_b = w->blocks;
	free(w);
	if (rc)
		return rc;
	/* the output run: right after the sources in the list (see above) */
	run *out = wn_run_find(rl, st->out, NULL);
	if (!out && (add_e || done)) {
		size_t last = 0;
		for (size_t i = 0; i < st->nsrc; i++) {
			size_t at;
			if (wn_run_find(rl, st->src[i], &at) && at >= last)
				last = at + 1;
		}
		run r = { st->out, st->level, 0, 0 };
		if ((rc = wn_runs_push(rl, r)))
			return rc;
		memmove(rl->r + last + 1, rl->r + last, (rl->n - 1 - last) * sizeof *rl->r);
		rl->r[last] = r;
		out = &rl->r[last];
	}
	if (out) {
		out->entries += add_e;
		out->blocks += add_b;
	}
	/* sources: blocks wholly merged go; when done, the runs go */
	for (size_t i = 0; i < st->nsrc && !rc; i++) {
		rc = wn_blocks_delete(m->c, txn, dbi, st->src[i], done ? NULL : st->key, map == WN_MAP_ID ? 8 : 13);
		if (!rc && done) {
			wn_run_drop(rl, st->src[i]);
			if (map == WN_MAP_ID)
				rc = wn_rb_forget(m, txn, st->src[i]);
		}
	}
	if (!rc && done && ob)
		rc = wn_rb_store(m, txn, ob);
	if (!rc && done && out && !out->entries)
		wn_run_drop(rl, st->out);
	if (!rc)
		rc = mstate_store(m, txn, map, done ? NULL : st);
	if (!rc)
		rc = wn_runs_store(m->c, txn, m->kind, map, rl);
	return rc ? rc : done;
}

/* Pick the next merge of a map: FANOUT or more runs of one level (they are adjacent in
 * the list and all newer than the next level's). Returns 1 and fills st, or 0. */
static int merge_due(wn_lsm *m, int map, mstate *st)
{
	runlist *rl = &m->runs[map];
	for (uint8_t lv = 0; lv < 64; lv++) {
		size_t n = 0;
		memset(st, 0, sizeof *st);
		for (size_t i = 0; i < rl->n; i++)
			if (rl->r[i].level == lv && n < MAX_SRC)
				st->src[n++] = rl->r[i].no;
		if (n >= FANOUT) {
			st->nsrc = (uint8_t)n;
			st->level = (uint8_t)(lv + 1);
			st->out = m->c->ks[m->kind].runs_next++;
			return 1;
		}
	}
	return 0;
}

/* Run every merge that is due (or was interrupted), a step per transaction; at most
 * max_steps steps when max_steps > 0 (tests use it to leave a merge half done). */
int wn_lsm_compact_steps(wn_lsm *m, int max_steps, uint64_t step_entries)
{
	int rc = 0, steps = 0;
	if (step_entries)
		m->merge_step = step_entries;
	for (int map = 0; map < WN_NMAPS && !rc; map++) {
		for (;;) {
			if (max_steps > 0 && steps++ >= max_steps)
				return 0;
			MDB_txn *txn;
			mstate st;
			if ((rc = mdb_txn_begin(m->c->env, NULL, 0, &txn))) {
				rc = wn_lmdb_err(m->c, rc, "begin");
				break;
			}
			int have = mstate_load(m, txn, map, &st);
			if (have < 0) {
				rc = have;
				mdb_txn_abort(txn);
				break;
			}
			if (!have && !merge_due(m, map, &st)) {
				mdb_txn_abort(txn);
				break;
			}
			int r = merge_step(m, txn, map, &st);
			if (r >= 0)
				r = wn_meta_put_kstate(m->c, txn, m->kind, &m->c->ks[m->kind]) ? -1 : r;
			if (r < 0) {
				rc = r;
				mdb_txn_abort(txn);
				wn_lsm_aborted(m);
				break;
			}
			if ((rc = mdb_txn_commit(txn))) {
				rc = wn_lmdb_err(m->c, rc, "commit");
				wn_lsm_aborted(m);
				break;
			}
			if (map == WN_MAP_ID) {
				/* the output has new blocks; the sources lost those below the key */
				rbloom *ob = wn_rb_find(m, st.out);
				if (ob)
					ob->fscan = 1;
				for (size_t i = 0; !r && i < st.nsrc; i++) {
					rbloom *b = wn_rb_find(m, st.src[i]);
					if (b)
						wn_fence_trim(b, wn_get_be64(st.key));
				}
			}
			wn_index_release_pages(m->c);
		}
	}
	return rc;
}

int wn_lsm_compact(wn_lsm *m)
{
	return wn_lsm_compact_steps(m, 0, 0);
}
