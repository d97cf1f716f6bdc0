/*
 * verify_files.c - the files a check is about: the table of them (by path, from
 * MANIFEST, SHA256SUMS, MANIFEST.json, the index and the role folders), what their names
 * say (role, kind, number), opening them without leaving the folder, reading the
 * manifests into the table (through manifest.c), finding files nobody listed, choosing
 * which to read, hashing each whole file (the fast-mode task) and comparing what a file
 * is with what the manifests and the index say of it.
 *
 * Paths read from manifests are never opened if they are absolute or contain "..", and
 * files are opened with wn_open_in (util.c: no symbolic link in any component, nothing but
 * a regular file), so a manifest or a planted link cannot make us read outside the folder,
 * and a FIFO cannot make us wait.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "verify.h"

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* ---- the file table ---- */

vfile *wn_vfile_find(vctx *x, const char *path)
{
	if (!x->htcap)
		return NULL;
	for (size_t i = fnv(path) & (x->htcap - 1);; i = (i + 1) & (x->htcap - 1)) {
		if (!x->ht[i])
			return NULL;
		if (!strcmp(x->ht[i]->path, path))
			return x->ht[i];
	}
}

static int ht_insert(vctx *x, vfile *f)
{
	if ((x->nf + 1) * 2 > x->htcap) {
		size_t cap = x->htcap ? x->htcap * 2 : 64;
		vfile **t = calloc(cap, sizeof *t);
		if (!t)
			return WN_E_NOMEM;
		for (size_t i = 0; i < x->htcap; i++) {
			if (!x->ht[i])
				continue;
			size_t j = fnv(x->ht[i]->path) & (cap - 1);
			while (t[j])
				j = (j + 1) & (cap - 1);
			t[j] = x->ht[i];
		}
		free(x->ht);
		x->ht = t;
		x->htcap = cap;
	}
	size_t j = fnv(f->path) & (x->htcap - 1);
	while (x->ht[j])
		j = (j + 1) & (x->htcap - 1);
	x->ht[j] = f;
	return 0;
}

/* Parse "<role dir>/<kind>-<seq>.jsonl.zst": a kind of the catalog's, or, in a bare
 * folder, any kind name (added to the table). */
static void name_parse(vctx *x, vfile *f)
{
	f->role = f->kind = -1;
	f->seq = 0;
	for (int r = 0; r < WN_NROLES; r++) {
		size_t rl = strlen(wn_role_dir(r)), kl;
		uint32_t seq;
		if (strncmp(f->path, wn_role_dir(r), rl) || f->path[rl] != '/' || wn_kind_file_name(f->path + rl + 1, &kl, &seq))
			continue;
		const char *n = f->path + rl + 1;
		int k = x->c ? wn_kinds_find(&x->kinds, n, kl) : wn_kinds_add(&x->kinds, n, kl);
		if (k < 0)
			return;
		f->role = r;
		f->kind = k;
		f->seq = seq;
		return;
	}
}

vfile *wn_vfile_get(vctx *x, const char *path)
{
	vfile *f = wn_vfile_find(x, path);
	if (f)
		return f;
	if (WN_GROW(x->f, x->nf, x->capf, 64))
		return NULL;
	f = calloc(1, sizeof *f);
	if (!f || !(f->path = strdup(path))) {
		free(f);
		return NULL;
	}
	if (ht_insert(x, f)) {
		free(f->path);
		free(f);
		return NULL;
	}
	name_parse(x, f);
	f->j.role = f->j.kind = -1;
	x->f[x->nf++] = f;
	return f;
}

void wn_vfile_free(vfile *f)
{
	if (!f)
		return;
	for (uint32_t i = 0; f->fr && i < f->nfr; i++) {
		free(f->fr[i].recs);
		free(f->fr[i].rflags);
	}
	free(f->fr);
	free(f->olist);
	free(f->path);
	wn_vprob_free_shown(f->shown);
	free(f);
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp((*(vfile *const *)a)->path, (*(vfile *const *)b)->path);
}

/* Normalise a path read from a manifest into out (cap bytes): relative, no "." or empty
 * segments. Returns NULL, or why it is refused (absolute, "..", empty, too long). */
const char *wn_vpath_norm(const char *p, size_t n, char *out, size_t cap)
{
	if (!n)
		return "empty path";
	if (memchr(p, 0, n))
		return "path contains a NUL byte";
	if (p[0] == '/')
		return "absolute path";
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && p[j] != '/')
			j++;
		size_t sl = j - i;
		if (sl == 2 && p[i] == '.' && p[i + 1] == '.')
			return "path goes up (\"..\")";
		if (sl && !(sl == 1 && p[i] == '.')) {
			if (o + sl + 2 > cap)
				return "path too long";
			if (o)
				out[o++] = '/';
			memcpy(out + o, p + i, sl);
			o += sl;
		}
		i = j + 1;
	}
	if (!o)
		return "empty path";
	out[o] = 0;
	return NULL;
}

static int selected(vctx *x, const char *path)
{
	if (!x->o->only || !x->o->n_only)
		return 1;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t i = 0; i < x->o->n_only; i++) {
		const char *pat = x->o->only[i];
		if (!pat)
			continue;
		if (!fnmatch(pat, path, 0) || !fnmatch(pat, base, 0))
			return 1;
	}
	return 0;
}

/* Open a file of the folder for reading without leaving it (wn_open_in: no link in any
 * component, nothing but a regular file, so a FIFO cannot block). Returns fd, or -errno,
 * or a WN_OPEN_* refusal. */
int wn_vopen_in(vctx *x, const char *rel)
{
	return wn_open_in(x->dirfd, rel, O_RDONLY, 0);
}

int wn_vread_text(const char *path, wn_buf *b)
{
	return wn_read_text(path, b, MAX_TEXT);
}

/* A printable excerpt of untrusted text for a message: at most 60 bytes, anything but
 * printable ASCII shown as '?'. */
const char *wn_vsnip(char *out, size_t cap, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 4 < cap && i < 60; i++)
		out[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (n > 60 && o + 4 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = 0;
	return out;
}

/* ---- MANIFEST and SHA256SUMS ---- */

typedef const char *(*line_parser)(const char *, size_t, const char **, size_t *, uint8_t *);

/* Read a checksum file line by line. which: 0 MANIFEST, 1 SHA256SUMS. */
int wn_vload_sumfile(vctx *x, const wn_buf *b, int which)
{
	const char *name = which ? "SHA256SUMS" : "MANIFEST";
	line_parser parse = which ? wn_manifest_parse_sha : wn_manifest_parse_xxh;
	unsigned lineno = 0;
	char s1[80], norm[4096];
	for (const char *p = b->p, *end = b->p + b->len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		size_t n = (size_t)(le - p);
		const char *path = NULL, *why;
		size_t plen = 0;
		uint8_t h[32];
		lineno++;
		if (n > 65536)
			why = "line too long";
		else if (n && p[n - 1] == '\r')
			why = "line ends with a carriage return";
		else if (memchr(p, 0, n))
			why = "line contains a NUL byte";
		else
			why = parse(p, n, &path, &plen, h);
		if (why) {
			wn_vprob(x, PK_METADATA, &NOLOC, "%s line %u is malformed: %s: \"%s\"", name, lineno, why, wn_vsnip(s1, sizeof s1, p, n));
		} else if ((why = wn_vpath_norm(path, plen, norm, sizeof norm))) {
			wn_vprob(x, PK_METADATA, &NOLOC, "%s line %u: %s (\"%s\"): refused, not opened", name, lineno, why,
				wn_vsnip(s1, sizeof s1, path, plen));
		} else {
			vfile *f = wn_vfile_get(x, norm);
			if (!f)
				return WN_E_NOMEM;
			vloc l = at_file(f);
			if (which ? f->have_sum : f->listed) {
				wn_vprob(x, PK_METADATA, &l, "%s line %u lists the file a second time", name, lineno);
			} else if (which) {
				f->have_sum = 1;
				memcpy(f->sum_sha, h, 32);
			} else {
				f->listed = 1;
				f->line = lineno;
				memcpy(f->xxh, h, 16);
			}
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* ---- MANIFEST.json, catalog.json (read by manifest.c) ---- */

/* Check that text is one valid JSON object; a problem if not. 1 valid, 0 not, <0 error. */
static int json_valid(vctx *x, const char *name, const wn_buf *b)
{
	wn_json *jp = wn_json_new();
	if (!jp)
		return WN_E_NOMEM;
	wn_jresult jr;
	int rc = wn_json_record(jp, b->p, b->len, &jr);
	wn_json_free(jp);
	if (rc == WN_E_NOMEM)
		return rc;
	if (rc) {
		wn_vprob(x, PK_METADATA, &NOLOC, "%s is not a valid JSON object: %s at byte %zu", name, jr.err, jr.err_offset);
		return 0;
	}
	return 1;
}

typedef struct mjdoc {
	vctx *x;
	const char *name;
} mjdoc;

/* One element of MANIFEST.json's files[]: each member it lacks or cannot use is a
 * problem that names the line and the member. */
static int mj_file(void *ud, size_t idx, const char *path, size_t plen, int have_path, const wn_mfile *m)
{
	vctx *x = ((const mjdoc *)ud)->x;
	char norm[4096], s1[80];
	const char *why = have_path ? wn_vpath_norm(path, plen, norm, sizeof norm) : NULL;
	if (!have_path) {
		wn_vprob(x, PK_METADATA, &NOLOC, "MANIFEST.json line %u: files[%zu]: \"path\" %s: refused, not opened", m->line,
			idx, m->why[WN_MF_PATH]);
		return 0;
	}
	if (why) {
		wn_vprob(x, PK_METADATA, &NOLOC, "MANIFEST.json line %u: files[%zu]: %s (\"%s\"): refused, not opened", m->line,
			idx, why, wn_vsnip(s1, sizeof s1, path, plen));
		return 0;
	}
	vfile *f = wn_vfile_get(x, norm);
	if (!f)
		return WN_E_NOMEM;
	vloc l = at_file(f);
	if (f->have_json) {
		wn_vprob(x, PK_METADATA, &l, "MANIFEST.json line %u lists the file a second time (files[%zu])", m->line, idx);
		return 0;
	}
	for (int i = 0; i < WN_MF_N; i++)
		if (m->why[i])
			wn_vprob(x, PK_METADATA, &l, "MANIFEST.json line %u: \"%s\" %s", m->line, wn_mfield_name(i), m->why[i]);
	f->j = *m;
	f->have_json = 1;
	return 0;
}

static void mj_version(void *ud, const char *key)
{
	const mjdoc *d = ud;
	wn_vprob(d->x, PK_METADATA, &NOLOC, "%s: %s is not 1 (this winnow reads version 1)", d->name, key);
}

static void mj_field(void *ud, unsigned line, const char *field, const char *why)
{
	const mjdoc *d = ud;
	vctx *x = d->x;
	/* catalog mode: a kind of the catalog's that the manifests do not count yet is told
	 * with the counts, once it is known whether they may lag behind (verify_counts.c) */
	int k = x->c && !strncmp(field, "counts.", 7) && !strcmp(why, "is missing") ?
		wn_kinds_find(&x->kinds, field + 7, strlen(field + 7)) : -1;
	if (k >= WN_NBUILTIN_KINDS) {
		x->uncounted[k] |= strcmp(d->name, "catalog.json") ? 1 : 2;
		return;
	}
	wn_vprob(x, PK_METADATA, &NOLOC, "%s line %u: \"%s\" %s", d->name, line, field, why);
}

/* Read MANIFEST.json (catalog 0) or catalog.json (1) into *m; *have: it is there and is
 * JSON. 0, or WN_E_NOMEM. */
static int load_mjson(vctx *x, int catalog, int *have, wn_mjson *m)
{
	wn_buf b = { 0 };
	char path[4400];
	const char *name = catalog ? "catalog.json" : "MANIFEST.json";
	if (catalog)
		snprintf(path, sizeof path, "%s/catalog.json", x->mdir);
	else
		snprintf(path, sizeof path, "%s.json", x->manifest);
	int e = wn_vread_text(path, &b);
	if (e) {
		if (e != ENOENT || x->c)
			wn_vprob(x, PK_METADATA, &NOLOC, "%s: %s", name, wn_open_why(e));
		wn_buf_free(&b);
		return 0;
	}
	int rc = json_valid(x, name, &b);
	if (rc > 0) {
		mjdoc d = { x, name };
		wn_mjson_cb cb = { .file = catalog ? NULL : mj_file, .version = mj_version, .field = mj_field,
			.catalog = catalog, .kinds = x->c ? &x->mkinds : &x->kinds, .ud = &d };
		*have = 1;
		rc = wn_mjson_read(b.p, b.len, &cb, m);
		if (!rc && m->bad)
			wn_vprob(x, PK_METADATA, &NOLOC, "%s: unexpected layout near byte %zu", name, m->bad_at);
	}
	wn_buf_free(&b);
	return rc < 0 ? rc : 0;
}

int wn_vload_manifests_json(vctx *x)
{
	wn_mjson mj, cj;
	x->interrupted = -1;
	int rc = load_mjson(x, 0, &x->have_mjson, &mj);
	/* catalog mode: the manifests name no kind the index does not have */
	for (int k = x->kinds.n; !rc && x->c && k < x->mkinds.n; k++)
		wn_vprob(x, PK_METADATA, &NOLOC, "MANIFEST.json names the kind %s, which the index does not have",
			x->mkinds.name[k]);
	int nmk = x->mkinds.n;
	if (!rc && x->have_mjson) {
		x->mj_counts = mj.have_counts;
		memcpy(x->mjc, mj.counts, sizeof x->mjc);
		memcpy(x->mjf, mj.forgotten, sizeof x->mjf);
		x->mj_have_gen = mj.have_generation;
		x->mj_gen = mj.generation;
	}
	if (!rc)
		rc = load_mjson(x, 1, &x->have_cjson, &cj);
	for (int k = nmk; !rc && x->c && k < x->mkinds.n; k++)
		wn_vprob(x, PK_METADATA, &NOLOC, "catalog.json names the kind %s, which the index does not have",
			x->mkinds.name[k]);
	if (!rc && x->have_cjson) {
		x->cj_counts = cj.have_counts;
		memcpy(x->cjc, cj.counts, sizeof x->cjc);
		memcpy(x->cjf, cj.forgotten, sizeof x->cjf);
		x->cj_have_gen = cj.have_generation;
		x->cj_gen = cj.generation;
		x->interrupted = cj.interrupted;
	}
	return rc;
}

/* Is a writer at work on the catalog right now? (Its MANIFEST may then lag behind.) */
int wn_vwriter_active(vctx *x)
{
	if (!x->c || x->c->writable)
		return 0;
	int fd = wn_open_in(x->dirfd, "index/writer.lock", O_RDONLY, 0);
	if (fd < 0)
		return 0;
	int busy = flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

/* ---- files nobody listed ---- */

/* Is rel "<role dir>/<kind>-<seq>.jsonl.zst" for any kind name? */
static int data_name(const char *rel)
{
	size_t kl;
	uint32_t seq;
	for (int r = 0; r < WN_NROLES; r++) {
		size_t rl = strlen(wn_role_dir(r));
		if (!strncmp(rel, wn_role_dir(r), rl) && rel[rl] == '/' && !wn_kind_file_name(rel + rl + 1, &kl, &seq))
			return 1;
	}
	return 0;
}

static int scan_folder(vctx *x, const char *folder, uint32_t maxseq[WN_NROLES][WN_KINDS_MAX])
{
	int dfd = openat(x->dirfd, folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return 0;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	struct dirent *de;
	char rel[4400];
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(rel, sizeof rel, "%s/%s", folder, de->d_name);
		vfile *f = wn_vfile_find(x, rel);
		if (f && (f->listed || f->have_row || f->have_json || f->have_sum))
			continue;
		if (!selected(x, rel))
			continue;
		vfile probe;
		memset(&probe, 0, sizeof probe);
		probe.path = rel;
		name_parse(x, &probe);
		struct stat st;
		int isdir = !fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISDIR(st.st_mode);
		if (!(f = wn_vfile_get(x, rel))) {
			closedir(d);
			return WN_E_NOMEM;
		}
		vloc l = at_file(f);
		int past = !isdir && probe.role >= 0 && probe.seq > maxseq[probe.role][probe.kind];
		if (!x->c && x->interrupted == 1 && past)
			wn_vprob(x, PK_NOTE, &l, "not in MANIFEST: the unsealed file of an interrupted run (catalog.json); not checked");
		else if (x->writer_active && (probe.role >= 0 || data_name(rel)))
			/* (of a kind the snapshot knows, or of one the running ingest has just added) */
			wn_vprob(x, PK_NOTE, &l, "not in MANIFEST or the index: a file an ingest running now is writing; not checked");
		else if (x->c && past && x->pending_kind[probe.kind])
			/* a run of the kind was interrupted, and the file is past the highest number the
			 * index knows in its series: written after that run's last checkpoint (before its
			 * first, if there is none), holding nothing committed; the next writer removes it
			 * (FORMAT.md 11.5). Elsewhere such a file is extra. */
			wn_vprob(x, PK_NOTE, &l, "not in the index: written by an interrupted run after its last checkpoint; "
				"the next ingest removes it; not checked");
		else
			wn_vprob(x, PK_EXTRA, &l, "%s that MANIFEST does not list", isdir ? "a folder" : "a file");
	}
	closedir(d);
	return 0;
}

int wn_vscan_extras(vctx *x)
{
	uint32_t maxseq[WN_NROLES][WN_KINDS_MAX] = { { 0 } };
	char (*folders)[256] = calloc(x->nf + WN_NROLES, sizeof *folders);
	size_t nfold = 0;
	if (!folders)
		return WN_E_NOMEM;
	for (int r = 0; r < WN_NROLES; r++)
		snprintf(folders[nfold++], 256, "%s", wn_role_dir(r));
	size_t nfiles = x->nf;
	for (size_t i = 0; i < nfiles; i++) {
		vfile *f = x->f[i];
		if ((f->listed || f->have_row) && f->role >= 0 && f->seq > maxseq[f->role][f->kind])
			maxseq[f->role][f->kind] = f->seq;
		const char *sl = strchr(f->path, '/');
		if (!sl || (size_t)(sl - f->path) >= 255 || !(f->listed || f->have_row))
			continue;
		size_t fl = (size_t)(sl - f->path), j;
		for (j = 0; j < nfold; j++)
			if (strlen(folders[j]) == fl && !memcmp(folders[j], f->path, fl))
				break;
		if (j == nfold) {
			memcpy(folders[nfold], f->path, fl);
			folders[nfold++][fl] = 0;
		}
	}
	int rc = 0;
	for (size_t j = 0; j < nfold && !rc; j++)
		rc = scan_folder(x, folders[j], maxseq);
	free(folders);
	return rc;
}

/* ---- which files to read ---- */

static uint64_t expected_bytes(const vfile *f)
{
	if (f->have_json && f->j.have[WN_MF_BYTES])
		return f->j.bytes;
	if (f->have_row)
		return f->row.sealed ? f->row.size : f->row.data_len;
	return 0;
}

int wn_vplan_files(vctx *x)
{
	if (x->nf)
		qsort(x->f, x->nf, sizeof *x->f, cmp_file);
	for (size_t i = 0; i < x->nf; i++)
		x->f[i]->order = (int)i;
	for (size_t i = 0; i < x->nf; i++) {
		vfile *f = x->f[i];
		if (!f->listed && !f->have_row)
			continue;
		f->sealed = f->listed || f->row.sealed;
		vloc l = at_file(f);
		if (!selected(x, f->path)) {
			x->res->files_skipped++;
			x->res->bytes_skipped += expected_bytes(f);
			continue;
		}
		int fd = wn_vopen_in(x, f->path);
		if (fd < 0) {
			int e = -fd;
			f->absent = e == ENOENT;
			if (e == ENOENT && x->o->ignore_missing) {
					x->res->files_skipped++;
				x->res->bytes_skipped += expected_bytes(f);
			} else if (e == ENOENT && !f->sealed && x->writer_active) {
				wn_vprob(x, PK_NOTE, &l, "not there yet: a file an ingest running now is writing");
			} else if (e == ENOENT) {
				if (f->listed)
					wn_vprob(x, PK_MISSING, &l, "the file is missing (MANIFEST line %u)", f->line);
				else
					wn_vprob(x, PK_MISSING, &l, "the file is missing (the index has a row for it)");
			} else if (fd == WN_OPEN_SYMLINK || fd == WN_OPEN_OUTSIDE) {
				wn_vprob(x, PK_METADATA, &l, "refused: %s", wn_open_why(fd));
			} else if (fd == WN_OPEN_NOTREG) {
				wn_vprob(x, PK_MISSING, &l, "not a regular file (not opened)");
			} else {
				wn_vprob(x, PK_MISSING, &l, "cannot open: %s", wn_open_why(fd));
			}
			continue;
		}
		struct stat st;
		int bad = fstat(fd, &st);
		close(fd);
		if (bad) {
			wn_vprob(x, PK_MISSING, &l, "cannot open: %s", strerror(errno));
			continue;
		}
		f->size = (uint64_t)st.st_size;
		f->checked = 1;
		x->res->files_checked++;
		if (f->sealed) {
			f->want_hash = 1;
			f->want_sha = f->have_sum || f->have_meta_sha;
			continue;
		}
		/* an unsealed file: its committed bytes are what counts */
		if (x->writer_active)
			wn_vprob(x, PK_NOTE, &l, "unsealed: an ingest running now is writing it; its %llu committed bytes are checked",
				(unsigned long long)f->row.data_len);
		else
			wn_vprob(x, PK_NOTE, &l, "unsealed: left by an interrupted ingest run, not in MANIFEST; its %llu committed bytes "
				"are checked (the next ingest seals it)", (unsigned long long)f->row.data_len);
		if (f->size < f->row.data_len) {
			l.offset = (int64_t)f->size;
			l.length = f->row.data_len - f->size;
			wn_vprob(x, PK_TRUNCATED, &l, "the file has %llu bytes, fewer than the %llu committed bytes",
				(unsigned long long)f->size, (unsigned long long)f->row.data_len);
		}
		x->res->bytes_checked += f->row.data_len < f->size ? f->row.data_len : f->size;
	}
	return 0;
}

/* A parser set up as ingest sets it up for this kind (record.c). */
static int json_for_kind(wn_catalog *c, int kind, wn_json **out)
{
	wn_json *j = wn_json_new();
	*out = j;
	return j ? wn_record_parser(j, wn_catalog_profile(c, kind), WN_RECORD_FP) : WN_E_NOMEM;
}

int wn_vworker_init(vctx *x, vworker *w)
{
	memset(w, 0, sizeof *w);
	w->x = x;
	w->fd = -1;
	w->dctx = ZSTD_createDCtx();
	w->hasher = wn_hasher_new();
	if (!w->dctx || !w->hasher)
		return WN_E_NOMEM;
	if (x->c && x->deep)
		for (int k = 0; k < x->kinds.n; k++) {
			int rc = json_for_kind(x->c, k, &w->json[k]);
			if (rc)
				return rc;
		}
	return 0;
}

void wn_vworker_free(vworker *w)
{
	ZSTD_freeDCtx(w->dctx);
	wn_hasher_free(w->hasher);
	free(w->in);
	free(w->out);
	free(w->lend);
	for (int k = 0; k < WN_KINDS_MAX; k++)
		wn_json_free(w->json[k]);
	if (w->fd >= 0)
		close(w->fd);
}

int wn_vworker_fd(vworker *w, vfile *f)
{
	if (w->fd >= 0 && w->fd_file == f)
		return w->fd;
	if (w->fd >= 0)
		close(w->fd);
	w->fd_file = f;
	w->fd = wn_vopen_in(w->x, f->path);
	return w->fd;
}

int wn_vgrow(void **p, size_t *cap, size_t need)
{
	if (*cap >= need)
		return 0;
	size_t c = *cap ? *cap : 1 << 16;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c);
	if (!q)
		return WN_E_NOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/* After each chunk a file's hash reads: progress, and every 64 MiB a look at the cancel flag. */
static int hash_step(uint64_t done, size_t n, void *ud)
{
	vctx *x = ud;
	atomic_fetch_add(&x->bytes_done, (uint64_t)n);
	return !(done & ((64u << 20) - 1)) && cancelled(x);
}

void wn_vtask_hash(vworker *w, vfile *f)
{
	vctx *x = w->x;
	vloc l = at_file(f);
	int fd = wn_vopen_in(x, f->path);
	if (fd < 0) {
		wn_vprob(x, PK_MISSING, &l, "cannot open: %s", wn_open_why(fd));
		return;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	uint64_t off = 0;
	int rc = wn_hasher_fd(w->hasher, fd, f->got_xxh, f->want_sha ? f->got_sha : NULL, &off, hash_step, x);
	close(fd);
	if (rc == WN_E_INTERRUPTED)
		return;
	if (rc) {
		l.offset = (int64_t)off;
		wn_vprob(x, PK_CHECKSUM, &l, "read error at byte %llu: %s", (unsigned long long)off, strerror(rc));
		return;
	}
	f->got_size = off;
	f->hashed = 1;
}

/* ---- what the files say, compared with what the manifests and the index say ---- */

void wn_vcheck_file(vctx *x, vfile *f)
{
	char a[65], b[65];
	vloc l = at_file(f);
	/* the manifests and the index against each other */
	if (!f->listed && (f->have_json || (f->have_row && f->row.sealed))) {
		const char *who = f->have_json && f->have_row && f->row.sealed ? "MANIFEST.json and the index have it" :
			f->have_json ? "MANIFEST.json has it" : "the index has it, sealed";
		if (f->have_row && f->row.sealed && x->stale)
			wn_vprob(x, PK_NOTE, &l, "not in MANIFEST yet (%s; an ingest is running or was interrupted)", who);
		else
			wn_vprob(x, PK_METADATA, &l, "MANIFEST does not list the file (%s)", who);
	}
	if (f->listed && x->have_mjson && !f->have_json)
		wn_vprob(x, PK_METADATA, &l, "MANIFEST line %u lists the file, MANIFEST.json does not", f->line);
	if (f->have_sum && !f->listed)
		wn_vprob(x, PK_METADATA, &l, "SHA256SUMS lists the file, MANIFEST does not");
	if (f->listed && x->have_sums && !f->have_sum)
		wn_vprob(x, PK_METADATA, &l, "MANIFEST line %u lists the file, SHA256SUMS does not", f->line);
	if (f->listed && f->have_json && f->j.have[WN_MF_XXH128] && memcmp(f->j.xxh128, f->xxh, 16)) {
		wn_hex(a, f->xxh, 16), wn_hex(b, f->j.xxh128, 16);
		wn_vprob(x, PK_METADATA, &l, "MANIFEST says XXH128 %s, MANIFEST.json %s", a, b);
	}
	if (f->have_sum && f->have_json && f->j.have[WN_MF_SHA256] && memcmp(f->j.sha256, f->sum_sha, 32))
		wn_vprob(x, PK_METADATA, &l, "SHA256SUMS and MANIFEST.json give different SHA-256");
	if (f->listed && f->role >= 0 && f->have_json &&
	    ((f->j.role >= 0 && f->j.role != f->role) || (f->j.kind >= 0 && f->j.kind != f->kind)))
		wn_vprob(x, PK_METADATA, &l, "MANIFEST.json gives the file another role or kind than its name");
	if (f->have_row) {
		if (f->role < 0)
			wn_vprob(x, PK_IXMISMATCH, &l, "index: a files row under a name that is not a data file's of a kind the "
				"catalog has");
		if (f->role >= 0 && (f->row.role != f->role || f->row.kind != f->kind || f->row.seq != f->seq))
			wn_vprob(x, PK_IXMISMATCH, &l, "index: the files row says role %u, kind %u, number %u, unlike the file's name",
				f->row.role, f->row.kind, f->row.seq);
		if (f->row.sealed && f->listed && memcmp(f->row.xxh128, f->xxh, 16)) {
			wn_hex(a, f->xxh, 16), wn_hex(b, f->row.xxh128, 16);
			wn_vprob(x, PK_METADATA, &l, "MANIFEST line %u says XXH128 %s, the index %s", f->line, a, b);
		}
		if (f->row.sealed && f->have_json && f->j.have[WN_MF_BYTES] && f->j.bytes != f->row.size)
			wn_vprob(x, PK_METADATA, &l, "MANIFEST.json says %llu bytes, the index %llu", (unsigned long long)f->j.bytes,
				(unsigned long long)f->row.size);
		if (f->row.sealed && f->have_sum && f->have_meta_sha && memcmp(f->meta_sha, f->sum_sha, 32))
			wn_vprob(x, PK_METADATA, &l, "SHA256SUMS and the index give different SHA-256");
		if (!x->deep && f->have_json && f->row.sealed) {
			/* fast mode: the counts of MANIFEST.json against the index's (deep mode counts) */
			if (f->j.have[WN_MF_RECORDS] && f->j.records != f->row.nrecords)
				wn_vprob(x, PK_COUNT, &l, "MANIFEST.json says %llu records, the index %llu", (unsigned long long)f->j.records,
					(unsigned long long)f->row.nrecords);
			if (f->j.have[WN_MF_FRAMES] && f->j.frames != f->row.nframes)
				wn_vprob(x, PK_COUNT, &l, "MANIFEST.json says %llu frames, the index %u", (unsigned long long)f->j.frames,
					f->row.nframes);
			if (f->j.have[WN_MF_RAW_BYTES] && f->j.raw_bytes != f->row.raw_bytes)
				wn_vprob(x, PK_COUNT, &l, "MANIFEST.json says %llu raw bytes, the index %llu", (unsigned long long)f->j.raw_bytes,
					(unsigned long long)f->row.raw_bytes);
		}
	}
	if (!f->checked || !f->sealed)
		return;
	/* the file against them */
	uint64_t want = f->have_json && f->j.have[WN_MF_BYTES] ? f->j.bytes : f->have_row && f->row.sealed ? f->row.size : f->size;
	const char *src = f->have_json && f->j.have[WN_MF_BYTES] ? "MANIFEST.json" : "the index";
	uint64_t size = f->hashed ? f->got_size : f->size;
	if (size < want) {
		l.offset = (int64_t)size;
		l.length = want - size;
		wn_vprob(x, PK_TRUNCATED, &l, "the file has %llu bytes, %s says %llu: the last %llu are missing",
			(unsigned long long)size, src, (unsigned long long)want, (unsigned long long)(want - size));
		l = at_file(f);
	} else if (size > want) {
		l.offset = (int64_t)want;
		l.length = size - want;
		wn_vprob(x, PK_SIZE, &l, "the file has %llu bytes, %s says %llu", (unsigned long long)size, src,
			(unsigned long long)want);
		l = at_file(f);
	}
	if (!f->hashed)
		return;
	x->res->bytes_checked += f->got_size;
	if (f->listed && memcmp(f->got_xxh, f->xxh, 16)) {
		wn_hex(a, f->got_xxh, 16), wn_hex(b, f->xxh, 16);
		wn_vprob(x, PK_CHECKSUM, &l, "XXH128 is %s, MANIFEST line %u says %s", a, f->line, b);
	} else if (!f->listed && f->have_row && memcmp(f->got_xxh, f->row.xxh128, 16)) {
		wn_hex(a, f->got_xxh, 16), wn_hex(b, f->row.xxh128, 16);
		wn_vprob(x, PK_CHECKSUM, &l, "XXH128 is %s, the index says %s", a, b);
	}
	if (f->want_sha) {
		const uint8_t *ws = f->have_sum ? f->sum_sha : f->meta_sha;
		if (memcmp(f->got_sha, ws, 32)) {
			wn_hex(a, f->got_sha, 32);
			wn_vprob(x, PK_CHECKSUM, &l, "SHA-256 is %s, %s says otherwise", a, f->have_sum ? "SHA256SUMS" : "the index");
		}
	}
}
