/*
 * verify.c - proving a catalog whole, or finding exactly what is broken in it, for
 * receivers who got it by torrent, partial mirror, tape or years on disk: the call
 * (wn_verify), the plan of a check, and its tasks run on the worker pool (pool.c).
 *
 * Fast mode reads every data file once, in parallel across files, and compares its size
 * and XXH3-128 (and its SHA-256 when SHA256SUMS exists) with MANIFEST, MANIFEST.json and,
 * for a catalog, the index's file rows; it lists the role folders to find files nobody
 * listed (verify_files.c). Deep mode adds, per frame and in parallel across frames:
 * decoding, the seek table checked against the frames, records counted, and, for a
 * catalog, every shard record's fingerprint recomputed (verify_frames.c). The index is
 * then cross-checked both ways with one sequential pass over each map (verify_index.c),
 * once the shard frames are decoded; those passes need nothing of the ledger's and
 * rejects' frames, so they share the pool with them, which keeps every thread busy to
 * the end. The ledger and the counters must add up (verify_counts.c).
 *
 * Everything found is a located problem (kind, file, frame, byte range, record, id,
 * detail) handed to the caller's callback from the calling thread at the end, sorted by
 * place (verify_report.c). Damage is not an error: wn_verify returns 0 once the checks
 * ran. The library never prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "pool.h"
#include "verify.h"

/* ---- the workers ----
 * The threads are the library's one pool (pool.c); verify's workers keep their state
 * in ws[i] (made before the pool, so that a failure is reported), handed to pool thread
 * i. One runner task per thread takes verify's tasks in list order from a shared index,
 * so the largest files still go first and a thread never waits while tasks are left. */

typedef struct vrunner {
	wn_task task;
	vctx *x;
} vrunner;

static void *worker_state(void *ud, int i)
{
	return (vworker *)ud + i;
}

static void runner(wn_task *task, void *state)
{
	vworker *w = state;
	vctx *x = ((vrunner *)task)->x;
	for (;;) {
		if (cancelled(x))
			break;
		size_t i = atomic_fetch_add(&x->next, 1);
		if (i >= x->ntask)
			break;
		vtask *t = &x->task[i];
		if (t->f && t->frame < 0)
			wn_vtask_hash(w, t->f);
		else if (t->f)
			wn_vtask_frame(w, t->f, (uint32_t)t->frame);
		else
			wn_vtask_scan(w, (int)(-t->frame - 1) / 3, (int)(-t->frame - 1) % 3);
	}
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
		w->fd_file = NULL;
	}
}

static void report_progress(vctx *x)
{
	if (!x->o->progress)
		return;
	wn_verify_progress p = { atomic_load(&x->bytes_done), x->total_bytes, atomic_load(&x->recs_done),
		wn_now() - x->t0, x->stage };
	x->o->progress(&p, x->o->progress_ud);
}

/* Run the task list on the pool's n threads; the calling thread reports progress
 * meanwhile. */
static int run_pool(vctx *x, wn_pool *pool, int n)
{
	vrunner r[256];
	if (!x->ntask)
		return 0;
	if ((size_t)n > x->ntask)
		n = (int)x->ntask;
	atomic_store(&x->next, 0);
	for (int i = 0; i < n; i++) {
		r[i] = (vrunner){ .x = x };
		r[i].task.run = runner;
		wn_pool_submit(pool, &r[i].task);
	}
	double last = 0;
	/* wake at the end, or every 50 ms to report progress and watch *cancel */
	while (!wn_pool_idle(pool, 0.05)) {
		cancelled(x);
		double t = wn_now();
		if (t - last >= 0.25) {
			report_progress(x);
			last = t;
		}
	}
	report_progress(x);
	return 0;
}

/* ---- the call ---- */

void wn_verify_opts_init(wn_verify_opts *o)
{
	memset(o, 0, sizeof *o);
	o->max_per_kind = 20;
}

static char *join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

static int add_task(vctx *x, size_t *cap, vfile *f, int64_t frame)
{
	if (x->ntask == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		vtask *t = realloc(x->task, c * sizeof *t);
		if (!t)
			return WN_E_NOMEM;
		x->task = t;
		*cap = c;
	}
	x->task[x->ntask++] = (vtask){ f, frame };
	return 0;
}

static int cmp_task_size(const void *a, const void *b)
{
	const vtask *p = a, *q = b;
	return p->f->size > q->f->size ? -1 : p->f->size < q->f->size;
}

static int verify_run(vctx *x, wn_pool *pool, vworker *ws, int nw)
{
	wn_catalog *c = x->c;
	const wn_verify_opts *o = x->o;
	wn_buf b = { 0 };
	int rc;
	if (c && (rc = wn_vload_index(x)))
		return rc;
	x->writer_active = wn_vwriter_active(x);
	if (x->writer_active)
		wn_vprob(x, PK_NOTE, &NOLOC, "an ingest is writing to the catalog: it is checked as of its last checkpoint");
	/* the manifests */
	int e = wn_vread_text(x->manifest, &b);
	if (e && !c) {
		wn_buf_free(&b);
		return wn_vfail(x, e == ENOENT ? WN_E_NOTFOUND : e > 0 ? e : WN_E_CORRUPT, "%s: %s", x->manifest, wn_open_why(e));
	}
	if (e)
		wn_vprob(x, PK_METADATA, &NOLOC, "MANIFEST: %s", wn_open_why(e));
	else if ((rc = wn_vload_sumfile(x, &b, 0))) {
		wn_buf_free(&b);
		return wn_vfail(x, rc, "out of memory");
	}
	char *sums = join(x->mdir, "SHA256SUMS");
	if (!sums) {
		wn_buf_free(&b);
		return wn_vfail(x, WN_E_NOMEM, "out of memory");
	}
	e = wn_vread_text(sums, &b);
	free(sums);
	if (!e) {
		x->have_sums = 1;
		x->res->sha256_checked = 1;
		if ((rc = wn_vload_sumfile(x, &b, 1))) {
			wn_buf_free(&b);
			return wn_vfail(x, rc, "out of memory");
		}
	} else if (e != ENOENT || (c && c->digest)) {
		wn_vprob(x, PK_METADATA, &NOLOC, "SHA256SUMS: %s%s", wn_open_why(e),
			e == ENOENT ? " (the catalog keeps one: ingest --digest sha256)" : "");
	}
	wn_buf_free(&b);
	if ((rc = wn_vload_manifests_json(x)))
		return wn_vfail(x, rc, "out of memory");
	if (c) {
		x->stale = x->writer_active || x->pending || (x->cj_have_gen && x->cj_gen != x->generation) ||
			(x->mj_have_gen && x->mj_gen != x->generation);
		for (size_t i = 0; i < x->nf; i++)
			x->stale |= x->f[i]->have_row && !x->f[i]->row.sealed;
	}
	if ((rc = wn_vscan_extras(x)) || (rc = wn_vplan_files(x)))
		return wn_vfail(x, rc, "out of memory");
	/* what to read */
	size_t cap = 0;
	x->ntask = 0;
	for (size_t i = 0; i < x->nf; i++) {
		vfile *f = x->f[i];
		if (!f->want_hash)
			continue;
		if ((rc = add_task(x, &cap, f, -1)))
			return wn_vfail(x, rc, "out of memory");
		x->total_bytes += f->size;
	}
	size_t nlater = 0;
	if (x->deep) {
		for (size_t i = 0; i < x->nf; i++)
			if (x->f[i]->checked && (rc = wn_vplan_frames(x, x->f[i])))
				return wn_vfail(x, rc, "out of memory");
		if (c && (rc = wn_valloc_kinds(x)))
			return rc;
		if ((rc = wn_vset_ord0(x)))
			return wn_vfail(x, rc, "out of memory");
		/* the shard frames first; a catalog's other frames wait for the index scans */
		for (int phase = 0; phase < 2; phase++)
			for (size_t i = 0; i < x->nf; i++) {
				vfile *f = x->f[i];
				if (phase != (c && !keyed_records(f)))
					continue;
				for (uint32_t j = 0; f->frames_known && j < f->nfr; j++) {
					if ((rc = add_task(x, &cap, f, j)))
						return wn_vfail(x, rc, "out of memory");
					x->total_bytes += f->fr[j].csize;
					nlater += phase;
				}
			}
	}
	/* the biggest files first, so that the threads finish together */
	size_t nhash = 0;
	while (nhash < x->ntask && x->task[nhash].frame < 0)
		nhash++;
	if (nhash > 1)
		qsort(x->task, nhash, sizeof *x->task, cmp_task_size);
	vtask *later = NULL;
	if (nlater) {
		/* kept aside, to run beside the index scans */
		if (!(later = malloc(nlater * sizeof *later)))
			return wn_vfail(x, WN_E_NOMEM, "out of memory");
		x->ntask -= nlater;
		memcpy(later, x->task + x->ntask, nlater * sizeof *later);
	}
	x->stage = x->deep ? "frames" : "files";
	rc = run_pool(x, pool, nw);
	if (!rc && !x->fatal && cancelled(x))
		rc = wn_vfail(x, WN_E_INTERRUPTED, "interrupted");
	if (rc || x->fatal) {
		free(later);
		return x->fatal ? x->fatal : rc;
	}
	for (size_t i = 0; i < x->nf; i++)
		wn_vcheck_file(x, x->f[i]);
	for (size_t i = 0; x->deep && i < x->nf; i++)
		if (!c || keyed_records(x->f[i]))
			wn_vcheck_file_frames(x, x->f[i]);
	/* the index against the records: the scans of the maps, on the pool beside the
	 * ledger's and rejects' frames, which they do not depend on */
	if (x->deep && c) {
		x->ntask = 0;
		for (int kd = 0; kd < x->kinds.n && !rc; kd++) {
			if ((rc = wn_vplace_kind(x, kd)) || !x->k[kd].nspan)
				continue;
			for (int m = 0; m < 3 && !rc; m++)
				rc = add_task(x, &cap, NULL, -(int64_t)(kd * 3 + m) - 1);
		}
		for (size_t i = 0; i < nlater && !rc; i++)
			rc = add_task(x, &cap, later[i].f, later[i].frame);
		free(later);
		if (rc)
			return x->fatal ? x->fatal : wn_vfail(x, rc, "out of memory");
		if ((rc = run_pool(x, pool, nw)) || x->fatal)
			return x->fatal ? x->fatal : rc;
		if (cancelled(x))
			return wn_vfail(x, WN_E_INTERRUPTED, "interrupted");
		for (size_t i = 0; i < x->nf; i++)
			if (!keyed_records(x->f[i]))
				wn_vcheck_file_frames(x, x->f[i]);
		x->stage = "index";
		for (int i = 0; i < x->kinds.n * 3; i++)
			if (x->scan_redo[i] && (rc = wn_vscan_map(x, c, x->txn, i / 3, i % 3)))
				return wn_vfail(x, rc, "%s", c->err);
		if (cancelled(x))
			return wn_vfail(x, WN_E_INTERRUPTED, "interrupted");
		for (int kd = 0; kd < x->kinds.n; kd++)
			if (x->k[kd].nspan)
				wn_vcheck_index_kind(x, &ws[nw], kd);
	}
	wn_vcheck_counters(x);
	/* the stored clusters (derived data beside the index): their checksum and sizes */
	for (int kd = 0; c && kd < (int)c->kinds.n; kd++) {
		uint64_t n = 0;
		int crc = wn_cluster_check(c, kd, &n);
		if (crc == WN_E_CORRUPT)
			wn_vprob(x, PK_CHECKSUM, &NOLOC, "%s", c->err);
		else if (crc == WN_E_STALE)
			wn_vprob(x, PK_NOTE, &NOLOC, "%s", c->err);
		else if (crc && crc != ENOENT)
			return wn_vfail(x, crc, "%s", c->err);
		c->err[0] = 0;
	}
	if (x->res->files_skipped)
		wn_vprob(x, PK_NOTE, &NOLOC, "%llu listed file%s (%llu bytes) not checked (%s)",
			(unsigned long long)x->res->files_skipped, x->res->files_skipped == 1 ? "" : "s",
			(unsigned long long)x->res->bytes_skipped,
			o->ignore_missing && o->n_only ? "missing, or not selected" : o->ignore_missing ? "missing" : "not selected");
	/* what was not shown */
	unsigned max = o->max_per_kind;
	for (size_t i = 0; max && i <= x->nf; i++) {
		vfile *f = i < x->nf ? x->f[i] : NULL;
		for (int k = 0; k < PK_N; k++) {
			unsigned n = *wn_vprob_counter(x, k, f);
			if (n > max) {
				vloc l = f ? at_file(f) : NOLOC;
				wn_vprob_force(x, PK_NOTE, &l, "%u more %s problems%s not shown", n - max, wn_vpk_name[k], f ? " in this file" : "");
			}
		}
	}
	return 0;
}

int wn_verify(wn_catalog *c, const wn_verify_opts *o, wn_verify_result *res)
{
	wn_verify_result dummy;
	if (!res)
		res = &dummy;
	memset(res, 0, sizeof *res);
	if (!o || (!c && (!o->dir || !*o->dir))) {
		snprintf(res->err, sizeof res->err, "verify: no catalog and no folder given");
		return c ? wn_seterr(c, WN_E_USAGE, "%s", res->err) : WN_E_USAGE;
	}
	vctx *x = calloc(1, sizeof *x);
	if (!x)
		return WN_E_NOMEM;
	if (c)
		c->err[0] = 0;
	x->c = c;
	x->o = o;
	x->res = res;
	x->t0 = wn_now();
	x->dirfd = -1;
	x->deep = o->deep != 0;
	x->interrupted = -1;
	if (c)
		x->kinds = c->kinds;
	else
		wn_kinds_init(&x->kinds);
	x->mkinds = x->kinds;
	pthread_mutex_init(&x->mu, NULL);
	int nw = o->threads > 0 ? o->threads : wn_ncores();
	if (nw > 256)
		nw = 256;
	vworker *ws = calloc((size_t)nw + 1, sizeof *ws);
	wn_pool *pool = NULL;
	int rc = 0;
	const char *d = c ? c->dir : o->dir;
	x->dir = strdup(d);
	if (x->dir) {
		size_t dl = strlen(x->dir);
		while (dl > 1 && x->dir[dl - 1] == '/')
			x->dir[--dl] = 0;
	}
	x->manifest = c || !o->manifest ? (x->dir ? join(x->dir, "MANIFEST") : NULL) : strdup(o->manifest);
	if (x->manifest) {
		x->mdir = strdup(x->manifest);
		char *sl = x->mdir ? strrchr(x->mdir, '/') : NULL;
		if (sl && sl != x->mdir)
			*sl = 0;
		else if (sl)
			sl[1] = 0;
		else if (x->mdir) {
			free(x->mdir);
			x->mdir = strdup(".");
		}
	}
	if (!ws || !x->dir || !x->manifest || !x->mdir) {
		rc = wn_vfail(x, WN_E_NOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i <= nw; i++)
		if ((rc = wn_vworker_init(x, &ws[i]))) {
			wn_vfail(x, rc, "out of memory");
			goto out;
		}
	wn_pool_opts po = { .threads = nw, .name = "winnow-verify", .worker_new = worker_state, .ud = ws };
	if ((rc = wn_pool_new(&po, &pool))) {
		wn_vfail(x, rc, "cannot start a thread");
		goto out;
	}
	x->dirfd = open(x->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x->dirfd < 0) {
		rc = wn_vfail(x, errno == ENOENT ? WN_E_NOTFOUND : errno, "%s: %s", x->dir, strerror(errno));
		goto out;
	}
	rc = verify_run(x, pool, ws, nw);
	if (!rc && x->fatal)
		rc = x->fatal;
	if (!rc) {
		if (x->npr)
			qsort(x->pr, x->npr, sizeof *x->pr, wn_vcmp_prob);
		for (size_t i = 0; i < x->npr && o->problem; i++) {
			vprob *p = &x->pr[i];
			wn_problem w = { wn_vpk_name[p->kind], p->f ? p->f->path : NULL, p->frame, p->offset, p->length, p->record,
				p->id, p->idlen, p->detail };
			o->problem(&w, o->problem_ud);
		}
	}
out:
	res->problems = x->problems;
	res->notes = x->notes;
	res->records_checked = atomic_load(&x->recs_done);
	res->seconds = wn_now() - x->t0;
	if (rc) {
		snprintf(res->err, sizeof res->err, "%s", x->fatal_msg[0] ? x->fatal_msg : wn_strerror(rc));
		if (c)
			wn_seterr(c, rc, "%s", res->err);
	}
	wn_pool_free(pool);
	if (x->txn)
		mdb_txn_abort(x->txn);
	for (int i = 0; ws && i <= nw; i++)
		wn_vworker_free(&ws[i]);
	free(ws);
	for (size_t i = 0; i < x->npr; i++) {
		free(x->pr[i].detail);
		free(x->pr[i].id);
	}
	free(x->pr);
	for (size_t i = 0; i < x->nf; i++)
		wn_vfile_free(x->f[i]);
	free(x->f);
	free(x->ht);
	wn_vprob_free_shown(x->shown_nofile);
	for (int kd = 0; kd < WN_KINDS_MAX; kd++) {
		vkind *K = &x->k[kd];
		size_t n = K->n ? K->n : 1;
		if (K->o)
			wn_big_free(K->o, n * sizeof *K->o);
		free(K->span);
		free(K->rows);
		free(K->rowkey);
		free(K->rowused);
		free(K->sus);
		free(K->xfp);
	}
	free(x->task);
	if (x->dirfd >= 0)
		close(x->dirfd);
	free(x->dir);
	free(x->manifest);
	free(x->mdir);
	pthread_mutex_destroy(&x->mu);
	free(x);
	return rc;
}
