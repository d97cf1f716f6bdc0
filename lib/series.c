/*
 * series.c - append-only series of seekable zstd files (shards, ledger, rejects), as
 * doc/FORMAT.md calls them, and the compression of their frames.
 *
 * The ingesting thread fills a frame buffer with whole records ('\n' after each) and
 * hands it to the pool when the next record would pass frame_bytes; worker threads
 * compress frames in any order; finished frames are written strictly in submission
 * order, so a file is always a prefix of what was submitted (shards by a writer thread
 * of their own, which also hashes them: copying a gigabyte into the page cache costs
 * seconds the ingesting thread does not have; the ledger and rejects by that thread).
 * Each series owns a small ring of frame jobs, which bounds memory whatever the input
 * size. Frames are compressed on the library's pool (pool.c).
 *
 * Durability: wn_series_sync() writes every submitted frame and fsyncs the file; only
 * then does the caller commit the index transaction that records the new length
 * (wn_series_commit). A file is sealed (seek table appended, fsynced, XXH128 taken, and its
 * SHA-256 when the catalog keeps SHA256SUMS) when it reaches file_bytes of records or at
 * the end of a run; sealed files never change.
 */
#include "internal.h"
#include "series.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/types.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <xxhash.h>

/* ---- compressing frames on the pool (pool.c) ---- */

#define WORKER_NICE 10   /* niceness of the compressing threads (relative to 0) */

/* Each compressing thread's zstd context, made on that thread. */
static void *cctx_new(void *ud, int i)
{
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	if (cctx) {
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, *(const int *)ud);
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
	}
	return cctx;
}

static void cctx_free(void *w)
{
	ZSTD_freeCCtx(w);
}

/* A frame job's task: compress raw into comp (on a pool thread). */
void wn_series_compress_job(wn_task *t, void *worker)
{
	wn_job *j = (wn_job *)t;
	ZSTD_CCtx *cctx = worker;
	size_t bound = ZSTD_compressBound(j->raw_len);
	int err = 0;
	if (j->comp_cap < bound) {
		char *c = realloc(j->comp, bound);
		if (c) {
			j->comp = c;
			j->comp_cap = bound;
		} else {
			err = WN_E_NOMEM;
		}
	}
	if (!err && !cctx)
		err = WN_E_NOMEM;
	if (!err) {
		size_t r = ZSTD_compress2(cctx, j->comp, j->comp_cap, j->raw, j->raw_len);
		if (ZSTD_isError(r))
			err = WN_E_ZSTD;
		else
			j->comp_len = r;
	}
	/* the frame ends with its content checksum, the low 32 bits of XXH64 of raw,
	 * little-endian: the seek table's checksum, without hashing raw again */
	if (!err)
		j->checksum = j->comp_len >= 4 ? wn_get_le32((const uint8_t *)j->comp + j->comp_len - 4) : 0;
	j->err = err;
}

int wn_series_pool_new(int threads, const int *level, wn_pool **out)
{
	/* Below the ingesting thread, which is the pipeline's bottleneck: compression has
	 * slack (frames wait in the ring) and should take the cores when it does not run,
	 * rather than share them evenly with it. Worth ~5% of ingest time on two cores. */
	wn_pool_opts o = { .threads = threads, .nice = WORKER_NICE, .name = "winnow-zstd", .worker_new = cctx_new,
		.worker_free = cctx_free, .ud = (void *)level };
	return wn_pool_new(&o, out);
}

/* ---- series ---- */

static int series_err(wn_series *s, int e, const char *what)
{
	return wn_seterr(s->c, e, "%s/%s: %s: %s", s->c->dir, s->rel, what, e > 0 ? strerror(e) : wn_strerror(e));
}

/* The file's running hashes: XXH3-128 always, SHA-256 when the catalog keeps SHA256SUMS. */
static void hash_reset(wn_series *s)
{
	XXH3_128bits_reset(s->hs);
	if (s->sha)
		EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL);
}

static void hash_update(wn_series *s, const void *p, size_t n)
{
	XXH3_128bits_update(s->hs, p, n);
	if (s->sha)
		EVP_DigestUpdate(s->sha, p, n);
}

static wn_job *ring_at(wn_series *s, int i)
{
	return &s->jobs[(s->head + i) % s->njobs];
}

/* ---- the writer (shard series) ---- */

static void start_writeback(wn_series *s, int fd, uint64_t end)
{
	/* start writeback early so the fdatasync of the next checkpoint finds little to do
	 * (the kernel would otherwise wait for gigabytes of dirty pages) */
	if (end - s->synced_upto >= (8u << 20)) {
		sync_file_range(fd, (off_t)s->synced_upto, (off_t)(end - s->synced_upto), SYNC_FILE_RANGE_WRITE);
		s->synced_upto = end;
	}
}

static void *writer(void *arg)
{
	wn_series *s = arg;
	pthread_setname_np(pthread_self(), "winnow-write");
	pthread_mutex_lock(&s->wmu);
	for (;;) {
		while (!s->wq_n && !s->wstop)
			pthread_cond_wait(&s->wcv, &s->wmu);
		if (!s->wq_n)
			break;
		wn_witem it = s->wq[s->wq_head];
		int failed = s->werr;
		pthread_mutex_unlock(&s->wmu);
		int rc = 0;
		if (!failed && !(rc = wn_write_all(it.fd, it.j->comp, it.j->comp_len))) {
			hash_update(s, it.j->comp, it.j->comp_len);
			start_writeback(s, it.fd, it.end);
		}
		pthread_mutex_lock(&s->wmu);
		if (rc && !s->werr)
			s->werr = rc;
		it.j->writing = 0;
		s->wq_head = (s->wq_head + 1) % s->njobs;
		s->wq_n--;
		pthread_cond_broadcast(&s->wcv);
	}
	pthread_mutex_unlock(&s->wmu);
	return NULL;
}

/* Wait until the writer has written everything queued (or, with j, until j's frame is
 * written). Returns its error, if it had one. */
static int writer_wait(wn_series *s, wn_job *j)
{
	if (!s->wstarted)
		return 0;
	pthread_mutex_lock(&s->wmu);
	while (j ? j->writing : s->wq_n > 0)
		pthread_cond_wait(&s->wcv, &s->wmu);
	int e = s->werr;
	pthread_mutex_unlock(&s->wmu);
	return e ? series_err(s, e, "write") : 0;
}

/* Queue a finished frame for the writer; in the thread of the caller when there is none. */
static int writer_put(wn_series *s, wn_job *j, uint64_t end)
{
	if (!s->async) {
		int rc = wn_write_all(s->fd, j->comp, j->comp_len);
		if (rc)
			return series_err(s, rc, "write");
		hash_update(s, j->comp, j->comp_len);
		start_writeback(s, s->fd, end);
		return 0;
	}
	if (!s->wstarted) {
		if (!s->wq && !(s->wq = calloc((size_t)s->njobs, sizeof *s->wq)))
			return WN_E_NOMEM;
		if (pthread_create(&s->wth, NULL, writer, s))
			return series_err(s, EAGAIN, "start the writing thread");
		s->wstarted = 1;
	}
	pthread_mutex_lock(&s->wmu);
	int e = s->werr;
	if (!e) {
		/* never more items than jobs: a job is queued at most once */
		wn_witem *it = &s->wq[(s->wq_head + s->wq_n) % s->njobs];
		it->j = j;
		it->fd = s->fd;
		it->end = end;
		j->writing = 1;
		s->wq_n++;
		pthread_cond_broadcast(&s->wcv);
	}
	pthread_mutex_unlock(&s->wmu);
	return e ? series_err(s, e, "write") : 0;
}

/* Find the newest file of this series in the index: reopen it if unsealed. */
static int series_resume(wn_series *s, MDB_txn *txn)
{
	MDB_cursor *cur;
	MDB_val k, v;
	char prefix[64];
	wn_file_relpath(prefix, sizeof prefix, s->role, wn_catalog_kind_name(s->c, s->kind), 0);
	size_t pl = strlen(prefix) - strlen("000000.jsonl.zst");
	int rc = mdb_cursor_open(txn, s->c->db_files, &cur);
	if (rc)
		return wn_lmdb_err(s->c, rc, "files cursor");
	wn_fileinfo last = { 0 };
	int have = 0;
	k.mv_size = pl;
	k.mv_data = prefix;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < pl || memcmp(k.mv_data, prefix, pl))
			break;
		wn_fileinfo f;
		if ((rc = wn_file_row(s->c, &k, &v, &f)))
			break;
		if (f.role == s->role && f.kind == s->kind && f.seq >= last.seq) {
			last = f;
			have = 1;
		}
	}
	mdb_cursor_close(cur);
	if (rc == WN_E_CORRUPT)
		return rc;
	if (s->next_ord == WN_SERIES_AFTER)
		s->next_ord = have ? last.first_ord + last.nrecords : 0;
	s->fi.role = (uint8_t)s->role;
	s->fi.kind = (uint8_t)s->kind;
	s->fd = -1;
	if (!have || last.sealed) {
		s->fi.seq = have ? last.seq + 1 : 1;
		s->sub_seq = s->fi.seq;
		wn_file_relpath(s->rel, sizeof s->rel, s->role, wn_catalog_kind_name(s->c, s->kind), s->fi.seq);
		return 0;
	}
	/* an unsealed file: an earlier run was interrupted; go on appending to it */
	s->fi = last;
	s->sub_seq = last.seq;
	s->sub_raw = last.raw_bytes;
	wn_file_relpath(s->rel, sizeof s->rel, s->role, wn_catalog_kind_name(s->c, s->kind), s->fi.seq);
	char key[160];
	snprintf(key, sizeof key, "open:%s", s->rel);
	rc = wn_meta_get(s->c, txn, key, &v);
	if (rc)
		return rc == WN_E_NOTFOUND ? wn_seterr(s->c, WN_E_CORRUPT, "index: no frame list for open file %s", s->rel) : rc;
	if (v.mv_size != (size_t)last.nframes * WN_SEEK_ENTRY)
		return wn_seterr(s->c, WN_E_CORRUPT, "index: frame list of %s has %zu bytes for %u frames", s->rel, v.mv_size, last.nframes);
	s->capseek = last.nframes + 64;
	s->seek = malloc(s->capseek * sizeof *s->seek);
	if (!s->seek)
		return WN_E_NOMEM;
	for (uint32_t i = 0; i < last.nframes; i++) {
		const uint8_t *p = (const uint8_t *)v.mv_data + i * WN_SEEK_ENTRY;
		s->seek[i].csize = wn_get_be32(p);
		s->seek[i].dsize = wn_get_be32(p + 4);
		s->seek[i].checksum = wn_get_be32(p + 8);
	}
	s->nseek = last.nframes;
	if ((rc = wn_catalog_open_file(s->c, s->rel, O_RDWR, &s->fd)))
		return rc;
	/* the running hashes cover the committed bytes */
	hash_reset(s);
	char *buf = malloc(1 << 20);
	if (!buf)
		return WN_E_NOMEM;
	uint64_t off = 0;
	while (off < last.data_len) {
		size_t n = last.data_len - off < (1 << 20) ? (size_t)(last.data_len - off) : (1 << 20);
		if ((rc = wn_pread_all(s->fd, buf, n, off))) {
			free(buf);
			return series_err(s, rc, "read");
		}
		hash_update(s, buf, n);
		off += n;
	}
	free(buf);
	if (lseek(s->fd, (off_t)last.data_len, SEEK_SET) < 0)
		return series_err(s, errno, "seek");
	s->synced_upto = last.data_len;
	return 0;
}

/* A series of role and kind with its ring of njobs frames, hash states and no file open
 * (both openers): NULL when out of memory (nothing is left allocated). */
static wn_series *series_new(wn_catalog *c, int role, int kind, wn_pool *pool, int njobs, size_t frame_bytes,
	uint64_t file_bytes, uint64_t first_ord)
{
	wn_series *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->c = c;
	s->pool = pool;
	s->role = role;
	s->kind = kind;
	s->frame_bytes = frame_bytes;
	s->file_bytes = file_bytes;
	s->next_ord = first_ord;
	s->njobs = njobs < 2 ? 2 : njobs;
	s->jobs = calloc((size_t)s->njobs, sizeof *s->jobs);
	s->hs = XXH3_createState();
	s->fd = -1;
	if (!s->jobs || !s->hs || (c->digest && !(s->sha = EVP_MD_CTX_new()))) {
		wn_series_close(s);
		return NULL;
	}
	return s;
}

int wn_series_open(wn_catalog *c, MDB_txn *txn, int role, int kind, wn_pool *pool, int njobs,
	size_t frame_bytes, uint64_t file_bytes, uint64_t first_ord, wn_series **out)
{
	wn_series *s = series_new(c, role, kind, pool, njobs, frame_bytes, file_bytes, first_ord);
	*out = NULL;
	if (!s)
		return WN_E_NOMEM;
	if (role == WN_ROLE_SHARD) {
		s->async = 1;
		pthread_mutex_init(&s->wmu, NULL);
		pthread_cond_init(&s->wcv, NULL);
	}
	int rc = series_resume(s, txn);
	if (rc) {
		wn_series_close(s);
		return rc;
	}
	if (s->fd < 0)
		hash_reset(s);
	s->cur = ring_at(s, 0);
	s->cur->first_ord = s->next_ord;
	*out = s;
	return 0;
}

int wn_series_open_at(wn_catalog *c, int role, int kind, wn_pool *pool, int njobs, size_t frame_bytes, uint32_t seq,
	uint64_t first_ord, wn_series **out)
{
	/* one file, however large */
	wn_series *s = series_new(c, role, kind, pool, njobs, frame_bytes, UINT64_MAX, first_ord);
	*out = NULL;
	if (!s)
		return WN_E_NOMEM;
	s->fi.role = (uint8_t)role;
	s->fi.kind = (uint8_t)kind;
	s->fi.seq = s->sub_seq = seq;
	wn_file_relpath(s->rel, sizeof s->rel, role, wn_catalog_kind_name(c, kind), seq);
	strcat(s->rel, WN_STAGED_SUFFIX);
	hash_reset(s);
	s->cur = ring_at(s, 0);
	s->cur->first_ord = s->next_ord;
	*out = s;
	return 0;
}

void wn_series_close(wn_series *s)
{
	if (!s)
		return;
	/* jobs still with the pool or the writer must finish before their buffers go */
	for (int i = 0; i < s->count; i++)
		wn_pool_wait(s->pool, &ring_at(s, i)->task);
	if (s->wstarted)
		wn_thread_stop(&s->wth, 1, &s->wmu, &s->wcv, &s->wstop);
	if (s->async) {
		pthread_mutex_destroy(&s->wmu);
		pthread_cond_destroy(&s->wcv);
	}
	free(s->wq);
	for (int i = 0; s->jobs && i < s->njobs; i++) {
		free(s->jobs[i].raw);
		free(s->jobs[i].comp);
	}
	free(s->jobs);
	if (s->fd >= 0)
		close(s->fd);
	XXH3_freeState(s->hs);
	EVP_MD_CTX_free(s->sha);
	free(s->seek);
	free(s->newframes);
	free(s->dirty);
	free(s);
}

/* Create the current file on first use. */
static int open_file(wn_series *s)
{
	int rc = wn_catalog_open_file(s->c, s->rel, O_RDWR | O_CREAT | O_TRUNC, &s->fd);
	if (rc)
		return rc;
	hash_reset(s);
	s->fi.data_len = s->fi.size = 0;
	s->fi.nframes = 0;
	s->fi.nrecords = s->fi.raw_bytes = 0;
	s->fi.sealed = 0;
	s->nseek = 0;
	s->file_new = 1;
	s->synced_upto = 0;
	return 0;
}

static int push_dirty(wn_series *s)
{
	if (WN_GROW(s->dirty, s->ndirty, s->capdirty, 4))
		return WN_E_NOMEM;
	s->dirty[s->ndirty++] = s->fi;
	return 0;
}

/* Append the seek table, fsync, take the file's hash: the file is final. */
static int seal_file(wn_series *s)
{
	if (s->fd < 0)
		return 0;
	int wrc = writer_wait(s, NULL);
	if (wrc)
		return wrc;
	size_t tl = wn_seektable_size((uint32_t)s->nseek);
	uint8_t *t = malloc(tl);
	if (!t)
		return WN_E_NOMEM;
	wn_seektable_write(t, s->seek, (uint32_t)s->nseek);
	int rc = wn_write_all(s->fd, t, tl);
	if (!rc)
		hash_update(s, t, tl);
	free(t);
	if (rc)
		return series_err(s, rc, "write seek table");
	if (fsync(s->fd))
		return series_err(s, errno, "fsync");
	close(s->fd);
	s->fd = -1;
	XXH128_canonical_t canon;
	XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(s->hs));
	memcpy(s->fi.xxh128, canon.digest, 16);
	if (s->sha) {
		unsigned len = 32;
		EVP_DigestFinal_ex(s->sha, s->fi.sha256, &len);
		s->fi.has_sha256 = 1;
	}
	s->fi.size = s->fi.data_len + tl;
	s->fi.sealed = 1;
	rc = push_dirty(s);
	if (rc)
		return rc;
	s->fi.seq++;
	wn_file_relpath(s->rel, sizeof s->rel, s->role, wn_catalog_kind_name(s->c, s->kind), s->fi.seq);
	s->nseek = 0;
	s->fi.data_len = s->fi.size = 0;
	s->fi.nframes = 0;
	s->fi.nrecords = s->fi.raw_bytes = 0;
	s->fi.sealed = 0;
	s->fi.has_sha256 = 0;
	memset(s->fi.xxh128, 0, sizeof s->fi.xxh128);   /* known when sealed */
	return 0;
}

/* Write the oldest in-flight frame (waiting for it if needed). */
static int write_one(wn_series *s)
{
	wn_job *j = ring_at(s, 0);
	double t0 = wn_now();
	wn_pool_wait(s->pool, &j->task);
	s->t_wait += wn_now() - t0;
	if (j->err)
		return series_err(s, j->err, "compress");
	int rc;
	if (j->file_seq != s->fi.seq && (rc = seal_file(s)))
		return rc;
	if (s->fd < 0) {
		s->fi.first_ord = j->first_ord;
		if ((rc = open_file(s)))
			return rc;
	}
	if ((rc = writer_put(s, j, s->fi.data_len + j->comp_len)))
		return rc;
	if (WN_GROW(s->seek, s->nseek, s->capseek, 64))
		return WN_E_NOMEM;
	s->seek[s->nseek].csize = (uint32_t)j->comp_len;
	s->seek[s->nseek].dsize = (uint32_t)j->raw_len;
	s->seek[s->nseek].checksum = j->checksum;
	s->nseek++;
	if (s->role == WN_ROLE_SHARD) {
		if (WN_GROW(s->newframes, s->nnew, s->capnew, 256))
			return WN_E_NOMEM;
		wn_frameinfo *f = &s->newframes[s->nnew++];
		f->shard_seq = s->fi.seq;
		f->frame_no = s->fi.nframes;
		f->offset = s->fi.data_len;
		f->csize = (uint32_t)j->comp_len;
		f->dsize = (uint32_t)j->raw_len;
		f->checksum = j->checksum;
		f->first_ord = j->first_ord;
		f->nrec = j->nrec;
	}
	s->fi.data_len += j->comp_len;
	s->fi.nframes++;
	s->fi.nrecords += j->nrec;
	s->fi.raw_bytes += j->raw_len;
	s->written_since_sync = 1;
	s->head = (s->head + 1) % s->njobs;
	s->count--;
	return 0;
}

/* Hand the frame being filled to the pool and start the next one. */
int wn_series_submit(wn_series *s)
{
	wn_job *j = s->cur;
	if (!j->raw_len)
		return 0;
	if (s->sub_raw && s->sub_raw + j->raw_len > s->file_bytes) {
		s->sub_seq++;
		s->sub_raw = 0;
	}
	j->file_seq = s->sub_seq;
	s->sub_raw += j->raw_len;
	int wrc = writer_wait(s, j);   /* its comp buffer may still be queued for writing */
	if (wrc)
		return wrc;
	j->task.run = wn_series_compress_job;
	wn_pool_submit(s->pool, &j->task);
	s->count++;
	int rc;
	/* write what is finished; wait only when every job is in flight */
	while (s->count && (s->count == s->njobs || wn_pool_done(s->pool, &ring_at(s, 0)->task)))
		if ((rc = write_one(s)))
			return rc;
	s->cur = ring_at(s, s->count);
	s->cur->raw_len = 0;
	s->cur->nrec = 0;
	s->cur->first_ord = s->next_ord;
	return 0;
}

int wn_series_add(wn_series *s, const char *rec, size_t len)
{
	wn_job *j = s->cur;
	if (j->raw_len && j->raw_len + len + 1 > s->frame_bytes) {
		int rc = wn_series_submit(s);
		if (rc)
			return rc;
		j = s->cur;
	}
	if (j->raw_len + len + 1 > j->raw_cap) {
		size_t cap = s->frame_bytes + 1;
		while (cap < j->raw_len + len + 1)
			cap *= 2;
		char *r = realloc(j->raw, cap);
		if (!r)
			return WN_E_NOMEM;
		j->raw = r;
		j->raw_cap = cap;
	}
	memcpy(j->raw + j->raw_len, rec, len);
	j->raw[j->raw_len + len] = '\n';
	j->raw_len += len + 1;
	j->nrec++;
	s->next_ord++;
	return 0;
}

/* Everything added so far is written and on stable storage. */
int wn_series_sync(wn_series *s)
{
	int rc = wn_series_submit(s);
	while (!rc && s->count)
		rc = write_one(s);
	if (!rc)
		rc = writer_wait(s, NULL);
	if (rc)
		return rc;
	if (s->fd >= 0 && s->written_since_sync) {
		if (fdatasync(s->fd))
			return series_err(s, errno, "fsync");
		if (s->file_new) {
			/* the new file's name must be durable too */
			char dir[256];
			snprintf(dir, sizeof dir, "%s", s->rel);
			*strrchr(dir, '/') = 0;
			int e = wn_fsync_in(s->c->dirfd, dir);
			if (e)
				return series_err(s, wn_open_code(e), "fsync of its folder");
			s->file_new = 0;
		}
	}
	s->written_since_sync = 0;
	return 0;
}

/* Seal the current file (end of run). Call wn_series_sync first. */
int wn_series_seal(wn_series *s)
{
	return s->fd >= 0 ? seal_file(s) : 0;
}

/* Take what wn_series_sync made durable, for a checkpoint's transaction to record
 * (wn_series_commit) while the series goes on: file rows, frame rows (shards), and the
 * frame list of a file still open. */
int wn_series_snapshot(wn_series *s, wn_series_snap *sn)
{
	memset(sn, 0, sizeof *sn);
	sn->kind = s->kind;
	if (s->ndirty && !(sn->dirty = malloc(s->ndirty * sizeof *s->dirty)))
		return WN_E_NOMEM;
	if (s->ndirty)
		memcpy(sn->dirty, s->dirty, s->ndirty * sizeof *s->dirty);
	sn->ndirty = s->ndirty;
	if (s->nnew && !(sn->frames = malloc(s->nnew * sizeof *s->newframes)))
		return WN_E_NOMEM;
	if (s->nnew)
		memcpy(sn->frames, s->newframes, s->nnew * sizeof *s->newframes);
	sn->nframes = s->nnew;
	if (s->fd >= 0) {
		sn->open = 1;
		memcpy(sn->rel, s->rel, sizeof sn->rel);
		sn->fi = s->fi;
		if (!(sn->seek = malloc(s->nseek * WN_SEEK_ENTRY + 1)))
			return WN_E_NOMEM;
		for (size_t i = 0; i < s->nseek; i++) {
			wn_put_be32(sn->seek + i * WN_SEEK_ENTRY, s->seek[i].csize);
			wn_put_be32(sn->seek + i * WN_SEEK_ENTRY + 4, s->seek[i].dsize);
			wn_put_be32(sn->seek + i * WN_SEEK_ENTRY + 8, s->seek[i].checksum);
		}
		sn->nseek = s->nseek;
	}
	return 0;
}

void wn_series_snap_free(wn_series_snap *sn)
{
	free(sn->dirty);
	free(sn->frames);
	free(sn->seek);
	memset(sn, 0, sizeof *sn);
}

/* Record a snapshot in txn. Touches nothing of the series: any thread may call it. */
int wn_series_commit(wn_catalog *c, const wn_series_snap *sn, MDB_txn *txn)
{
	uint8_t val[WN_FILEINFO_BYTES > WN_FRAMEINFO_BYTES ? WN_FILEINFO_BYTES : WN_FRAMEINFO_BYTES];
	char rel[128], key[160];
	MDB_val k, v;
	int rc;
	for (size_t i = 0; i < sn->ndirty; i++) {
		const wn_fileinfo *f = &sn->dirty[i];
		wn_file_relpath(rel, sizeof rel, f->role, wn_catalog_kind_name(c, f->kind), f->seq);
		wn_fileinfo_pack(val, f, rel);
		k.mv_size = strlen(rel);
		k.mv_data = rel;
		v.mv_size = WN_FILEINFO_BYTES;
		v.mv_data = val;
		if ((rc = mdb_put(txn, c->db_files, &k, &v, 0)))
			return wn_lmdb_err(c, rc, "files");
		snprintf(key, sizeof key, "open:%s", rel);
		if ((rc = wn_meta_del(c, txn, key)))
			return rc;
		/* the SHA-256 for SHA256SUMS (doc/FORMAT.md, meta "sha256:<path>") */
		snprintf(key, sizeof key, "sha256:%s", rel);
		if (f->has_sha256 && (rc = wn_meta_put(c, txn, key, f->sha256, 32)))
			return rc;
	}
	if (sn->open) {
		wn_fileinfo_pack(val, &sn->fi, sn->rel);
		k.mv_size = strlen(sn->rel);
		k.mv_data = (void *)sn->rel;
		v.mv_size = WN_FILEINFO_BYTES;
		v.mv_data = val;
		if ((rc = mdb_put(txn, c->db_files, &k, &v, 0)))
			return wn_lmdb_err(c, rc, "files");
		snprintf(key, sizeof key, "open:%s", sn->rel);
		if ((rc = wn_meta_put(c, txn, key, sn->seek, sn->nseek * WN_SEEK_ENTRY)))
			return rc;
	}
	if (sn->nframes) {
		MDB_cursor *cur;
		if ((rc = mdb_cursor_open(txn, c->db_frames[sn->kind], &cur)))
			return wn_lmdb_err(c, rc, "frames cursor");
		for (size_t i = 0; i < sn->nframes; i++) {
			uint8_t kb[8];
			const wn_frameinfo *f = &sn->frames[i];
			wn_put_be64(kb, f->first_ord + f->nrec - 1);
			wn_frameinfo_pack(val, f);
			k.mv_size = 8;
			k.mv_data = kb;
			v.mv_size = WN_FRAMEINFO_BYTES;
			v.mv_data = val;
			if ((rc = mdb_cursor_put(cur, &k, &v, MDB_APPEND))) {
				mdb_cursor_close(cur);
				return wn_lmdb_err(c, rc, "frames");
			}
		}
		mdb_cursor_close(cur);
	}
	return 0;
}

/* The transaction that recorded sn is durable: forget what it recorded (the series may
 * have sealed files and written frames since). */
void wn_series_committed(wn_series *s, const wn_series_snap *sn)
{
	if (sn->ndirty) {
		memmove(s->dirty, s->dirty + sn->ndirty, (s->ndirty - sn->ndirty) * sizeof *s->dirty);
		s->ndirty -= sn->ndirty;
	}
	if (sn->nframes) {
		memmove(s->newframes, s->newframes + sn->nframes, (s->nnew - sn->nframes) * sizeof *s->newframes);
		s->nnew -= sn->nframes;
	}
}

/* Find record `ord` among frames not yet committed to the index (the one being filled,
 * those in flight, those written since the last checkpoint). Returns 1 and the bytes in
 * *out, 0 if it is not there (then it is in a committed frame), <0 on error. */
int wn_series_fetch(wn_series *s, uint64_t ord, wn_buf *out, wn_buf *scratch)
{
	for (int i = 0; i <= s->count; i++) {
		wn_job *j = i == s->count ? s->cur : ring_at(s, i);
		if (ord < j->first_ord || ord >= j->first_ord + j->nrec)
			continue;
		const char *line;
		size_t len;
		if (wn_frame_line(j->raw, j->raw_len, (uint32_t)(ord - j->first_ord), &line, &len))
			return WN_E_CORRUPT;
		out->len = 0;
		return wn_buf_put(out, line, len) ? WN_E_NOMEM : 1;
	}
	for (size_t i = 0; i < s->nnew; i++) {
		wn_frameinfo *f = &s->newframes[i];
		if (ord < f->first_ord || ord >= f->first_ord + f->nrec)
			continue;
		int rc = writer_wait(s, NULL);   /* the frame may still be on its way to the file */
		if (!rc)
			rc = wn_frame_load(s->c, s->kind, f, scratch, out);
		if (rc)
			return rc;
		const char *line;
		size_t len;
		if (wn_frame_line(scratch->p, scratch->len, (uint32_t)(ord - f->first_ord), &line, &len))
			return WN_E_CORRUPT;
		out->len = 0;
		return wn_buf_put(out, line, len) ? WN_E_NOMEM : 1;
	}
	return 0;
}
