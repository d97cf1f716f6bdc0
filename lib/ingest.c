/*
 * ingest.c - the ingest pipeline: lines in, every record accounted for.
 *
 * One thread reads, parses, fingerprints and decides (kept / duplicate / revision /
 * rejected); the pool compresses frames of kept records, ledger entries and rejects
 * in parallel; the same thread writes finished frames in order. Every
 * checkpoint_records records (and at the end, and at a --strict stop) it checkpoints:
 *
 *   1. all frames written so far are written and fdatasync'ed (shards, ledger, rejects)
 *   2. one LMDB transaction records: the memtable as new sorted runs, the new frames
 *      and file lengths, the catalog counters, and where each input stands ("pending")
 *   3. at the end of the run, files are sealed before that transaction, "pending" is
 *      deleted in it, and the manifests are rewritten after it
 *
 * A crash before step 2 commits leaves the index at the previous checkpoint; the next
 * writer to open the catalog cuts the files back to the lengths it records, and an
 * ingest of the same inputs skips what "pending" says was done. Checkpoints fall on
 * record counts, never on time, and a stop on request does not checkpoint (it drops the
 * work since the last one, like a crash), so a resumed run writes the same bytes as one
 * that was never interrupted.
 */
#include "internal.h"
#include "ledger.h"
#include "source.h"
#include "stream.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* json slots: the record's keys (record.h), then ours */
enum { SLOT_NEWEST = WN_SLOT_FREE };

typedef struct pending_in {
	char *name;
	int done, used;
	uint64_t offset, line, size, head;
} pending_in;

typedef struct run_counts {
#define WN_X(n) uint64_t n;
	WN_OUTCOMES(WN_X)
#undef WN_X
	uint64_t bytes;
} run_counts;

/* A record between parsing and deciding (see "parsing ahead"). */
typedef struct prep {
	const char *line;
	size_t len;
	uint64_t off, lineno, end;   /* byte offset of the line, its number, offset after it */
	size_t toolong_len;
	int code;                    /* 0, or why it is rejected (WN_E_*) */
	size_t err_off;              /* error offset in the record */
	const char *err;             /* error text (in the slot's arena) */
	int has_err_off;
	uint64_t hash, isrc_hash;
	uint16_t check;
	uint8_t fp[16];
	const char *id;              /* id bytes (in the slot's arena) */
	size_t id_len;
	wn_jslot newest;             /* newest:FIELD only; ptr in the slot's arena, NUL-terminated */
	int has_isrc;
} prep;

typedef struct supers {
	uint64_t old, by;
} supers;

/* A checkpoint's index transaction and what it records (see "checkpoint"). */
typedef struct ckjob {
	wn_stream_snap snap[WN_NROLES];   /* shards, ledger, rejects */
	wn_kstate ks;
	int final;
	wn_buf pending;             /* meta "pending.KIND" (not final) */
	supers *sup;                /* superseded ordinals */
	size_t nsup, capsup;
} ckjob;

/* The checkpoint thread: runs one job at a time while the ingesting thread goes on. */
typedef struct ckthread {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started;
	int busy, done, quit, rc;   /* guarded by mu */
	ckjob job;
} ckthread;

typedef struct ing {
	wn_catalog *c;
	const wn_ingest_opts *o;
	int kind;
	wn_json *json;
	wn_json *json2;         /* parses stored records (newest:FIELD) without disturbing json */
	wn_jresult jr;
	wn_lsm *lsm;
	wn_pool *pool;
	wn_stream *shard, *ledger, *rejects;
	MDB_txn *rtxn;
	wn_kstate *ks;
	run_counts rc;          /* this run, including what a resumed run had done */
	pending_in *pend;
	size_t npend;
	supers *sup;
	size_t nsup, capsup;
	wn_buf ent, tmp, tmp2, fetched;
	wn_buf name_json;       /* the current input's name as a JSON string (entries) */
	/* inputs of this run, for "pending" */
	struct { const char *name; int done; uint64_t offset, line, size, head; } *cur_in;
	size_t n_in;
	uint64_t since_ckpt;
	uint64_t ckpt_every;
	ckthread ck;
	double t0, t_last_progress, t_mark;
	int sample;             /* time the stages of this record (one in 16) */
	double t_input_wait;    /* waiting for parsed records */
	uint64_t total_bytes, bytes_before;
	uint64_t partial_bytes;     /* consumed of an input left unfinished */
	double t_read, t_parse, t_dedup, t_store, t_commit, t_merge;
	int newest_numeric;
	wn_ingest_result *res;
} ing;

void wn_ingest_opts_init(wn_ingest_opts *o)
{
	memset(o, 0, sizeof *o);
	o->kind = WN_KIND_TRACK;
	o->level = 3;
	o->frame_bytes = 1u << 20;
	o->shard_bytes = 256ull << 20;
	o->max_line = 16u << 20;
	o->memory = 1ull << 30;
	o->threads = 0;
	o->on_conflict = WN_CONFLICT_FIRST;
}

/* ---- options fixed at catalog creation ---- */

static int setup_opts(wn_catalog *c, const wn_ingest_opts *o, MDB_txn *txn)
{
	wn_catopts want;
	memset(&want, 0, sizeof want);
	if (c->have_opts)
		want = c->opts;
	else {
		for (int k = 0; k < WN_NKINDS; k++)
			strcpy(want.id_field[k], wn_record_default_id(k));
	}
	int empty_kind = c->ks[o->kind].read == 0;
	int empty_all = c->ks[0].read == 0 && c->ks[1].read == 0;
	const char *idf = o->id_field ? o->id_field : wn_record_default_id(o->kind);
	if (strlen(idf) >= sizeof want.id_field[0] || (o->isrc_field && strlen(o->isrc_field) >= sizeof want.isrc_field))
		return wn_seterr(c, WN_E_USAGE, "field path too long");
	if (strcmp(want.id_field[o->kind], idf)) {
		if (!empty_kind)
			return wn_seterr(c, WN_E_MISMATCH, "the catalog's %s records use id field \"%s\", not \"%s\"",
				wn_kind_name(o->kind), want.id_field[o->kind], idf);
		strcpy(want.id_field[o->kind], idf);
	}
	if (o->kind == WN_KIND_TRACK) {
		const char *isf = o->isrc_field ? o->isrc_field : "";
		if (strcmp(want.isrc_field, isf)) {
			if (!empty_kind)
				return wn_seterr(c, WN_E_MISMATCH, "the catalog's tracks use ISRC field \"%s\", not \"%s\"",
					*want.isrc_field ? want.isrc_field : "(automatic)", *isf ? isf : "(automatic)");
			strcpy(want.isrc_field, isf);
		}
	}
	/* the ignore set must be the same set (order does not matter) */
	if (o->n_ignore > 16)
		return wn_seterr(c, WN_E_USAGE, "at most 16 --ignore-field paths");
	int same = (size_t)want.n_ignore == o->n_ignore;
	for (size_t i = 0; same && i < o->n_ignore; i++) {
		int found = 0;
		for (int j = 0; j < want.n_ignore; j++)
			found |= !strcmp(want.ignore[j], o->ignore[i]);
		same &= found;
	}
	if (!same) {
		if (!empty_all) {
			wn_buf b = { 0 };
			for (int j = 0; j < want.n_ignore; j++)
				wn_buf_printf(&b, "%s--ignore-field %s", j ? " " : "", want.ignore[j]);
			wn_seterr(c, WN_E_MISMATCH, "the catalog's fingerprints were made with %s; use the same --ignore-field set",
				b.p ? b.p : "no --ignore-field");
			wn_buf_free(&b);
			return WN_E_MISMATCH;
		}
		want.n_ignore = (int)o->n_ignore;
		for (size_t i = 0; i < o->n_ignore; i++) {
			if (strlen(o->ignore[i]) >= sizeof want.ignore[0] || !*o->ignore[i])
				return wn_seterr(c, WN_E_USAGE, "bad --ignore-field path \"%s\"", o->ignore[i]);
			strcpy(want.ignore[i], o->ignore[i]);
		}
	}
	if (c->have_opts && !memcmp(&want, &c->opts, sizeof want))
		return 0;
	c->opts = want;
	c->have_opts = 1;
	wn_buf js = { 0 };
	int rc = wn_catopts_encode(&want, &js);
	if (!rc)
		rc = wn_meta_put(c, txn, "options", js.p, js.len);
	if (!rc)
		rc = wn_meta_put(c, txn, "options.bin", &want, sizeof want);
	wn_buf_free(&js);
	return rc;
}

/* ---- "pending": where an interrupted run stood ----
 * Text, one item a line:
 *   counts READ KEPT DUPLICATES REVISIONS REJECTED SUPERSEDED BYTES
 *   input DONE OFFSET LINE SIZE HEADHASH NAME            (NAME to the end of the line) */

static int pending_load(ing *g, MDB_txn *txn)
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

static int pending_text(ing *g, wn_buf *b)
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

/* ---- checkpoint ----
 *
 * Every checkpoint_records records the ingesting thread makes the files durable, takes
 * what the checkpoint records (stream snapshots, counters, input positions, superseded
 * ordinals), freezes the memtable and hands the transaction to the checkpoint thread,
 * then goes on deciding into a new memtable. The next checkpoint, or the ingesting
 * thread as soon as it sees the job done, installs the result: the new runs become
 * readable, the streams forget what was recorded, runs are merged where due. The final
 * checkpoint and a --strict stop run the same job on the ingesting thread. Either way
 * the transaction holds what was decided up to the checkpoint's record and nothing
 * after, so the bytes written do not depend on timing.
 */

static int ckpt_txn(ing *g, ckjob *j)
{
	wn_catalog *c = g->c;
	MDB_txn *txn;
	int rc = mdb_txn_begin(c->env, NULL, 0, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	rc = wn_lsm_flush_frozen(g->lsm, txn);
	for (int i = 0; i < WN_NROLES && !rc; i++)
		rc = wn_stream_commit(c, &j->snap[i], txn);
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
	wn_stream *st[WN_NROLES] = { g->shard, g->ledger, g->rejects };
	int rc = 0;
	for (int i = 0; i < WN_NROLES && !rc; i++)
		rc = wn_stream_sync(st[i]);
	for (int i = 0; i < WN_NROLES && !rc && final; i++)
		rc = wn_stream_seal(st[i]);
	for (int i = 0; i < WN_NROLES && !rc; i++)
		rc = wn_stream_snapshot(st[i], &j->snap[i]);
	if (rc)
		return rc;
	g->ks->next_ord = g->shard->next_ord;
	j->ks = *g->ks;
	j->final = final;
	if (!final && (rc = pending_text(g, &j->pending)))
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
	wn_stream *st[WN_NROLES] = { g->shard, g->ledger, g->rejects };
	if (rc) {
		wn_lsm_aborted(g->lsm);
	} else {
		if (j->final)
			g->c->generation++;
		rc = wn_lsm_install(g->lsm);
		for (int i = 0; i < WN_NROLES; i++)
			wn_stream_committed(st[i], &j->snap[i]);
	}
	for (int i = 0; i < WN_NROLES; i++)
		wn_stream_snap_free(&j->snap[i]);
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
static int ckpt_wait(ing *g)
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
static int ckpt_poll(ing *g)
{
	ckthread *t = &g->ck;
	if (!t->busy)
		return 0;
	pthread_mutex_lock(&t->mu);
	int done = t->done;
	pthread_mutex_unlock(&t->mu);
	return done ? ckpt_wait(g) : 0;
}

static void ckpt_stop(ing *g)
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
static int checkpoint(ing *g, int final)
{
	double t0 = wn_now();
	int rc = ckpt_wait(g);
	ckjob *j = &g->ck.job;
	if (!rc && !(rc = ckpt_prepare(g, j, final))) {
		mdb_txn_reset(g->rtxn);
		rc = ckpt_finish(g, j, ckpt_txn(g, j), 1);
	}
	g->t_commit += wn_now() - t0;
	return rc;
}

/* A checkpoint in the background (inline if the thread cannot start). */
static int checkpoint_bg(ing *g)
{
	ckthread *t = &g->ck;
	int rc = ckpt_wait(g);
	if (rc)
		return rc;
	if (!t->started) {
		if (pthread_mutex_init(&t->mu, NULL))
			return checkpoint(g, 0);
		if (pthread_cond_init(&t->cv, NULL)) {
			pthread_mutex_destroy(&t->mu);
			return checkpoint(g, 0);
		}
		t->quit = t->busy = t->done = 0;
		if (pthread_create(&t->th, NULL, ckpt_thread, g)) {
			pthread_cond_destroy(&t->cv);
			pthread_mutex_destroy(&t->mu);
			return checkpoint(g, 0);
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

/* ---- ledger and rejects ---- */

static int add_entry(ing *g, wn_stream *s)
{
	int rc = wn_stream_add(s, g->ent.p, g->ent.len);
	g->ent.len = 0;
	return rc;
}

/* A reject entry for a line with no record in it (FORMAT.md 6). */
static int reject(ing *g, const wn_source *src, const prep *r, const char *raw, size_t len, int code,
	const char *why, size_t err_off, int has_off)
{
	wn_reject_entry e = { .input_json = g->name_json.p, .input_json_len = g->name_json.len, .line = r->lineno,
		.offset = r->off, .code = code, .detail = why, .detail_len = strlen(why), .has_error_offset = has_off,
		.error_offset = err_off, .truncated = code == WN_E_TOOLONG, .length = r->toolong_len, .raw = raw,
		.raw_len = len };
	g->rc.rejected++;
	g->ks->rejected++;
	g->ent.len = 0;
	if (wn_reject_encode(&e, &g->ent))
		return WN_E_NOMEM;
	g->ks->reject_entries++;
	int rc = add_entry(g, g->rejects);
	if (rc)
		return rc;
	if (g->o->on_reject) {
		g->tmp.len = 0;
		wn_buf_printf(&g->tmp, "%s line %" PRIu64 ": %s", src->name, r->lineno, why);
		g->o->on_reject(g->tmp.p, g->o->reject_ud);
	}
	if (g->o->strict)
		return wn_seterr(g->c, WN_E_REJECTED, "%s line %" PRIu64 ": %s", src->name, r->lineno, why);
	return 0;
}

/* A ledger entry for record r (FORMAT.md 5): the common part; the caller adds the
 * superseded ordinal or the record's bytes where the case has them. */
static wn_ledger_entry entry_for(const ing *g, const prep *r, int revision, uint64_t survivor, const uint8_t fp[16])
{
	wn_ledger_entry e = { .input_json = g->name_json.p, .input_json_len = g->name_json.len, .line = r->lineno,
		.revision = revision, .id = r->id, .id_len = r->id_len, .survivor = survivor, .superseded = -1 };
	memcpy(e.fp, fp, 16);
	return e;
}

static int ledger(ing *g, const wn_ledger_entry *e)
{
	g->ent.len = 0;
	if (wn_ledger_encode(e, &g->ent))
		return WN_E_NOMEM;
	g->ks->ledger_entries++;
	return add_entry(g, g->ledger);
}

/* ---- conflict policy ---- */

/* Fetch the stored record with ordinal ord (for newest:FIELD). */
static int fetch_record(ing *g, uint64_t ord)
{
	int rc = wn_stream_fetch(g->shard, ord, &g->fetched, &g->tmp2);
	if (rc)
		return rc < 0 ? rc : 0;
	wn_frameinfo fi;
	if ((rc = wn_record_locate(g->c, g->rtxn, g->kind, ord, &fi)))
		return rc;
	if ((rc = wn_frame_load(g->c, g->kind, &fi, &g->tmp2, &g->fetched)))
		return rc;
	const char *line;
	size_t len;
	if (wn_frame_line(g->tmp2.p, g->tmp2.len, (uint32_t)(ord - fi.first_ord), &line, &len))
		return wn_seterr(g->c, WN_E_CORRUPT, "record %" PRIu64 " not in its frame", ord);
	g->fetched.len = 0;
	return wn_buf_put(&g->fetched, line, len);
}

/* Compare two values of the newest field: numbers numerically, strings bytewise; a
 * present value is newer than an absent one. >0 when a is newer than b. */
static int newer(const wn_jslot *a, const char *bp, size_t bl, int btype)
{
	if (a->type == WN_JT_NONE || a->type == WN_JT_NULL)
		return (btype == WN_JT_NONE || btype == WN_JT_NULL) ? 0 : -1;
	if (btype == WN_JT_NONE || btype == WN_JT_NULL)
		return 1;
	if (a->type == WN_JT_NUMBER && btype == WN_JT_NUMBER) {
		double x = strtod(a->ptr, NULL), y = strtod(bp, NULL);
		return x > y ? 1 : x < y ? -1 : 0;
	}
	size_t n = a->len < bl ? a->len : bl;
	int cmp = memcmp(a->ptr, bp, n);
	return cmp ? cmp : (a->len > bl) - (a->len < bl);
}

/* ---- one record ---- */

/* What parsing needs; the parsing thread's own (see "parsing ahead"). */
typedef struct pctx {
	wn_json *json;
	wn_jresult jr;
	wn_arena *arena;        /* the slot being filled: its records' bytes, ids, error texts */
	const char *id_field;
	int kind, newest;
	int sample;             /* time this record's parse (one in 16) */
	double t_parse;
} pctx;

/* A NUL-terminated copy of p[0..n) in the slot's arena, or NULL (no memory). */
static const char *arena_str(pctx *x, const char *p, size_t n)
{
	char *d = wn_arena_room(x->arena, n + 1);
	if (!d)
		return NULL;
	memcpy(d, p, n);
	d[n] = 0;
	wn_arena_take(x->arena, n + 1);
	return d;
}

/* Parse one record; never fails but for memory (the verdict is in r->code). */
static int prepare(pctx *x, prep *r, const wn_srec *s)
{
	const char *line = s->rec;
	size_t len = s->len;
	r->line = line;
	r->len = len;
	r->has_err_off = 0;
	r->has_isrc = 0;
	if (s->toolong_len) {
		r->code = WN_E_TOOLONG;
		return 0;
	}
	if (s->code) {
		/* the source rejected it (a CSV row with the wrong number of fields, ...); its
		 * reason is in the slot's arena already */
		r->code = s->code;
		r->err = s->why ? s->why : wn_strerror(s->code);
		return 0;
	}
	if (!len) {
		r->code = WN_E_EMPTY;
		return 0;
	}
	double t0 = x->sample ? wn_now() : 0;
	int rc = wn_json_record(x->json, line, len, &x->jr);
	if (x->sample)
		x->t_parse += (wn_now() - t0) * 16;
	char why[200];
	if (rc) {
		if (rc == WN_E_NOMEM)
			return rc;
		r->code = rc;
		r->err_off = x->jr.err_offset;
		r->has_err_off = 1;
		r->err = arena_str(x, x->jr.err, strlen(x->jr.err));
		return r->err ? 0 : WN_E_NOMEM;
	}
	wn_keys k;
	if (wn_record_keys(&x->jr, x->kind, x->id_field, &k, why, sizeof why)) {
		r->code = WN_E_NOID;
		r->err = arena_str(x, why, strlen(why));
		return r->err ? 0 : WN_E_NOMEM;
	}
	r->code = 0;
	memcpy(r->fp, k.fp, 16);
	r->hash = k.hash;
	r->check = k.check;
	r->has_isrc = k.has_isrc;
	r->isrc_hash = k.isrc_hash;
	r->id_len = k.id_len;
	if (!(r->id = arena_str(x, k.id, k.id_len)))
		return WN_E_NOMEM;
	if (x->newest) {
		r->newest = x->jr.slot[SLOT_NEWEST];
		if (r->newest.ptr && !(r->newest.ptr = arena_str(x, r->newest.ptr, r->newest.len)))   /* NUL: strtod reads it */
			return WN_E_NOMEM;
	}
	return 0;
}

static int keep(ing *g, const prep *r, uint8_t flags, uint64_t *ord_out, int known)
{
	uint64_t ord = g->shard->next_ord;
	int rc = wn_stream_add(g->shard, r->line, r->len);
	if (rc)
		return rc;
	wn_idrec e = { .hash = r->hash, .check = r->check, .flags = flags, .ord = ord };
	memcpy(e.fp, r->fp, 16);
	if ((rc = wn_lsm_put_id(g->lsm, &e, known)) || (rc = wn_lsm_put_pair(g->lsm, WN_MAP_FP, wn_fp_key(r->fp), ord)))
		return rc;
	if (r->has_isrc && (rc = wn_lsm_put_pair(g->lsm, WN_MAP_ISRC, r->isrc_hash, ord)))
		return rc;
	*ord_out = ord;
	return 0;
}

/* Does the new record win against the stored one? */
static int new_wins(ing *g, const prep *r, const wn_idrec *old)
{
	if (g->o->on_conflict == WN_CONFLICT_LAST)
		return 1;
	if (g->o->on_conflict == WN_CONFLICT_FIRST)
		return 0;
	int rc = fetch_record(g, old->ord);
	if (rc)
		return rc;
	wn_jresult r2;
	if (wn_json_record(g->json2, g->fetched.p, g->fetched.len, &r2))
		return wn_seterr(g->c, WN_E_CORRUPT, "stored record %" PRIu64 " does not parse", old->ord);
	wn_jslot mine = r->newest;
	const wn_jslot *theirs = &r2.slot[0];
	return newer(&mine, theirs->ptr, theirs->len, theirs->type) > 0;
}

static int decide(ing *g, const wn_source *src, const prep *r)
{
	int rc;
	g->rc.read++;
	g->ks->read++;
	if (r->code) {
		char why[128];
		const char *msg = why;
		if (r->code == WN_E_TOOLONG) {
			snprintf(why, sizeof why, "record of %zu bytes is longer than the limit of %zu", r->toolong_len, g->o->max_line);
		} else if (r->code == WN_E_EMPTY) {
			msg = "empty line";
		} else {
			msg = r->err;
		}
		return reject(g, src, r, r->line, r->len, r->code, msg, r->err_off, r->has_err_off);
	}
	double t0 = g->sample ? wn_now() : 0;
	wn_idrec old;
	rc = wn_lsm_find_id(g->lsm, g->rtxn, r->hash, r->check, &old);
	if (rc < 0)
		return rc;
	if (g->sample) {
		double t1 = wn_now();
		g->t_dedup += (t1 - t0) * 16;
		t0 = t1;
	}
	uint64_t ord;
	if (!rc) {
		g->rc.kept++;
		g->ks->kept++;
		rc = keep(g, r, 0, &ord, 0);
		if (g->sample)
			g->t_store += (wn_now() - t0) * 16;
		return rc;
	}
	if (!memcmp(old.fp, r->fp, 16)) {
		g->rc.duplicates++;
		g->ks->duplicates++;
		wn_ledger_entry e = entry_for(g, r, 0, old.ord, r->fp);
		return ledger(g, &e);
	}
	if (old.flags & WN_IDF_REVISED) {
		rc = wn_lsm_has_fp(g->lsm, g->rtxn, r->fp, old.ord);
		if (rc < 0)
			return rc;
		if (rc) {
			g->rc.duplicates++;
			g->ks->duplicates++;
			wn_ledger_entry e = entry_for(g, r, 0, old.ord, r->fp);
			return ledger(g, &e);
		}
	}
	/* a revision */
	g->rc.revisions++;
	g->ks->revisions++;
	int wins = new_wins(g, r, &old);
	if (wins < 0)
		return wins;
	if (!wins) {
		/* the stored version stays; this one goes to the ledger with its bytes */
		old.flags |= WN_IDF_REVISED;
		if (!(rc = wn_lsm_put_id(g->lsm, &old, 1)) &&
		    !(rc = wn_lsm_put_pair(g->lsm, WN_MAP_FP, wn_fp_key(r->fp), old.ord)) &&
		    !(rc = wn_lsm_note_revfp(g->lsm, r->fp))) {
			wn_ledger_entry e = entry_for(g, r, 1, old.ord, r->fp);
			e.record = r->line;
			e.record_len = r->len;
			rc = ledger(g, &e);
		}
		return rc;
	}
	/* this version replaces the stored one, whose bytes stay in their shard */
	rc = keep(g, r, WN_IDF_REVISED, &ord, 1);
	if (!rc)
		rc = wn_lsm_note_revfp(g->lsm, old.fp);
	if (!rc && g->nsup == g->capsup) {
		size_t cap = g->capsup ? g->capsup * 2 : 1024;
		supers *s = realloc(g->sup, cap * sizeof *s);
		if (!s)
			return WN_E_NOMEM;
		g->sup = s;
		g->capsup = cap;
	}
	if (rc)
		return rc;
	g->sup[g->nsup].old = old.ord;
	g->sup[g->nsup].by = ord;
	g->nsup++;
	g->rc.superseded++;
	g->ks->superseded++;
	wn_ledger_entry e = entry_for(g, r, 1, ord, old.fp);
	e.superseded = (int64_t)old.ord;
	return ledger(g, &e);
}

/* ---- the run ---- */

static void progress(ing *g, const char *name, uint64_t consumed, int force)
{
	if (!g->o->progress)
		return;
	double now = wn_now();
	if (!force && now - g->t_last_progress < 0.25)
		return;
	g->t_last_progress = now;
	wn_progress p = { .records = g->rc.read, .bytes = g->bytes_before + consumed,
		.total_bytes = g->total_bytes, .elapsed = now - g->t0, .input = name ? name : "" };
	g->o->progress(&p, g->o->progress_ud);
}

/* ---- parsing ahead ----
 *
 * Reading and parsing (a third of the work per record) run in a thread of their own,
 * one input at a time, while the ingesting thread decides and stores: the two halves
 * overlap on two cores. The parser fills slots of SLOT_RECS records in turn, each with
 * an arena of its own holding the records' bytes (the source's buffer moves on), their
 * ids and error texts;
 * the ingesting thread takes the slots in order, so the result does not depend on the
 * timing. A slot ends early at the end of the input or at an error of the source,
 * which the ingesting thread sees after that slot's records. */

#define SLOTS 8
#define SLOT_RECS 1024
#define PREFETCH 16     /* records between the prefetch of a record's index memory and its decision */
#define END 1           /* slot status: the input ends after this slot */

typedef struct pslot {
	prep r[SLOT_RECS];
	int n;
	int status;             /* 0 more follow, END, or the error that stopped the source */
	char err[256];
	uint64_t consumed;      /* input bytes read when the slot was filled */
	wn_arena bytes;         /* the records' bytes, ids, error texts */
} pslot;

typedef struct parser {
	wn_source *src;
	pctx x;
	pthread_t th;
	int started, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t filled, taken;     /* slots filled by the parser; slots the ingesting thread is done with */
	uint64_t nrec;
	volatile const int *cancel;     /* a slot ends early when it is set */
	double t_fill;              /* the parser's time filling slots (reading and parsing) */
	pslot slots[SLOTS];
} parser;

static int fill_slot(parser *ps, pslot *sl)
{
	wn_arena_reset(&sl->bytes);
	sl->n = 0;
	ps->x.arena = &sl->bytes;
	while (sl->n < SLOT_RECS && !(ps->cancel && __atomic_load_n(ps->cancel, __ATOMIC_RELAXED))) {
		wn_srec s;
		int got = ps->src->next(ps->src, &s, 1);
		if (got == 2)
			continue;   /* not with may_move; be safe */
		if (got == 0)
			return END;
		if (got != 1) {
			memcpy(sl->err, ps->src->err, sizeof sl->err);
			return got;
		}
		prep *r = &sl->r[sl->n];
		if (!(s.rec = wn_arena_copy(&sl->bytes, s.rec, s.len)) ||
		    (s.why && !(s.why = wn_arena_copy(&sl->bytes, s.why, strlen(s.why) + 1))))
			goto nomem;
		r->off = s.off;
		r->lineno = s.lineno;
		r->end = s.end;
		r->toolong_len = s.toolong_len;
		ps->x.sample = ps->nrec++ % 16 == 0;
		if (prepare(&ps->x, r, &s))
			goto nomem;
		sl->n++;
	}
	return 0;
nomem:
	snprintf(sl->err, sizeof sl->err, "%s", wn_strerror(WN_E_NOMEM));
	return WN_E_NOMEM;
}

static void *parse_main(void *arg)
{
	parser *ps = arg;
	pthread_setname_np(pthread_self(), "winnow-parse");
	for (;;) {
		pthread_mutex_lock(&ps->mu);
		while (ps->filled - ps->taken == SLOTS && !ps->stop)
			pthread_cond_wait(&ps->cv, &ps->mu);
		int stop = ps->stop;
		uint64_t k = ps->filled;
		pthread_mutex_unlock(&ps->mu);
		if (stop)
			break;
		pslot *sl = &ps->slots[k % SLOTS];
		double t0 = wn_now();
		int st = fill_slot(ps, sl);
		sl->consumed = ps->src->consumed(ps->src);
		ps->t_fill += wn_now() - t0;
		pthread_mutex_lock(&ps->mu);
		sl->status = st;
		ps->filled++;
		pthread_cond_broadcast(&ps->cv);
		pthread_mutex_unlock(&ps->mu);
		if (st)
			break;
	}
	return NULL;
}

/* The next filled slot (waiting for it), or NULL when the thread cannot start. */
static pslot *parser_take(ing *g, parser *ps)
{
	if (!ps->started) {
		if (pthread_create(&ps->th, NULL, parse_main, ps))
			return NULL;
		ps->started = 1;
	}
	pthread_mutex_lock(&ps->mu);
	if (ps->filled == ps->taken) {
		double t0 = wn_now();
		while (ps->filled == ps->taken)
			pthread_cond_wait(&ps->cv, &ps->mu);
		g->t_input_wait += wn_now() - t0;
	}
	pthread_mutex_unlock(&ps->mu);
	return &ps->slots[ps->taken % SLOTS];
}

static void parser_give_back(parser *ps)
{
	pthread_mutex_lock(&ps->mu);
	ps->taken++;
	pthread_cond_broadcast(&ps->cv);
	pthread_mutex_unlock(&ps->mu);
}

/* Stop the thread (if it runs) and free the parser; the source stays open. */
static void parser_end(ing *g, parser *ps)
{
	if (ps->started)
		wn_thread_stop(ps->th, &ps->mu, &ps->cv, &ps->stop);
	g->t_read += ps->t_fill > ps->x.t_parse ? ps->t_fill - ps->x.t_parse : 0;
	g->t_parse += ps->x.t_parse;
	pthread_mutex_destroy(&ps->mu);
	pthread_cond_destroy(&ps->cv);
	for (int i = 0; i < SLOTS; i++) {
		wn_arena_free(&ps->slots[i].bytes);
	}
	free(ps);
}

static int ingest_input(ing *g, size_t idx, const char *path)
{
	wn_source *src;
	int rc = wn_source_open(&src, path, g->o);
	if (rc) {
		wn_seterr(g->c, rc, "%s: %s", strcmp(path, "-") ? path : "(stdin)", src ? src->err : wn_strerror(rc));
		wn_source_close(src);
		return rc;
	}
	g->cur_in[idx].name = strcmp(path, "-") ? path : "-";
	g->cur_in[idx].size = src->size;
	g->cur_in[idx].head = src->head_hash;
	g->name_json.len = 0;
	if (wn_buf_json_bytes(&g->name_json, src->name, strlen(src->name))) {
		rc = wn_seterr(g->c, WN_E_NOMEM, "%s: out of memory", src->name);
		wn_source_close(src);
		return rc;
	}
	/* resume: the first unused pending entry that is the same input */
	for (size_t i = 0; i < g->npend; i++) {
		pending_in *p = &g->pend[i];
		if (p->used || strcmp(p->name, g->cur_in[idx].name) || p->size != src->size || p->head != src->head_hash)
			continue;
		p->used = 1;
		g->cur_in[idx].offset = p->offset;
		g->cur_in[idx].line = p->line;
		if (p->done) {
			g->cur_in[idx].done = 1;
			wn_source_close(src);
			return 0;
		}
		if ((rc = src->skip(src, p->offset, p->line))) {
			wn_seterr(g->c, rc, "%s: cannot resume: %s", src->name, src->err);
			wn_source_close(src);
			return rc;
		}
		break;
	}
	parser *ps = calloc(1, sizeof *ps);
	if (!ps) {
		wn_source_close(src);
		return wn_seterr(g->c, WN_E_NOMEM, "%s: %s", src->name, wn_strerror(WN_E_NOMEM));
	}
	pthread_mutex_init(&ps->mu, NULL);
	pthread_cond_init(&ps->cv, NULL);
	ps->src = src;
	ps->x.json = g->json;
	ps->x.id_field = g->c->opts.id_field[g->kind];
	ps->x.kind = g->kind;
	ps->x.newest = g->o->on_conflict == WN_CONFLICT_NEWEST;
	ps->cancel = g->o->cancel;
	uint64_t n = 0, consumed = 0;
	int eof = 0;
	while (!eof && !rc) {
		pslot *sl = parser_take(g, ps);
		if (!sl) {
			rc = wn_seterr(g->c, WN_E_NOMEM, "%s: cannot start the parsing thread", src->name);
			break;
		}
		/* decide, in order; the memory a decision needs (bloom filter block, memtable
		 * slot) is prefetched a few records ahead: those are cache misses, and hiding
		 * them is worth ~20% */
		for (int i = 0; i < PREFETCH && i < sl->n; i++)
			if (!sl->r[i].code)
				wn_lsm_prefetch(g->lsm, sl->r[i].hash);
		for (int i = 0; i < sl->n && !rc; i++) {
			if (i + PREFETCH < sl->n && !sl->r[i + PREFETCH].code)
				wn_lsm_prefetch(g->lsm, sl->r[i + PREFETCH].hash);
			g->sample = (n % 16) == 0;
			n++;
			rc = decide(g, src, &sl->r[i]);
			if (rc == 0 || rc == WN_E_REJECTED) {
				/* a record rejected under --strict is accounted for too: consumed */
				g->cur_in[idx].offset = sl->r[i].end;
				g->cur_in[idx].line = sl->r[i].lineno;
			}
			if (rc) {
				if (rc != WN_E_REJECTED && !*g->c->err)
					wn_seterr(g->c, rc, "%s line %" PRIu64 ": %s", src->name, sl->r[i].lineno, wn_strerror(rc));
				break;
			}
			if (++g->since_ckpt >= g->ckpt_every && (rc = checkpoint_bg(g)))
				break;
		}
		if (rc)
			break;
		if (sl->status) {
			eof = 1;
			if (sl->status != END)
				rc = wn_seterr(g->c, sl->status, "%s line %" PRIu64 ": %s", src->name, g->cur_in[idx].line + 1,
					*sl->err ? sl->err : wn_strerror(sl->status));
		}
		consumed = sl->consumed;
		parser_give_back(ps);
		if (!rc)
			rc = ckpt_poll(g);
		progress(g, src->name, consumed, 0);
		/* Lookups of ids already in the catalog map index pages, which count in our
		 * resident set although the kernel may drop them at will. Keep the whole within
		 * the budget by letting go of the mappings when they fill what the rest of our
		 * memory leaves (at least 1/16 of the budget). */
		if ((n & 4095) < SLOT_RECS) {
			uint64_t anon, mapped = wn_mapped_file_bytes(&anon);
			uint64_t room = g->o->memory > anon + g->o->memory / 16 ? g->o->memory - anon - g->o->memory / 16 : 0;
			if (room < g->o->memory / 16)
				room = g->o->memory / 16;
			if (mapped > room)
				wn_index_release_pages(g->c);
			/* while the whole index fits in half that room, lookups read it through the
			 * map (no system call); past that, with pread (no faults that map 16 pages
			 * at a time, nothing that counts in the resident set) */
			MDB_envinfo info;
			if (!mdb_env_info(g->c->env, &info))
				wn_lsm_via_map(g->lsm, (uint64_t)(info.me_last_pgno + 1) * (uint64_t)sysconf(_SC_PAGESIZE) <= room / 2);
		}
		if (g->o->cancel && __atomic_load_n(g->o->cancel, __ATOMIC_RELAXED))
			rc = WN_E_INTERRUPTED;
	}
	parser_end(g, ps);
	/* bytes count once an input is done; "pending" keeps the position of the others */
	if (rc == 0) {
		g->cur_in[idx].done = 1;
		g->rc.bytes += src->consumed(src);
	} else {
		g->partial_bytes = g->cur_in[idx].offset;
	}
	g->bytes_before += src->consumed(src);
	wn_source_close(src);
	return rc;
}

int wn_ingest(wn_catalog *c, const wn_ingest_opts *o, const char *const *paths, size_t n, wn_ingest_result *res)
{
	static const char *const stdin_only[] = { "-" };
	c->err[0] = 0;
	if (res)
		memset(res, 0, sizeof *res);
	if (!c->writable)
		return wn_seterr(c, WN_E_USAGE, "catalog is open read-only");
	if (o->kind != WN_KIND_TRACK && o->kind != WN_KIND_ARTIST)
		return wn_seterr(c, WN_E_USAGE, "unknown kind %d", o->kind);
	if (o->level < 1 || o->level > 22 || o->frame_bytes < 4096 || o->frame_bytes > (1u << 30) ||
	    o->shard_bytes < o->frame_bytes || o->max_line < 16)
		return wn_seterr(c, WN_E_USAGE, "bad level, frame, shard or line size");
	if (o->on_conflict == WN_CONFLICT_NEWEST && (!o->newest_field || !*o->newest_field))
		return wn_seterr(c, WN_E_USAGE, "--on-conflict newest needs a field: newest:FIELD");
	if (!n) {
		paths = stdin_only;
		n = 1;
	}
	ing g;
	memset(&g, 0, sizeof g);
	g.c = c;
	g.o = o;
	g.kind = o->kind;
	g.ks = &c->ks[o->kind];
	g.res = res;
	g.t0 = wn_now();
	g.ckpt_every = o->checkpoint_records;
	if (!g.ckpt_every) {
		/* two memtables (one filling, one being written) of 32-byte slots at most 70%
		 * full, a power of two of them: each takes 1/16 of the budget */
		g.ckpt_every = o->memory / 768;
		if (g.ckpt_every < 65536)
			g.ckpt_every = 65536;
		if (g.ckpt_every > (8u << 20))
			g.ckpt_every = 8u << 20;
	}
	int threads = o->threads > 0 ? o->threads : wn_ncores();
	int rc;
	wn_kstate ks_saved = *g.ks;
	wn_catopts opts_saved = c->opts;
	int have_saved = c->have_opts;

	g.cur_in = calloc(n, sizeof *g.cur_in);
	g.json = wn_json_new();
	if (!g.cur_in || !g.json) {
		rc = WN_E_NOMEM;
		goto out;
	}
	g.n_in = n;
	for (size_t i = 0; i < n; i++)
		g.cur_in[i].name = paths[i];
	/* options and resume state */
	MDB_txn *txn;
	if ((rc = mdb_txn_begin(c->env, NULL, 0, &txn))) {
		rc = wn_lmdb_err(c, rc, "begin");
		goto out;
	}
	if ((rc = setup_opts(c, o, txn)) || (rc = pending_load(&g, txn))) {
		mdb_txn_abort(txn);
		goto out;
	}
	if ((rc = mdb_txn_commit(txn))) {
		rc = wn_lmdb_err(c, rc, "commit");
		goto out;
	}
	/* parser: the record's keys (record.c), then the newest field */
	if ((rc = wn_record_parser(g.json, &c->opts, g.kind, WN_RECORD_FP)))
		goto out;
	if (o->on_conflict == WN_CONFLICT_NEWEST) {
		g.json2 = wn_json_new();
		if (!g.json2) {
			rc = WN_E_NOMEM;
			goto out;
		}
		if ((rc = wn_json_set_slot(g.json, SLOT_NEWEST, o->newest_field)) ||
		    (rc = wn_json_set_slot(g.json2, 0, o->newest_field))) {
			wn_seterr(c, rc, "bad --on-conflict field \"%s\"", o->newest_field);
			goto out;
		}
	}

	/* sizes of the inputs, for progress and for sizing the filter */
	uint64_t expect = 0;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (strcmp(paths[i], "-") && !stat(paths[i], &st) && S_ISREG(st.st_mode)) {
			g.total_bytes += (uint64_t)st.st_size;
			expect += (uint64_t)st.st_size / 200;
		} else {
			expect += g.ckpt_every;
		}
	}
	if ((rc = wn_pool_new(threads, o->level, &g.pool)))
		goto out;
	if ((rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &g.rtxn))) {
		rc = wn_lmdb_err(c, rc, "begin");
		goto out;
	}
	if ((rc = wn_stream_open(c, g.rtxn, WN_ROLE_SHARD, g.kind, g.pool, threads * 2 + 2, o->frame_bytes, o->shard_bytes,
		     g.ks->next_ord, &g.shard)) ||
	    (rc = wn_stream_open(c, g.rtxn, WN_ROLE_LEDGER, g.kind, g.pool, 3, o->frame_bytes, o->shard_bytes,
		     g.ks->ledger_entries, &g.ledger)) ||
	    (rc = wn_stream_open(c, g.rtxn, WN_ROLE_REJECT, g.kind, g.pool, 2, o->frame_bytes, o->shard_bytes,
		     g.ks->reject_entries, &g.rejects)))
		goto out;
	if (g.shard->next_ord != g.ks->next_ord) {
		rc = wn_seterr(c, WN_E_CORRUPT, "index: shard ordinals disagree with the counters");
		goto out;
	}
	if ((rc = wn_lsm_open(c, g.kind, expect < g.ckpt_every ? expect : g.ckpt_every, expect, o->memory, &g.lsm)))
		goto out;
	/* a merge a crash interrupted is finished before anything else is written */
	mdb_txn_reset(g.rtxn);
	rc = wn_lsm_compact(g.lsm);
	int rr = mdb_txn_renew(g.rtxn);
	if (rc || (rr && (rc = wn_lmdb_err(c, rr, "renew"))))
		goto out;

	for (size_t i = 0; i < n && !rc; i++)
		rc = ingest_input(&g, i, paths[i]);
	/* a checkpoint still in the background commits (or fails) before anything else */
	int rcw = ckpt_wait(&g);
	if (rcw && (!rc || rc == WN_E_INTERRUPTED))
		rc = rcw;
	progress(&g, NULL, 0, 1);
	if (!rc) {
		rc = checkpoint(&g, 1);
		if (!rc)
			rc = wn_catalog_write_manifests(c);
	} else if (rc == WN_E_REJECTED) {
		/* --strict: keep the records before the bad one (and its rejects entry) */
		int rc2 = checkpoint(&g, 0);
		if (rc2)
			rc = rc2;
	} else if (rc == WN_E_INTERRUPTED) {
		/* Like a crash, but tidy: work since the last checkpoint is dropped, so that the
		 * rerun writes exactly the bytes an uninterrupted run would have written. */
		wn_seterr(c, rc, "interrupted: %" PRIu64 " records are in the catalog, %" PRIu64 " more were dropped; "
			"run the same command again to finish", g.rc.read - g.since_ckpt, g.since_ckpt);
	}
out:
	if (rc && rc != WN_E_REJECTED) {
		/* the catalog on disk is at its last checkpoint; so must our idea of it be */
		*g.ks = ks_saved;
		MDB_txn *t;
		if (!mdb_txn_begin(c->env, NULL, MDB_RDONLY, &t)) {
			wn_meta_get_kstate(c, t, g.kind, g.ks);
			mdb_txn_abort(t);
		}
		if (!have_saved || rc == WN_E_MISMATCH) {
			c->opts = opts_saved;
			c->have_opts = have_saved;
		}
	}
	if (res) {
#define WN_X(n) res->n = g.rc.n;
		WN_OUTCOMES(WN_X)
#undef WN_X
		res->bytes_in = g.rc.bytes + g.partial_bytes;
		res->seconds = wn_now() - g.t0;
		res->t_read = g.t_read;
		res->t_input_wait = g.t_input_wait;
		res->t_parse = g.t_parse;
		res->t_dedup = g.t_dedup;
		res->t_store = g.t_store;
		res->t_commit = g.t_commit;
		res->t_merge = g.t_merge;
		res->t_compress_wait = (g.shard ? g.shard->t_wait : 0) + (g.ledger ? g.ledger->t_wait : 0);
		res->t_compress = g.pool ? wn_pool_cpu(g.pool) : 0;
	}
	wn_stream_close(g.shard);
	wn_stream_close(g.ledger);
	wn_stream_close(g.rejects);
	if (rc && rc != WN_E_REJECTED && rc != WN_E_MISMATCH && rc != WN_E_USAGE) {
		/* cut the files back to the last checkpoint now rather than at the next open */
		char keep[sizeof c->err];
		memcpy(keep, c->err, sizeof keep);
		wn_catalog_rollback(c);
		memcpy(c->err, keep, sizeof keep);
	}
	ckpt_stop(&g);
	if (g.rtxn)
		mdb_txn_abort(g.rtxn);
	wn_lsm_close(g.lsm);
	wn_pool_free(g.pool);
	wn_json_free(g.json);
	wn_json_free(g.json2);
	for (size_t i = 0; i < g.npend; i++)
		free(g.pend[i].name);
	free(g.pend);
	free(g.sup);
	free(g.ck.job.sup);
	wn_buf_free(&g.ck.job.pending);
	for (int i = 0; i < WN_NROLES; i++)
		wn_stream_snap_free(&g.ck.job.snap[i]);
	free(g.cur_in);
	wn_buf_free(&g.ent);
	wn_buf_free(&g.tmp);
	wn_buf_free(&g.tmp2);
	wn_buf_free(&g.fetched);
	wn_buf_free(&g.name_json);
	return rc;
}
