/*
 * query.c - getting records back: export (every survivor in catalog order), get by id or
 * ISRC (one frame read per record), and the numbers behind `winnow stats`.
 *
 * Readers work from one read-only LMDB snapshot, so they see the catalog as of the last
 * checkpoint even while a writer is appending beyond it. Records are found by their
 * ordinals through the frame layer (frame.c) and read with the record's own parser
 * set-up (record.c).
 */
#include "internal.h"
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- export ---- */

/* wn_shard_keep() for a reader with a snapshot: a shard that is not there is
 * WN_E_MISSING, named with the records it holds. */
static int keep_shard(wn_catalog *c, MDB_txn *txn, int kind, uint32_t seq, int *fd, uint32_t *fd_seq, char *rel,
	size_t rl)
{
	int rc = wn_shard_keep(c, kind, seq, fd, fd_seq, rel, rl);
	return rc == ENOENT ? wn_shard_missing(c, txn, kind, rel) : rc;
}

/* A shard export skips: its name, the ordinals of the frames that were skipped, and
 * how many of them are survivors. */
typedef struct skipped {
	int on;
	uint32_t seq;
	char rel[128];
	uint64_t first, last, survivors;
} skipped;

/* How many records of first..last are superseded (keys of <kind>.superseded). */
static int count_superseded(wn_catalog *c, MDB_txn *txn, int kind, uint64_t first, uint64_t last, uint64_t *n)
{
	MDB_cursor *cur;
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	*n = 0;
	wn_put_be64(kb, first);
	int rc = mdb_cursor_open(txn, c->db_super[kind], &cur);
	if (rc)
		return wn_lmdb_err(c, rc, "superseded");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc && k.mv_size == 8 && wn_get_be64(k.mv_data) <= last;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		++*n;
	mdb_cursor_close(cur);
	return rc && rc != MDB_NOTFOUND ? wn_lmdb_err(c, rc, "superseded") : 0;
}

/* Records first..last have no frame rows: the shards that hold them were not there when
 * the index was built (winnow reindex --ignore-missing of a partial mirror). Each is
 * reported (or skipped) as a missing shard is; a shard that is there but has no frame
 * rows is damage to the index. */
static int gap(wn_catalog *c, MDB_txn *txn, int kind, uint64_t first, uint64_t last, wn_missing_fn missing, void *ud)
{
	while (first <= last) {
		wn_fileinfo f;
		char rel[128];
		uint64_t dead;
		int rc = wn_shard_of(c, txn, kind, first, &f, rel, sizeof rel);
		if (rc < 0)
			return rc;
		if (!rc || wn_shard_present(c, rel))
			return wn_seterr(c, WN_E_CORRUPT, "index: no frame row holds %s record %llu: the index is damaged; "
				"rebuild it from the data files with `winnow reindex -C %s`", wn_catalog_kind_name(c, kind),
				(unsigned long long)first, c->dir);
		if (!missing)
			return wn_shard_missing(c, txn, kind, rel);
		uint64_t end = f.first_ord + f.nrecords - 1;
		if ((rc = count_superseded(c, txn, kind, f.first_ord, end, &dead)) ||
		    (rc = missing(rel, f.first_ord, end, f.nrecords - dead, ud)))
			return rc;
		first = end + 1;
	}
	return 0;
}

int wn_export_partial(wn_catalog *c, const char *kind_name, wn_emit_fn emit, wn_missing_fn missing, void *ud)
{
	MDB_txn *txn;
	MDB_cursor *cur = NULL, *sup = NULL;
	MDB_val k, v, sk, sv;
	wn_buf raw = { 0 }, scratch = { 0 };
	char rel[128];
	int fd = -1;
	uint32_t fd_seq = 0;
	skipped skip = { 0 };
	c->err[0] = 0;
	int kind = wn_catalog_kind(c, NULL, kind_name ? kind_name : "track", 0);
	if (kind < 0)
		return kind;
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	if ((rc = mdb_cursor_open(txn, c->db_frames[kind], &cur)) || (rc = mdb_cursor_open(txn, c->db_super[kind], &sup))) {
		rc = wn_lmdb_err(c, rc, "cursor");
		goto out;
	}
	/* superseded ordinals, walked in step with the frames */
	uint64_t next_dead = UINT64_MAX, want = 0;
	int sr = mdb_cursor_get(sup, &sk, &sv, MDB_FIRST);
	if (!sr && sk.mv_size == 8)
		next_dead = wn_get_be64(sk.mv_data);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		wn_frameinfo fi;
		if ((rc = wn_frame_row(c, &k, &v, &fi)))
			goto out;
		if (skip.on && skip.seq != fi.shard_seq) {
			skip.on = 0;
			if ((rc = missing(skip.rel, skip.first, skip.last, skip.survivors, ud)))
				goto out;
		}
		if (fi.first_ord > want && (rc = gap(c, txn, kind, want, fi.first_ord - 1, missing, ud)))
			goto out;
		want = fi.first_ord + fi.nrec;
		int present = !(skip.on && skip.seq == fi.shard_seq);
		if (present) {
			rc = keep_shard(c, txn, kind, fi.shard_seq, &fd, &fd_seq, rel, sizeof rel);
			if (rc == WN_E_MISSING && missing) {
				skip = (skipped){ .on = 1, .seq = fi.shard_seq, .first = fi.first_ord };
				snprintf(skip.rel, sizeof skip.rel, "%s", rel);
				present = 0;
				rc = 0;
			}
			if (rc || (present && (rc = wn_frame_load_fd(c, fd, rel, &fi, &raw, &scratch))))
				goto out;
		}
		const char *p = present ? raw.p : NULL, *end = present ? raw.p + raw.len : NULL;
		for (uint32_t i = 0; i < fi.nrec; i++) {
			const char *nl = present ? memchr(p, '\n', (size_t)(end - p)) : NULL;
			if (present && !nl) {
				rc = wn_frame_damaged(c, rel, &fi, "holds fewer records than the index says");
				goto out;
			}
			uint64_t ord = fi.first_ord + i;
			while (next_dead < ord) {
				sr = mdb_cursor_get(sup, &sk, &sv, MDB_NEXT);
				next_dead = (!sr && sk.mv_size == 8) ? wn_get_be64(sk.mv_data) : UINT64_MAX;
			}
			/* (a forgotten record's place holds its placeholder: no record) */
			if (ord != next_dead) {
				if (!present)
					skip.survivors++;
				else if (!wn_is_forgotten_line(p, (size_t)(nl - p)) && (rc = emit(p, (size_t)(nl - p), ud)))
					goto out;
			}
			if (present)
				p = nl + 1;
		}
		if (!present)
			skip.last = fi.first_ord + fi.nrec - 1;
	}
	if (rc == MDB_NOTFOUND) {
		wn_kstate ks;
		rc = skip.on ? missing(skip.rel, skip.first, skip.last, skip.survivors, ud) : 0;
		if (!rc && !(rc = wn_meta_get_kstate(c, txn, kind, &ks)) && ks.next_ord > want)
			rc = gap(c, txn, kind, want, ks.next_ord - 1, missing, ud);
	} else if (rc > 0 || rc < -30000)
		rc = wn_lmdb_err(c, rc, "frames");
out:
	if (fd >= 0)
		close(fd);
	if (cur)
		mdb_cursor_close(cur);
	if (sup)
		mdb_cursor_close(sup);
	mdb_txn_abort(txn);
	wn_buf_free(&raw);
	wn_buf_free(&scratch);
	return rc;
}

int wn_export(wn_catalog *c, const char *kind, wn_emit_fn emit, void *ud)
{
	return wn_export_partial(c, kind, emit, NULL, ud);
}

/* ---- get ---- */

typedef struct fetcher {
	wn_catalog *c;
	MDB_txn *txn;
	int kind;
	wn_buf raw, scratch;
	wn_json *json;
} fetcher;

static int fetch(fetcher *f, uint64_t ord, const char **line, size_t *len)
{
	wn_frameinfo fi;
	int rc = wn_record_locate(f->c, f->txn, f->kind, ord, &fi);
	if (rc)
		return rc;
	if ((rc = wn_frame_load(f->c, f->kind, &fi, &f->raw, &f->scratch))) {
		if (rc != ENOENT)
			return rc;
		char rel[128];
		wn_file_relpath(rel, sizeof rel, WN_ROLE_SHARD, wn_catalog_kind_name(f->c, f->kind), fi.shard_seq);
		return wn_shard_missing(f->c, f->txn, f->kind, rel);
	}
	if (wn_frame_line(f->raw.p, f->raw.len, (uint32_t)(ord - fi.first_ord), line, len))
		return wn_seterr(f->c, WN_E_CORRUPT, "record %llu is not in its frame", (unsigned long long)ord);
	return 0;
}

typedef struct wanted {
	size_t i;          /* position in the caller's list */
	uint64_t ord;
	uint8_t fp[16];    /* the fingerprint the index holds for it */
	char *rec;         /* found record (copy), NULL if not found */
	size_t len;
} wanted;

static int cmp_want_ord(const void *a, const void *b)
{
	const wanted *x = a, *y = b;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static int cmp_want_i(const void *a, const void *b)
{
	const wanted *x = a, *y = b;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* The wanted records w[k0..k1) all lie in frame fi, which is decoded as far as its line
 * upto. A frame that fails leaves its code and message here. */
typedef struct frame_task {
	size_t k0, k1;
	wn_frameinfo fi;
	uint32_t upto;
	int rc;
	char *err;
} frame_task;

/* A get's frame tasks, shared by its workers. */
typedef struct getjob {
	wn_catalog *c;
	MDB_txn *txn;       /* the caller's snapshot, for a worker on the calling thread */
	int kind;
	const wn_profile *prof;
	const char *const *ids;
	const size_t *lens;
	wanted *w;
	frame_task *t;
	size_t nt;
	size_t next;        /* the next task to take */
	size_t first_bad;   /* the first task that failed: later ones need not be done */
	pthread_mutex_t mu;
} getjob;

/* What reads frames for a get: one per thread. c is a copy of the caller's handle (the
 * same environment, databases and profiles, read only) so that each thread words its
 * own error; txn is the thread's own snapshot of the same generation. */
typedef struct getter {
	wn_catalog c;
	getjob *j;
	MDB_txn *txn;
	int own_txn;
	int rc;             /* setting up (a snapshot, a decoder) failed: not a frame's finding */
	wn_json *json;
	ZSTD_DCtx *dctx;
	wn_buf raw, scratch;
	int fd;
	uint32_t fd_seq;
	char rel[128];
} getter;

static void *getter_new(void *ud, int i)
{
	getjob *j = ud;
	getter *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	g->c = *j->c;
	g->c.err[0] = 0;
	g->j = j;
	g->fd = -1;
	g->txn = j->txn;
	if (!g->txn) {
		int rc = mdb_txn_begin(g->c.env, NULL, MDB_RDONLY, &g->txn);
		if (rc) {
			g->txn = NULL;
			g->rc = wn_lmdb_err(&g->c, rc, "begin");
			return g;
		}
		g->own_txn = 1;
	}
	g->json = wn_json_new();
	g->dctx = ZSTD_createDCtx();
	if (!g->json || !g->dctx || wn_record_parser(g->json, j->prof, WN_RECORD_FP))
		g->rc = wn_seterr(&g->c, WN_E_NOMEM, "out of memory");
	return g;
}

static void getter_free(void *worker)
{
	getter *g = worker;
	if (!g)
		return;
	if (g->fd >= 0)
		close(g->fd);
	wn_json_free(g->json);
	ZSTD_freeDCtx(g->dctx);
	wn_buf_free(&g->raw);
	wn_buf_free(&g->scratch);
	if (g->own_txn)
		mdb_txn_abort(g->txn);
	free(g);
}

/* Take the wanted records of one frame: decode it as far as the last of them, then find
 * each line from the one before (so a frame is scanned once, not once per id) and prove
 * it by its fingerprint, as an unchecked frame must be. */
static int take_frame(getter *g, frame_task *t)
{
	wn_catalog *c = &g->c;
	const getjob *j = g->j;
	int rc;
	/* with ignore paths the fingerprint does not cover every value: then the frame is read
	 * whole, for its checksum */
	if ((rc = keep_shard(c, g->txn, j->kind, t->fi.shard_seq, &g->fd, &g->fd_seq, g->rel, sizeof g->rel)) ||
	    (rc = j->prof->n_ignore ? wn_frame_load_fd(c, g->fd, g->rel, &t->fi, &g->raw, &g->scratch)
	                            : wn_frame_load_upto(c, g->fd, g->rel, &t->fi, t->upto, &g->raw, &g->scratch, g->dctx)))
		return rc;
	const char *cur = g->raw.p, *end = g->raw.p + g->raw.len;
	uint32_t cur_n = 0;
	for (size_t k = t->k0; k < t->k1; k++) {
		wanted *w = &j->w[k];
		const char *line;
		size_t len;
		uint32_t nth = (uint32_t)(w->ord - t->fi.first_ord);
		if (wn_frame_line(cur, (size_t)(end - cur), nth - cur_n, &line, &len))
			return wn_frame_damaged(c, g->rel, &t->fi, "record %llu (line %u of the frame) is not there",
				(unsigned long long)w->ord, nth + 1);
		cur = line;
		cur_n = nth;
		wn_jresult jr;
		if (wn_json_record(g->json, line, len, &jr))
			return wn_frame_damaged(c, g->rel, &t->fi, "record %llu (line %u of the frame) does not parse: %s",
				(unsigned long long)w->ord, nth + 1, jr.err);
		if (memcmp(jr.fp, w->fp, 16))
			return wn_frame_damaged(c, g->rel, &t->fi,
				"record %llu (line %u of the frame) is not the one the index holds: its fingerprint differs",
				(unsigned long long)w->ord, nth + 1);
		/* the index is keyed by a hash of the id: the intact record of another id whose
		 * hash is the same means that this id is not in the catalog */
		wn_keys key;
		char idbuf[WN_ID_BUF];
		size_t i = w->i;
		if (wn_record_keys(&jr, j->prof, &key, idbuf, NULL, 0) || key.id_len != j->lens[i] ||
		    memcmp(key.id, j->ids[i], j->lens[i]))
			continue;
		if (!(w->rec = malloc(len ? len : 1)))
			return WN_E_NOMEM;
		memcpy(w->rec, line, len);
		w->len = len;
	}
	return 0;
}

/* Take tasks in order until none is left or one before them has failed. A worker that
 * could not be set up fails the first task it would have taken. */
static void take_tasks(getter *g)
{
	getjob *j = g->j;
	for (;;) {
		pthread_mutex_lock(&j->mu);
		size_t k = j->next;
		int stop = k >= j->nt || k > j->first_bad;
		if (!stop)
			j->next++;
		pthread_mutex_unlock(&j->mu);
		if (stop)
			break;
		frame_task *t = &j->t[k];
		if ((t->rc = g->rc ? g->rc : take_frame(g, t))) {
			t->err = strdup(g->c.err);
			pthread_mutex_lock(&j->mu);
			if (k < j->first_bad)
				j->first_bad = k;
			pthread_mutex_unlock(&j->mu);
			if (g->rc)
				break;
		}
	}
	if (g->fd >= 0) {
		close(g->fd);
		g->fd = -1;
	}
}

typedef struct get_runner {
	wn_task task;
	getjob *j;
} get_runner;

static void get_run(wn_task *task, void *worker)
{
	getter *g = worker;
	if (g)
		take_tasks(g);
	else {   /* no state for this thread: the next task fails for want of memory */
		getjob *j = ((get_runner *)task)->j;
		pthread_mutex_lock(&j->mu);
		if (j->next < j->nt) {
			frame_task *t = &j->t[j->next++];
			t->rc = WN_E_NOMEM;
			if (j->next - 1 < j->first_bad)
				j->first_bad = j->next - 1;
		}
		pthread_mutex_unlock(&j->mu);
	}
}

/* Read the frames of tasks t[0..nt): on the calling thread when there is one, else on the
 * library's pool with a thread per core (8 at most), decoding being what a large get
 * costs. The outcome is that of a reading in order: the first task that failed, by its
 * own words. */
static int take_frames(getjob *j)
{
	enum { MAX_GETTERS = 8 };
	int n = wn_ncores();
	if ((size_t)n > j->nt)
		n = (int)j->nt;
	if (n > MAX_GETTERS)
		n = MAX_GETTERS;
	j->next = 0;
	j->first_bad = SIZE_MAX;
	pthread_mutex_init(&j->mu, NULL);
	int rc = 0;
	if (n <= 1) {
		getter *g = getter_new(j, 0);
		if (!g)
			rc = WN_E_NOMEM;
		else
			take_tasks(g);
		getter_free(g);
	} else {
		MDB_txn *txn = j->txn;
		j->txn = NULL;   /* the pool's threads take their own snapshots */
		wn_pool *pool;
		wn_pool_opts po = { .threads = n, .name = "winnow-get", .worker_new = getter_new, .worker_free = getter_free,
			.ud = j };
		get_runner r[MAX_GETTERS];
		if (!(rc = wn_pool_new(&po, &pool))) {
			for (int i = 0; i < n; i++) {
				r[i] = (get_runner){ .j = j };
				r[i].task.run = get_run;
				wn_pool_submit(pool, &r[i].task);
			}
			wn_pool_free(pool);
		}
		j->txn = txn;
	}
	pthread_mutex_destroy(&j->mu);
	if (!rc && j->first_bad < j->nt) {
		frame_task *t = &j->t[j->first_bad];
		rc = t->rc;
		if (t->err)
			snprintf(j->c->err, sizeof j->c->err, "%s", t->err);
		else
			wn_seterr(j->c, rc, "out of memory");
	}
	for (size_t k = 0; k < j->nt; k++)
		free(j->t[k].err);
	return rc;
}

int wn_get_many(wn_catalog *c, const char *kind_name, const char *const *ids, const size_t *lens, size_t n, wn_get_fn fn,
	void *ud)
{
	MDB_txn *txn;
	c->err[0] = 0;
	int kind = wn_catalog_kind(c, NULL, kind_name ? kind_name : "track", 0);
	if (kind < 0)
		return kind;
	wanted *w = calloc(n ? n : 1, sizeof *w);
	frame_task *t = NULL;
	size_t nw = 0, nt = 0;
	int rc = !w ? WN_E_NOMEM : mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
	if (rc) {
		free(w);
		return rc == WN_E_NOMEM ? rc : wn_lmdb_err(c, rc, "begin");
	}
	/* index lookups, then frames in ordinal order: each frame is read once */
	for (size_t i = 0; i < n && !rc; i++) {
		uint64_t hash;
		uint16_t check;
		wn_idrec r;
		wn_id_hash(ids[i], lens[i], &hash, &check);
		int f = wn_map_find_id(c, txn, kind, hash, check, &r);
		if (f < 0)
			rc = f;
		else if (f) {
			w[nw].i = i;
			w[nw].ord = r.ord;
			memcpy(w[nw].fp, r.fp, 16);
			nw++;
		}
	}
	if (!rc)
		qsort(w, nw, sizeof *w, cmp_want_ord);
	/* one task per frame: its wanted records, and how far into it they go */
	if (!rc && nw && !(t = calloc(nw, sizeof *t)))
		rc = WN_E_NOMEM;
	for (size_t k = 0; k < nw && !rc; k++) {
		if (nt && w[k].ord < t[nt - 1].fi.first_ord + t[nt - 1].fi.nrec) {
			t[nt - 1].k1 = k + 1;
			t[nt - 1].upto = (uint32_t)(w[k].ord - t[nt - 1].fi.first_ord);
			continue;
		}
		if ((rc = wn_record_locate(c, txn, kind, w[k].ord, &t[nt].fi)))
			break;
		t[nt].k0 = k;
		t[nt].k1 = k + 1;
		t[nt].upto = (uint32_t)(w[k].ord - t[nt].fi.first_ord);
		nt++;
	}
	if (!rc) {
		getjob j = { .c = c, .txn = txn, .kind = kind, .prof = wn_catalog_profile(c, kind), .ids = ids, .lens = lens,
			.w = w, .t = t, .nt = nt };
		rc = take_frames(&j);
	}
	free(t);
	/* answer in the caller's order */
	qsort(w, nw, sizeof *w, cmp_want_i);
	/* "not found" is an answer only if every shard is there: in a partial mirror the id
	 * may be in one that is not */
	for (size_t i = 0, k = 0; i < n && !rc; i++) {
		while (k < nw && w[k].i < i)
			k++;
		if (k < nw && w[k].i == i && w[k].rec)
			continue;
		char desc[300];
		int na = wn_shards_absent(c, txn, kind, desc, sizeof desc);
		if (na < 0)
			rc = na;
		else if (na)
			rc = wn_seterr(c, WN_E_MISSING, "%s id \"%.*s\" is not in the shards that are here, and %s%s",
				wn_catalog_kind_name(c, kind), (int)(lens[i] > 200 ? 200 : lens[i]), ids[i], desc,
				na > 1 ? " (and more shards are missing)" : "");
		break;
	}
	mdb_txn_abort(txn);
	size_t k = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		while (k < nw && w[k].i < i)
			k++;
		if (k < nw && w[k].i == i && w[k].rec)
			rc = fn(i, w[k].rec, w[k].len, ud);
		else
			rc = fn(i, NULL, 0, ud);
	}
	for (size_t j = 0; j < nw; j++)
		free(w[j].rec);
	free(w);
	return rc;
}

typedef struct one {
	wn_emit_fn emit;
	void *ud;
	int found;
} one;

static int one_fn(size_t i, const char *rec, size_t len, void *ud)
{
	one *o = ud;
	if (!rec)
		return 0;
	o->found = 1;
	return o->emit(rec, len, o->ud);
}

int wn_get(wn_catalog *c, const char *kind, const char *id, size_t idlen, wn_emit_fn emit, void *ud)
{
	one o = { emit, ud, 0 };
	int rc = wn_get_many(c, kind, &id, &idlen, 1, one_fn, &o);
	if (!rc && !o.found)
		rc = wn_seterr(c, WN_E_NOTFOUND, "no %s with id \"%.*s\"", kind ? kind : "track", (int)(idlen > 200 ? 200 : idlen),
			id);
	return rc;
}

typedef struct ordvec {
	uint64_t *v;
	size_t n, cap;
} ordvec;

static int collect_ord(uint64_t ord, void *ud)
{
	ordvec *o = ud;
	if (WN_GROW(o->v, o->n, o->cap, 16))
		return WN_E_NOMEM;
	o->v[o->n++] = ord;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int wn_get_isrc(wn_catalog *c, const char *kind_name, const char *isrc, size_t ilen, wn_emit_fn emit, void *ud)
{
	const char *kn = kind_name ? kind_name : "track";
	int kind = wn_catalog_kind(c, NULL, kn, 0);
	if (kind < 0)
		return kind;
	fetcher f = { .c = c, .kind = kind };
	ordvec ords = { 0 };
	char want[WN_MAX_ISRC], got[WN_MAX_ISRC];
	c->err[0] = 0;
	if (ilen > sizeof want)
		return wn_seterr(c, WN_E_NOTFOUND, "no %s with ISRC \"%.*s\"", kn, WN_MAX_ISRC, isrc);
	size_t wl = wn_isrc_norm(want, isrc, ilen);
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &f.txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	f.json = wn_json_new();
	if (!f.json) {
		rc = WN_E_NOMEM;
		goto out;
	}
	if ((rc = wn_map_pairs(c, f.txn, kind, WN_MAP_ISRC, wn_isrc_hash(isrc, ilen), collect_ord, &ords)))
		goto out;
	qsort(ords.v, ords.n, sizeof *ords.v, cmp_u64);
	if ((rc = wn_record_parser(f.json, wn_catalog_profile(c, kind), 0)))
		goto out;
	size_t found = 0;
	for (size_t i = 0; i < ords.n; i++) {
		if (i && ords.v[i] == ords.v[i - 1])
			continue;
		int sup = wn_is_superseded(c, f.txn, kind, ords.v[i]);
		if (sup < 0) {
			rc = sup;
			goto out;
		}
		if (sup)
			continue;
		const char *line;
		size_t len;
		if ((rc = fetch(&f, ords.v[i], &line, &len)))
			goto out;
		wn_jresult jr;
		if (wn_json_record(f.json, line, len, &jr))
			continue;
		wn_isrcs is;
		int match = 0;
		wn_record_isrcs(&jr, &is);
		for (int j = 0; j < is.n && !match; j++)
			match = is.len[j] <= sizeof got && wn_isrc_norm(got, is.p[j], is.len[j]) == wl && !memcmp(got, want, wl);
		if (!match)
			continue;
		found++;
		if ((rc = emit(line, len, ud)))
			goto out;
	}
	if (!found)
		rc = wn_seterr(c, WN_E_NOTFOUND, "no %s with ISRC \"%.*s\"", kn, (int)ilen, isrc);
out:
	free(ords.v);
	wn_json_free(f.json);
	wn_buf_free(&f.raw);
	wn_buf_free(&f.scratch);
	mdb_txn_abort(f.txn);
	return rc;
}

/* ---- stats ---- */

static uint64_t db_pages(MDB_txn *txn, MDB_dbi dbi)
{
	MDB_stat st;
	if (mdb_stat(txn, dbi, &st))
		return 0;
	return st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
}

int wn_catalog_stats(wn_catalog *c, wn_stats *out)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	memset(out, 0, sizeof *out);
	c->err[0] = 0;
	out->format_version = WN_FORMAT_VERSION;
	out->fingerprint_version = WN_FP_VERSION;
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	MDB_val g;
	if (!(rc = wn_meta_get(c, txn, "generation", &g)) && g.mv_size == 8)
		out->generation = wn_get_be64(g.mv_data);
	if (rc == WN_E_CORRUPT)
		goto out;
	out->nkinds = c->kinds.n;
	for (int kd = 0; kd < c->kinds.n; kd++) {
		wn_kstate ks;
		wn_kind_stats *s = &out->kind[kd];
		strcpy(s->name, c->kinds.name[kd]);
		if ((rc = wn_meta_get_kstate(c, txn, kd, &ks)))
			goto out;
		s->records = ks.kept;
#define WN_X(n) s->n = ks.n;
		WN_OUTCOMES(WN_X)
#undef WN_X
		s->forgotten = ks.forgotten;
		s->ledger_entries = ks.ledger_entries;
		s->reject_entries = ks.reject_entries;
		uint64_t runs;
		if ((rc = wn_map_count(c, txn, kd, WN_MAP_ID, &s->id_entries, &runs)))
			goto out;
		s->runs = runs;
		if ((rc = wn_map_count(c, txn, kd, WN_MAP_FP, &s->fp_entries, &runs)))
			goto out;
		s->runs += runs;
		if ((rc = wn_map_count(c, txn, kd, WN_MAP_ISRC, &s->isrc_entries, &runs)))
			goto out;
		s->runs += runs;
	}
	if ((rc = mdb_cursor_open(txn, c->db_files, &cur))) {
		rc = wn_lmdb_err(c, rc, "files");
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		wn_fileinfo f;
		if ((rc = wn_file_row(c, &k, &v, &f))) {
			mdb_cursor_close(cur);
			goto out;
		}
		uint64_t bytes = f.sealed ? f.size : f.data_len;
		if (f.role == WN_ROLE_SHARD) {
			wn_kind_stats *s = &out->kind[f.kind];
			s->shards++;
			s->frames += f.nframes;
			s->raw_bytes += f.raw_bytes;
			s->stored_bytes += bytes;
		} else if (f.role == WN_ROLE_LEDGER) {
			out->ledger_bytes += bytes;
		} else if (f.role == WN_ROLE_REJECT) {
			out->reject_bytes += bytes;
		}
	}
	mdb_cursor_close(cur);
	rc = 0;
	/* index size: the file, and the pages the databases use */
	struct stat st;
	int ifd;
	if (!mdb_env_get_fd(c->env, &ifd) && !fstat(ifd, &st))
		out->index_file_bytes = (uint64_t)st.st_size;
	MDB_stat est;
	mdb_env_stat(c->env, &est);
	uint64_t pages = 2 + db_pages(txn, 0) + db_pages(txn, c->db_meta) + db_pages(txn, c->db_files);
	for (int kd = 0; kd < c->kinds.n; kd++) {
		pages += db_pages(txn, c->db_frames[kd]) + db_pages(txn, c->db_super[kd]);
		for (int m = 0; m < WN_NMAPS; m++)
			pages += db_pages(txn, c->db_map[kd][m]);
	}
	out->index_used_bytes = pages * est.ms_psize;
out:
	mdb_txn_abort(txn);
	return rc;
}

/* ---- the ISRCs on most tracks ---- */

typedef struct topn {
	uint64_t *hash, *count;
	size_t n, limit;
	uint64_t cur_hash, cur_count;
	MDB_txn *txn;
	wn_catalog *c;
} topn;

static void top_push(topn *t)
{
	size_t i = t->n;
	if (t->n < t->limit)
		t->n++;
	else if (t->count[t->n - 1] >= t->cur_count)
		return;
	else
		i = t->n - 1;
	while (i > 0 && t->count[i - 1] < t->cur_count) {
		t->hash[i] = t->hash[i - 1];
		t->count[i] = t->count[i - 1];
		i--;
	}
	t->hash[i] = t->cur_hash;
	t->count[i] = t->cur_count;
}

static int top_fn(const uint8_t *e, void *ud)
{
	topn *t = ud;
	uint64_t h = wn_get_be64(e), ord = wn_get_be40(e + 8);
	int sup = wn_is_superseded(t->c, t->txn, WN_KIND_TRACK, ord);
	if (sup < 0)
		return sup;
	if (sup)
		return 0;
	if (h != t->cur_hash || !t->cur_count) {
		if (t->cur_count)
			top_push(t);
		t->cur_hash = h;
		t->cur_count = 0;
	}
	t->cur_count++;
	return 0;
}

typedef struct first_isrc {
	wn_buf *out;
	fetcher *f;
} first_isrc;

int wn_top_isrcs(wn_catalog *c, size_t limit, int (*fn)(const char *isrc, size_t len, uint64_t count, void *ud), void *ud)
{
	topn t = { .limit = limit, .c = c };
	fetcher f = { .c = c, .kind = WN_KIND_TRACK };
	ordvec ords = { 0 };
	c->err[0] = 0;
	if (!limit)
		return 0;
	t.hash = calloc(limit, 8);
	t.count = calloc(limit, 8);
	f.json = wn_json_new();
	if (!t.hash || !t.count || !f.json) {
		free(t.hash);
		free(t.count);
		wn_json_free(f.json);
		return WN_E_NOMEM;
	}
	int rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &t.txn);
	if (rc) {
		rc = wn_lmdb_err(c, rc, "begin");
		goto out0;
	}
	f.txn = t.txn;
	rc = wn_map_merged_scan(c, t.txn, WN_KIND_TRACK, WN_MAP_ISRC, top_fn, &t);
	if (!rc && t.cur_count)
		top_push(&t);
	if (!rc)
		rc = wn_record_parser(f.json, wn_catalog_profile(c, WN_KIND_TRACK), 0);
	for (size_t i = 0; i < t.n && !rc; i++) {
		ords.n = 0;
		if ((rc = wn_map_pairs(c, t.txn, WN_KIND_TRACK, WN_MAP_ISRC, t.hash[i], collect_ord, &ords)))
			break;
		if (!ords.n)
			continue;
		qsort(ords.v, ords.n, sizeof *ords.v, cmp_u64);
		const char *line;
		size_t len;
		if ((rc = fetch(&f, ords.v[0], &line, &len)))
			break;
		wn_jresult jr;
		if (wn_json_record(f.json, line, len, &jr))
			continue;
		/* the text of the ISRC the count is of (a record may carry several) */
		wn_isrcs is;
		int j = 0;
		wn_record_isrcs(&jr, &is);
		while (j < is.n && wn_isrc_hash(is.p[j], is.len[j]) != t.hash[i])
			j++;
		rc = fn(j < is.n ? is.p[j] : "", j < is.n ? is.len[j] : 0, t.count[i], ud);
	}
	mdb_txn_abort(t.txn);
out0:
	free(ords.v);
	free(t.hash);
	free(t.count);
	wn_json_free(f.json);
	wn_buf_free(&f.raw);
	wn_buf_free(&f.scratch);
	return rc;
}
