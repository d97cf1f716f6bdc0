/*
 * dist.c - the scale-out of one ingest over many machines: plan, map, reduce, merge
 * (doc/FORMAT.md section 17 is the contract, DEVELOPERS.md "Scale-out" the why).
 *
 * The id decides everything that ingest decides (kept, duplicate, revision), so records
 * are partitioned by the hash of their id: all versions of an id meet in one partition,
 * in input order, and the partition's ingest decides exactly what one ingest of all the
 * inputs would. The stages:
 *
 *   plan    fixes what every later task relies on (plan.json): partitions, inputs with
 *           their identity, slices and their map tasks, the ingest options as arguments
 *   map     reads its slices with ingest's own sources and parse (ingest_parse.c), keys
 *           each record and appends the source's record (before any transform) with its
 *           position to the run of its partition; a record without a usable id (it will
 *           be rejected) goes to partition 0, so it is counted once
 *   reduce  drives wn_ingest (ingest.c) over partition P's runs, one input per segment
 *           (a map task's part of one input), each named as the input was: the ledger and
 *           reject entries are those of a single ingest, byte for byte; beside them, each
 *           record's outcome and the keys of each record stored
 *   merge   walks the routes in input order and takes each record's entries from its
 *           partition's streams as its outcome says (ledger ordinals moved), compressed
 *           into new files; the index is built by reindex.c fed with the partitions' keys
 *
 * Crash safety is the same for every task: it builds its output in NAME.tmp (removed
 * first if a killed run left one), fsyncs it, and renames it to NAME; NAME exists only
 * complete, and a rerun that finds it does nothing. The file that completes an output
 * (done.json, dist.json, merge.json) carries the digests the next stage checks.
 * Nothing here prints: messages go to res->err and to the ingest callbacks.
 */
#include "ingest.h"
#include "input.h"
#include "jread.h"
#include "ledger.h"
#include "manifest.h"
#include "transform.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define PLAN_VERSION 1
#define RUN_HEAD 40             /* bytes of a run record's header (FORMAT.md 17.3) */
#define MAX_PARTS 4096
#define MAX_PLAN (256u << 20)
#define WBUF (1u << 20)

/* ---- results and errors ---- */

static int fail(wn_dist_result *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(wn_dist_result *r, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap);
	va_end(ap);
	return code;
}

static void put_le64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> 8 * i); }
static uint64_t get_le64(const uint8_t *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }

/* The partition of an id hash: its low 32 bits scaled to [0, parts). Not its top bits:
 * the memtable and the bloom filters place an id by the top bits of its hash, and a
 * partition whose ids all shared them would fill one end of its tables (probe chains
 * that grow without end once a checkpoint's ids outnumber that end's slots). */
static unsigned part_of(uint64_t hash, unsigned parts)
{
	return (unsigned)(((hash & 0xffffffffu) * (uint64_t)parts) >> 32);
}

static void xxh_hex(char out[33], const void *p, size_t n)
{
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits(p, n));
	wn_hex(out, c.digest, 16);
}

/* ---- files and folders ---- */

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p) && errno != ENOENT ? -1 : 0;
}

/* Remove path and all below it (not following links); a missing path is fine. */
static int rmtree(const char *path)
{
	struct stat st;
	if (lstat(path, &st))
		return errno == ENOENT ? 0 : errno;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) ? (errno ? errno : EIO) : 0;
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int rc = fsync(fd) ? errno : 0;
	close(fd);
	return rc;
}

/* The folder that holds path, fsynced (after a rename into it). */
static int fsync_parent(const char *path)
{
	char d[4096];
	snprintf(d, sizeof d, "%s", path);
	char *s = strrchr(d, '/');
	if (s == d)
		d[1] = 0;
	else if (s)
		*s = 0;
	else
		snprintf(d, sizeof d, ".");
	return fsync_path(d);
}

/* tmp renamed to final, both fsynced: final appears whole or not at all. */
static int commit_dir(const char *tmp, const char *final)
{
	int rc = fsync_path(tmp);
	if (!rc && rename(tmp, final))
		rc = errno;
	if (!rc)
		rc = fsync_parent(final);
	return rc;
}

/* Write name in folder dir (a plain path) at once: 0 or errno. */
static int write_in(const char *dir, const char *name, const void *p, size_t n)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno;
	int rc = wn_write_file_atomic(dfd, name, p, n);
	close(dfd);
	return rc < 0 ? (rc > -1000 ? -rc : EIO) : rc;
}

static int read_small(const char *path, wn_buf *b)
{
	b->len = 0;
	int rc = wn_read_text(path, b, MAX_PLAN);
	return rc == ENOENT ? WN_E_NOTFOUND : rc;
}

/* ---- reading winnow's own JSON: the layout as written, key by key ---- */

typedef struct jr {
	wn_jread j;
	int bad;
} jr;

static int jkey(jr *r, const char *k)
{
	char got[64];
	size_t n;
	if (r->bad || !wn_jread_eat(&r->j, wn_jread_peek(&r->j) == ',' ? ',' : '{') ||
	    wn_jread_str(&r->j, got, sizeof got, &n) || strcmp(got, k) || !wn_jread_eat(&r->j, ':'))
		r->bad = 1;
	return !r->bad;
}

static uint64_t jnum(jr *r, const char *k)
{
	uint64_t v = 0;
	if (jkey(r, k) && wn_jread_num(&r->j, &v) != 1)
		r->bad = 1;
	return v;
}

/* a string member into b (appended, NUL-terminated); returns its offset in b */
static size_t jstr(jr *r, const char *k, wn_buf *b)
{
	size_t at = b->len;
	if (jkey(r, k) && wn_jread_str_buf(&r->j, b))
		r->bad = 1;
	if (!r->bad)
		b->len++;   /* keep the NUL: strings follow one another */
	return at;
}

static void jhex(jr *r, const char *k, char out[33])
{
	size_t n;
	*out = 0;
	if (jkey(r, k) && (wn_jread_str(&r->j, out, 33, &n) || n != 32))
		r->bad = 1;
}

/* The elements of array member k: 1 while there is one more (its '{' is next), 0 at ']' */
static int jarr_next(jr *r, int *first)
{
	if (r->bad)
		return 0;
	if (*first) {
		*first = 0;
		if (!wn_jread_eat(&r->j, '['))
			return r->bad = 1, 0;
	} else if (!wn_jread_eat(&r->j, '}') || (!wn_jread_eat(&r->j, ',') && wn_jread_peek(&r->j) != ']')) {
		return r->bad = 1, 0;
	}
	if (wn_jread_peek(&r->j) == ']') {
		wn_jread_eat(&r->j, ']');
		return 0;
	}
	return 1;
}

/* an array of numbers, n of them */
static void jnums(jr *r, const char *k, uint64_t *v, unsigned n)
{
	if (!jkey(r, k) || !wn_jread_eat(&r->j, '['))
		return (void)(r->bad = 1);
	for (unsigned i = 0; i < n && !r->bad; i++)
		if ((i && !wn_jread_eat(&r->j, ',')) || wn_jread_num(&r->j, &v[i]) != 1)
			r->bad = 1;
	if (!r->bad && !wn_jread_eat(&r->j, ']'))
		r->bad = 1;
}

/* ---- the plan (FORMAT.md 17.1) ---- */

typedef struct dinput {
	size_t name, path;      /* offsets in plan.strs */
	uint64_t size, head;
} dinput;

typedef struct dslice {
	unsigned task, input;
	uint64_t start, end;    /* bytes; whole: 0 and the size */
	int whole;
} dslice;

typedef struct dplan {
	unsigned parts, tasks;
	char hex[33];           /* XXH128 of plan.json: every later output names its plan */
	wn_buf text, strs;
	size_t *args;           /* offsets in strs */
	size_t nargs;
	dinput *in;
	size_t nin, capin;
	dslice *sl;
	size_t nsl, capsl;
	size_t capargs;
	const char *kind;       /* the plan's --kind, or "track" */
} dplan;

static void plan_free(dplan *p)
{
	wn_buf_free(&p->text);
	wn_buf_free(&p->strs);
	free(p->args);
	free(p->in);
	free(p->sl);
	memset(p, 0, sizeof *p);
}

static const char *S(const dplan *p, size_t off) { return p->strs.p + off; }

static int plan_encode(const dplan *p, wn_buf *b)
{
	int rc = wn_buf_printf(b, "{\"plan\":%d,\"parts\":%u,\"partition\":\"xxh3-128-id-high64-low32\",\"tasks\":%u,\"ingest\":[",
		PLAN_VERSION, p->parts, p->tasks);
	for (size_t i = 0; i < p->nargs; i++) {
		rc |= i ? wn_buf_puts(b, ",") : 0;
		rc |= wn_buf_json_bytes(b, S(p, p->args[i]), strlen(S(p, p->args[i])));
	}
	rc |= wn_buf_puts(b, "],\n\"inputs\":[");
	for (size_t i = 0; i < p->nin; i++) {
		rc |= wn_buf_puts(b, i ? ",\n {\"name\":" : "\n {\"name\":");
		rc |= wn_buf_json_bytes(b, S(p, p->in[i].name), strlen(S(p, p->in[i].name)));
		rc |= wn_buf_puts(b, ",\"path\":");
		rc |= wn_buf_json_bytes(b, S(p, p->in[i].path), strlen(S(p, p->in[i].path)));
		rc |= wn_buf_printf(b, ",\"size\":%" PRIu64 ",\"head\":\"%016" PRIx64 "\"}", p->in[i].size, p->in[i].head);
	}
	rc |= wn_buf_puts(b, "],\n\"slices\":[");
	for (size_t i = 0; i < p->nsl; i++)
		rc |= wn_buf_printf(b, "%s{\"task\":%u,\"input\":%u,\"start\":%" PRIu64 ",\"end\":%" PRIu64 ",\"whole\":%s}",
			i ? ",\n " : "\n ", p->sl[i].task, p->sl[i].input, p->sl[i].start, p->sl[i].end,
			p->sl[i].whole ? "true" : "false");
	rc |= wn_buf_puts(b, "]}\n");
	return rc ? WN_E_NOMEM : 0;
}

static int jbool(jr *r, const char *k)
{
	if (!jkey(r, k))
		return 0;
	wn_jread_ws(&r->j);
	size_t left = (size_t)(r->j.e - r->j.p);
	if (left >= 4 && !memcmp(r->j.p, "true", 4))
		return r->j.p += 4, 1;
	if (left >= 5 && !memcmp(r->j.p, "false", 5))
		return r->j.p += 5, 0;
	return r->bad = 1, 0;
}

static int plan_load(const char *work, dplan *p, wn_dist_result *res)
{
	char path[4096];
	memset(p, 0, sizeof *p);
	snprintf(path, sizeof path, "%s/plan.json", work);
	int rc = read_small(path, &p->text);
	if (rc == WN_E_NOTFOUND)
		return fail(res, rc, "%s: no plan (run winnow plan first)", path);
	if (rc)
		return fail(res, rc, "%s: %s", path, wn_open_why(rc));
	xxh_hex(p->hex, p->text.p, p->text.len);
	jr r = { { p->text.p, p->text.p + p->text.len }, 0 };
	if (jnum(&r, "plan") != PLAN_VERSION && !r.bad)
		return fail(res, WN_E_VERSION, "%s: a plan of another version", path);
	p->parts = (unsigned)jnum(&r, "parts");
	jkey(&r, "partition");
	if (!r.bad && wn_jread_str(&r.j, NULL, 0, NULL))
		r.bad = 1;
	p->tasks = (unsigned)jnum(&r, "tasks");
	int first = 1;
	if (jkey(&r, "ingest") && !wn_jread_eat(&r.j, '['))
		r.bad = 1;
	while (!r.bad && wn_jread_peek(&r.j) != ']') {
		if (p->nargs && !wn_jread_eat(&r.j, ','))
			r.bad = 1;
		if (r.bad || WN_GROW(p->args, p->nargs, p->capargs, 16))
			break;
		p->args[p->nargs] = p->strs.len;
		if (wn_jread_str_buf(&r.j, &p->strs))
			r.bad = 1;
		p->strs.len++;
		p->nargs++;
	}
	if (!r.bad)
		wn_jread_eat(&r.j, ']');
	first = 1;
	if (jkey(&r, "inputs"))
		while (jarr_next(&r, &first)) {
			if (WN_GROW(p->in, p->nin, p->capin, 16))
				return fail(res, WN_E_NOMEM, "out of memory");
			dinput *d = &p->in[p->nin++];
			d->name = jstr(&r, "name", &p->strs);
			d->path = jstr(&r, "path", &p->strs);
			d->size = jnum(&r, "size");
			char h[33];
			size_t hl;
			if (jkey(&r, "head") && (wn_jread_str(&r.j, h, sizeof h, &hl) || hl != 16))
				r.bad = 1;
			d->head = r.bad ? 0 : strtoull(h, NULL, 16);
		}
	first = 1;
	if (jkey(&r, "slices"))
		while (jarr_next(&r, &first)) {
			if (WN_GROW(p->sl, p->nsl, p->capsl, 16))
				return fail(res, WN_E_NOMEM, "out of memory");
			dslice *s = &p->sl[p->nsl++];
			s->task = (unsigned)jnum(&r, "task");
			s->input = (unsigned)jnum(&r, "input");
			s->start = jnum(&r, "start");
			s->end = jnum(&r, "end");
			s->whole = jbool(&r, "whole");
			if (!r.bad && (s->input >= p->nin || s->task >= p->tasks || s->start > s->end ||
			    s->end > p->in[s->input].size))
				r.bad = 1;
		}
	if (!r.bad && !wn_jread_eat(&r.j, '}'))
		r.bad = 1;
	if (r.bad || !p->parts || p->parts > MAX_PARTS || !p->tasks || !p->nin)
		return fail(res, WN_E_CORRUPT, "%s: not a plan as winnow writes it (near byte %zu)", path,
			(size_t)(r.j.p - p->text.p));
	p->kind = "track";
	for (size_t i = 0; i + 1 < p->nargs; i++)
		if (!strcmp(S(p, p->args[i]), "--kind") || !strcmp(S(p, p->args[i]), "-k"))
			p->kind = S(p, p->args[i + 1]);
	res->parts = p->parts;
	res->tasks = p->tasks;
	return 0;
}

/* Is input i what the plan saw (size and the hash of its first 64 KiB)? */
static int input_same(const dplan *p, size_t i, size_t max_line, wn_dist_result *res)
{
	const dinput *d = &p->in[i];
	wn_input in;
	int rc = wn_input_open(&in, S(p, d->path), max_line, NULL);
	if (rc) {
		fail(res, rc, "%s: %s", S(p, d->name), *in.err ? in.err : wn_strerror(rc));
		wn_input_close(&in);
		return rc;
	}
	uint64_t size = in.size, head = in.head_hash;
	wn_input_close(&in);
	if (size != d->size || head != d->head)
		return fail(res, WN_E_MISMATCH, "%s: changed since the plan (%s): plan again in a new folder",
			S(p, d->name), size != d->size ? "its size" : "its first 64 KiB");
	return 0;
}

/* Does the name say JSONL (.jsonl, .ndjson), or does the format? Then a plain file can be
 * cut at line ends. */
static int jsonl_by_name(const wn_ingest_opts *o, const char *name)
{
	if (o->format && strcmp(o->format, "auto"))
		return !strcmp(o->format, "jsonl");
	size_t l = strlen(name);
	return (l > 6 && !strcmp(name + l - 6, ".jsonl")) || (l > 7 && !strcmp(name + l - 7, ".ndjson"));
}

/* The first line start at or after `at` in the file (the byte after a newline), or size. */
static int line_start(int fd, uint64_t at, uint64_t size, uint64_t *out)
{
	char buf[65536];
	uint64_t pos = at - 1;   /* at > 0: the line that holds byte at-1 ends at its newline */
	while (pos < size) {
		ssize_t n = pread(fd, buf, sizeof buf, (off_t)pos);
		if (n < 0)
			return errno;
		if (!n)
			break;
		char *nl = memchr(buf, '\n', (size_t)n);
		if (nl) {
			*out = pos + (uint64_t)(nl - buf) + 1;
			return 0;
		}
		pos += (uint64_t)n;
	}
	*out = size;
	return 0;
}

static int add_slice(dplan *p, unsigned input, uint64_t start, uint64_t end, int whole)
{
	if (WN_GROW(p->sl, p->nsl, p->capsl, 16))
		return WN_E_NOMEM;
	p->sl[p->nsl++] = (dslice){ .input = input, .start = start, .end = end, .whole = whole };
	return 0;
}

static size_t add_str(dplan *p, const char *s)
{
	size_t at = p->strs.len;
	if (wn_buf_put(&p->strs, s, strlen(s) + 1))
		return (size_t)-1;
	return at;
}

void wn_dist_merge_opts_init(wn_dist_merge_opts *o)
{
	memset(o, 0, sizeof *o);
	o->memory = 1ull << 30;
}

int wn_dist_plan(const char *work, const wn_dist_plan_opts *o, const char *const *files, size_t n,
	wn_dist_result *resp)
{
	wn_dist_result dummy, *res = resp ? resp : &dummy;
	memset(res, 0, sizeof *res);
	double t0 = wn_now();
	if (!o || !o->parts || o->parts > MAX_PARTS)
		return fail(res, WN_E_USAGE, "--parts takes 1 to %d", MAX_PARTS);
	if (!n)
		return fail(res, WN_E_USAGE, "a plan needs input files");
	size_t max_line = o->ingest ? o->ingest->max_line : 16u << 20;
	dplan p;
	memset(&p, 0, sizeof p);
	p.parts = o->parts;
	int rc = 0;
	uint64_t total = 0;
	for (size_t i = 0; i < o->nargs && !rc; i++)
		if (WN_GROW(p.args, p.nargs, p.capargs, 16) || (p.args[p.nargs++] = add_str(&p, o->args[i])) == (size_t)-1)
			rc = fail(res, WN_E_NOMEM, "out of memory");
	/* the inputs, as a single ingest would check them: each one there and readable */
	int *plain = calloc(n, sizeof *plain);
	if (!plain && !rc)
		rc = fail(res, WN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n && !rc; i++) {
		if (!strcmp(files[i], "-"))
			rc = fail(res, WN_E_USAGE, "a plan reads files, not standard input");
		wn_input in;
		if (!rc && (rc = wn_input_open(&in, files[i], max_line, NULL)))
			fail(res, rc, "%s: %s", files[i], *in.err ? in.err : wn_strerror(rc));
		if (!rc && !in.regular)
			rc = fail(res, WN_E_USAGE, "%s: not a regular file (a plan's inputs are read again by every task)", files[i]);
		char *real = rc ? NULL : realpath(files[i], NULL);
		if (!rc && !real)
			rc = fail(res, errno, "%s: %s", files[i], strerror(errno));
		if (!rc && WN_GROW(p.in, p.nin, p.capin, 16))
			rc = fail(res, WN_E_NOMEM, "out of memory");
		if (!rc) {
			dinput *d = &p.in[p.nin++];
			d->name = add_str(&p, files[i]);
			d->path = add_str(&p, real);
			d->size = in.size;
			d->head = in.head_hash;
			if (d->name == (size_t)-1 || d->path == (size_t)-1)
				rc = fail(res, WN_E_NOMEM, "out of memory");
			plain[i] = !in.zst && !in.codec && !in.archive && jsonl_by_name(o->ingest, files[i]);
			total += in.size;
		}
		free(real);
		wn_input_close(&in);
	}
	/* slices: whole files, and line-aligned ranges of large plain JSONL files */
	unsigned want = o->tasks ? o->tasks : o->parts;
	uint64_t cut = o->slice_bytes ? o->slice_bytes : (total + want - 1) / (want ? want : 1);
	if (cut < 1)
		cut = 1;
	for (size_t i = 0; i < n && !rc; i++) {
		uint64_t size = p.in[i].size;
		if (!plain[i] || size <= cut) {
			rc = add_slice(&p, (unsigned)i, 0, size, 1);
			continue;
		}
		int fd = open(S(&p, p.in[i].path), O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = fail(res, errno, "%s: %s", files[i], strerror(errno));
			break;
		}
		uint64_t start = 0;
		while (!rc && start < size) {
			uint64_t end = size;
			if (size - start > cut + cut / 4 && (rc = line_start(fd, start + cut, size, &end)))
				fail(res, rc, "%s: %s", files[i], strerror(rc));
			if (!rc)
				rc = add_slice(&p, (unsigned)i, start, end, start == 0 && end == size);
			start = end;
		}
		close(fd);
	}
	free(plain);
	if (rc == WN_E_NOMEM && !*res->err)
		fail(res, rc, "out of memory");
	/* tasks: slices in input order, cut into `want` runs of about equal bytes */
	if (!rc) {
		uint64_t before = 0;
		unsigned last = 0, task = 0;
		for (size_t i = 0; i < p.nsl; i++) {
			unsigned t = total ? (unsigned)(((unsigned __int128)before * want) / total) : (unsigned)i;
			if (t >= want)
				t = want - 1;
			if (i && t != last)
				task++;
			last = t;
			p.sl[i].task = task;
			before += p.sl[i].end - p.sl[i].start;
		}
		p.tasks = task + 1;
	}
	wn_buf b = { 0 }, old = { 0 };
	char path[4096];
	snprintf(path, sizeof path, "%s/plan.json", work);
	if (!rc && (rc = plan_encode(&p, &b)))
		fail(res, rc, "out of memory");
	if (!rc && (rc = wn_mkdir_p(work)))
		fail(res, rc, "%s: %s", work, strerror(rc));
	if (!rc) {
		int rr = read_small(path, &old);
		if (!rr && (old.len != b.len || memcmp(old.p, b.p, b.len)))
			rc = fail(res, WN_E_MISMATCH, "%s holds another plan: use another folder for this one", work);
		else if (!rr)
			res->done_before = 1;
		else if (rr != WN_E_NOTFOUND)
			rc = fail(res, rr, "%s: %s", path, wn_open_why(rr));
		else if ((rc = write_in(work, "plan.json", b.p, b.len)))
			fail(res, rc, "%s: %s", path, strerror(rc));
	}
	res->parts = p.parts;
	res->tasks = p.tasks;
	res->bytes = total;
	res->seconds = wn_now() - t0;
	wn_buf_free(&b);
	wn_buf_free(&old);
	plan_free(&p);
	return rc;
}

int wn_dist_plan_args(const char *work, char ***args, size_t *n, wn_dist_result *resp)
{
	wn_dist_result dummy, *res = resp ? resp : &dummy;
	memset(res, 0, sizeof *res);
	*args = NULL;
	*n = 0;
	dplan p;
	int rc = plan_load(work, &p, res);
	if (rc) {
		plan_free(&p);
		return rc;
	}
	/* one block: the pointers, then the strings */
	char **v = malloc((p.nargs + 1) * sizeof *v + p.strs.len + 1);
	if (!v) {
		plan_free(&p);
		return fail(res, WN_E_NOMEM, "out of memory");
	}
	char *s = (char *)(v + p.nargs + 1);
	memcpy(s, p.strs.p ? p.strs.p : "", p.strs.len);
	for (size_t i = 0; i < p.nargs; i++)
		v[i] = s + p.args[i];
	v[p.nargs] = NULL;
	*args = v;
	*n = p.nargs;
	plan_free(&p);
	return 0;
}

/* ---- map (FORMAT.md 17.2, 17.3) ---- */

typedef struct runw {
	int fd;
	char *buf;
	size_t len;
	uint64_t bytes, records;
	XXH3_state_t *h;
} runw;

static int run_flush(runw *w);

typedef struct segment {
	size_t slice;
	size_t name;            /* in the map's strs */
	uint64_t lines;
	uint64_t *bytes, *records;   /* per partition */
} segment;

typedef struct mapper {
	const dplan *p;
	const wn_ingest_opts *o;     /* the caller's */
	wn_ingest_opts eo;           /* what the sources read with */
	wn_profile prof;
	pctx x;
	wn_arena arena;
	runw *w;                /* the runs, then (w[parts]) the route */
	segment *seg;
	size_t nseg, capseg;
	wn_buf strs;
	uint64_t records, bytes;
	wn_dist_result *res;
} mapper;

/* Append bytes to a run writer (the route: 2 bytes a record). */
static int runw_put(runw *w, const void *p, size_t n)
{
	int rc;
	if (w->len + n > WBUF && (rc = run_flush(w)))
		return rc;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	w->bytes += n;
	return 0;
}

static int run_flush(runw *w)
{
	if (!w->len)
		return 0;
	XXH3_128bits_update(w->h, w->buf, w->len);
	int rc = wn_write_all(w->fd, w->buf, w->len);
	/* start the writeback now, so that the fsync at the end of the task has little left */
	if (!rc)
		sync_file_range(w->fd, (off_t)(w->bytes - w->len), (off_t)w->len, SYNC_FILE_RANGE_WRITE);
	w->len = 0;
	return rc;
}

/* Open a run writer on a new file at path: 0, or a code with res's message. */
static int runw_open(runw *w, const char *path, wn_dist_result *res)
{
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	w->buf = malloc(WBUF);
	w->h = XXH3_createState();
	if (w->fd < 0 || !w->buf || !w->h)
		return fail(res, w->fd < 0 ? errno : WN_E_NOMEM, "%s: %s", path, w->fd < 0 ? strerror(errno) : "out of memory");
	XXH3_128bits_reset(w->h);
	return 0;
}

/* Flush a run writer and fsync its file: 0, or a code with res's message. */
static int runw_sync(runw *w, const char *path, wn_dist_result *res)
{
	int rc;
	if ((rc = run_flush(w)) || (fsync(w->fd) && (rc = errno)))
		return fail(res, rc, "%s: %s", path, strerror(rc));
	return 0;
}

static void runw_close(runw *w)
{
	if (w->fd > 0)
		close(w->fd);
	free(w->buf);
	XXH3_freeState(w->h);
}

static int run_put(runw *w, const wn_srec *s)
{
	size_t wl = s->why ? strlen(s->why) + 1 : 0;
	size_t need = RUN_HEAD + s->len + wl;
	int rc;
	if (w->len + need > WBUF && (rc = run_flush(w)))
		return rc;
	uint8_t h[RUN_HEAD];
	wn_put_le32(h, (uint32_t)s->len);
	wn_put_le32(h + 4, (uint32_t)wl);
	put_le64(h + 8, s->off);
	put_le64(h + 16, s->lineno);
	put_le64(h + 24, s->end);
	wn_put_le32(h + 32, (uint32_t)s->toolong_len);
	wn_put_le32(h + 36, (uint32_t)s->code);
	if (need > WBUF) {
		/* a record larger than the buffer goes straight out */
		XXH3_128bits_update(w->h, h, RUN_HEAD);
		XXH3_128bits_update(w->h, s->rec, s->len);
		if (wl)
			XXH3_128bits_update(w->h, s->why, wl);
		if ((rc = wn_write_all(w->fd, h, RUN_HEAD)) || (rc = wn_write_all(w->fd, s->rec, s->len)) ||
		    (wl && (rc = wn_write_all(w->fd, s->why, wl))))
			return rc;
	} else {
		memcpy(w->buf + w->len, h, RUN_HEAD);
		memcpy(w->buf + w->len + RUN_HEAD, s->rec, s->len);
		if (wl)
			memcpy(w->buf + w->len + RUN_HEAD + s->len, s->why, wl);
		w->len += need;
	}
	w->bytes += need;
	w->records++;
	return 0;
}

static int new_segment(mapper *m, size_t slice, const char *name)
{
	if (WN_GROW(m->seg, m->nseg, m->capseg, 16))
		return WN_E_NOMEM;
	segment *s = &m->seg[m->nseg];
	s->slice = slice;
	s->name = m->strs.len;
	if (wn_buf_put(&m->strs, name, strlen(name) + 1) || !(s->bytes = calloc(m->p->parts, sizeof *s->bytes)) ||
	    !(s->records = calloc(m->p->parts, sizeof *s->records)))
		return WN_E_NOMEM;
	m->nseg++;
	return 0;
}

/* The records of src (one segment: a slice, or a member of an archive) up to `end`. */
static int map_source(mapper *m, wn_source *src, size_t slice, const char *name, uint64_t end)
{
	wn_dist_result *res = m->res;
	int rc = new_segment(m, slice, name);
	if (rc)
		return fail(res, rc, "out of memory");
	segment *sg = &m->seg[m->nseg - 1];
	uint64_t lastline = 0;
	unsigned nrec = 0;
	for (;;) {
		if (m->o->cancel && __atomic_load_n(m->o->cancel, __ATOMIC_RELAXED))
			return fail(res, WN_E_INTERRUPTED, "interrupted");
		wn_srec s;
		int got = src->next(src, &s, 1);
		if (got == 0)
			break;
		if (got == 2)
			continue;
		if (got != 1)
			return fail(res, got, "%s line %" PRIu64 ": %s", name, src->err_line ? src->err_line : lastline + 1,
				*src->err ? src->err : wn_strerror(got));
		if (s.off >= end)
			break;
		if (nrec++ % 1024 == 0)
			wn_arena_reset(&m->arena);
		prep r;
		memset(&r, 0, sizeof r);
		m->x.arena = &m->arena;
		if (wn_ingest_prepare(&m->x, &r, &s))
			return fail(res, WN_E_NOMEM, "out of memory");
		unsigned part = r.code ? 0 : part_of(r.key.hash, m->p->parts);
		uint64_t before = m->w[part].bytes;
		if ((rc = run_put(&m->w[part], &s)))
			return fail(res, rc, "run of partition %u: %s", part, strerror(rc));
		sg->bytes[part] += m->w[part].bytes - before;
		sg->records[part]++;
		uint8_t rt[2] = { (uint8_t)part, (uint8_t)(part >> 8) };
		if ((rc = runw_put(&m->w[m->p->parts], rt, 2)))
			return fail(res, rc, "route: %s", strerror(rc));
		m->w[m->p->parts].records++;
		lastline = s.lineno;
		m->records++;
	}
	sg->lines = lastline;
	return 0;
}

/* An archive: each member a segment of its own, named ARCHIVE!MEMBER, as ingest reads it. */
static int map_archive(mapper *m, wn_source *src, size_t slice, const char *name)
{
	wn_input *a = wn_source_jsonl_input(src);
	wn_buf full = { 0 };
	int rc = 0, regular, more = 1;
	const char *mem;
	while (!rc && more) {
		if ((rc = wn_input_next_member(a, &mem, &regular, &more))) {
			fail(m->res, rc, "%s: %s", name, *a->err ? a->err : wn_strerror(rc));
			break;
		}
		if (!more)
			break;
		if (!regular || !wn_ingest_member_chosen(&m->eo, mem))
			continue;
		full.len = 0;
		if (wn_buf_printf(&full, "%s!%s", name, mem)) {
			rc = fail(m->res, WN_E_NOMEM, "out of memory");
			break;
		}
		int not_records = 0;
		wn_source *ms = NULL;
		rc = wn_source_open_member(&ms, a, full.p, mem, &m->eo, 0, m->eo.n_members ? NULL : &not_records);
		if (rc) {
			fail(m->res, rc, "%s: %s", full.p, ms ? ms->err : wn_strerror(rc));
		} else if (not_records) {
			wn_source_note(&m->eo, full.p, "%s (--member GLOB to choose the members to read)", ms->err);
		} else {
			rc = map_source(m, ms, slice, full.p, UINT64_MAX);
		}
		wn_source_close(ms);
	}
	wn_buf_free(&full);
	return rc;
}

static int map_slice(mapper *m, size_t k)
{
	const dplan *p = m->p;
	const dslice *sl = &p->sl[k];
	const char *name = S(p, p->in[sl->input].name), *path = S(p, p->in[sl->input].path);
	wn_ingest_opts eo = m->eo;
	if (!sl->whole)
		eo.format = "jsonl";   /* the plan cuts only JSONL */
	wn_source *src = NULL;
	int rc = wn_source_reopen(&src, path, &eo, 0);
	if (rc) {
		fail(m->res, rc, "%s: %s", name, src ? src->err : wn_strerror(rc));
		wn_source_close(src);
		return rc;
	}
	if (src->size != p->in[sl->input].size || src->head_hash != p->in[sl->input].head) {
		wn_source_close(src);
		return fail(m->res, WN_E_MISMATCH, "%s: changed since the plan (its size or first 64 KiB): plan again "
			"in a new folder", name);
	}
	if (sl->start && (rc = src->skip(src, sl->start, 0)))
		fail(m->res, rc, "%s: cannot go to byte %" PRIu64 ": %s", name, sl->start, src->err);
	else if (src->archive)
		rc = map_archive(m, src, k, name);
	else
		rc = map_source(m, src, k, name, sl->whole ? UINT64_MAX : sl->end);
	if (!rc)
		m->bytes += sl->end - sl->start;
	wn_source_close(src);
	return rc;
}

static int map_done_json(const mapper *m, unsigned task, wn_buf *b)
{
	const dplan *p = m->p;
	int rc = wn_buf_printf(b, "{\"map\":%d,\"plan\":\"%s\",\"task\":%u,\"runs\":[", PLAN_VERSION, p->hex, task);
	for (unsigned i = 0; i < p->parts; i++) {
		XXH128_canonical_t c;
		char hex[33];
		XXH128_canonicalFromHash(&c, XXH3_128bits_digest(m->w[i].h));
		wn_hex(hex, c.digest, 16);
		rc |= wn_buf_printf(b, "%s{\"bytes\":%" PRIu64 ",\"records\":%" PRIu64 ",\"xxh128\":\"%s\"}", i ? ",\n " : "\n ",
			m->w[i].bytes, m->w[i].records, hex);
	}
	{
		XXH128_canonical_t c;
		char hex[33];
		XXH128_canonicalFromHash(&c, XXH3_128bits_digest(m->w[p->parts].h));
		wn_hex(hex, c.digest, 16);
		rc |= wn_buf_printf(b, "],\n\"route\":{\"bytes\":%" PRIu64 ",\"records\":%" PRIu64 ",\"xxh128\":\"%s\"}",
			m->w[p->parts].bytes, m->w[p->parts].records, hex);
	}
	rc |= wn_buf_puts(b, ",\n\"segments\":[");
	for (size_t s = 0; s < m->nseg; s++) {
		const segment *g = &m->seg[s];
		rc |= wn_buf_printf(b, "%s{\"slice\":%zu,\"name\":", s ? ",\n " : "\n ", g->slice);
		rc |= wn_buf_json_bytes(b, m->strs.p + g->name, strlen(m->strs.p + g->name));
		rc |= wn_buf_printf(b, ",\"lines\":%" PRIu64 ",\"bytes\":[", g->lines);
		for (unsigned i = 0; i < p->parts; i++)
			rc |= wn_buf_printf(b, "%s%" PRIu64, i ? "," : "", g->bytes[i]);
		rc |= wn_buf_puts(b, "],\"records\":[");
		for (unsigned i = 0; i < p->parts; i++)
			rc |= wn_buf_printf(b, "%s%" PRIu64, i ? "," : "", g->records[i]);
		rc |= wn_buf_puts(b, "]}");
	}
	rc |= wn_buf_puts(b, "]}\n");
	return rc ? WN_E_NOMEM : 0;
}

/* What a map task's done.json says (FORMAT.md 17.2). */
typedef struct mapdone {
	wn_buf text, strs;
	uint64_t *run_bytes, *run_records;
	char (*run_xxh)[33];
	uint64_t route_bytes, route_records;
	char route_xxh[33];
	segment *seg;
	size_t nseg, capseg;
	unsigned parts;
} mapdone;

static void mapdone_free(mapdone *d)
{
	wn_buf_free(&d->text);
	wn_buf_free(&d->strs);
	free(d->run_bytes);
	free(d->run_records);
	free(d->run_xxh);
	for (size_t i = 0; i < d->nseg; i++) {
		free(d->seg[i].bytes);
		free(d->seg[i].records);
	}
	free(d->seg);
	memset(d, 0, sizeof *d);
}

/* Read WORK/map/<task>/done.json: 0, WN_E_NOTFOUND (not done), WN_E_CORRUPT (res->err). */
static int mapdone_load(const char *work, const dplan *p, unsigned task, mapdone *d, wn_dist_result *res)
{
	char path[4096];
	memset(d, 0, sizeof *d);
	snprintf(path, sizeof path, "%s/map/%u/done.json", work, task);
	int rc = read_small(path, &d->text);
	if (rc == WN_E_NOTFOUND)
		return fail(res, rc, "map task %u has not completed (no %s): run winnow map --task %u", task, path, task);
	if (rc)
		return fail(res, rc, "%s: %s", path, wn_open_why(rc));
	d->parts = p->parts;
	d->run_bytes = calloc(p->parts, sizeof *d->run_bytes);
	d->run_records = calloc(p->parts, sizeof *d->run_records);
	d->run_xxh = calloc(p->parts, sizeof *d->run_xxh);
	if (!d->run_bytes || !d->run_records || !d->run_xxh)
		return fail(res, WN_E_NOMEM, "out of memory");
	jr r = { { d->text.p, d->text.p + d->text.len }, 0 };
	char plan[33];
	jnum(&r, "map");
	jhex(&r, "plan", plan);
	if (!r.bad && strcmp(plan, p->hex))
		return fail(res, WN_E_CORRUPT, "%s: written for another plan", path);
	if (jnum(&r, "task") != task && !r.bad)
		return fail(res, WN_E_CORRUPT, "%s: the output of another task", path);
	int first = 1;
	unsigned i = 0;
	if (jkey(&r, "runs"))
		while (jarr_next(&r, &first)) {
			if (i >= p->parts) {
				r.bad = 1;
				break;
			}
			d->run_bytes[i] = jnum(&r, "bytes");
			d->run_records[i] = jnum(&r, "records");
			jhex(&r, "xxh128", d->run_xxh[i]);
			i++;
		}
	if (i != p->parts)
		r.bad = 1;
	if (jkey(&r, "route") && !wn_jread_eat(&r.j, '{'))
		r.bad = 1;
	if (!r.bad) {
		r.j.p--;   /* jkey eats the '{' itself */
		d->route_bytes = jnum(&r, "bytes");
		d->route_records = jnum(&r, "records");
		jhex(&r, "xxh128", d->route_xxh);
		if (!r.bad && !wn_jread_eat(&r.j, '}'))
			r.bad = 1;
	}
	first = 1;
	if (jkey(&r, "segments"))
		while (jarr_next(&r, &first)) {
			if (WN_GROW(d->seg, d->nseg, d->capseg, 16))
				return fail(res, WN_E_NOMEM, "out of memory");
			segment *g = &d->seg[d->nseg++];
			g->slice = jnum(&r, "slice");
			g->name = jstr(&r, "name", &d->strs);
			g->lines = jnum(&r, "lines");
			g->bytes = calloc(p->parts, sizeof *g->bytes);
			g->records = calloc(p->parts, sizeof *g->records);
			if (!g->bytes || !g->records)
				return fail(res, WN_E_NOMEM, "out of memory");
			jnums(&r, "bytes", g->bytes, p->parts);
			jnums(&r, "records", g->records, p->parts);
			if (!r.bad && (g->slice >= p->nsl || p->sl[g->slice].task != task))
				r.bad = 1;
		}
	if (!r.bad && !wn_jread_eat(&r.j, '}'))
		r.bad = 1;
	if (r.bad)
		return fail(res, WN_E_CORRUPT, "%s: not a map task's done.json as winnow writes it (near byte %zu)", path,
			(size_t)(r.j.p - d->text.p));
	return 0;
}

/* The profile a plan's tasks read with: the kind's built-in one with the options, as the
 * first run of a single ingest into a new catalog sets it. */
static int plan_profile(const dplan *p, const wn_ingest_opts *o, wn_profile *prof, wn_ingest_opts *eo,
	struct wn_xform **xf, wn_dist_result *res)
{
	const char **names = malloc(p->nin * sizeof *names);
	if (!names)
		return fail(res, WN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < p->nin; i++)
		names[i] = S(p, p->in[i].name);
	char why[512];
	const char *kind = o->kind ? o->kind : "track";
	wn_profile_default(prof, kind, wn_ingest_first_format(o, names, p->nin));
	free(names);
	int rc = wn_profile_apply(prof, o, why, sizeof why);
	if (!rc)
		rc = wn_ingest_shape(prof, o, kind, eo, xf, why, sizeof why);
	return rc ? fail(res, rc, "%s", why) : 0;
}

int wn_dist_map(const char *work, unsigned task, const wn_ingest_opts *o, wn_dist_result *resp)
{
	wn_dist_result dummy, *res = resp ? resp : &dummy;
	memset(res, 0, sizeof *res);
	double t0 = wn_now();
	dplan p;
	mapper m;
	memset(&m, 0, sizeof m);
	char dir[4096], tmp[4200], path[4300];
	int rc = plan_load(work, &p, res);
	if (rc)
		goto out;
	if (task >= p.tasks) {
		rc = fail(res, WN_E_USAGE, "the plan has map tasks 0 to %u, not %u", p.tasks - 1, task);
		goto out;
	}
	snprintf(dir, sizeof dir, "%s/map/%u", work, task);
	snprintf(tmp, sizeof tmp, "%s.tmp", dir);
	mapdone d;
	rc = mapdone_load(work, &p, task, &d, res);
	mapdone_free(&d);
	if (rc != WN_E_NOTFOUND) {
		/* done (a rerun is a no-op), or an output to look at rather than overwrite */
		res->done_before = !rc;
		goto out;
	}
	*res->err = 0;
	m.p = &p;
	m.o = o;
	m.res = res;
	struct wn_xform *xf = NULL;
	if ((rc = plan_profile(&p, o, &m.prof, &m.eo, &xf, res)))
		goto out;
	m.x.xf = xf;
	m.x.prof = &m.prof;
	if (!(m.x.json = wn_json_new()) || !(m.w = calloc(p.parts + 1, sizeof *m.w))) {
		rc = fail(res, WN_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = wn_record_parser(m.x.json, &m.prof, WN_RECORD_FP)) ||
	    (*m.prof.exclude && (rc = wn_json_set_slot(m.x.json, SLOT_EXCLUDE, m.prof.exclude)))) {
		fail(res, rc, "cannot set up the parser for the profile");
		goto out;
	}
	snprintf(path, sizeof path, "%s/map", work);
	if ((rc = rmtree(tmp)) || (rc = wn_mkdir_p(tmp))) {
		fail(res, rc, "%s: %s", tmp, strerror(rc));
		goto out;
	}
	for (unsigned i = 0; i <= p.parts; i++) {
		if (i < p.parts)
			snprintf(path, sizeof path, "%s/%u.run", tmp, i);
		else
			snprintf(path, sizeof path, "%s/route", tmp);
		if ((rc = runw_open(&m.w[i], path, res)))
			goto out;
	}
	/* the plan's inputs this task reads: each checked, as the plan saw it */
	for (size_t k = 0; k < p.nsl && !rc; k++)
		if (p.sl[k].task == task)
			rc = map_slice(&m, k);
	for (unsigned i = 0; i <= p.parts && !rc; i++) {
		snprintf(path, sizeof path, "%s/%u.run", tmp, i);
		rc = runw_sync(&m.w[i], path, res);
	}
	wn_buf b = { 0 };
	if (!rc && (rc = map_done_json(&m, task, &b)))
		fail(res, rc, "out of memory");
	if (!rc && (rc = write_in(tmp, "done.json", b.p, b.len)))
		fail(res, rc, "%s/done.json: %s", tmp, strerror(rc));
	wn_buf_free(&b);
	if (!rc && (rc = commit_dir(tmp, dir)))
		fail(res, rc, "%s: %s", dir, strerror(rc));
out:
	res->records = m.records;
	res->bytes = m.bytes;
	res->seconds = wn_now() - t0;
	if (m.w)
		for (unsigned i = 0; i <= p.parts; i++)
			runw_close(&m.w[i]);
	free(m.w);
	for (size_t i = 0; i < m.nseg; i++) {
		free(m.seg[i].bytes);
		free(m.seg[i].records);
	}
	free(m.seg);
	wn_buf_free(&m.strs);
	wn_arena_free(&m.arena);
	wn_json_free(m.x.json);
	wn_xform_free(m.x.xf);
	plan_free(&p);
	return rc;
}

/* ---- reduce (FORMAT.md 17.4): ingest over run segments ---- */

typedef struct rseg {
	unsigned task;
	size_t seg;             /* in maps[task] */
	uint64_t off, bytes;    /* in the run file of the partition */
	uint64_t base_line;     /* lines of the input before its slice */
} rseg;

typedef struct reducer {
	const char *work;
	const dplan *p;
	unsigned part;
	mapdone *maps;
	rseg *segs;
	size_t nseg, capseg;
	wn_buf outcomes;        /* one byte (WN_OUTCOME_*) per record, in the order read */
	runw keys;              /* the keys of every record stored, in ordinal order (17.4) */
	int nomem, werr;
} reducer;

/* A stored record's keys as the keys file holds them (FORMAT.md 17.4): at most
 * KEYS_HEAD + 8 * WN_MAX_ISRCS bytes at p; returns how many. */
#define KEYS_HEAD 27
static size_t keys_put(uint8_t *p, const wn_keys *k)
{
	put_le64(p, k->hash);
	p[8] = (uint8_t)k->check;
	p[9] = (uint8_t)(k->check >> 8);
	memcpy(p + 10, k->fp, 16);
	p[26] = (uint8_t)k->n_isrc;
	for (int i = 0; i < k->n_isrc; i++)
		put_le64(p + KEYS_HEAD + 8 * i, k->isrc_hash[i]);
	return KEYS_HEAD + 8 * (size_t)k->n_isrc;
}

static void on_decided(void *ud, int outcome, const wn_keys *k)
{
	reducer *rd = ud;
	char b = (char)outcome;
	if (wn_buf_put(&rd->outcomes, &b, 1))
		rd->nomem = 1;
	if (k && !rd->werr) {
		uint8_t e[KEYS_HEAD + 8 * WN_MAX_ISRCS];
		size_t n = keys_put(e, k);
		int rc = runw_put(&rd->keys, e, n);
		if (rc)
			rd->werr = rc;
		rd->keys.records++;
	}
}

/* A part of a file read front to back through a buffer (a run segment, a keys file). */
typedef struct breader {
	int fd;
	uint64_t pos, left;     /* where the next read starts; bytes still to read */
	char *buf;
	size_t cap, start, end;
} breader;

typedef struct runsrc {
	wn_source s;
	breader b;
	uint64_t base_line, consumed;
} runsrc;

/* make at least n bytes stand at buf+start: 1, 0 at the part's end, or -errno */
static int br_need(breader *r, size_t n)
{
	while (r->end - r->start < n) {
		if (r->start) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		if (r->cap < n) {
			size_t c = r->cap * 2 > n ? r->cap * 2 : n;
			if (c < WBUF)
				c = WBUF;
			char *b = realloc(r->buf, c);
			if (!b)
				return -ENOMEM;
			r->buf = b;
			r->cap = c;
		}
		if (!r->left)
			return 0;
		size_t want = r->cap - r->end;
		if (want > r->left)
			want = (size_t)r->left;
		ssize_t got = pread(r->fd, r->buf + r->end, want, (off_t)r->pos);
		if (got < 0)
			return -errno;
		if (!got)
			return 0;
		r->end += (size_t)got;
		r->pos += (uint64_t)got;
		r->left -= (uint64_t)got;
	}
	return 1;
}

static int run_next(wn_source *s, wn_srec *out, int may_move)
{
	breader *r = &((runsrc *)s)->b;
	if (r->end - r->start < RUN_HEAD && !may_move && r->left)
		return 2;
	int got = br_need(r, RUN_HEAD);
	if (got <= 0) {
		if (got == 0 && r->end != r->start)
			return wn_source_fail(s, WN_E_CORRUPT, "run file: a record cut short");
		return got ? wn_source_fail(s, -got, "run file: %s", strerror(-got)) : 0;
	}
	const uint8_t *h = (const uint8_t *)r->buf + r->start;
	size_t len = wn_get_le32(h), wl = wn_get_le32(h + 4);
	if ((got = br_need(r, RUN_HEAD + len + wl)) <= 0)
		return got ? wn_source_fail(s, -got, "run file: %s", strerror(-got)) :
			wn_source_fail(s, WN_E_CORRUPT, "run file: a record cut short");
	h = (const uint8_t *)r->buf + r->start;
	out->rec = r->buf + r->start + RUN_HEAD;
	out->len = len;
	out->off = get_le64(h + 8);
	out->lineno = ((runsrc *)s)->base_line + get_le64(h + 16);
	out->end = get_le64(h + 24);
	out->toolong_len = wn_get_le32(h + 32);
	out->code = (int)wn_get_le32(h + 36);
	out->why = wl ? out->rec + len : NULL;
	if (wl && out->why[wl - 1])
		return wn_source_fail(s, WN_E_CORRUPT, "run file: a reason not ended");
	r->start += RUN_HEAD + len + wl;
	((runsrc *)s)->consumed += RUN_HEAD + len + wl;
	return 1;
}

static int run_skip(wn_source *s, uint64_t pos, uint64_t recno)
{
	(void)pos, (void)recno;
	return wn_source_fail(s, WN_E_USAGE, "a run is read from its start");
}

static uint64_t run_consumed(wn_source *s)
{
	return ((runsrc *)s)->consumed;
}

static void br_free(breader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	free(r->buf);
	r->buf = NULL;
}

static void run_close(wn_source *s)
{
	br_free(&((runsrc *)s)->b);
	free(s);
}

/* wn_ingest_from's opener: segment i of the partition as a source named as its input. */
static int open_segment(void *ud, size_t i, wn_source **out)
{
	reducer *rd = ud;
	const rseg *g = &rd->segs[i];
	char path[4096];
	snprintf(path, sizeof path, "%s/map/%u/%u.run", rd->work, g->task, rd->part);
	runsrc *r = calloc(1, sizeof *r);
	if (!r)
		return WN_E_NOMEM;
	r->b.fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (r->b.fd < 0 || fstat(r->b.fd, &st)) {
		int e = errno;
		wn_source_fail(&r->s, e, "%s: %s", path, strerror(e));
		r->s.close = run_close;
		*out = &r->s;
		return e;
	}
	const mapdone *d = &rd->maps[g->task];
	r->s.name = d->strs.p + d->seg[g->seg].name;
	r->s.regular = 1;
	r->s.size = g->bytes;
	r->s.dev = (uint64_t)st.st_dev;
	r->s.ino = (uint64_t)st.st_ino;
	r->s.head_hash = g->off ^ (uint64_t)g->task << 40 ^ g->bytes << 20;
	r->s.next = run_next;
	r->s.skip = run_skip;
	r->s.consumed = run_consumed;
	r->s.close = run_close;
	r->b.pos = g->off;
	r->b.left = g->bytes;
	r->base_line = g->base_line;
	*out = &r->s;
	return 0;
}

/* XXH128 of a file, as hex. */
static int file_xxh(const char *path, char hex[33], uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	wn_hasher *h = wn_hasher_new();
	uint8_t x[16];
	int rc = h ? wn_hasher_fd(h, fd, x, NULL, size, NULL, NULL) : WN_E_NOMEM;
	wn_hasher_free(h);
	close(fd);
	if (!rc)
		wn_hex(hex, x, 16);
	return rc;
}

static int reduce_done_json(const dplan *p, unsigned part, const char *mhex, const wn_buf *oc, const runw *keys,
	const wn_ingest_result *r, wn_buf *b)
{
	char ohex[33], khex[33];
	xxh_hex(ohex, oc->p ? oc->p : "", oc->len);
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(keys->h));
	wn_hex(khex, c.digest, 16);
	int rc = wn_buf_printf(b, "{\"reduce\":%d,\"plan\":\"%s\",\"part\":%u,\"manifest_json\":\"%s\","
		"\"outcomes\":%zu,\"outcomes_xxh128\":\"%s\",\"keys\":%" PRIu64 ",\"keys_records\":%" PRIu64
		",\"keys_xxh128\":\"%s\"", PLAN_VERSION, p->hex, part, mhex, oc->len, ohex, keys->bytes, keys->records, khex);
#define WN_X(n) rc |= wn_buf_printf(b, ",\"" #n "\":%" PRIu64, r->n);
	WN_OUTCOMES(WN_X)
#undef WN_X
	rc |= wn_buf_puts(b, "}\n");
	return rc ? WN_E_NOMEM : 0;
}

/* What a partition catalog's dist.json says of its files. */
typedef struct pdone {
	char manifest[33];      /* XXH128 of its MANIFEST.json */
	uint64_t outcomes, keys, keys_records;   /* bytes; bytes and records */
	char outcomes_xxh[33], keys_xxh[33];
} pdone;

/* A partition catalog's dist.json into *d: 0, WN_E_NOTFOUND, or WN_E_CORRUPT. */
static int part_done(const char *work, const dplan *p, unsigned part, pdone *d, wn_dist_result *res)
{
	char path[4096];
	wn_buf t = { 0 };
	snprintf(path, sizeof path, "%s/part/%u/dist.json", work, part);
	int rc = read_small(path, &t);
	if (rc == WN_E_NOTFOUND) {
		wn_buf_free(&t);
		return fail(res, rc, "reduce task %u has not completed (no %s): run winnow reduce --part %u", part, path, part);
	}
	if (rc) {
		wn_buf_free(&t);
		return fail(res, rc, "%s: %s", path, wn_open_why(rc));
	}
	jr r = { { t.p, t.p + t.len }, 0 };
	char plan[33];
	jnum(&r, "reduce");
	jhex(&r, "plan", plan);
	unsigned got = (unsigned)jnum(&r, "part");
	jhex(&r, "manifest_json", d->manifest);
	d->outcomes = jnum(&r, "outcomes");
	jhex(&r, "outcomes_xxh128", d->outcomes_xxh);
	d->keys = jnum(&r, "keys");
	d->keys_records = jnum(&r, "keys_records");
	jhex(&r, "keys_xxh128", d->keys_xxh);
	if (r.bad)
		rc = fail(res, WN_E_CORRUPT, "%s: not a reduce task's dist.json as winnow writes it", path);
	else if (strcmp(plan, p->hex) || got != part)
		rc = fail(res, WN_E_CORRUPT, "%s: written for another plan or partition", path);
	wn_buf_free(&t);
	return rc;
}

int wn_dist_reduce(const char *work, unsigned part, const wn_ingest_opts *o, wn_dist_result *resp)
{
	wn_dist_result dummy, *res = resp ? resp : &dummy;
	memset(res, 0, sizeof *res);
	double t0 = wn_now();
	dplan p;
	reducer rd = { .work = work, .part = part, .keys = { .fd = -1 } };
	const char **names = NULL;
	wn_catalog *cat = NULL;
	char dir[4096], tmp[4200], path[4300], mhex[33];
	int rc = plan_load(work, &p, res);
	rd.p = &p;
	if (rc)
		goto out;
	if (part >= p.parts) {
		rc = fail(res, WN_E_USAGE, "the plan has partitions 0 to %u, not %u", p.parts - 1, part);
		goto out;
	}
	snprintf(dir, sizeof dir, "%s/part/%u", work, part);
	snprintf(tmp, sizeof tmp, "%s.tmp", dir);
	pdone pd;
	rc = part_done(work, &p, part, &pd, res);
	if (rc != WN_E_NOTFOUND) {
		res->done_before = !rc;
		goto out;
	}
	*res->err = 0;
	rc = 0;
	for (size_t i = 0; i < p.nin && !rc; i++)
		rc = input_same(&p, i, o->max_line, res);
	if (rc)
		goto out;
	/* every map task's output, each run of this partition proven by its digest */
	if (!(rd.maps = calloc(p.tasks, sizeof *rd.maps))) {
		rc = fail(res, WN_E_NOMEM, "out of memory");
		goto out;
	}
	for (unsigned t = 0; t < p.tasks && !rc; t++) {
		if ((rc = mapdone_load(work, &p, t, &rd.maps[t], res)))
			break;
		char hex[33];
		uint64_t size = 0;
		snprintf(path, sizeof path, "%s/map/%u/%u.run", work, t, part);
		if ((rc = file_xxh(path, hex, &size)))
			fail(res, rc, "%s: %s", path, rc > 0 ? strerror(rc) : wn_strerror(rc));
		else if (size != rd.maps[t].run_bytes[part])
			rc = fail(res, WN_E_CORRUPT, "%s: %" PRIu64 " bytes, and its map task wrote %" PRIu64 " (run map "
				"--task %u again after removing %s/map/%u)", path, size, rd.maps[t].run_bytes[part], t, work, t);
		else if (strcmp(hex, rd.maps[t].run_xxh[part]))
			rc = fail(res, WN_E_CORRUPT, "%s: damaged: its XXH128 is %s, and its map task wrote %s (run map "
				"--task %u again after removing %s/map/%u)", path, hex, rd.maps[t].run_xxh[part], t, work, t);
	}
	if (rc)
		goto out;
	/* the segments, in task order and within a task in the order read; the lines of a
	 * slice that is a byte range count from those of the slices of its input before it */
	uint64_t *lines_before = calloc(p.nsl + 1, sizeof *lines_before);
	if (!lines_before) {
		rc = fail(res, WN_E_NOMEM, "out of memory");
		goto out;
	}
	for (unsigned t = 0; t < p.tasks; t++)
		for (size_t s = 0; s < rd.maps[t].nseg; s++) {
			size_t k = rd.maps[t].seg[s].slice;
			if (k + 1 < p.nsl && p.sl[k + 1].input == p.sl[k].input && !p.sl[k].whole)
				lines_before[k + 1] = lines_before[k] + rd.maps[t].seg[s].lines;
		}
	for (unsigned t = 0; t < p.tasks && !rc; t++) {
		uint64_t off = 0;
		for (size_t s = 0; s < rd.maps[t].nseg; s++) {
			const segment *g = &rd.maps[t].seg[s];
			if (g->bytes[part]) {
				if (WN_GROW(rd.segs, rd.nseg, rd.capseg, 64)) {
					rc = fail(res, WN_E_NOMEM, "out of memory");
					break;
				}
				rd.segs[rd.nseg++] = (rseg){ .task = t, .seg = s, .off = off, .bytes = g->bytes[part],
					.base_line = lines_before[g->slice] };
			}
			off += g->bytes[part];
		}
	}
	free(lines_before);
	if (!rc && rd.nseg && !(names = malloc(rd.nseg * sizeof *names)))
		rc = fail(res, WN_E_NOMEM, "out of memory");
	if (rc)
		goto out;
	for (size_t i = 0; i < rd.nseg; i++)
		names[i] = rd.maps[rd.segs[i].task].strs.p + rd.maps[rd.segs[i].task].seg[rd.segs[i].seg].name;
	snprintf(path, sizeof path, "%s/part", work);
	if ((rc = rmtree(tmp)) || (rc = wn_mkdir_p(path))) {
		fail(res, rc, "%s: %s", tmp, strerror(rc));
		goto out;
	}
	if ((rc = wn_catalog_open(&cat, tmp, WN_OPEN_WRITE))) {
		fail(res, rc, "%s: %s", tmp, cat ? wn_catalog_errmsg(cat) : wn_strerror(rc));
		goto out;
	}
	snprintf(path, sizeof path, "%s/keys", tmp);
	if ((rc = runw_open(&rd.keys, path, res)))
		goto out;
	if (rd.nseg) {
		/* the profile as the plan's first input chooses it, whatever this partition holds */
		wn_ingest_opts ro = *o;
		const char **all = malloc(p.nin * sizeof *all);
		if (!all) {
			rc = fail(res, WN_E_NOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < p.nin; i++)
			all[i] = S(&p, p.in[i].name);
		ro.format = wn_ingest_first_format(o, all, p.nin);
		free(all);
		ro.strict = 0;
		/* the partition's data files are read once, by the merge, which compresses every
		 * record again at the plan's level into the merged order: zstd's fastest level
		 * here saves most of a compression */
		ro.level = 1;
		rc = wn_ingest_from(cat, &ro, names, rd.nseg, open_segment, &rd, on_decided, &rd, &res->ingest);
		if (!rc && rd.nomem)
			rc = wn_seterr(cat, WN_E_NOMEM, "out of memory");
		if (!rc && rd.werr)
			rc = wn_seterr(cat, rd.werr, "%s/keys: %s", tmp, strerror(rd.werr));
		if (rc) {
			fail(res, rc, "partition %u: %s", part, wn_catalog_errmsg(cat));
			goto out;
		}
	}
	wn_catalog_close(cat);
	cat = NULL;
	snprintf(path, sizeof path, "%s/keys", tmp);
	if ((rc = runw_sync(&rd.keys, path, res)))
		goto out;
	snprintf(path, sizeof path, "%s/MANIFEST.json", tmp);
	uint64_t msize;
	wn_buf b = { 0 };
	if ((rc = file_xxh(path, mhex, &msize)))
		fail(res, rc, "%s: %s", path, rc > 0 ? strerror(rc) : wn_strerror(rc));
	else if ((rc = write_in(tmp, "outcomes", rd.outcomes.p ? rd.outcomes.p : "", rd.outcomes.len)))
		fail(res, rc, "%s/outcomes: %s", tmp, strerror(rc));
	else if ((rc = reduce_done_json(&p, part, mhex, &rd.outcomes, &rd.keys, &res->ingest, &b)))
		fail(res, rc, "out of memory");
	else if ((rc = write_in(tmp, "dist.json", b.p, b.len)))
		fail(res, rc, "%s/dist.json: %s", tmp, strerror(rc));
	wn_buf_free(&b);
	if (!rc && (rc = commit_dir(tmp, dir)))
		fail(res, rc, "%s: %s", dir, strerror(rc));
out:
	wn_catalog_close(cat);
	res->seconds = wn_now() - t0;
	if (rd.maps)
		for (unsigned t = 0; t < p.tasks; t++)
			mapdone_free(&rd.maps[t]);
	free(rd.maps);
	free(rd.segs);
	wn_buf_free(&rd.outcomes);
	runw_close(&rd.keys);
	free(names);
	plan_free(&p);
	return rc;
}

/* ---- merge (FORMAT.md 17.5): the partitions' records back in input order ----
 *
 * Map tasks wrote, for every record they read, its partition (the route); reduce tasks
 * wrote, for every record of their partition in the order they read it, what became of
 * it (its outcome: stored, a ledger entry, a reject entry). Walking the routes in task
 * order is walking the inputs in order, so each record's outcome says which of its
 * partition's streams (shards, ledger, rejects) holds its next entry: taking them in that
 * order gives the single ingest's acceptance order, ordinal for ordinal, entry for entry.
 * Shard records are copied, not re-parsed; ledger entries get the new ordinals of their
 * survivor and superseded version. Frames are cut again and compressed on the pool. */

typedef struct mfile_ent {
	char rel[128];
	int role, kind;
	uint32_t seq;
	wn_mfile m;
} mfile_ent;

/* One stream (role) of one partition catalog, entry by entry, across its files. */
typedef struct ereader {
	char dir[4200];         /* the partition catalog */
	mfile_ent **files;
	size_t nfiles, fi;
	int fd;
	wn_seekent *se;
	uint32_t nse, fr;
	uint64_t at;
	wn_buf comp, dec;
	size_t pos;
	wn_dist_result *res;
} ereader;

typedef struct pcat {
	mfile_ent *f;
	size_t nf, capf;
	wn_mjson mj;
	wn_buf mtext, ctext;
	ereader rd[WN_NROLES];
	uint8_t *outc;          /* outcomes, one a record read */
	uint64_t noutc, at;
	uint64_t *ord;          /* partition ordinal -> merged ordinal */
	uint64_t nord;
	breader kr;             /* its keys file (17.4), read by the index's feed */
	uint64_t nkeys;         /* records it holds */
	wn_contrib *con;        /* its contributions (its one run's), in their order */
	size_t ncon, capcon, cnext;   /* ... cnext: the first whose first record the walk has not met */
	uint64_t *cfirst;       /* per contribution: the merged ordinal of its first record */
} pcat;

static int collect_file(void *ud, size_t idx, const char *path, size_t plen, int have_path, const wn_mfile *m)
{
	(void)idx;
	pcat *pc = ud;
	if (!have_path || plen >= sizeof pc->f->rel || m->role < 0 || m->kind < 0)
		return WN_E_CORRUPT;
	if (WN_GROW(pc->f, pc->nf, pc->capf, 64))
		return WN_E_NOMEM;
	mfile_ent *e = &pc->f[pc->nf++];
	memcpy(e->rel, path, plen);
	e->rel[plen] = 0;
	e->role = m->role;
	e->kind = m->kind;
	e->m = *m;
	const char *slash = strchr(e->rel, '/');
	size_t kl;
	if (!slash || wn_kind_file_name(slash + 1, &kl, &e->seq))
		return WN_E_CORRUPT;
	return 0;
}

static int cmp_ent(const void *a, const void *b)
{
	const mfile_ent *x = *(mfile_ent *const *)a, *y = *(mfile_ent *const *)b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The next frame of the stream into dec: 1, 0 at its end, or a code (res->err). */
static int er_frame(ereader *r)
{
	char path[4400], err[256], hex[33], want[33];
	for (;;) {
		if (r->fd >= 0 && r->fr < r->nse)
			break;
		if (r->fd >= 0) {
			close(r->fd);
			r->fd = -1;
			free(r->se);
			r->se = NULL;
		}
		if (r->fi == r->nfiles)
			return 0;
		const mfile_ent *e = r->files[r->fi++];
		snprintf(path, sizeof path, "%s/%s", r->dir, e->rel);
		uint64_t size;
		int rc = file_xxh(path, hex, &size);
		if (rc)
			return fail(r->res, rc, "%s: %s", path, rc > 0 ? strerror(rc) : wn_strerror(rc));
		wn_hex(want, e->m.xxh128, 16);
		if (strcmp(hex, want) || size != e->m.bytes)
			return fail(r->res, WN_E_CORRUPT, "%s: damaged: its XXH128 or size is not its MANIFEST.json's", path);
		if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return fail(r->res, errno, "%s: %s", path, strerror(errno));
		uint64_t tb;
		if ((rc = wn_seektable_read(r->fd, size, &r->se, &r->nse, &tb, err, sizeof err)))
			return fail(r->res, rc, "%s: %s", path, rc == WN_E_CORRUPT ? err : strerror(rc));
		r->fr = 0;
		r->at = 0;
	}
	const wn_seekent *se = &r->se[r->fr];
	r->comp.len = r->dec.len = 0;
	r->pos = 0;
	if (wn_buf_reserve(&r->comp, se->csize) || wn_buf_reserve(&r->dec, (size_t)se->dsize + 1))
		return fail(r->res, WN_E_NOMEM, "out of memory");
	const char *rel = r->files[r->fi - 1]->rel;
	int rc = wn_pread_all(r->fd, r->comp.p, se->csize, r->at);
	if (rc)
		return fail(r->res, rc > 0 ? rc : WN_E_CORRUPT, "%s/%s: frame %u: %s", r->dir, rel, r->fr,
			rc > 0 ? strerror(rc) : "cut short");
	size_t d = ZSTD_decompress(r->dec.p, (size_t)se->dsize + 1, r->comp.p, se->csize);
	if (ZSTD_isError(d) || d != se->dsize)
		return fail(r->res, WN_E_CORRUPT, "%s/%s: frame %u does not decode to what its seek table says", r->dir,
			rel, r->fr);
	r->dec.len = d;
	r->at += se->csize;
	r->fr++;
	return 1;
}

/* The next entry (line without its newline): 1, 0 at the end of the stream, or a code. */
static int er_next(ereader *r, const char **line, size_t *len)
{
	while (r->pos >= r->dec.len) {
		int rc = er_frame(r);
		if (rc != 1)
			return rc;
	}
	const char *p = r->dec.p + r->pos, *nl = memchr(p, '\n', r->dec.len - r->pos);
	size_t l = nl ? (size_t)(nl - p) : r->dec.len - r->pos;
	*line = p;
	*len = l;
	r->pos += l + 1;
	return 1;
}

static void er_free(ereader *r)
{
	if (r->files && r->fd >= 0)
		close(r->fd);
	free(r->se);
	free(r->files);
	wn_buf_free(&r->comp);
	wn_buf_free(&r->dec);
}

/* A series of the new catalog written as ingest writes one: frames of frame_bytes,
 * files of shard_bytes, compressed on the pool and written in order. */
#define SW_JOBS 8
typedef struct swriter {
	const char *dir;
	int role, kind;
	const char *kname;
	wn_pool *pool;
	wn_job jobs[SW_JOBS];
	int head, count;        /* jobs[head .. head+count) in flight; jobs[head+count] filling */
	size_t frame_bytes;
	uint64_t shard_bytes, file_raw, next;
	int fd;
	char rel[160];
	wn_fileinfo fi;
	XXH3_state_t *h;
	wn_seekent *seek;
	size_t nseek, capseek;
	wn_fileinfo *done;      /* sealed files, with their names */
	char (*names)[160];
	size_t ndone, capdone, capnames;
	uint32_t *fnrec;        /* the records of every frame written, in order */
	size_t nfnrec, capfnrec;
	size_t *fstart;         /* per sealed file: its first frame in fnrec */
	size_t capfstart, cur_start;
	wn_dist_result *res;
} swriter;

static int sw_retire(swriter *w)
{
	wn_job *j = &w->jobs[w->head];
	wn_pool_wait(w->pool, &j->task);
	if (j->err)
		return fail(w->res, j->err, "%s/%s: %s", w->dir, w->rel, wn_strerror(j->err));
	int rc = wn_write_all(w->fd, j->comp, j->comp_len);
	if (rc)
		return fail(w->res, rc, "%s/%s: %s", w->dir, w->rel, strerror(rc));
	XXH3_128bits_update(w->h, j->comp, j->comp_len);
	if (WN_GROW(w->seek, w->nseek, w->capseek, 64))
		return fail(w->res, WN_E_NOMEM, "out of memory");
	w->seek[w->nseek++] = (wn_seekent){ (uint32_t)j->comp_len, (uint32_t)j->raw_len, j->checksum };
	if (WN_GROW(w->fnrec, w->nfnrec, w->capfnrec, 256))
		return fail(w->res, WN_E_NOMEM, "out of memory");
	w->fnrec[w->nfnrec++] = j->nrec;
	w->fi.nframes++;
	w->fi.nrecords += j->nrec;
	w->fi.raw_bytes += j->raw_len;
	w->fi.data_len += j->comp_len;
	j->raw_len = 0;
	j->nrec = 0;
	w->head = (w->head + 1) % SW_JOBS;
	w->count--;
	return 0;
}

static int sw_seal(swriter *w)
{
	int rc;
	while (w->count)
		if ((rc = sw_retire(w)))
			return rc;
	size_t tl = wn_seektable_size((uint32_t)w->nseek);
	uint8_t *t = malloc(tl);
	if (!t)
		return fail(w->res, WN_E_NOMEM, "out of memory");
	wn_seektable_write(t, w->seek, (uint32_t)w->nseek);
	XXH3_128bits_update(w->h, t, tl);
	rc = wn_write_all(w->fd, t, tl);
	free(t);
	if (rc || (fsync(w->fd) && (rc = errno)))
		return fail(w->res, rc, "%s/%s: %s", w->dir, w->rel, strerror(rc));
	close(w->fd);
	w->fd = -1;
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(w->h));
	memcpy(w->fi.xxh128, c.digest, 16);
	w->fi.size = w->fi.data_len + tl;
	w->fi.sealed = 1;
	if (WN_GROW(w->done, w->ndone, w->capdone, 16) || WN_GROW(w->names, w->ndone, w->capnames, 16) ||
	    WN_GROW(w->fstart, w->ndone, w->capfstart, 16))
		return fail(w->res, WN_E_NOMEM, "out of memory");
	w->fstart[w->ndone] = w->cur_start;
	w->done[w->ndone] = w->fi;
	memcpy(w->names[w->ndone], w->rel, sizeof w->rel);
	w->ndone++;
	w->next += w->fi.nrecords;
	w->nseek = 0;
	w->file_raw = 0;
	return 0;
}

/* The frame being filled goes to the pool (a new file first when the last is full). */
static int sw_submit(swriter *w)
{
	wn_job *j = &w->jobs[(w->head + w->count) % SW_JOBS];
	int rc;
	if (!j->raw_len)
		return 0;
	if (w->fd >= 0 && w->file_raw >= w->shard_bytes && (rc = sw_seal(w)))
		return rc;
	if (w->fd < 0) {
		uint32_t seq = (uint32_t)w->ndone + 1;
		snprintf(w->rel, sizeof w->rel, "%s/%s-%06u.jsonl.zst", wn_role_dir(w->role), w->kname, seq);
		char path[4400];
		snprintf(path, sizeof path, "%s/%s", w->dir, w->rel);
		if ((w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
			return fail(w->res, errno, "%s: %s", path, strerror(errno));
		memset(&w->fi, 0, sizeof w->fi);
		w->fi.role = (uint8_t)w->role;
		w->fi.kind = (uint8_t)w->kind;
		w->fi.seq = seq;
		w->fi.first_ord = w->next;
		w->cur_start = w->nfnrec;   /* every frame of the files before is retired */
		XXH3_128bits_reset(w->h);
	}
	w->file_raw += j->raw_len;
	j->task.run = wn_series_compress_job;
	wn_pool_submit(w->pool, &j->task);
	w->count++;
	if (w->count == SW_JOBS - 1 && (rc = sw_retire(w)))
		return rc;
	return 0;
}

static int sw_add(swriter *w, const char *rec, size_t len)
{
	wn_job *j = &w->jobs[(w->head + w->count) % SW_JOBS];
	int rc;
	if (j->raw_len && j->raw_len + len + 1 > w->frame_bytes) {
		if ((rc = sw_submit(w)))
			return rc;
		j = &w->jobs[(w->head + w->count) % SW_JOBS];
	}
	if (j->raw_len + len + 1 > j->raw_cap) {
		size_t c = j->raw_cap ? j->raw_cap : w->frame_bytes + 1;
		while (c < j->raw_len + len + 1)
			c *= 2;
		char *r = realloc(j->raw, c);
		if (!r)
			return fail(w->res, WN_E_NOMEM, "out of memory");
		j->raw = r;
		j->raw_cap = c;
	}
	memcpy(j->raw + j->raw_len, rec, len);
	j->raw[j->raw_len + len] = '\n';
	j->raw_len += len + 1;
	j->nrec++;
	return 0;
}

static int sw_finish(swriter *w)
{
	int rc = sw_submit(w);
	if (!rc && w->fd >= 0)
		rc = sw_seal(w);
	return rc;
}

static void sw_free(swriter *w)
{
	if (w->count)
		wn_pool_idle(w->pool, 1e9);
	for (int i = 0; i < SW_JOBS; i++) {
		free(w->jobs[i].raw);
		free(w->jobs[i].comp);
	}
	if (w->fd >= 0)
		close(w->fd);
	XXH3_freeState(w->h);
	free(w->seek);
	free(w->done);
	free(w->names);
	free(w->fnrec);
	free(w->fstart);
}

static int merge_done(const char *work, const dplan *p, const char *out)
{
	char path[4096], mhex[33], want[33];
	wn_buf t = { 0 }, name = { 0 };
	snprintf(path, sizeof path, "%s/merge.json", work);
	int rc = read_small(path, &t);
	if (rc) {
		wn_buf_free(&t);
		return WN_E_NOTFOUND;
	}
	jr r = { { t.p, t.p + t.len }, 0 };
	char plan[33];
	jnum(&r, "merge");
	jhex(&r, "plan", plan);
	jstr(&r, "catalog", &name);
	jhex(&r, "manifest_json", want);
	uint64_t size;
	snprintf(path, sizeof path, "%s/MANIFEST.json", out);
	if (r.bad || strcmp(plan, p->hex) || strcmp(name.p ? name.p : "", out) || file_xxh(path, mhex, &size) ||
	    strcmp(mhex, want))
		rc = WN_E_NOTFOUND;
	wn_buf_free(&t);
	wn_buf_free(&name);
	return rc;
}

/* Load partition i: its dist.json, MANIFEST.json (checked against the digest reduce
 * wrote), catalog.json, outcomes; set up its stream readers. */
static int merge_load(const char *work, const dplan *p, unsigned i, pcat *pc, const char *kname, wn_dist_result *res)
{
	char hex[33], path[4300];
	uint64_t size;
	pdone pd;
	int rc = part_done(work, p, i, &pd, res);
	if (rc)
		return rc;
	const char *want = pd.manifest;
	snprintf(path, sizeof path, "%s/part/%u/MANIFEST.json", work, i);
	if ((rc = file_xxh(path, hex, &size)) || strcmp(hex, want))
		return fail(res, WN_E_CORRUPT, "%s: %s", path, rc ? wn_strerror(rc) :
			"not the one its reduce task wrote (verify it; or remove it and run reduce again)");
	if ((rc = read_small(path, &pc->mtext)))
		return fail(res, rc, "%s: %s", path, wn_open_why(rc));
	wn_mjson_cb cb = { .file = collect_file, .ud = pc };
	if ((rc = wn_mjson_read(pc->mtext.p, pc->mtext.len, &cb, &pc->mj)) || !pc->mj.have_counts)
		return fail(res, WN_E_CORRUPT, "%s: not a MANIFEST.json as winnow writes it", path);
	int kind_ok = wn_kinds_find(&pc->mj.kinds, kname, strlen(kname));
	snprintf(path, sizeof path, "%s/part/%u/catalog.json", work, i);
	if ((rc = read_small(path, &pc->ctext)))
		return fail(res, WN_E_CORRUPT, "%s: cannot be read", path);
	snprintf(path, sizeof path, "%s/part/%u/outcomes", work, i);
	wn_buf ob = { 0 };
	if ((rc = wn_read_text(path, &ob, 1ull << 40))) {
		wn_buf_free(&ob);
		return fail(res, rc == ENOENT ? WN_E_CORRUPT : rc, "%s: %s", path, wn_open_why(rc));
	}
	xxh_hex(hex, ob.p, ob.len);
	if (ob.len != pd.outcomes || strcmp(hex, pd.outcomes_xxh)) {
		wn_buf_free(&ob);
		return fail(res, WN_E_CORRUPT, "%s: damaged: not the one its reduce task wrote", path);
	}
	pc->outc = (uint8_t *)ob.p;
	pc->noutc = ob.len;
	/* the keys of its stored records, proven whole before the index reads them */
	snprintf(path, sizeof path, "%s/part/%u/keys", work, i);
	if ((rc = file_xxh(path, hex, &size)))
		return fail(res, rc == ENOENT ? WN_E_CORRUPT : rc, "%s: %s", path, rc > 0 ? strerror(rc) : wn_strerror(rc));
	if (size != pd.keys || strcmp(hex, pd.keys_xxh))
		return fail(res, WN_E_CORRUPT, "%s: damaged: not the one its reduce task wrote", path);
	if ((pc->kr.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fail(res, errno, "%s: %s", path, strerror(errno));
	pc->kr.left = size;
	pc->nkeys = pd.keys_records;
	for (int r = 0; r < WN_NROLES; r++) {
		ereader *er = &pc->rd[r];
		er->fd = -1;
		er->res = res;
		snprintf(er->dir, sizeof er->dir, "%s/part/%u", work, i);
		if (!(er->files = calloc(pc->nf + 1, sizeof *er->files)))
			return fail(res, WN_E_NOMEM, "out of memory");
		for (size_t f = 0; f < pc->nf; f++) {
			if (pc->f[f].kind != kind_ok)
				return fail(res, WN_E_CORRUPT, "%s/part/%u/%s: a kind the plan does not read", work, i, pc->f[f].rel);
			if (pc->f[f].role == r)
				er->files[er->nfiles++] = &pc->f[f];
		}
		qsort(er->files, er->nfiles, sizeof *er->files, cmp_ent);
	}
	return 0;
}

/* The entry of a ledger with its ordinals moved to the merged catalog's. */
static int ledger_moved(pcat *pc, const char *line, size_t len, wn_buf *out, wn_buf *scratch, const char *where,
	wn_dist_result *res)
{
	wn_ledger_entry e;
	if (wn_ledger_decode(line, len, WN_LEDGER_ALL, &e, scratch))
		return fail(res, WN_E_CORRUPT, "%s: not a ledger entry as winnow writes it", where);
	if (e.survivor >= pc->nord || (e.superseded >= 0 && (uint64_t)e.superseded >= pc->nord))
		return fail(res, WN_E_CORRUPT, "%s: a ledger entry names a record its partition had not stored", where);
	e.survivor = pc->ord[e.survivor];
	if (e.superseded >= 0)
		e.superseded = (int64_t)pc->ord[e.superseded];
	out->len = 0;
	return wn_ledger_encode(&e, out) ? fail(res, WN_E_NOMEM, "out of memory") : 0;
}

/* The merged catalog's stored records: the partition of each, in ordinal order (2 bytes
 * a record), and the shard files' frames (sw): what the index's feed reads the partitions'
 * keys files by. */
typedef struct mfeed {
	pcat *pc;
	unsigned parts;
	uint16_t *order;
	uint64_t n, cap, at;
	const swriter *sw;
	const char *work;
} mfeed;

static int feed_frame(void *ud, uint32_t seq, uint32_t frame, uint32_t *nrec)
{
	const mfeed *f = ud;
	const swriter *w = f->sw;
	if (!seq || seq > w->ndone)
		return WN_E_CORRUPT;
	size_t a = w->fstart[seq - 1], b = seq < w->ndone ? w->fstart[seq] : w->nfnrec;
	if (frame >= b - a)
		return WN_E_CORRUPT;
	*nrec = w->fnrec[a + frame];
	return 0;
}

static int feed_keys(void *ud, wn_keys *k, char *err, size_t el)
{
	mfeed *f = ud;
	if (f->at >= f->n) {
		snprintf(err, el, "more records than the partitions stored");
		return WN_E_CORRUPT;
	}
	unsigned part = f->order[f->at++];
	breader *r = &f->pc[part].kr;
	int got = br_need(r, KEYS_HEAD);
	const uint8_t *h = (const uint8_t *)r->buf + r->start;
	size_t n = got == 1 ? KEYS_HEAD + 8 * (size_t)h[26] : 0;
	if (got == 1 && (h[26] > WN_MAX_ISRCS || (got = br_need(r, n)) != 1))
		got = got == 1 ? 0 : got;
	if (got != 1) {
		snprintf(err, el, "%s/part/%u/keys: %s", f->work, part, got < 0 ? strerror(-got) :
			"fewer keys than the partition stored, or damaged");
		return got < 0 ? -got : WN_E_CORRUPT;
	}
	h = (const uint8_t *)r->buf + r->start;
	k->id = NULL;
	k->id_len = 0;
	k->hash = get_le64(h);
	k->check = (uint16_t)(h[8] | h[9] << 8);
	memcpy(k->fp, h + 10, 16);
	k->n_isrc = h[26];
	k->isrc_over = 0;
	for (int i = 0; i < k->n_isrc; i++)
		k->isrc_hash[i] = get_le64(h + KEYS_HEAD + 8 * i);
	r->start += n;
	return 0;
}

/* ---- the contributions of the merged catalog (FORMAT.md 17.5) ----
 *
 * A partition's one run stored a contribution per contributor it met, numbered in the
 * order its contributors first came; the single ingest numbers them in the order they
 * first came in the inputs. A contributor's first play is always stored (its id, which
 * holds the contributor, is new), so the walk finds, for each partition contribution in
 * turn, the first stored record of its partition whose id's contributor part is its
 * contributor, and notes its merged ordinal; a contributor's contributions are folded
 * into one (contrib.c), numbered by the least such ordinal. */

/* How the walk tells a stored record's contributor: the kind's profile and a parser. */
typedef struct whof {
	const char *kind;
	wn_profile prof;
	int cpart;              /* its contributor part, or -1 (no contributions) */
	wn_json *json;
} whof;

static int whof_profile(void *ud, const char *kind, const wn_profile *p)
{
	whof *w = ud;
	if (!strcmp(kind, w->kind)) {
		w->prof = *p;
		w->cpart = wn_profile_contributor_part(p);
	}
	return 0;
}

/* The profile of the partitions' catalog.json (profiles[0..n), NULL: none) and its parser. */
static int whof_open(whof *w, const char *kind, const char *profiles, size_t n, wn_dist_result *res)
{
	char why[200];
	memset(w, 0, sizeof *w);
	w->kind = kind;
	w->cpart = -1;
	if (!profiles)
		return 0;
	if (wn_profiles_decode(profiles, n, whof_profile, w, why, sizeof why))
		return fail(res, WN_E_CORRUPT, "the partitions' catalog.json: profiles: %s", why);
	if (w->cpart < 0)
		return 0;
	if (!(w->json = wn_json_new()))
		return fail(res, WN_E_NOMEM, "out of memory");
	int rc = wn_record_parser(w->json, &w->prof, 0);
	return rc ? fail(res, rc, "the partitions' profile: a field path winnow refuses") : 0;
}

/* Is stored record line[0..len) one of who's (its id's contributor part is who, as a
 * contribution keeps it)? A record holds its contributor's value as it is (a string
 * without escapes, or a number) or with a backslash somewhere: any other is passed over
 * without parsing. */
static int is_whos(whof *w, const char *line, size_t len, const char *who)
{
	size_t wl = strlen(who);
	wn_jresult res;
	const wn_jslot *part[8];
	if (!w->json || (!memmem(line, len, who, wl) && !memchr(line, '\\', len)) || wn_json_record(w->json, line, len, &res))
		return 0;
	wn_record_id_values(&res, &w->prof, part);
	const wn_jslot *v = part[w->cpart];
	size_t n = v ? (v->len > WN_WHO_MAX ? WN_WHO_MAX : v->len) : 0;
	return v && (v->type == WN_JT_STRING || v->type == WN_JT_NUMBER) && n == wl && !memcmp(v->ptr, who, wl);
}

/* Every partition's contributions, read from its contributions files (each checked
 * against its MANIFEST.json as every data file is). */
static int merge_contribs_load(const char *work, pcat *pc, unsigned parts, wn_dist_result *res)
{
	wn_buf scratch = { 0 };
	int rc = 0;
	for (unsigned i = 0; i < parts && !rc; i++) {
		const char *line;
		size_t len;
		int got;
		while (!rc && (got = er_next(&pc[i].rd[WN_ROLE_CONTRIB], &line, &len)) == 1) {
			if (WN_GROW(pc[i].con, pc[i].ncon, pc[i].capcon, 16)) {
				rc = fail(res, WN_E_NOMEM, "out of memory");
				break;
			}
			int e = wn_contrib_line_parse(line, len, &pc[i].con[pc[i].ncon], &scratch);
			if (e)
				rc = e == WN_E_NOMEM ? fail(res, e, "out of memory") : fail(res, WN_E_CORRUPT,
					"%s/part/%u: contribution %zu is not one as winnow writes it", work, i, pc[i].ncon + 1);
			else if (pc[i].con[pc[i].ncon].no != pc[i].ncon + 1)
				rc = fail(res, WN_E_CORRUPT, "%s/part/%u: its contributions are not numbered 1, 2, ... (one run's)", work, i);
			else
				pc[i].ncon++;
		}
		if (!rc && got)
			rc = got;
		if (!rc && !(pc[i].cfirst = malloc((pc[i].ncon ? pc[i].ncon : 1) * sizeof *pc[i].cfirst)))
			rc = fail(res, WN_E_NOMEM, "out of memory");
		for (size_t k = 0; !rc && k < pc[i].ncon; k++)
			pc[i].cfirst[k] = UINT64_MAX;
	}
	wn_buf_free(&scratch);
	return rc;
}

typedef struct corder {
	uint64_t first;
	const char *who;
	size_t at;
} corder;

static int cmp_corder(const void *a, const void *b)
{
	const corder *x = a, *y = b;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return strcmp(x->who, y->who);
}

/* The partitions' contributions folded per contributor, numbered 1, 2, ... in the order
 * of their first records, generation 1, written to the new contributions series. */
static int merge_contribs_write(pcat *pc, unsigned parts, swriter *sw, wn_dist_result *res)
{
	wn_contribs all = { 0 };
	corder *ord = NULL;
	size_t cap = 0;
	wn_buf line = { 0 };
	int rc = 0;
	for (unsigned i = 0; i < parts && !rc; i++)
		for (size_t k = 0; k < pc[i].ncon && !rc; k++) {
			size_t at, had = all.n;
			if ((rc = wn_contribs_fold(&all, &pc[i].con[k], &at)) || (rc = WN_GROW(ord, had, cap, 16)))
				break;
			if (all.n > had)   /* a contributor met for the first time */
				ord[at] = (corder){ UINT64_MAX, NULL, at };
			if (pc[i].cfirst[k] < ord[at].first)
				ord[at].first = pc[i].cfirst[k];
		}
	for (size_t i = 0; i < all.n; i++)
		ord[i].who = all.v[i].who;
	if (!rc && all.n > 1)
		qsort(ord, all.n, sizeof *ord, cmp_corder);
	for (size_t i = 0; !rc && i < all.n; i++) {
		wn_contrib *x = &all.v[ord[i].at];
		x->no = (uint32_t)i + 1;
		x->generation = 1;
		if (!(rc = wn_contrib_line(x, &line)))
			rc = sw_add(&sw[WN_ROLE_CONTRIB], line.p, line.len);
	}
	if (rc == WN_E_NOMEM && !*res->err)
		fail(res, rc, "out of memory");
	free(ord);
	wn_buf_free(&line);
	wn_contribs_free(&all);
	return rc;
}

/* Walk the routes of every map task, in order: the records in input order. */
static int merge_walk(const char *work, const dplan *p, pcat *pc, swriter *sw, mfeed *fd, whof *wf, wn_dist_result *res)
{
	char path[4300], hex[33];
	wn_buf ent = { 0 }, scratch = { 0 }, route = { 0 };
	uint64_t gord = 0;
	int rc = 0;
	for (unsigned t = 0; t < p->tasks && !rc; t++) {
		mapdone d;
		if ((rc = mapdone_load(work, p, t, &d, res)))
			break;
		snprintf(path, sizeof path, "%s/map/%u/route", work, t);
		route.len = 0;
		if ((rc = wn_read_text(path, &route, 1ull << 40))) {
			fail(res, rc == ENOENT ? WN_E_CORRUPT : rc, "%s: %s", path, wn_open_why(rc));
			mapdone_free(&d);
			break;
		}
		xxh_hex(hex, route.p, route.len);
		if (route.len != d.route_bytes || route.len != 2 * d.route_records || strcmp(hex, d.route_xxh)) {
			rc = fail(res, WN_E_CORRUPT, "%s: damaged: not the route its map task wrote", path);
			mapdone_free(&d);
			break;
		}
		mapdone_free(&d);
		const uint8_t *rt = (const uint8_t *)route.p;
		for (uint64_t k = 0; k < route.len / 2 && !rc; k++) {
			unsigned part = rt[2 * k] | (unsigned)rt[2 * k + 1] << 8;
			if (part >= p->parts || pc[part].at >= pc[part].noutc) {
				rc = fail(res, WN_E_CORRUPT, "%s: record %" PRIu64 " goes to partition %u, which has no outcome "
					"for it", path, k, part);
				break;
			}
			pcat *c = &pc[part];
			int oc = c->outc[c->at++];
			const char *line;
			size_t len;
			for (int r = 0; r < WN_NSTREAMS && !rc; r++) {
				static const int flag[WN_NSTREAMS] = { WN_OUTCOME_STORED, WN_OUTCOME_LEDGER, WN_OUTCOME_REJECT };
				if (!(oc & flag[r]))
					continue;
				int got = er_next(&c->rd[r], &line, &len);
				if (got != 1) {
					rc = got ? got : fail(res, WN_E_CORRUPT, "%s/part/%u: its %s end before its outcomes do", work,
						part, wn_role_dir(r));
					break;
				}
				if (r == WN_ROLE_SHARD) {
					if (c->nord >= c->nkeys || WN_GROW(fd->order, fd->n, fd->cap, 1 << 16)) {
						rc = c->nord >= c->nkeys ? fail(res, WN_E_CORRUPT, "%s/part/%u/keys: fewer keys than its "
							"shards hold", work, part) : fail(res, WN_E_NOMEM, "out of memory");
						break;
					}
					fd->order[fd->n++] = (uint16_t)part;
					if (c->cnext < c->ncon && is_whos(wf, line, len, c->con[c->cnext].who))
						c->cfirst[c->cnext++] = gord;
					c->ord[c->nord++] = gord++;
				} else if (r == WN_ROLE_LEDGER) {
					char where[64];
					snprintf(where, sizeof where, "partition %u ledger", part);
					if ((rc = ledger_moved(c, line, len, &ent, &scratch, where, res)))
						break;
					line = ent.p;
					len = ent.len;
				}
				rc = sw_add(&sw[r], line, len);
			}
		}
	}
	/* every partition's outcomes and streams used up, no more */
	for (unsigned i = 0; i < p->parts && !rc; i++) {
		const char *line;
		size_t len;
		if (pc[i].at != pc[i].noutc)
			rc = fail(res, WN_E_CORRUPT, "%s/part/%u/outcomes: %" PRIu64 " records, and the routes send it %" PRIu64,
				work, i, pc[i].noutc, pc[i].at);
		else if (pc[i].nord != pc[i].nkeys)
			rc = fail(res, WN_E_CORRUPT, "%s/part/%u/keys: %" PRIu64 " records, and its shards hold %" PRIu64, work, i,
				pc[i].nkeys, pc[i].nord);
		for (int r = 0; r < WN_NSTREAMS && !rc; r++) {
			int got = er_next(&pc[i].rd[r], &line, &len);
			if (got)
				rc = got < 0 || got > 1 ? got : fail(res, WN_E_CORRUPT, "%s/part/%u: %s entries that no outcome "
					"accounts for", work, i, wn_role_dir(r));
		}
	}
	wn_buf_free(&ent);
	wn_buf_free(&scratch);
	wn_buf_free(&route);
	return rc;
}

int wn_dist_merge(const char *work, const char *outdir, const wn_dist_merge_opts *mo, wn_dist_result *resp)
{
	wn_dist_result dummy, *res = resp ? resp : &dummy;
	memset(res, 0, sizeof *res);
	double t0 = wn_now();
	wn_dist_merge_opts dflt;
	if (!mo) {
		wn_dist_merge_opts_init(&dflt);
		mo = &dflt;
	}
	wn_ingest_opts io;
	wn_ingest_opts_init(&io);
	const wn_ingest_opts *o = mo->ingest ? mo->ingest : &io;
	dplan p;
	pcat *pc = NULL;
	swriter sw[WN_NROLES];
	memset(sw, 0, sizeof sw);
	for (int r = 0; r < WN_NROLES; r++)
		sw[r].fd = -1;
	wn_pool *pool = NULL;
	wn_buf mj = { 0 }, cj = { 0 }, b = { 0 }, prof = { 0 };
	mfeed fd = { 0 };
	whof wf = { .cpart = -1 };
	char tmp[4200], path[4300], mhex[33];
	int level = o->level, rc = plan_load(work, &p, res);
	if (rc)
		goto out;
	if (o->kind)
		p.kind = o->kind;   /* as the parser read it ("tracks" is track) */
	if (!merge_done(work, &p, outdir)) {
		res->done_before = 1;
		goto out;
	}
	struct stat st;
	if (!lstat(outdir, &st)) {
		rc = fail(res, WN_E_USAGE, "%s exists: merge makes a new catalog", outdir);
		goto out;
	}
	if (!(pc = calloc(p.parts, sizeof *pc))) {
		rc = fail(res, WN_E_NOMEM, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < p.parts; i++)
		pc[i].kr.fd = -1;
	fd.pc = pc;
	fd.parts = p.parts;
	fd.work = work;
	/* every partition catalog, as its reduce task sealed it */
	wn_kinds kinds;
	wn_kinds_init(&kinds);
	int kind = wn_kinds_add(&kinds, p.kind, strlen(p.kind));
	wn_kstate ks[WN_KINDS_MAX];
	memset(ks, 0, sizeof ks);
	const char *profiles = NULL;
	size_t profiles_len = 0;
	for (unsigned i = 0; i < p.parts && !rc; i++) {
		if ((rc = merge_load(work, &p, i, &pc[i], p.kind, res)))
			break;
		for (int k = 0; k < pc[i].mj.kinds.n; k++) {
			const uint64_t *c = pc[i].mj.counts[k];
			if (strcmp(pc[i].mj.kinds.name[k], p.kind)) {
				if (c[WN_C_read]) {
					rc = fail(res, WN_E_CORRUPT, "%s/part/%u: records of a kind the plan does not read", work, i);
					break;
				}
				continue;
			}
			ks[kind].read += c[WN_C_read];
			ks[kind].kept += c[WN_C_kept];
			ks[kind].duplicates += c[WN_C_duplicates];
			ks[kind].revisions += c[WN_C_revisions];
			ks[kind].rejected += c[WN_C_rejected];
			ks[kind].superseded += c[WN_C_superseded];
			if (c[WN_C_read] != pc[i].noutc) {
				rc = fail(res, WN_E_CORRUPT, "%s/part/%u: %" PRIu64 " records read and %" PRIu64 " outcomes", work, i,
					c[WN_C_read], pc[i].noutc);
				break;
			}
			uint64_t stored = c[WN_C_kept] + c[WN_C_superseded];
			if (!(pc[i].ord = malloc((stored ? stored : 1) * sizeof *pc[i].ord))) {
				rc = fail(res, WN_E_NOMEM, "out of memory");
				break;
			}
			/* a partition that kept records fixed the profile; every such one has the same */
			wn_mjson cm;
			wn_mjson_cb ccb = { .catalog = 1 };
			if (c[WN_C_kept] && !profiles && !wn_mjson_read(pc[i].ctext.p, pc[i].ctext.len, &ccb, &cm) &&
			    cm.profiles) {
				profiles = cm.profiles;
				profiles_len = cm.profiles_len;
			}
		}
	}
	if (rc)
		goto out;
	/* the new catalog's data files, beside it */
	snprintf(tmp, sizeof tmp, "%s.tmp", outdir);
	if ((rc = rmtree(tmp))) {
		fail(res, rc, "%s: %s", tmp, strerror(rc));
		goto out;
	}
	for (int r = 0; r < WN_NROLES && !rc; r++) {
		snprintf(path, sizeof path, "%s/%s", tmp, wn_role_dir(r));
		if ((rc = wn_mkdir_p(path)))
			fail(res, rc, "%s: %s", path, strerror(rc));
	}
	if (rc)
		goto out;
	if ((rc = wn_series_pool_new(mo->threads > 0 ? mo->threads : wn_ncores(), &level, &pool))) {
		fail(res, rc, "cannot start the compression threads");
		goto out;
	}
	for (int r = 0; r < WN_NROLES; r++) {
		sw[r] = (swriter){ .dir = tmp, .role = r, .kind = kind, .kname = p.kind, .pool = pool, .fd = -1,
			.frame_bytes = o->frame_bytes, .shard_bytes = o->shard_bytes, .res = res };
		if (!(sw[r].h = XXH3_createState())) {
			rc = fail(res, WN_E_NOMEM, "out of memory");
			goto out;
		}
	}
	if ((rc = whof_open(&wf, p.kind, profiles, profiles_len, res)) || (rc = merge_contribs_load(work, pc, p.parts, res)) ||
	    (rc = merge_walk(work, &p, pc, sw, &fd, &wf, res)) ||
	    (rc = merge_contribs_write(pc, p.parts, sw, res)))
		goto out;
	for (int r = 0; r < WN_NROLES && !rc; r++)
		rc = sw_finish(&sw[r]);
	if (rc)
		goto out;
	ks[kind].next_ord = ks[kind].kept + ks[kind].superseded;
	ks[kind].ledger_entries = ks[kind].duplicates + ks[kind].revisions;
	ks[kind].reject_entries = ks[kind].rejected;
	res->records = ks[kind].kept;
	/* MANIFEST.json and catalog.json, from which the index is built */
	if ((rc = wn_manifest_json_begin(&mj, 1)))
		goto nomem;
	int firstfile = 1;
	/* in the byte order of their paths, as MANIFEST.json lists them */
	static const int by_path[WN_NROLES] = { WN_ROLE_CONTRIB, WN_ROLE_LEDGER, WN_ROLE_REJECT, WN_ROLE_SHARD };
	for (int ri = 0; ri < WN_NROLES; ri++) {
		int r = by_path[ri];
		for (size_t f = 0; f < sw[r].ndone; f++) {
			if ((rc = wn_manifest_json_file(&mj, sw[r].names[f], strlen(sw[r].names[f]), &sw[r].done[f], p.kind,
				     firstfile)))
				goto nomem;
			firstfile = 0;
			res->rewritten++;
			res->bytes += sw[r].done[f].size;
		}
	}
	if ((profiles && wn_buf_put(&prof, profiles, profiles_len)) || wn_buf_put(&prof, "", 1) ||
	    (rc = wn_manifest_json_end(&mj, &kinds, ks)) ||
	    (rc = wn_catalog_json(&cj, 1, 0, profiles ? prof.p : NULL, NULL, &kinds, ks)))
		goto nomem;
	if ((rc = write_in(tmp, "MANIFEST.json", mj.p, mj.len)) || (rc = write_in(tmp, "catalog.json", cj.p, cj.len))) {
		fail(res, rc, "%s: %s", tmp, strerror(rc));
		goto out;
	}
	wn_pool_free(pool);
	pool = NULL;
	/* the index, as reindex builds it from the data files, with the keys each record was
	 * indexed by in its partition (the records are not parsed again) */
	fd.sw = &sw[WN_ROLE_SHARD];
	wn_reindex_feed feed = { .frame_records = feed_frame, .next_keys = feed_keys, .ud = &fd };
	wn_reindex_opts ro;
	wn_reindex_opts_init(&ro);
	ro.memory = mo->memory ? mo->memory : ro.memory;
	ro.threads = mo->threads;
	ro.cancel = mo->cancel;
	wn_reindex_result rr;
	double ti = wn_now();
	rc = wn_reindex_fed(tmp, &ro, &feed, &rr);
	res->index_seconds = wn_now() - ti;
	if (rc) {
		fail(res, rc, "%s: %s", tmp, rr.err);
		goto out;
	}
	/* fed (a kind without contributors): every key taken, no more */
	for (unsigned i = 0; i < p.parts && fd.at && !rc; i++)
		if (fd.at != fd.n || pc[i].kr.left || pc[i].kr.start != pc[i].kr.end)
			rc = fail(res, WN_E_CORRUPT, "%s/part/%u/keys: keys that no stored record accounts for", work, i);
	if (rc)
		goto out;
	/* merge.json first, naming the MANIFEST.json the catalog has: a crash between it and
	 * the rename leaves no catalog, and the rerun does the merge again */
	uint64_t size;
	snprintf(path, sizeof path, "%s/MANIFEST.json", tmp);
	if ((rc = file_xxh(path, mhex, &size))) {
		fail(res, rc, "%s: %s", path, rc > 0 ? strerror(rc) : wn_strerror(rc));
		goto out;
	}
	if (wn_buf_printf(&b, "{\"merge\":%d,\"plan\":\"%s\",\"catalog\":", PLAN_VERSION, p.hex) ||
	    wn_buf_json_bytes(&b, outdir, strlen(outdir)) || wn_buf_printf(&b, ",\"manifest_json\":\"%s\"}\n", mhex))
		goto nomem;
	if ((rc = write_in(work, "merge.json", b.p, b.len))) {
		fail(res, rc, "%s/merge.json: %s", work, strerror(rc));
		goto out;
	}
	if ((rc = commit_dir(tmp, outdir)))
		fail(res, rc, "%s: %s", outdir, strerror(rc));
	goto out;
nomem:
	rc = fail(res, WN_E_NOMEM, "out of memory");
out:
	for (int r = 0; r < WN_NROLES; r++)
		if (sw[r].pool)
			sw_free(&sw[r]);
	wn_pool_free(pool);
	wn_json_free(wf.json);
	if (pc)
		for (unsigned i = 0; i < p.parts; i++) {
			for (int r = 0; r < WN_NROLES; r++)
				er_free(&pc[i].rd[r]);
			free(pc[i].con);
			free(pc[i].cfirst);
			free(pc[i].f);
			br_free(&pc[i].kr);
			free(pc[i].outc);
			free(pc[i].ord);
			wn_buf_free(&pc[i].mtext);
			wn_buf_free(&pc[i].ctext);
		}
	free(pc);
	free(fd.order);
	wn_buf_free(&mj);
	wn_buf_free(&cj);
	wn_buf_free(&b);
	wn_buf_free(&prof);
	res->seconds = wn_now() - t0;
	plan_free(&p);
	return rc;
}
