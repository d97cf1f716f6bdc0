/*
 * cmd_verify.c - `winnow verify`: prove a catalog (or a bare folder of its data files)
 * whole, or say exactly what is broken: one line per problem on stdout, or one JSON
 * object with --json. Exit status 0 clean, 1 damage found, 2 usage, 3 could not run.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static const char usage[] =
	"usage: winnow verify -C CATALOG [--deep] [--json] [-j N] [--shard NAME|GLOB ...] [--ignore-missing]\n"
	"       winnow verify --manifest MANIFEST [--deep] [--json] [-j N] [DIR]\n"
	"\n"
	"Checks that every data file MANIFEST lists is there, that no other file is, and that\n"
	"each file's size and XXH128 (and SHA-256, when SHA256SUMS exists) match. With --deep,\n"
	"also decodes every frame (zstd checksums, the seek table), recounts the records of\n"
	"every file, recomputes every record's fingerprint and checks the index both ways.\n"
	"Each problem is printed with its kind and where it is: file, frame, bytes, record, id.\n"
	"The second form checks a bare folder of data files (no index), such as a torrent's:\n"
	"DIR defaults to the folder of MANIFEST.\n"
	"\n"
	"  -C, --catalog DIR        the catalog\n"
	"      --manifest FILE      check the folder DIR against FILE (MANIFEST.json beside it)\n"
	"      --deep               decode and cross-check everything (slower)\n"
	"      --json               print one JSON object on stdout\n"
	"  -j, --threads N          threads (default: number of cores)\n"
	"      --shard NAME|GLOB    check only the files whose path or name matches; repeatable\n"
	"      --ignore-missing     skip listed files that are absent (a partial mirror)\n"
	"      --limit N            problems shown per kind and file (default 20, 0: all)\n"
	"      --progress, --no-progress   progress on stderr (default: when it is a terminal)\n"
	"  -h, --help               print this text\n"
	"\n"
	"exit status: 0 clean, 1 damage found, 2 usage error, 3 could not run, 130 interrupted\n";

/* a growable string for the JSON arrays */
typedef struct sbuf {
	char *p;
	size_t len, cap;
	int err;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->err = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void sb_str(sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void sb_json(sbuf *b, const char *s, size_t n)
{
	char small[256], *q = 6 * n + 2 <= sizeof small ? small : malloc(6 * n + 2);
	if (!q) {
		b->err = 1;
		return;
	}
	sb_put(b, q, wn_json_quote(q, s, n));
	if (q != small)
		free(q);
}

typedef struct vout {
	outbuf *o;
	int json;
	sbuf problems, notes;
	size_t nproblems, nnotes;
	progress *pr;
} vout;

static void json_num_or_null(sbuf *b, const char *key, long long v, int known)
{
	char t[64];
	snprintf(t, sizeof t, ",\"%s\":", key);
	sb_str(b, t);
	if (known)
		snprintf(t, sizeof t, "%lld", v);
	else
		snprintf(t, sizeof t, "null");
	sb_str(b, t);
}

/* Ids are shown as they are, but a line of output stays one line. */
static void human_id(outbuf *o, const char *id, size_t n)
{
	out_str(o, " id \"");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)id[i];
		if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\')
			out_fmt(o, "\\x%02x", ch);
		else
			out_put(o, (const char *)&id[i], 1);
	}
	out_str(o, "\"");
}

static void on_problem(const wn_problem *p, void *ud)
{
	vout *v = ud;
	int note = !strcmp(p->kind, "note");
	if (v->json) {
		sbuf *b = note ? &v->notes : &v->problems;
		size_t *n = note ? &v->nnotes : &v->nproblems;
		sb_str(b, (*n)++ ? ",\n  {\"kind\":" : "\n  {\"kind\":");
		sb_json(b, p->kind, strlen(p->kind));
		sb_str(b, ",\"shard\":");
		if (p->path)
			sb_json(b, p->path, strlen(p->path));
		else
			sb_str(b, "null");
		json_num_or_null(b, "frame", p->frame, p->frame >= 0);
		json_num_or_null(b, "offset", p->offset, p->offset >= 0);
		json_num_or_null(b, "length", (long long)p->length, p->length > 0);
		json_num_or_null(b, "record", p->record, p->record >= 0);
		sb_str(b, ",\"id\":");
		if (p->id)
			sb_json(b, p->id, p->id_len);
		else
			sb_str(b, "null");
		sb_str(b, ",\"detail\":");
		sb_json(b, p->detail, strlen(p->detail));
		sb_str(b, "}");
		return;
	}
	outbuf *o = v->o;
	out_str(o, p->kind);
	out_str(o, ":");
	if (p->path) {
		out_str(o, " ");
		out_name(o, p->path);
	}
	if (p->frame >= 0)
		out_fmt(o, " frame %lld", (long long)p->frame);
	if (p->offset >= 0 && p->length > 1)
		out_fmt(o, " bytes %lld-%lld", (long long)p->offset, (long long)(p->offset + (int64_t)p->length - 1));
	else if (p->offset >= 0)
		out_fmt(o, " byte %lld", (long long)p->offset);
	if (p->record >= 0)
		out_fmt(o, " record %lld", (long long)p->record);
	if (p->id)
		human_id(o, p->id, p->id_len);
	out_str(o, p->path || p->frame >= 0 || p->offset >= 0 || p->record >= 0 || p->id ? ": " : " ");
	out_str(o, p->detail);
	out_str(o, "\n");
}

static void on_progress(const wn_verify_progress *p, void *ud)
{
	progress *pr = ud;
	if (!pr->on)
		return;
	char done[32], tot[32], eta[40] = "";
	human_bytes(done, sizeof done, (double)p->bytes);
	human_bytes(tot, sizeof tot, (double)p->total_bytes);
	double rate = p->elapsed > 0 ? p->bytes / p->elapsed : 0;
	if (rate > 0 && p->total_bytes > p->bytes && p->elapsed > 0.5) {
		double left = (double)(p->total_bytes - p->bytes) / rate;
		snprintf(eta, sizeof eta, ", ETA %d:%02d", (int)left / 60, (int)left % 60);
	}
	if (!strcmp(p->stage, "index"))
		fprintf(stderr, "\rverify: checking the index against %llu records...   ", (unsigned long long)p->records);
	else
		fprintf(stderr, "\rverify: %s of %s, %.0f MB/s%s   ", done, tot, rate / 1e6, eta);
	pr->drawn = 1;
}

int cmd_verify(int argc, char **argv)
{
	enum { O_MANIFEST = 256, O_DEEP, O_JSON, O_SHARD, O_IGNMISS, O_LIMIT, O_PROGRESS, O_NOPROGRESS };
	static const struct option lo[] = {
		{ "catalog", 1, 0, 'C' }, { "manifest", 1, 0, O_MANIFEST }, { "deep", 0, 0, O_DEEP }, { "json", 0, 0, O_JSON },
		{ "threads", 1, 0, 'j' }, { "shard", 1, 0, O_SHARD }, { "ignore-missing", 0, 0, O_IGNMISS },
		{ "limit", 1, 0, O_LIMIT }, { "progress", 0, 0, O_PROGRESS }, { "no-progress", 0, 0, O_NOPROGRESS },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	wn_verify_opts o;
	wn_verify_opts_init(&o);
	const char *dir = NULL, *manifest = NULL;
	const char **only = NULL;
	size_t nonly = 0;
	int json = 0, c;
	progress pr = { .on = isatty(2) };
	char *end;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:j:h", lo, NULL)) != -1) {
		switch (c) {
		case 'C': dir = optarg; break;
		case O_MANIFEST: manifest = optarg; break;
		case O_DEEP: o.deep = 1; break;
		case O_JSON: json = 1; break;
		case 'j':
			o.threads = (int)strtol(optarg, &end, 10);
			if (*end || o.threads < 1 || o.threads > 256)
				return usage_error("verify", "--threads takes 1 to 256");
			break;
		case O_SHARD: {
			const char **p = realloc(only, (nonly + 1) * sizeof *p);
			if (!p)
				return die(EXIT_IO, "out of memory");
			only = p;
			only[nonly++] = optarg;
			break;
		}
		case O_IGNMISS: o.ignore_missing = 1; break;
		case O_LIMIT: {
			long v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 1000000000) {
				free(only);
				return usage_error("verify", "--limit takes a number, 0 for no limit");
			}
			o.max_per_kind = (unsigned)v;
			break;
		}
		case O_PROGRESS: pr.on = 1; break;
		case O_NOPROGRESS: pr.on = 0; break;
		case 'h': fputs(usage, stdout); free(only); return EXIT_OK;
		default: free(only); return usage_error("verify", "bad option");
		}
	}
	int nargs = argc - optind;
	if (!dir && !manifest) {
		free(only);
		return usage_error("verify", "-C CATALOG or --manifest MANIFEST is required");
	}
	if (manifest && !*manifest) {
		free(only);
		return usage_error("verify", "--manifest needs a file");
	}
	if (dir && manifest) {
		free(only);
		return usage_error("verify", "-C and --manifest do not go together");
	}
	if ((dir && nargs) || nargs > 1) {
		free(only);
		return usage_error("verify", "unexpected argument '%s'", argv[optind + (dir ? 0 : 1)]);
	}
	char *mdir = NULL;
	if (manifest) {
		if (nargs) {
			o.dir = argv[optind];
		} else {
			mdir = malloc(strlen(manifest) + 2);
			if (!mdir)
				return die(EXIT_IO, "out of memory");
			strcpy(mdir, manifest);
			char *sl = strrchr(mdir, '/');
			if (sl == mdir)
				sl[1] = 0;
			else if (sl)
				*sl = 0;
			else
				strcpy(mdir, ".");
			o.dir = mdir;
		}
		o.manifest = manifest;
	}
	o.only = only;
	o.n_only = nonly;
	vout v = { .json = json, .pr = &pr };
	outbuf out;
	out_init(&out);
	v.o = &out;
	o.problem = on_problem;
	o.problem_ud = &v;
	o.progress = on_progress;
	o.progress_ud = &pr;
	o.cancel = &wn_interrupted;
	catch_signals();

	wn_catalog *cat = NULL;
	int rc = 0, status;
	if (dir) {
		rc = wn_catalog_open(&cat, dir, WN_OPEN_READ);
		if (rc) {
			report(cat, rc, dir);
			wn_catalog_close(cat);
			out_finish(&out);
			free(only);
			return EXIT_IO;   /* the check could not run */
		}
	}
	wn_verify_result r;
	rc = wn_verify(cat, &o, &r);
	progress_clear(&pr);
	if (rc) {
		die(0, "%s", r.err[0] ? r.err : wn_strerror(rc));
		status = rc == WN_E_INTERRUPTED ? EXIT_INTERRUPTED : rc == WN_E_USAGE ? EXIT_USAGE : EXIT_IO;
	} else {
		status = r.problems ? EXIT_DATA : EXIT_OK;
		if (json) {
			out_fmt(&out, "{\"ok\":%s,\"mode\":\"%s\",\"shards_checked\":%llu,\"bytes_checked\":%llu,"
				"\"records_checked\":%llu,\"frames_checked\":%llu,\"index_entries_checked\":%llu,"
				"\"shards_skipped\":%llu,\"bytes_skipped\":%llu,\"sha256_checked\":%s,\"seconds\":%.3f,"
				"\"problem_count\":%llu,\"problems\":[", r.problems ? "false" : "true", o.deep ? "deep" : "fast",
				(unsigned long long)r.files_checked, (unsigned long long)r.bytes_checked,
				(unsigned long long)r.records_checked, (unsigned long long)r.frames_checked,
				(unsigned long long)r.index_entries_checked, (unsigned long long)r.files_skipped,
				(unsigned long long)r.bytes_skipped, r.sha256_checked ? "true" : "false", r.seconds,
				(unsigned long long)r.problems);
			if (v.problems.p)
				out_put(&out, v.problems.p, v.problems.len);
			out_str(&out, v.nproblems ? "\n],\"notes\":[" : "],\"notes\":[");
			if (v.notes.p)
				out_put(&out, v.notes.p, v.notes.len);
			out_str(&out, v.nnotes ? "\n]}\n" : "]}\n");
			if (v.problems.err || v.notes.err)
				status = die(EXIT_IO, "out of memory");
		} else {
			if (r.problems)
				out_fmt(&out, "damaged: %llu problem%s; ", (unsigned long long)r.problems, r.problems == 1 ? "" : "s");
			else
				out_str(&out, "clean: ");
			out_fmt(&out, "%llu files and %llu bytes checked", (unsigned long long)r.files_checked,
				(unsigned long long)r.bytes_checked);
			if (o.deep)
				out_fmt(&out, ", %llu frames and %llu records decoded, %llu index entries", (unsigned long long)r.frames_checked,
					(unsigned long long)r.records_checked, (unsigned long long)r.index_entries_checked);
			out_str(&out, r.sha256_checked ? " (XXH128 and SHA-256)" : " (XXH128)");
			if (r.files_skipped)
				out_fmt(&out, "; %llu files (%llu bytes) skipped", (unsigned long long)r.files_skipped,
					(unsigned long long)r.bytes_skipped);
			out_fmt(&out, "; %.2f s\n", r.seconds);
		}
	}
	free(v.problems.p);
	free(v.notes.p);
	int os = out_end(&out, NULL);
	wn_catalog_close(cat);
	free(only);
	free(mdir);
	return os && status != EXIT_IO ? os : status;
}
