/*
 * compact.c - rewrites of sealed data files: `winnow compact` (many small files of a
 * series made into full ones) and `winnow forget` (a contributor's records taken out of
 * the files that hold them), both through one engine (doc/FORMAT.md section 18).
 *
 * A rewrite plans, per series (role, kind), the series' new layout: a list of output
 * files numbered 1, 2, ... each either an old file kept as it is (renamed when its
 * number changes) or written anew from one or more consecutive old files, line by line
 * through a filter, with the frame writer of every other file (series.c). The new files
 * are written under their staged names (NAME.new) and synced; then one LMDB transaction
 * records the new layout (files rows, frames rows, SHA-256s, counters) together with the
 * journal (meta "rewrite") that says which renames and removals put the files where the
 * index now says they are; catalog.c then does them, phase by phase. Before that commit
 * the catalog is the old one (the staged files are removed by the next writer open);
 * after it, every writer open finishes the journal. So a crash at any moment, and the
 * same command again, ends with the same catalog as an uninterrupted run: the plan
 * depends only on the committed index and the options, and the files written only on
 * the files read.
 *
 * Ordinals never change: a shard keeps its records in order and a record that forget
 * takes out leaves its line as the placeholder WN_FORGOTTEN_LINE (doc/FORMAT.md 18.3).
 * Ledger and rejects entries are numbered again (their files' first_ord).
 */
#include "internal.h"
#include "contrib.h"
#include "ledger.h"
#include "series.h"
#include "transform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

/* ---- a series and its new layout ---- */

typedef struct ofile {
	uint32_t seq;               /* its number in the new layout */
	size_t a, b;                /* its sources: old files [a, b) */
	int rewrite;                /* written anew (else old file a, renamed if seq differs) */
	wn_fileinfo row;            /* rewrite: the row of the new file */
	wn_frameinfo *frames;       /* rewrite, shards: its frames */
	size_t nframes;
} ofile;

typedef struct splan {
	int role, kind;
	wn_fileinfo *old;           /* the series' files, by number */
	size_t nold, capold;
	ofile *out;
	size_t nout, capout;
	size_t from;                /* old files [from, nold) change: number, content or both */
	int changed;
} splan;

/* What a filter does with one line: keep it, drop it (ledger, rejects), or leave the
 * placeholder in its place (shards). */
enum { LINE_KEEP, LINE_DROP, LINE_FORGET };
typedef int (*line_fn)(void *ud, const splan *p, const char *line, size_t n);

typedef struct rw {
	wn_catalog *c;
	wn_pool *pool;
	int level;
	size_t frame_size;
	line_fn filter;
	void *fud;
	void (*on_step)(const char *step, void *ud);
	void *step_ud;
	volatile const int *cancel;
	splan *plans;
	size_t nplans, capplans;
	uint64_t bytes_read, bytes_written, lines, files_written, files_renamed, files_dropped;
	uint64_t dropped[WN_NROLES][WN_KINDS_MAX];   /* lines taken out (forget) */
	uint64_t forgotten[WN_KINDS_MAX];            /* shard lines made placeholders */
	uint64_t at;                /* the ordinal (entry number) of the line the filter sees */
	wn_buf raw, scratch;
} rw;

static void step(rw *w, const char *what)
{
	if (w->on_step)
		w->on_step(what, w->step_ud);
}

static void plans_free(rw *w)
{
	for (size_t i = 0; i < w->nplans; i++) {
		for (size_t j = 0; j < w->plans[i].nout; j++)
			free(w->plans[i].out[j].frames);
		free(w->plans[i].old);
		free(w->plans[i].out);
	}
	free(w->plans);
	w->plans = NULL;
	w->nplans = w->capplans = 0;
}

/* The files of series (role, kind) into p->old, by number. Every one must be sealed: an
 * interrupted run of the kind is finished (or abandoned) by an ingest first. */
static int load_series(rw *w, MDB_txn *txn, splan *p)
{
	wn_catalog *c = w->c;
	char prefix[160];
	wn_file_relpath(prefix, sizeof prefix, p->role, wn_catalog_kind_name(c, p->kind), 0);
	size_t pl = strlen(prefix) - strlen("000000.jsonl.zst");
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, c->db_files, &cur);
	if (rc)
		return wn_lmdb_err(c, rc, "files cursor");
	k.mv_size = pl;
	k.mv_data = prefix;
	int err = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < pl || memcmp(k.mv_data, prefix, pl))
			break;
		wn_fileinfo f;
		if ((err = wn_file_row(c, &k, &v, &f)))
			break;
		if (f.role != p->role || f.kind != p->kind)
			continue;
		if (!f.sealed) {
			err = wn_seterr(c, WN_E_USAGE, "%.*s is the unsealed file of an interrupted run of kind %s: "
				"run that ingest again (or another of the kind) first", (int)k.mv_size, (char *)k.mv_data,
				wn_catalog_kind_name(c, p->kind));
			break;
		}
		if (WN_GROW(p->old, p->nold, p->capold, 16)) {
			err = WN_E_NOMEM;
			break;
		}
		p->old[p->nold++] = f;
	}
	mdb_cursor_close(cur);
	if (err)
		return err;
	if (rc && rc != MDB_NOTFOUND)
		return wn_lmdb_err(c, rc, "files");
	/* names in byte order are numbers in order (zero-padded): check they are 1, 2, ... */
	for (size_t i = 0; i < p->nold; i++)
		if (p->old[i].seq != i + 1)
			return wn_seterr(c, WN_E_CORRUPT, "index: the %s files of kind %s are not numbered 1, 2, ...",
				wn_role_dir(p->role), wn_catalog_kind_name(c, p->kind));
	return 0;
}

static int add_out(splan *p, size_t a, size_t b, int rewrite)
{
	if (WN_GROW(p->out, p->nout, p->capout, 16))
		return WN_E_NOMEM;
	ofile *o = &p->out[p->nout];
	o->seq = (uint32_t)p->nout + 1;
	o->a = a;
	o->b = b;
	o->rewrite = rewrite;
	p->nout++;
	return 0;
}

/* From the first output that differs from the old file of its number on, everything
 * changes: p->from is the first old file that does. */
static void mark_changes(splan *p)
{
	p->from = p->nold;
	for (size_t j = 0; j < p->nout; j++) {
		const ofile *o = &p->out[j];
		if (o->rewrite || o->a != j) {
			p->from = o->a < j ? o->a : j;
			break;
		}
	}
	if (p->nout < p->nold && p->from > p->nout)
		p->from = p->nout;
	p->changed = p->from < p->nold;
}

/* ---- reading an old file and writing the new one ---- */

/* Feed the lines of sealed file f (row f) through the filter into s, checking the file
 * against its row as it goes: each frame's content checksum (zstd, and the seek table's)
 * and, at the end, the whole file's XXH128. */
static int copy_file(rw *w, const splan *p, const wn_fileinfo *f, wn_series *s)
{
	wn_catalog *c = w->c;
	char rel[160], err[200];
	wn_file_relpath(rel, sizeof rel, f->role, wn_catalog_kind_name(c, f->kind), f->seq);
	int fd, rc = wn_catalog_open_file(c, rel, O_RDONLY, &fd);
	if (rc)
		return rc == ENOENT ? wn_seterr(c, WN_E_MISSING, "%s/%s: not there (the index lists it)", c->dir, rel) : rc;
	wn_seekent *ents = NULL;
	uint32_t n = 0;
	uint64_t tbytes = 0;
	XXH3_state_t *hs = XXH3_createState();
	if (!hs) {
		close(fd);
		return WN_E_NOMEM;
	}
	XXH3_128bits_reset(hs);
	struct stat st;
	if (fstat(fd, &st))
		rc = wn_seterr(c, errno, "%s/%s: %s", c->dir, rel, strerror(errno));
	else if ((uint64_t)st.st_size != f->size)
		rc = wn_seterr(c, WN_E_CORRUPT, "%s/%s: %llu bytes, the index and MANIFEST say %llu", c->dir, rel,
			(unsigned long long)st.st_size, (unsigned long long)f->size);
	snprintf(err, sizeof err, "cannot read its seek table");
	if (!rc && (rc = wn_seektable_read(fd, f->size, &ents, &n, &tbytes, err, sizeof err)) == WN_E_CORRUPT)
		wn_seterr(c, rc, "%s/%s: %s", c->dir, rel, err);
	else if (!rc && (n != f->nframes || f->size - tbytes != f->data_len))
		rc = wn_seterr(c, WN_E_CORRUPT, "%s/%s: its seek table (%u frames) is not what the index says (%u frames)",
			c->dir, rel, n, f->nframes);
	uint64_t off = 0, lines = 0;
	for (uint32_t i = 0; !rc && i < n; i++) {
		if (w->cancel && *w->cancel) {
			rc = WN_E_INTERRUPTED;
			break;
		}
		wn_frameinfo fi = { .shard_seq = f->seq, .frame_no = i, .offset = off, .csize = ents[i].csize,
			.dsize = ents[i].dsize, .checksum = ents[i].checksum };
		if ((rc = wn_frame_load_fd(c, fd, rel, &fi, &w->raw, &w->scratch)))
			break;
		XXH3_128bits_update(hs, w->scratch.p, fi.csize);
		off += fi.csize;
		for (const char *l = w->raw.p, *e = w->raw.p + w->raw.len; l < e;) {
			const char *nl = memchr(l, '\n', (size_t)(e - l));
			if (!nl) {
				rc = wn_frame_damaged(c, rel, &fi, "its last line has no newline");
				break;
			}
			size_t ll = (size_t)(nl - l);
			w->at = f->first_ord + lines;
			int what = w->filter ? w->filter(w->fud, p, l, ll) : LINE_KEEP;
			if (what < 0) {
				rc = what;
				break;
			}
			if (what == LINE_KEEP)
				rc = wn_series_add(s, l, ll);
			else if (what == LINE_FORGET)
				rc = wn_series_add(s, WN_FORGOTTEN_LINE, strlen(WN_FORGOTTEN_LINE));
			if (what == LINE_FORGET)
				w->forgotten[p->kind]++;
			if (what == LINE_DROP)
				w->dropped[p->role][p->kind]++;
			if (rc)
				break;
			lines++;
			l = nl + 1;
		}
	}
	if (!rc) {
		/* the seek table, and the whole file against its row */
		uint8_t *t = malloc(tbytes);
		if (!t)
			rc = WN_E_NOMEM;
		else if ((rc = wn_pread_all(fd, t, tbytes, off)))
			rc = wn_seterr(c, rc > 0 ? rc : WN_E_CORRUPT, "%s/%s: cannot read its seek table", c->dir, rel);
		else
			XXH3_128bits_update(hs, t, tbytes);
		free(t);
		XXH128_canonical_t canon;
		XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(hs));
		if (!rc && memcmp(canon.digest, f->xxh128, 16))
			rc = wn_seterr(c, WN_E_CORRUPT, "%s/%s: its XXH128 is not the one of the index and MANIFEST: "
				"the file changed (winnow verify says how)", c->dir, rel);
	}
	w->bytes_read += f->size;
	w->lines += lines;
	XXH3_freeState(hs);
	free(ents);
	close(fd);
	return rc;
}

/* Write output o of plan p under its staged name, from its sources. */
static int write_out(rw *w, splan *p, ofile *o, uint64_t first)
{
	wn_series *s;
	int rc = wn_series_open_at(w->c, p->role, p->kind, w->pool, 8, w->frame_size, o->seq, first, &s);
	if (rc)
		return rc;
	for (size_t i = o->a; !rc && i < o->b; i++)
		rc = copy_file(w, p, &p->old[i], s);
	if (!rc && !(rc = wn_series_sync(s)) && !(rc = wn_series_seal(s))) {
		wn_series_snap sn;
		if (!(rc = wn_series_snapshot(s, &sn))) {
			if (sn.ndirty == 1) {
				o->row = sn.dirty[0];
				o->frames = sn.frames;
				o->nframes = sn.nframes;
				sn.frames = NULL;
				w->bytes_written += o->row.size;
			} else {
				/* nothing was written: every line was taken out */
				memset(&o->row, 0, sizeof o->row);
			}
			wn_series_snap_free(&sn);
		}
	}
	wn_series_close(s);
	return rc;
}

/* Write every rewritten output of every plan; an output left empty is taken out of its
 * layout (the outputs after it are numbered down). */
static int write_all(rw *w)
{
	char what[200];
	for (size_t i = 0; i < w->nplans; i++) {
		splan *p = &w->plans[i];
		if (!p->changed)
			continue;
		uint64_t next = 0;
		size_t keep = 0;
		for (size_t j = 0; j < p->nout; j++) {
			ofile *o = &p->out[j];
			o->seq = (uint32_t)keep + 1;
			if (o->rewrite) {
				int rc = write_out(w, p, o, next);
				if (rc)
					return rc;
				if (!o->row.nrecords) {
					/* the staged file is removed by the next writer open, or here */
					char rel[160];
					wn_file_relpath(rel, sizeof rel, p->role, wn_catalog_kind_name(w->c, p->kind), o->seq);
					strcat(rel, WN_STAGED_SUFFIX);
					unlinkat(w->c->dirfd, rel, 0);
					continue;
				}
				w->files_written++;
				wn_file_relpath(what, sizeof what, p->role, wn_catalog_kind_name(w->c, p->kind), o->seq);
				step(w, what);
				next += o->row.nrecords;
			} else {
				next += p->old[o->a].nrecords;
			}
			p->out[keep++] = *o;
		}
		p->nout = keep;
		mark_changes(p);
	}
	return 0;
}

/* A rewrite that fails before its transaction committed removes what it staged (the
 * next writer open would too). */
static void unstage(rw *w)
{
	char rel[170];
	for (size_t i = 0; i < w->nplans; i++)
		for (size_t j = 0; j < w->plans[i].nout; j++)
			if (w->plans[i].out[j].rewrite) {
				wn_file_relpath(rel, sizeof rel, w->plans[i].role, wn_catalog_kind_name(w->c, w->plans[i].kind),
					w->plans[i].out[j].seq);
				strcat(rel, WN_STAGED_SUFFIX);
				unlinkat(w->c->dirfd, rel, 0);
			}
}

/* ---- the transaction that switches to the new layout ---- */

static int put_row(wn_catalog *c, MDB_txn *txn, const wn_fileinfo *f)
{
	char rel[160];
	uint8_t val[WN_FILEINFO_BYTES];
	wn_file_relpath(rel, sizeof rel, f->role, wn_catalog_kind_name(c, f->kind), f->seq);
	wn_fileinfo_pack(val, f, rel);
	MDB_val k = { strlen(rel), rel }, v = { WN_FILEINFO_BYTES, val };
	int rc = mdb_put(txn, c->db_files, &k, &v, 0);
	if (rc)
		return wn_lmdb_err(c, rc, "files");
	if (f->has_sha256) {
		char key[200];
		snprintf(key, sizeof key, "sha256:%s", rel);
		return wn_meta_put(c, txn, key, f->sha256, 32);
	}
	return 0;
}

/* The frames rows of the shards of p from old file p->from on: those of kept files with
 * their new number, those of rewritten ones from the writer. Rows are keyed by ordinal,
 * which does not change, so they go back in the same order. */
static int put_frames(wn_catalog *c, MDB_txn *txn, const splan *p, uint64_t from_ord)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t kb[8], val[WN_FRAMEINFO_BYTES];
	wn_frameinfo *kept = NULL;
	size_t nkept = 0, capkept = 0;
	int rc = mdb_cursor_open(txn, c->db_frames[p->kind], &cur);
	if (rc)
		return wn_lmdb_err(c, rc, "frames cursor");
	/* take out every row from from_ord on, keeping those of files that stay */
	wn_put_be64(kb, from_ord);
	k.mv_size = 8;
	k.mv_data = kb;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		wn_frameinfo fi;
		if ((rc = wn_frame_row(c, &k, &v, &fi)))
			break;
		if (WN_GROW(kept, nkept, capkept, 256)) {
			rc = WN_E_NOMEM;
			break;
		}
		kept[nkept++] = fi;
		if ((rc = mdb_cursor_del(cur, 0))) {
			rc = wn_lmdb_err(c, rc, "frames");
			break;
		}
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
	size_t ki = 0;
	for (size_t j = 0; !rc && j < p->nout; j++) {
		const ofile *o = &p->out[j];
		if (o->a < p->from && !o->rewrite)
			continue;
		size_t n = o->rewrite ? o->nframes : 0;
		for (size_t i = 0; !rc && i < n; i++) {
			wn_put_be64(kb, o->frames[i].first_ord + o->frames[i].nrec - 1);
			wn_frameinfo_pack(val, &o->frames[i]);
			MDB_val fk = { 8, kb }, fv = { WN_FRAMEINFO_BYTES, val };
			if ((rc = mdb_cursor_put(cur, &fk, &fv, MDB_APPEND)))
				rc = wn_lmdb_err(c, rc, "frames");
		}
		/* the rows of old files this output replaces, or of the one it keeps */
		uint32_t lo = p->old[o->a].seq, hi = p->old[o->b - 1].seq;
		for (; !rc && ki < nkept && kept[ki].shard_seq >= lo && kept[ki].shard_seq <= hi; ki++) {
			if (o->rewrite)
				continue;
			wn_frameinfo fi = kept[ki];
			fi.shard_seq = o->seq;
			wn_put_be64(kb, fi.first_ord + fi.nrec - 1);
			wn_frameinfo_pack(val, &fi);
			MDB_val fk = { 8, kb }, fv = { WN_FRAMEINFO_BYTES, val };
			if ((rc = mdb_cursor_put(cur, &fk, &fv, MDB_APPEND)))
				rc = wn_lmdb_err(c, rc, "frames");
		}
	}
	if (!rc && ki != nkept)
		rc = wn_seterr(c, WN_E_CORRUPT, "index: %s frames rows name shard %u, which has no files row",
			wn_catalog_kind_name(c, p->kind), kept[ki].shard_seq);
	mdb_cursor_close(cur);
	free(kept);
	return rc;
}

/* Record plan p's new layout in txn and its file operations in the journal j. */
static int commit_plan(rw *w, MDB_txn *txn, const splan *p, wn_buf *j)
{
	wn_catalog *c = w->c;
	char rel[160], to[160], key[200];
	const char *kn = wn_catalog_kind_name(c, p->kind);
	int rc = 0;
	/* the old rows from p->from on go; the moved files keep their SHA-256 */
	for (size_t i = p->from; !rc && i < p->nold; i++) {
		wn_fileinfo *f = &p->old[i];
		wn_file_relpath(rel, sizeof rel, p->role, kn, f->seq);
		MDB_val k = { strlen(rel), rel }, v;
		if ((rc = mdb_del(txn, c->db_files, &k, NULL)))
			return wn_lmdb_err(c, rc, "files");
		snprintf(key, sizeof key, "sha256:%s", rel);
		if (!(rc = wn_meta_get(c, txn, key, &v)) && v.mv_size == 32) {
			memcpy(f->sha256, v.mv_data, 32);
			f->has_sha256 = 1;
		}
		if (rc && rc != WN_E_NOTFOUND)
			return rc;
		rc = rc ? 0 : wn_meta_del(c, txn, key);
	}
	uint64_t next = 0, from_ord = UINT64_MAX;
	uint32_t maxseq = 0;
	for (size_t jx = 0; !rc && jx < p->nout; jx++) {
		const ofile *o = &p->out[jx];
		wn_fileinfo f = o->rewrite ? o->row : p->old[o->a];
		f.seq = o->seq;
		f.first_ord = next;
		next += f.nrecords;
		maxseq = o->seq;
		if (o->a < p->from && !o->rewrite)
			continue;
		if (from_ord == UINT64_MAX)
			from_ord = f.first_ord;
		if ((rc = put_row(c, txn, &f)))
			break;
		wn_file_relpath(to, sizeof to, p->role, kn, o->seq);
		if (o->rewrite) {
			rc = wn_rewrite_line(j, "put", to, NULL);
		} else if (o->seq != p->old[o->a].seq) {
			wn_file_relpath(rel, sizeof rel, p->role, kn, p->old[o->a].seq);
			rc = wn_rewrite_line(j, "move", rel, to);
			w->files_renamed++;
		}
	}
	for (size_t i = p->from; !rc && i < p->nold; i++)
		if (p->old[i].seq > maxseq) {
			wn_file_relpath(rel, sizeof rel, p->role, kn, p->old[i].seq);
			rc = wn_rewrite_line(j, "drop", rel, NULL);
			w->files_dropped++;
		}
	if (!rc && p->role == WN_ROLE_SHARD)
		rc = put_frames(c, txn, p, from_ord == UINT64_MAX ? next : from_ord);
	return rc;
}

/* The files that hold each contributor's records (meta holds.<kind>.<pseudonym>) under
 * their new numbers: a merged file holds what its sources held, a file left empty
 * nothing. */
static int remap_holds(rw *w, MDB_txn *txn, const splan *p)
{
	wn_catalog *c = w->c;
	uint32_t *to = calloc(p->nold + 1, sizeof *to);
	char prefix[WN_KIND_NAME_MAX + 16];
	char (*keys)[96] = NULL;
	size_t nkeys = 0, capkeys = 0;
	if (!to)
		return WN_E_NOMEM;
	int same = 1;
	for (size_t j = 0; j < p->nout; j++)
		for (size_t i = p->out[j].a; i < p->out[j].b; i++)
			to[i] = p->out[j].seq;
	for (size_t i = 0; i < p->nold; i++)
		same &= to[i] == i + 1;
	if (same) {
		/* (forget of records in shards: they keep their numbers) */
		free(to);
		return 0;
	}
	snprintf(prefix, sizeof prefix, "%s%s.", WN_HOLDS_PREFIX, wn_catalog_kind_name(c, p->kind));
	size_t pl = strlen(prefix);
	MDB_cursor *cur;
	MDB_val k = { pl, prefix }, v;
	int rc = mdb_cursor_open(txn, c->db_meta, &cur);
	if (rc) {
		free(to);
		return wn_lmdb_err(c, rc, "meta cursor");
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < pl || memcmp(k.mv_data, prefix, pl))
			break;
		if (k.mv_size >= sizeof *keys || WN_GROW(keys, nkeys, capkeys, 64))
			continue;
		memcpy(keys[nkeys], k.mv_data, k.mv_size);
		keys[nkeys++][k.mv_size] = 0;
	}
	mdb_cursor_close(cur);
	rc = rc == MDB_NOTFOUND || !rc ? 0 : wn_lmdb_err(c, rc, "meta");
	for (size_t i = 0; !rc && i < nkeys; i++) {
		if ((rc = wn_meta_get(c, txn, keys[i], &v)))
			break;
		size_t n = v.mv_size / WN_HOLD_ENTRY, m = 0;
		int moved = 0;
		uint8_t *e = malloc(v.mv_size + 1);
		if (!e) {
			rc = WN_E_NOMEM;
			break;
		}
		memcpy(e, v.mv_data, v.mv_size);
		for (size_t j = 0; j < n; j++) {
			uint8_t *x = e + j * WN_HOLD_ENTRY;
			uint32_t seq = wn_get_be32(x + 1);
			if (x[0] == p->role) {
				uint32_t ns = seq >= 1 && seq <= p->nold ? to[seq - 1] : 0;
				moved |= ns != seq;
				if (!ns)
					continue;
				wn_put_be32(x + 1, ns);
			}
			/* the numbers only go down, in order: the list stays sorted; merged files
			 * make neighbours equal */
			if (m && !memcmp(e + (m - 1) * WN_HOLD_ENTRY, x, WN_HOLD_ENTRY))
				continue;
			memmove(e + m++ * WN_HOLD_ENTRY, x, WN_HOLD_ENTRY);
		}
		if (moved)
			rc = m ? wn_meta_put(c, txn, keys[i], e, m * WN_HOLD_ENTRY) : wn_meta_del(c, txn, keys[i]);
		free(e);
	}
	free(keys);
	free(to);
	return rc;
}

/* The transaction: every changed plan, then the caller's own changes (forget: the maps,
 * counters, tombstone), then the journal. */
static int commit_all(rw *w, int (*more)(rw *w, MDB_txn *txn, void *ud), void *ud)
{
	wn_catalog *c = w->c;
	MDB_txn *txn;
	wn_buf j = { 0 };
	int rc = mdb_txn_begin(c->env, NULL, 0, &txn);
	if (rc)
		return wn_lmdb_err(c, rc, "begin");
	rc = wn_buf_puts(&j, "phase 1\n");
	for (size_t i = 0; !rc && i < w->nplans; i++)
		if (w->plans[i].changed && !(rc = commit_plan(w, txn, &w->plans[i], &j)))
			rc = remap_holds(w, txn, &w->plans[i]);
	if (!rc && more)
		rc = more(w, txn, ud);
	if (!rc)
		rc = wn_meta_put(c, txn, WN_REWRITE_KEY, j.p, j.len);
	wn_buf_free(&j);
	if (rc) {
		mdb_txn_abort(txn);
		unstage(w);
		return rc;
	}
	if ((rc = mdb_txn_commit(txn))) {
		unstage(w);
		return wn_lmdb_err(c, rc, "commit");
	}
	step(w, "committed");
	int done;
	char what[32];
	while (!(rc = wn_rewrite_step(c, &done)) && done) {
		snprintf(what, sizeof what, "phase %d", done);
		step(w, what);
	}
	return rc ? rc : wn_catalog_write_manifests(c);
}

static int rw_begin(rw *w, wn_catalog *c, int level, int threads, size_t frame_size)
{
	memset(w, 0, sizeof *w);
	w->c = c;
	w->level = level > 0 ? level : 3;
	w->frame_size = frame_size ? frame_size : 1u << 20;
	if (!c->writable)
		return wn_seterr(c, WN_E_USAGE, "the catalog is open read-only");
	int did, rc = wn_rewrite_finish(c, &did);
	if (rc || (did && (rc = wn_catalog_rollback(c))))
		return rc;
	if (threads < 1) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (int)n : 1;
	}
	return wn_series_pool_new(threads, &w->level, &w->pool);
}

static void rw_end(rw *w)
{
	plans_free(w);
	if (w->pool)
		wn_pool_free(w->pool);
	wn_buf_free(&w->raw);
	wn_buf_free(&w->scratch);
}

static int new_plan(rw *w, MDB_txn *txn, int role, int kind, splan **out)
{
	if (WN_GROW(w->plans, w->nplans, w->capplans, 8))
		return WN_E_NOMEM;
	splan *p = &w->plans[w->nplans++];
	memset(p, 0, sizeof *p);
	p->role = role;
	p->kind = kind;
	*out = p;
	return load_series(w, txn, p);
}

/* ---- compact ---- */

void wn_compact_opts_init(wn_compact_opts *o)
{
	memset(o, 0, sizeof *o);
	o->level = 3;
	o->frame_size = 1u << 20;
	o->shard_size = 256u << 20;
}

/* Consecutive files whose records fit in one file of shard_size bytes become one. */
static int plan_compact(splan *p, uint64_t shard_size)
{
	for (size_t i = 0; i < p->nold;) {
		size_t e = i + 1;
		uint64_t raw = p->old[i].raw_bytes;
		while (e < p->nold && raw + p->old[e].raw_bytes <= shard_size)
			raw += p->old[e++].raw_bytes;
		if (add_out(p, i, e, e - i > 1))
			return WN_E_NOMEM;
		i = e;
	}
	mark_changes(p);
	return 0;
}

int wn_compact(wn_catalog *c, const wn_compact_opts *o, wn_compact_result *res)
{
	wn_compact_result r0, *r = res ? res : &r0;
	memset(r, 0, sizeof *r);
	double t0 = wn_now();
	if (o->frame_size < 4096 || o->frame_size > (1u << 30) || o->shard_size < o->frame_size)
		return wn_seterr(c, WN_E_USAGE, "frame size 4K to 1G, shard size at least the frame size");
	rw w;
	int rc = rw_begin(&w, c, o->level, o->threads, o->frame_size);
	w.on_step = o->on_step;
	w.step_ud = o->step_ud;
	w.cancel = o->cancel;
	int kind = -1;
	if (!rc && o->kind && (kind = wn_catalog_kind(c, NULL, o->kind, 0)) < 0)
		rc = kind;
	MDB_txn *txn = NULL;
	if (!rc && (rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn)))
		rc = wn_lmdb_err(c, rc, "begin");
	for (int k = 0; !rc && k < c->kinds.n; k++) {
		if (kind >= 0 && k != kind)
			continue;
		for (int role = 0; !rc && role < WN_NROLES; role++) {
			splan *p;
			if (!(rc = new_plan(&w, txn, role, k, &p)) && !(rc = plan_compact(p, o->shard_size))) {
				r->files_before += p->nold;
				r->files_after += p->nout;
			}
		}
	}
	if (txn)
		mdb_txn_abort(txn);
	int any = 0;
	for (size_t i = 0; !rc && i < w.nplans; i++)
		any |= w.plans[i].changed;
	if (!rc && any) {
		step(&w, "planned");
		if ((rc = write_all(&w)))
			unstage(&w);
		else
			rc = commit_all(&w, NULL, NULL);
	}
	r->files_written = w.files_written;
	r->files_renamed = w.files_renamed;
	r->bytes_read = w.bytes_read;
	r->bytes_written = w.bytes_written;
	r->records = w.lines;
	r->seconds = wn_now() - t0;
	rw_end(&w);
	return rc;
}

/* ---- forget ---- */

void wn_forget_opts_init(wn_forget_opts *o)
{
	memset(o, 0, sizeof *o);
	o->level = 3;
	o->frame_size = 1u << 20;
}

/* What forget takes out of one kind. */
typedef struct fkind {
	int on;                     /* the contributor holds files of this kind */
	wn_json *json;              /* parses its records, with the kind's profile */
	uint8_t *ids;               /* id entries (hash, check) of its records */
	size_t nids, capids;
	uint8_t *fps, *isrcs;       /* pairs (fingerprint key or ISRC hash, ordinal) */
	size_t nfps, capfps, nisrcs, capisrcs;
	uint64_t *ords;             /* its stored records' ordinals */
	size_t nords, capords;
	uint64_t duplicates, revisions, rejected;
} fkind;

typedef struct fg {
	rw *w;
	char hex[33];
	char shard_pre[64];         /* {"contributor":"<hex>" : how each of its records starts */
	char id_pre[40];            /* ["<hex>" : how each of its ids starts */
	fkind k[WN_KINDS_MAX];
	char date[16];
} fg;

static int push_pair(uint8_t **a, size_t *n, size_t *cap, uint64_t h, uint64_t ord)
{
	if (WN_GROW(*a, (*n + 1) * WN_PAIR_ENTRY, *cap, 4096))
		return WN_E_NOMEM;
	wn_put_be64(*a + *n * WN_PAIR_ENTRY, h);
	wn_put_be40(*a + *n * WN_PAIR_ENTRY + 8, ord);
	(*n)++;
	return 0;
}

/* A shard record of the contributor: its keys, to take out of the maps. */
static int forget_record(fg *g, const splan *p, const char *line, size_t n)
{
	wn_catalog *c = g->w->c;
	fkind *k = &g->k[p->kind];
	wn_jresult jr;
	wn_keys keys;
	char idbuf[WN_ID_BUF], why[200];
	int rc = wn_json_record(k->json, line, n, &jr);
	if (rc == WN_E_NOMEM)
		return rc;
	if (rc || wn_record_keys(&jr, wn_catalog_profile(c, p->kind), &keys, idbuf, why, sizeof why))
		return wn_seterr(c, WN_E_CORRUPT, "%s record %llu is not a valid record (winnow verify --deep)",
			wn_catalog_kind_name(c, p->kind), (unsigned long long)g->w->at);
	if (WN_GROW(k->ids, (k->nids + 1) * WN_ID_ENTRY, k->capids, 4096) || WN_GROW(k->ords, k->nords, k->capords, 1024))
		return WN_E_NOMEM;
	wn_idrec r = { .hash = keys.hash, .check = keys.check, .ord = g->w->at };
	wn_idrec_pack(k->ids + k->nids++ * WN_ID_ENTRY, &r);
	k->ords[k->nords++] = g->w->at;
	if ((rc = push_pair(&k->fps, &k->nfps, &k->capfps, wn_fp_key(keys.fp), g->w->at)))
		return rc;
	for (int i = 0; i < keys.n_isrc; i++)
		if ((rc = push_pair(&k->isrcs, &k->nisrcs, &k->capisrcs, keys.isrc_hash[i], g->w->at)))
			return rc;
	return 0;
}

/* Is a shard record whose contributor part is not its first member the contributor's? Its
 * id, as the profile takes it, starts with the pseudonym. A record that does not parse is
 * not (forget_record would refuse it; verify --deep reports it). */
static int mine_by_id(fg *g, const splan *p, const char *line, size_t n)
{
	fkind *k = &g->k[p->kind];
	wn_jresult jr;
	wn_keys keys;
	char idbuf[WN_ID_BUF];
	size_t hl = strlen(g->hex);
	if (wn_json_record(k->json, line, n, &jr) ||
	    wn_record_keys(&jr, wn_catalog_profile(g->w->c, p->kind), &keys, idbuf, NULL, 0))
		return 0;
	return keys.id_len > hl + 3 && !memcmp(keys.id, "[\"", 2) && !memcmp(keys.id + 2, g->hex, hl) &&
		keys.id[2 + hl] == '"';
}

static int forget_line(void *ud, const splan *p, const char *line, size_t n)
{
	fg *g = ud;
	wn_catalog *c = g->w->c;
	fkind *k = &g->k[p->kind];
	char rel[160];
	if (p->role == WN_ROLE_SHARD) {
		size_t pl = strlen(g->shard_pre);
		if (n < pl || memcmp(line, g->shard_pre, pl)) {
			/* no "contributor" member first: when the profile's contributor part has
			 * alternatives (the listen id's contributor|username: an export's account
			 * name, pseudonymised), the record is the contributor's if its id says so */
			int cp = wn_profile_contributor_part(wn_catalog_profile(c, p->kind));
			if (cp != 0 || !strchr(wn_catalog_profile(c, p->kind)->id[0], '|') || (n >= 15 &&
			    !memcmp(line, "{\"contributor\":", 15)) || !mine_by_id(g, p, line, n))
				return LINE_KEEP;
		}
		int rc = forget_record(g, p, line, n);
		return rc ? rc : LINE_FORGET;
	}
	if (p->role == WN_ROLE_CONTRIB) {
		/* a contribution line starts with its contributor (contrib.c, FORMAT.md 15.7) */
		size_t pl = strlen(g->shard_pre);
		return n >= pl && !memcmp(line, g->shard_pre, pl) ? LINE_DROP : LINE_KEEP;
	}
	wn_buf scratch = { 0 };
	int mine = 0, rc;
	if (p->role == WN_ROLE_LEDGER) {
		wn_ledger_entry e;
		size_t pl = strlen(g->id_pre);
		/* the head first (a scan), the whole entry only for the contributor's: the id as
		 * its JSON string, "[\"<hex>\",...]", has the prefix escaped */
		rc = wn_ledger_decode(line, n, WN_LEDGER_HEAD, &e, NULL);
		mine = !rc && e.id_json_len >= pl + 2 && e.id_json[0] == '"' && !memcmp(e.id_json + 1, g->id_pre, pl);
		if (!rc && mine)
			rc = wn_ledger_decode(line, n, WN_LEDGER_ALL, &e, &scratch);
		if (!rc && mine) {
			if (e.revision)
				k->revisions++;
			else
				k->duplicates++;
			/* a revision that lost left its fingerprint paired with the survivor */
			if (e.revision && e.superseded < 0 && e.record)
				rc = push_pair(&k->fps, &k->nfps, &k->capfps, wn_fp_key(e.fp), e.survivor);
		}
	} else {
		wn_reject_entry e;
		rc = wn_reject_decode(line, n, &e, &scratch);
		mine = !rc && e.contributor && e.contributor_len == strlen(g->hex) && !memcmp(e.contributor, g->hex, e.contributor_len);
		if (!rc && mine)
			k->rejected++;
	}
	wn_buf_free(&scratch);
	if (rc == -1) {
		wn_file_relpath(rel, sizeof rel, p->role, wn_catalog_kind_name(c, p->kind), 1);
		return wn_seterr(c, WN_E_CORRUPT, "%s entry %llu of kind %s is not an entry as winnow writes it",
			wn_role_name(p->role), (unsigned long long)g->w->at, wn_catalog_kind_name(c, p->kind));
	}
	if (rc)
		return rc;
	return mine ? LINE_DROP : LINE_KEEP;
}

static int cmp_entry13(const void *a, const void *b) { return memcmp(a, b, 13); }
static int cmp_entry32(const void *a, const void *b) { return memcmp(a, b, 10); }

/* Everything but the files: maps, superseded rows, counters, holds, tombstone. */
static int forget_commit(rw *w, MDB_txn *txn, void *ud)
{
	fg *g = ud;
	wn_catalog *c = w->c;
	char key[WN_KIND_NAME_MAX + 64];
	int rc = 0;
	for (int kd = 0; !rc && kd < c->kinds.n; kd++) {
		fkind *k = &g->k[kd];
		if (!k->on)
			continue;
		uint64_t taken, super = 0;
		/* an id's versions are all the contributor's: each one's entry goes */
		if (k->nids)
			qsort(k->ids, k->nids, WN_ID_ENTRY, cmp_entry32);
		if (k->nfps)
			qsort(k->fps, k->nfps, WN_PAIR_ENTRY, cmp_entry13);
		if (k->nisrcs)
			qsort(k->isrcs, k->nisrcs, WN_PAIR_ENTRY, cmp_entry13);
		if ((rc = wn_map_take(c, txn, kd, WN_MAP_ID, k->ids, k->nids, &taken)) ||
		    (rc = wn_map_take(c, txn, kd, WN_MAP_FP, k->fps, k->nfps, &taken)) ||
		    (rc = wn_map_take(c, txn, kd, WN_MAP_ISRC, k->isrcs, k->nisrcs, &taken)))
			break;
		for (size_t i = 0; !rc && i < k->nords; i++) {
			uint8_t kb[8];
			wn_put_be64(kb, k->ords[i]);
			MDB_val sk = { 8, kb };
			int d = mdb_del(txn, c->db_super[kd], &sk, NULL);
			if (!d)
				super++;
			else if (d != MDB_NOTFOUND)
				rc = wn_lmdb_err(c, d, "superseded");
		}
		if (rc)
			break;
		wn_kstate ks;
		uint64_t fc;
		if ((rc = wn_meta_get_kstate(c, txn, kd, &ks)) || (rc = wn_meta_forgotten(c, txn, kd, &fc)))
			break;
		uint64_t kept = k->nords - super;
		uint64_t ledger = k->duplicates + k->revisions;
		if (kept > ks.kept || super > ks.superseded || k->duplicates > ks.duplicates || k->revisions > ks.revisions ||
		    k->rejected > ks.rejected || ledger > ks.ledger_entries || k->rejected > ks.reject_entries) {
			rc = wn_seterr(c, WN_E_CORRUPT, "index: the counters of kind %s hold fewer than the files",
				wn_catalog_kind_name(c, kd));
			break;
		}
		ks.kept -= kept;
		ks.superseded -= super;
		ks.duplicates -= k->duplicates;
		ks.revisions -= k->revisions;
		ks.rejected -= k->rejected;
		ks.read -= kept + k->duplicates + k->revisions + k->rejected;
		ks.ledger_entries -= ledger;
		ks.reject_entries -= k->rejected;
		ks.runs_next = c->ks[kd].runs_next;
		ks.forgotten = fc + k->nords;
		uint8_t fb[8];
		wn_put_be64(fb, fc + k->nords);
		snprintf(key, sizeof key, "forgotten.%s", wn_catalog_kind_name(c, kd));
		if ((rc = wn_meta_put_kstate(c, txn, kd, &ks)) || (k->nords && (rc = wn_meta_put(c, txn, key, fb, 8))))
			break;
		c->ks[kd] = ks;
		snprintf(key, sizeof key, "%s%s.%s", WN_HOLDS_PREFIX, wn_catalog_kind_name(c, kd), g->hex);
		if ((rc = wn_meta_del(c, txn, key)))
			break;
		/* its contributions (contrib.c) name it too */
		rc = wn_contribs_forget(c, txn, kd, g->hex);
	}
	if (!rc) {
		char tid[33];
		wn_tombstone_id(g->hex, tid);
		snprintf(key, sizeof key, "%s%s", WN_TOMBSTONE_PREFIX, tid);
		rc = wn_meta_put(c, txn, key, g->date, strlen(g->date));
	}
	return rc;
}

/* The files of kind kd that hold the contributor's records: meta holds.<kind>.<hex>. */
static int forget_plans(rw *w, fg *g, MDB_txn *txn, int kd, uint64_t *nfiles)
{
	wn_catalog *c = w->c;
	char key[WN_KIND_NAME_MAX + 64];
	MDB_val v;
	snprintf(key, sizeof key, "%s%s.%s", WN_HOLDS_PREFIX, wn_catalog_kind_name(c, kd), g->hex);
	int rc = wn_meta_get(c, txn, key, &v);
	if (rc == WN_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (v.mv_size % WN_HOLD_ENTRY)
		return wn_seterr(c, WN_E_CORRUPT, "index: meta %s has %zu bytes", key, v.mv_size);
	size_t n = v.mv_size / WN_HOLD_ENTRY;
	uint8_t *h = malloc(v.mv_size + 1);
	if (!h)
		return WN_E_NOMEM;
	memcpy(h, v.mv_data, v.mv_size);
	g->k[kd].on = 1;
	for (int role = 0; !rc && role < WN_NROLES; role++) {
		int any = 0;
		for (size_t i = 0; i < n; i++)
			any |= h[i * WN_HOLD_ENTRY] == role;
		if (!any)
			continue;
		splan *p;
		if ((rc = new_plan(w, txn, role, kd, &p)))
			break;
		for (size_t i = 0; !rc && i < p->nold; i++) {
			int held = 0;
			for (size_t j = 0; j < n; j++)
				held |= h[j * WN_HOLD_ENTRY] == role && wn_get_be32(h + j * WN_HOLD_ENTRY + 1) == p->old[i].seq;
			*nfiles += (uint64_t)held;
			rc = add_out(p, i, i + 1, held);
		}
		if (!rc)
			mark_changes(p);
	}
	free(h);
	return rc;
}

int wn_forget(wn_catalog *c, const wn_forget_opts *o, wn_forget_result *res)
{
	wn_forget_result r0, *r = res ? res : &r0;
	memset(r, 0, sizeof *r);
	double t0 = wn_now();
	if (!o->contributor || !*o->contributor || !o->key || !o->key_len)
		return wn_seterr(c, WN_E_USAGE, "forget needs the contributor's name and the catalog's key");
	rw w;
	fg *g = calloc(1, sizeof *g);
	if (!g)
		return WN_E_NOMEM;
	int rc = rw_begin(&w, c, o->level, o->threads, o->frame_size);
	w.on_step = o->on_step;
	w.step_ud = o->step_ud;
	w.cancel = o->cancel;
	w.filter = forget_line;
	w.fud = g;
	g->w = &w;
	/* the pseudonym, with the key the catalog's profiles were made with */
	char kid[WN_KEY_ID_HEX + 1];
	wn_key_id(o->key, o->key_len, kid);
	int kinds = 0;
	for (int kd = 0; !rc && kd < c->kinds.n; kd++) {
		const wn_profile *p = wn_catalog_profile(c, kd);
		if (!p->n_pseudo)
			continue;
		if (strcmp(p->key_id, kid)) {
			rc = wn_seterr(c, WN_E_MISMATCH, "the key is not the one the %s records were made with (key id %s, "
				"the catalog's %s)", wn_catalog_kind_name(c, kd), kid, p->key_id);
			break;
		}
		char hex[33];
		wn_xform *x = wn_xform_new(p, o->key, o->key_len);
		if (!x || wn_xform_set_contributor(x, o->contributor) || wn_xform_contributor(x, hex))
			rc = WN_E_NOMEM;
		wn_xform_free(x);
		if (rc)
			break;
		if (kinds++ && strcmp(hex, g->hex))
			rc = wn_seterr(c, WN_E_CORRUPT, "the kinds' profiles give the contributor two pseudonyms");
		memcpy(g->hex, hex, sizeof hex);
		if (!(g->k[kd].json = wn_json_new()) || (rc = wn_record_parser(g->k[kd].json, p, WN_RECORD_FP)))
			rc = rc ? rc : WN_E_NOMEM;
	}
	if (!rc && !kinds)
		rc = wn_seterr(c, WN_E_USAGE, "%s: no kind of the catalog pseudonymises its records: it has no contributors",
			c->dir);
	snprintf(g->shard_pre, sizeof g->shard_pre, "{\"contributor\":\"%s\"", g->hex);
	snprintf(g->id_pre, sizeof g->id_pre, "[\\\"%s\\\"", g->hex);
	memcpy(r->pseudonym, g->hex, sizeof r->pseudonym);
	time_t now = o->now ? (time_t)o->now : time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(g->date, sizeof g->date, "%Y-%m-%d", &tm);
	MDB_txn *txn = NULL;
	if (!rc && (rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn)))
		rc = wn_lmdb_err(c, rc, "begin");
	for (int kd = 0; !rc && kd < c->kinds.n; kd++)
		if (g->k[kd].json)
			rc = forget_plans(&w, g, txn, kd, &r->files_rewritten);
	if (!rc) {
		char key[64];
		MDB_val v;
		char tid[33];
		wn_tombstone_id(g->hex, tid);
		snprintf(key, sizeof key, "%s%s", WN_TOMBSTONE_PREFIX, tid);
		int t = wn_meta_get(c, txn, key, &v);
		r->already = !t;
		if (t && t != WN_E_NOTFOUND)
			rc = t;
	}
	if (txn)
		mdb_txn_abort(txn);
	if (!rc) {
		step(&w, "planned");
		if ((rc = write_all(&w)))
			unstage(&w);
		else
			rc = commit_all(&w, forget_commit, g);
	}
	for (int kd = 0; kd < WN_KINDS_MAX; kd++) {
		fkind *k = &g->k[kd];
		r->records += k->nords;
		r->ledger_entries += k->duplicates + k->revisions;
		r->rejects += k->rejected;
		wn_json_free(k->json);
		free(k->ids);
		free(k->fps);
		free(k->isrcs);
		free(k->ords);
	}
	r->bytes_read = w.bytes_read;
	r->bytes_written = w.bytes_written;
	r->seconds = wn_now() - t0;
	rw_end(&w);
	free(g);
	return rc;
}
