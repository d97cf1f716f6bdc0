/*
 * series.h - append-only series of seekable zstd files and the compression pool
 * (internal; see series.c).
 */
#ifndef WN_SERIES_H
#define WN_SERIES_H

#include "internal.h"
#include <pthread.h>
#include <xxhash.h>

#include "pool.h"

typedef struct wn_job {
	wn_task task;          /* first: the pool runs it (compression) */
	char *raw, *comp;
	size_t raw_len, raw_cap, comp_len, comp_cap;
	uint32_t checksum;     /* low 32 bits of XXH64(raw) */
	int err;               /* set by the compression, read once the task is done */
	uint32_t file_seq;     /* file this frame goes to */
	uint64_t first_ord;    /* ordinal (shards) or entry number of the first record */
	uint32_t nrec;
	int writing;           /* comp is queued for the series' writer (guarded by its wmu) */
} wn_job;

typedef struct wn_witem {
	wn_job *j;
	int fd;
	uint64_t end;          /* the file's length once it is written */
} wn_witem;

typedef struct wn_series {
	wn_catalog *c;
	wn_pool *pool;
	int role, kind;
	size_t frame_bytes;
	uint64_t file_bytes;
	wn_job *jobs;          /* ring: jobs[head .. head+count) in flight, then cur */
	int njobs, head, count;
	wn_job *cur;
	uint64_t next_ord;
	/* submission side */
	uint32_t sub_seq;
	uint64_t sub_raw;
	/* the file being written */
	int fd, file_new, written_since_sync;
	uint64_t synced_upto;  /* writeback started up to here */
	char rel[128];
	wn_fileinfo fi;
	XXH3_state_t *hs;
	struct evp_md_ctx_st *sha;   /* SHA-256 of the file (OpenSSL), when c->digest */
	wn_seekent *seek;
	size_t nseek, capseek;
	/* written since the last commit */
	wn_frameinfo *newframes;
	size_t nnew, capnew;
	wn_fileinfo *dirty;    /* files sealed since the last commit */
	size_t ndirty, capdirty;
	double t_wait;         /* seconds spent waiting for compression */
	/* the writer thread (shards): writes finished frames in order, hashes them and starts
	 * their writeback, so that copying them into the page cache is not the ingesting
	 * thread's work. Items wq[wq_head ..) of wq_n; werr: its first error */
	int async, wstarted, wstop, werr;
	pthread_t wth;
	pthread_mutex_t wmu;
	pthread_cond_t wcv;
	wn_witem *wq;
	int wq_head, wq_n;
} wn_series;

/* The pool that compresses frames at zstd `level` (which must outlive it), with its
 * threads below the ingesting thread's priority. 0 or WN_E_NOMEM. */
int wn_series_pool_new(int threads, const int *level, wn_pool **out);
/* The task of a frame job on that pool: raw[0..raw_len) compressed into comp (grown as
 * needed), checksum set, err 0 or a code. Set j->task.run to it and submit the job. */
void wn_series_compress_job(wn_task *t, void *worker);

/* Open the series (role, kind): resumes an unsealed file left by an interrupted run.
 * first_ord: number given to the next record added; WN_SERIES_AFTER: the number after
 * the last line of the series' newest file (0 when it has none). */
#define WN_SERIES_AFTER UINT64_MAX
int wn_series_open(wn_catalog *c, MDB_txn *txn, int role, int kind, wn_pool *pool, int njobs,
	size_t frame_bytes, uint64_t file_bytes, uint64_t first_ord, wn_series **out);
/* Open a series that writes one file only, numbered seq, under its staged name (its
 * name with WN_STAGED_SUFFIX: a rewrite puts it in place later, FORMAT.md section 18),
 * whatever its size: the rewrite of sealed files (compact.c). Seal it with
 * wn_series_sync and wn_series_seal; wn_series_snapshot then gives its row (dirty[0],
 * under its final name) and its frames (shards). */
int wn_series_open_at(wn_catalog *c, int role, int kind, wn_pool *pool, int njobs, size_t frame_bytes, uint32_t seq,
	uint64_t first_ord, wn_series **out);
void wn_series_close(wn_series *s);
int wn_series_add(wn_series *s, const char *rec, size_t len);
int wn_series_submit(wn_series *s);
int wn_series_sync(wn_series *s);
int wn_series_seal(wn_series *s);
/* What a checkpoint records of a series, taken after wn_series_sync (series.c). */
typedef struct wn_series_snap {
	int kind;
	wn_fileinfo *dirty;     /* files sealed since the last commit */
	size_t ndirty;
	int open;               /* a file is open: its row and its seek table so far */
	char rel[128];
	wn_fileinfo fi;
	uint8_t *seek;          /* packed, nseek entries of WN_SEEK_ENTRY bytes */
	size_t nseek;
	wn_frameinfo *frames;   /* frames written since the last commit (shards) */
	size_t nframes;
} wn_series_snap;

int wn_series_snapshot(wn_series *s, wn_series_snap *sn);
void wn_series_snap_free(wn_series_snap *sn);
int wn_series_commit(wn_catalog *c, const wn_series_snap *sn, MDB_txn *txn);
void wn_series_committed(wn_series *s, const wn_series_snap *sn);
int wn_series_fetch(wn_series *s, uint64_t ord, wn_buf *out, wn_buf *scratch);

#endif
