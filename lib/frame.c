/*
 * frame.c - the frame layer: where a record of a shard is, and its frame read back.
 *
 * A record is found by its ordinal: DB "<kind>.frames" is keyed by the ordinal of each
 * frame's last record, so MDB_SET_RANGE on an ordinal lands on its frame, and the record
 * is the n-th line of that frame's content. Queries (get, export), ingest (the stored
 * version that newest:FIELD compares with), the series (a frame not in memory any more)
 * and verify all read records this way, so this file sits below all of them.
 *
 * What a reader hands out is proven here or by its caller: a frame read whole has had
 * its content checksum checked by zstd, and that checksum is the one the frames row
 * recorded (read_frame() checks that the frame carries one and that it is the row's, so
 * a flipped header bit cannot switch the check off). A frame read only up to a record
 * (wn_frame_load_upto) proves nothing about that record by itself: the caller compares
 * the record's fingerprint with the index. wn_frame_damaged() words every such finding
 * the same way: shard, frame, byte range, then what is wrong.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int wn_record_locate(wn_catalog *c, MDB_txn *txn, int kind, uint64_t ord, wn_frameinfo *fi)
{
	MDB_cursor *cur;
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	wn_put_be64(kb, ord);
	int rc = mdb_cursor_open(txn, c->db_frames[kind], &cur);
	if (rc)
		return wn_lmdb_err(c, rc, "frames cursor");
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		return wn_seterr(c, WN_E_CORRUPT, "index: no frame holds record %llu", (unsigned long long)ord);
	if (rc)
		return wn_lmdb_err(c, rc, "frames");
	if ((rc = wn_frame_row(c, &k, &v, fi)))
		return rc;
	if (ord < fi->first_ord || ord >= fi->first_ord + fi->nrec)
		return wn_seterr(c, WN_E_CORRUPT, "index: frame rows do not cover record %llu", (unsigned long long)ord);
	return 0;
}

int wn_shard_open(wn_catalog *c, int kind, uint32_t seq, char *rel, size_t rl, int *fd)
{
	wn_file_relpath(rel, rl, WN_ROLE_SHARD, wn_catalog_kind_name(c, kind), seq);
	return wn_catalog_open_file(c, rel, O_RDONLY, fd);
}

int wn_shard_keep(wn_catalog *c, int kind, uint32_t seq, int *fd, uint32_t *fd_seq, char *rel, size_t rl)
{
	if (*fd >= 0 && *fd_seq == seq)
		return 0;
	if (*fd >= 0)
		close(*fd);
	int rc = wn_shard_open(c, kind, seq, rel, rl, fd);
	if (rc)
		return rc;
	*fd_seq = seq;
	return 0;
}

int wn_frame_damaged(wn_catalog *c, const char *rel, const wn_frameinfo *fi, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return wn_seterr(c, WN_E_CORRUPT, "%s: frame %u (bytes %llu-%llu): %s", rel, fi->frame_no,
		(unsigned long long)fi->offset, (unsigned long long)(fi->offset + fi->csize - (fi->csize > 0)), what);
}

int wn_shard_missing(wn_catalog *c, MDB_txn *txn, int kind, const char *rel)
{
	MDB_val k = { strlen(rel), (void *)rel }, v;
	int rc = mdb_get(txn, c->db_files, &k, &v);
	wn_fileinfo f;
	if (rc || v.mv_size != WN_FILEINFO_BYTES)
		return wn_seterr(c, WN_E_MISSING, "%s is missing", rel);
	if ((rc = wn_file_row(c, &k, &v, &f)))
		return rc;
	if (!f.nrecords)
		return wn_seterr(c, WN_E_MISSING, "%s is missing (it holds no records)", rel);
	return wn_seterr(c, WN_E_MISSING, "%s is missing: it holds %s records %llu-%llu", rel, wn_catalog_kind_name(c, kind),
		(unsigned long long)f.first_ord, (unsigned long long)(f.first_ord + f.nrecords - 1));
}

/* Call fn for the files row of every shard of kind, in shard order; stops at fn's
 * non-zero, which is returned. */
static int each_shard(wn_catalog *c, MDB_txn *txn, int kind, int (*fn)(const wn_fileinfo *f, const char *rel, void *ud),
	void *ud)
{
	char pre[64];
	int pl = snprintf(pre, sizeof pre, "%s/%s-", wn_role_dir(WN_ROLE_SHARD), wn_catalog_kind_name(c, kind));
	MDB_cursor *cur;
	MDB_val k = { (size_t)pl, pre }, v;
	int rc = mdb_cursor_open(txn, c->db_files, &cur);
	if (rc)
		return wn_lmdb_err(c, rc, "files cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char rel[128];
		wn_fileinfo f;
		if (k.mv_size < (size_t)pl || k.mv_size >= sizeof rel || memcmp(k.mv_data, pre, (size_t)pl))
			break;
		if ((rc = wn_file_row(c, &k, &v, &f)))
			break;
		memcpy(rel, k.mv_data, k.mv_size);
		rel[k.mv_size] = 0;
		if ((rc = fn(&f, rel, ud)))
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc > 0 || rc < -30000 ? wn_lmdb_err(c, rc, "files") : rc;
}

typedef struct shard_at {
	uint64_t ord;
	wn_fileinfo *f;
	char *rel;
	size_t rl;
} shard_at;

static int at_fn(const wn_fileinfo *f, const char *rel, void *ud)
{
	shard_at *a = ud;
	if (!f->nrecords || a->ord < f->first_ord || a->ord - f->first_ord >= f->nrecords)
		return 0;
	*a->f = *f;
	snprintf(a->rel, a->rl, "%s", rel);
	return 1;
}

int wn_shard_of(wn_catalog *c, MDB_txn *txn, int kind, uint64_t ord, wn_fileinfo *f, char *rel, size_t rl)
{
	shard_at a = { ord, f, rel, rl };
	return each_shard(c, txn, kind, at_fn, &a);
}

int wn_shard_present(wn_catalog *c, const char *rel)
{
	char path[4400];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", c->dir, rel);
	return !(lstat(path, &st) && errno == ENOENT);
}

typedef struct absent {
	wn_catalog *c;
	int n;
	char *desc;
	size_t cap;
} absent;

static int absent_fn(const wn_fileinfo *f, const char *rel, void *ud)
{
	absent *a = ud;
	if (wn_shard_present(a->c, rel))
		return 0;
	if (!a->n++ && f->nrecords)
		snprintf(a->desc, a->cap, "%s is missing (it holds %s records %llu-%llu)", rel, wn_catalog_kind_name(a->c, f->kind),
			(unsigned long long)f->first_ord, (unsigned long long)(f->first_ord + f->nrecords - 1));
	else if (a->n == 1)
		snprintf(a->desc, a->cap, "%s is missing", rel);
	return 0;
}

int wn_shards_absent(wn_catalog *c, MDB_txn *txn, int kind, char *desc, size_t cap)
{
	absent a = { c, 0, desc, cap };
	*desc = 0;
	int rc = each_shard(c, txn, kind, absent_fn, &a);
	return rc ? rc : a.n;
}

#define ZSTD_MAGIC 0xFD2FB528u
#define ZSTD_FHD_CHECKSUM 0x04  /* Content_Checksum_flag of the frame header descriptor */

/* Read a frame's compressed bytes into scratch and make room for its content in raw.
 * The frame must be a zstd frame with a content checksum equal to the frames row's:
 * zstd then checks the content against it whenever the frame is decoded to its end. */
static int read_frame(wn_catalog *c, int fd, const char *rel, const wn_frameinfo *fi, wn_buf *raw, wn_buf *scratch)
{
	scratch->len = raw->len = 0;
	if (wn_buf_reserve(scratch, fi->csize) || wn_buf_reserve(raw, (size_t)fi->dsize + 1))
		return WN_E_NOMEM;
	int rc = wn_pread_all(fd, scratch->p, fi->csize, fi->offset);
	if (rc == WN_E_CORRUPT)
		return wn_frame_damaged(c, rel, fi, "file is truncated");
	if (rc)
		return wn_seterr(c, rc, "%s: %s", rel, strerror(rc));
	const uint8_t *p = (const uint8_t *)scratch->p;
	if (fi->csize < 9 || wn_get_le32(p) != ZSTD_MAGIC)
		return wn_frame_damaged(c, rel, fi, "not a zstd frame");
	if (!(p[4] & ZSTD_FHD_CHECKSUM))
		return wn_frame_damaged(c, rel, fi, "the frame header has lost its content checksum flag");
	if (wn_get_le32(p + fi->csize - 4) != fi->checksum)
		return wn_frame_damaged(c, rel, fi, "content checksum %08x, the index says %08x", wn_get_le32(p + fi->csize - 4),
			fi->checksum);
	return 0;
}

int wn_frame_load_fd(wn_catalog *c, int fd, const char *rel, const wn_frameinfo *fi, wn_buf *raw, wn_buf *scratch)
{
	int rc = read_frame(c, fd, rel, fi, raw, scratch);
	if (rc)
		return rc;
	size_t r = ZSTD_decompress(raw->p, fi->dsize + 1, scratch->p, fi->csize);
	if (ZSTD_isError(r))
		return wn_frame_damaged(c, rel, fi, "%s", ZSTD_getErrorName(r));
	if (r != fi->dsize)
		return wn_frame_damaged(c, rel, fi, "decodes to %zu bytes, the index says %u", r, fi->dsize);
	raw->len = r;
	return 0;
}

int wn_frame_load(wn_catalog *c, int kind, const wn_frameinfo *fi, wn_buf *raw, wn_buf *scratch)
{
	char rel[128];
	int fd, rc = wn_shard_open(c, kind, fi->shard_seq, rel, sizeof rel, &fd);
	if (rc)
		return rc;
	rc = wn_frame_load_fd(c, fd, rel, fi, raw, scratch);
	close(fd);
	return rc;
}

int wn_frame_line(const char *raw, size_t len, uint32_t n, const char **line, size_t *linelen)
{
	const char *p = raw, *end = raw + len;
	for (uint32_t i = 0; i < n; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return -1;
		p = nl + 1;
	}
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl)
		return -1;
	*line = p;
	*linelen = (size_t)(nl - p);
	return 0;
}

int wn_is_superseded(wn_catalog *c, MDB_txn *txn, int kind, uint64_t ord)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	wn_put_be64(kb, ord);
	int rc = mdb_get(txn, c->db_super[kind], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return wn_lmdb_err(c, rc, "superseded");
	return 1;
}

/* Decompress a frame only as far as its line `upto` (0-based), in steps, so that a get
 * reads on average half a frame. Unless it happens to reach the frame's end, the
 * checksum is not checked: the caller proves each record it takes (see the top). */
int wn_frame_load_upto(wn_catalog *c, int fd, const char *rel, const wn_frameinfo *fi, uint32_t upto, wn_buf *raw,
	wn_buf *scratch, ZSTD_DCtx *dctx)
{
	int rc = read_frame(c, fd, rel, fi, raw, scratch);
	if (rc)
		return rc;
	ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
	ZSTD_inBuffer ib = { scratch->p, fi->csize, 0 };
	uint32_t lines = 0;
	size_t scanned = 0;
	for (;;) {
		size_t step = fi->dsize + 1 - raw->len < 65536 ? fi->dsize + 1 - raw->len : 65536;
		ZSTD_outBuffer ob = { raw->p + raw->len, step, 0 };
		size_t r = ZSTD_decompressStream(dctx, &ob, &ib);
		if (ZSTD_isError(r))
			return wn_frame_damaged(c, rel, fi, "%s", ZSTD_getErrorName(r));
		raw->len += ob.pos;
		for (const char *p = raw->p + scanned; (p = memchr(p, '\n', raw->len - (size_t)(p - raw->p))); p++)
			if (lines++ == upto)
				return 0;
		scanned = raw->len;
		if (r == 0 || (!ob.pos && ib.pos == ib.size))
			break;
	}
	return wn_frame_damaged(c, rel, fi, "holds fewer records than the index says");
}
