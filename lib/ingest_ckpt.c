/*
 * ingest_ckpt.c - checkpoints of an ingest, and "pending", the record of where an
 * interrupted run stood.
 *
 * Every checkpoint_records records the ingesting thread makes the files durable, takes
 * what the checkpoint records (series snapshots, counters, input positions, superseded
 * ordinals), freezes the memtable and hands the transaction to the checkpoint thread,
 * then goes on deciding into a new memtable. The next checkpoint, or the ingesting
 * thread as soon as it sees the job done, installs the result: the new runs become
 * readable, the series forget what was recorded, runs are merged where due. The final
 * checkpoint and a --strict stop run the same job on the ingesting thread. Either way
 * the transaction holds what was decided up to the checkpoint's record and nothing
 * after, so the bytes written do not depend on timing.
 *
 * "pending" (meta "pending.KIND", written by every checkpoint but the final one) lists
 * the run's counters and, per input, whether it is done and where it stands, so that a
 * rerun of the same inputs resumes where the last checkpoint was.
 */
#include "ingest.h"

#include <inttypes.h>
#include <stdlib.h>

/* ---- "pending": where an interrupted run stood ----
 * Text, one item a line:
 *   counts READ KEPT DUPLICATES REVISIONS REJECTED SUPERSEDED BYTES
 *   input DONE OFFSET LINE SIZE HEADHASH NAME            (NAME to the end of the line) */

int wn_pending_load(ing *g, MDB_txn *txn)
{
	char key[32];
	MDB_val v;
	snprintf(key, sizeof key, "pending.%s", wn_kind_name(g->kind));
	int rc = wn_meta_get(g->c, txn, key, &v);
	if (rc == WN_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	char *text = strndup(v.mv_data, v.mv_size);
	if (!text)
		return WN_E_NOMEM;
	char *save = NULL;
	for (char *ln = strtok_r(text, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
		run_counts *r = &g->rc;
		if (!strncmp(ln, "counts ", 7)) {
#define WN_X(n) &r->n,
			uint64_t *f[] = { WN_OUTCOMES(WN_X) &r->bytes };
#undef WN_X
			const char *p = ln + 7;
			for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
				char *e;
				*f[i] = strtoull(p, &e, 10);
				if (e == p)
					goto bad;
				p = e;
			}
		} else if (!strncmp(ln, "input ", 6)) {
			pending_in p = { 0 };
			int done, pos = 0;
			if (sscanf(ln + 6, "%d %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNx64 " %n", &done, &p.offset, &p.line,
				   &p.size, &p.head, &pos) != 5 || !pos)
				goto bad;
			p.done = done;
			p.name = strdup(ln + 6 + pos);
			pending_in *np = realloc(g->pend, (g->npend + 1) * sizeof *np);
			if (!p.name || !np) {
				free(p.name);
				free(text);
				return WN_E_NOMEM;
			}
			g->pend = np;
			g->pend[g->npend++] = p;
		}
	}
	free(text);
	if (g->res)
		g->res->resumed_records = g->rc.read;
	return 0;
bad:
	free(text);
	return wn_seterr(g->c, WN_E_CORRUPT, "index: meta %s is malformed", key);
}

int wn_pending_text(ing *g, wn_buf *b)
{
	run_counts *r = &g->rc;
	b->len = 0;
	wn_buf_puts(b, "counts");
#define WN_X(n) wn_buf_puts(b, " "), wn_buf_put_u64(b, r->n);
	WN_OUTCOMES(WN_X)
#undef WN_X
	wn_buf_puts(b, " ");
	wn_buf_put_u64(b, r->bytes);
	wn_buf_puts(b, "\n");
	for (size_t i = 0; i < g->n_in; i++)
		wn_buf_printf(b, "input %d %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIx64 " %s\n", g->cur_in[i].done,
			g->cur_in[i].offset, g->cur_in[i].line, g->cur_in[i].size, g->cur_in[i].head, g->cur_in[i].name);
	return b->p ? 0 : WN_E_NOMEM;
}

/* ---- checkpoint ---- */


static int ckpt_txn(ing *g, ckjob *j)
{
	wn_catalog *c = g->c;
	MDB_txn *txn;
	int rc = mdb_txn_begin(c->env, NULL, 0, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	rc = wn_lsm_flush_frozen(g->lsm, txn);
	for (int i = 0; i < WN_NROLES && !rc; i++)
		rc = wn_series_commit(c, &j->snap[i], txn);
	if (!rc && j->nsup) {
		MDB_cursor *cur = NULL;
		if ((rc = mdb_cursor_open(txn, c->db_super[g->kind], &cur))) {
			rc = wn_lmdb_err(c, rc, "superseded");
			cur = NULL;
		}
		for (size_t i = 0; i < j->nsup && !rc; i++) {
			uint8_t kb[8], vb[8];
			wn_put_be64(kb, j->sup[i].old);
			wn_put_be64(vb, j->sup[i].by);
			MDB_val k = { 8, kb }, v = { 8, vb };
			if ((rc = mdb_cursor_put(cur, &k, &v, 0)))
				rc = wn_lmdb_err(c, rc, "superseded");
		}
		if (cur)
			mdb_cursor_close(cur);
	}
	if (!rc) {
		/* the flush numbered its runs; nothing else does while it runs */
		j->ks.runs_next = c->ks[g->kind].runs_next;
		rc = wn_meta_put_kstate(c, txn, g->kind, &j->ks);
	}
	if (!rc) {
		char key[32];
		snprintf(key, sizeof key, "pending.%s", wn_kind_name(g->kind));
		if (j->final) {
			uint8_t gen[8];
			rc = wn_meta_del(c, txn, key);
			wn_put_be64(gen, c->generation + 1);
			if (!rc)
				rc = wn_meta_put(c, txn, "generation", gen, 8);
		} else {
			rc = wn_meta_put(c, txn, key, j->pending.p, j->pending.len);
		}
	}
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	if ((rc = mdb_txn_commit(txn)))
		return wn_lmdb_err(c, rc, "commit");
	return 0;
}

/* Make the files durable, take what the checkpoint records and freeze the memtable. */
static int ckpt_prepare(ing *g, ckjob *j, int final)
{
	wn_series *st[WN_NROLES] = { g->shard, g->ledger, g->rejects };
	int rc = 0;
	for (int i = 0; i < WN_NROLES && !rc; i++)
		rc = wn_series_sync(st[i]);
	for (int i = 0; i < WN_NROLES && !rc && final; i++)
		rc = wn_series_seal(st[i]);
	for (int i = 0; i < WN_NROLES && !rc; i++)
		rc = wn_series_snapshot(st[i], &j->snap[i]);
	if (rc)
		return rc;
	g->ks->next_ord = g->shard->next_ord;
	j->ks = *g->ks;
	j->final = final;
	if (!final && (rc = wn_pending_text(g, &j->pending)))
		return rc;
	/* the superseded pairs go with the job; its emptied array comes back */
	supers *sp = j->sup;
	size_t cap = j->capsup;
	j->sup = g->sup;
	j->nsup = g->nsup;
	j->capsup = g->capsup;
	g->sup = sp;
	g->capsup = cap;
	g->nsup = 0;
	if ((rc = wn_lsm_freeze(g->lsm)))
		return rc;
	g->since_ckpt = 0;
	return 0;
}

/* The job's transaction committed (rc 0) or failed: catch up with it. */
static int ckpt_finish(ing *g, ckjob *j, int rc, int rtxn_reset)
{
	wn_series *st[WN_NROLES] = { g->shard, g->ledger, g->rejects };
	if (rc) {
		wn_lsm_aborted(g->lsm);
	} else {
		if (j->final)
			g->c->generation++;
		rc = wn_lsm_install(g->lsm);
		for (int i = 0; i < WN_NROLES; i++)
			wn_series_committed(st[i], &j->snap[i]);
	}
	for (int i = 0; i < WN_NROLES; i++)
		wn_series_snap_free(&j->snap[i]);
	j->nsup = 0;
	if (rc)
		return rc;
	if (!rtxn_reset)
		mdb_txn_reset(g->rtxn);
	wn_index_release_pages(g->c);
	/* merges record the counters with the run numbers: those of the checkpoint, as
	 * records decided since then are not in the catalog yet */
	wn_kstate live = *g->ks;
	*g->ks = j->ks;
	double t1 = wn_now();
	rc = wn_lsm_compact(g->lsm);
	g->t_merge += wn_now() - t1;
	live.runs_next = g->ks->runs_next;
	*g->ks = live;
	int rr = mdb_txn_renew(g->rtxn);
	if (!rc && rr)
		rc = wn_lmdb_err(g->c, rr, "renew");
	return rc;
}

static void *ckpt_thread(void *arg)
{
	ing *g = arg;
	ckthread *t = &g->ck;
	pthread_setname_np(pthread_self(), "winnow-ckpt");
	pthread_mutex_lock(&t->mu);
	for (;;) {
		while (!t->quit && !(t->busy && !t->done))
			pthread_cond_wait(&t->cv, &t->mu);
		if (t->quit)
			break;
		pthread_mutex_unlock(&t->mu);
		int rc = ckpt_txn(g, &t->job);
		pthread_mutex_lock(&t->mu);
		t->rc = rc;
		t->done = 1;
		pthread_cond_broadcast(&t->cv);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* Wait for the checkpoint in the background, if any, and catch up with it. */
int wn_ckpt_wait(ing *g)
{
	ckthread *t = &g->ck;
	if (!t->busy)
		return 0;
	double t0 = wn_now();
	pthread_mutex_lock(&t->mu);
	while (!t->done)
		pthread_cond_wait(&t->cv, &t->mu);
	int rc = t->rc;
	t->busy = t->done = 0;
	pthread_mutex_unlock(&t->mu);
	rc = ckpt_finish(g, &t->job, rc, 0);
	g->t_commit += wn_now() - t0;
	return rc;
}

/* Catch up with the checkpoint in the background if it is done. */
int wn_ckpt_poll(ing *g)
{
	ckthread *t = &g->ck;
	if (!t->busy)
		return 0;
	pthread_mutex_lock(&t->mu);
	int done = t->done;
	pthread_mutex_unlock(&t->mu);
	return done ? wn_ckpt_wait(g) : 0;
}

void wn_ckpt_stop(ing *g)
{
	ckthread *t = &g->ck;
	if (!t->started)
		return;
	wn_thread_stop(t->th, &t->mu, &t->cv, &t->quit);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	t->started = 0;
}

/* A checkpoint on the ingesting thread: the final one, or a --strict stop. */
int wn_checkpoint(ing *g, int final)
{
	double t0 = wn_now();
	int rc = wn_ckpt_wait(g);
	ckjob *j = &g->ck.job;
	if (!rc && !(rc = ckpt_prepare(g, j, final))) {
		mdb_txn_reset(g->rtxn);
		rc = ckpt_finish(g, j, ckpt_txn(g, j), 1);
	}
	g->t_commit += wn_now() - t0;
	return rc;
}

/* A checkpoint in the background (inline if the thread cannot start). */
int wn_checkpoint_bg(ing *g)
{
	ckthread *t = &g->ck;
	int rc = wn_ckpt_wait(g);
	if (rc)
		return rc;
	if (!t->started) {
		if (pthread_mutex_init(&t->mu, NULL))
			return wn_checkpoint(g, 0);
		if (pthread_cond_init(&t->cv, NULL)) {
			pthread_mutex_destroy(&t->mu);
			return wn_checkpoint(g, 0);
		}
		t->quit = t->busy = t->done = 0;
		if (pthread_create(&t->th, NULL, ckpt_thread, g)) {
			pthread_cond_destroy(&t->cv);
			pthread_mutex_destroy(&t->mu);
			return wn_checkpoint(g, 0);
		}
		t->started = 1;
	}
	double t0 = wn_now();
	if ((rc = ckpt_prepare(g, &t->job, 0)))
		return rc;
	pthread_mutex_lock(&t->mu);
	t->busy = 1;
	t->done = 0;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	g->t_commit += wn_now() - t0;
	return 0;
}
