/*
 * winnow.c - main(): global options and the table of commands. Each command lives in
 * tools/cmd_<name>.c and uses only the public API (include/winnow.h).
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

const char *wn_prog = "winnow";
volatile int wn_interrupted;

static const struct cmd {
	const char *name;
	int (*fn)(int, char **);
	const char *what;
} commands[] = {
	{ "ingest", cmd_ingest, "read JSONL, JSON, CSV/TSV (also .zst) or SQLite into a catalog, deduplicating" },
	{ "export", cmd_export, "write every kept record as JSONL" },
	{ "get", cmd_get, "records by id or by ISRC" },
	{ "stats", cmd_stats, "counts, sizes and the index's cost per record" },
	{ "verify", cmd_verify, "prove a catalog whole, or locate what is broken" },
	{ "reindex", cmd_reindex, "build the index again from the data files, or a catalog from a mirror" },
	{ "compact", cmd_compact, "merge the small sealed files of a catalog into full ones" },
	{ "forget", cmd_forget, "take every record of a contributor out of a pool" },
	{ "cluster", cmd_cluster, "group the same recording under different ids into clusters" },
	{ "dups", cmd_dups, "the clusters of more than one record, as JSON lines" },
	{ "plan", cmd_plan, "plan one ingest as map and reduce tasks (a Slurm job array)" },
	{ "map", cmd_map, "run a map task of a plan: its inputs' records into partition runs" },
	{ "reduce", cmd_reduce, "run a reduce task of a plan: one partition's catalog" },
	{ "merge", cmd_merge, "merge a plan's partition catalogs into one catalog" },
	{ "contributors", cmd_contributors, "who brought what to a pool: repeated exports, shared histories, rare values" },
	{ "slurm", cmd_slurm, "plan, then submit map, reduce and merge to Slurm as array jobs" },
};

static void help(FILE *f)
{
	fprintf(f, "usage: winnow <command> [options] [args]\n"
		"       winnow --help | --version\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].what);
	fprintf(f, "\n'winnow <command> --help' describes a command.\n\n"
		"  -h, --help     print this text\n"
		"      --version  print the version of winnow (of its library)\n\n"
		"exit status: 0 success, 1 a data check failed, 2 usage error, 3 I/O or runtime error,\n"
		"130 interrupted (work up to the last checkpoint is kept; run the same command again)\n");
}

int main(int argc, char **argv)
{
	/* keep freed memory for reuse: fresh pages are expensive on virtual machines */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
	/* a write to a closed pipe is EPIPE, which the output layer (out_end) ends quietly */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		return help(stderr), EXIT_USAGE;
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return help(stdout), EXIT_OK;
	if (!strcmp(argv[1], "--version"))
		return printf("winnow %s\n", wn_version()), EXIT_OK;
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "winnow: unknown command '%s'\n", argv[1]);
	help(stderr);
	return EXIT_USAGE;
}

int die(int code, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", wn_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s %s: ", wn_prog, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'winnow %s --help')\n", cmd);
	return EXIT_USAGE;
}

int exit_for(int rc)
{
	switch (rc) {
	case WN_OK: return EXIT_OK;
	case WN_E_USAGE:
	case WN_E_MISMATCH: return EXIT_USAGE;
	case WN_E_INTERRUPTED: return EXIT_INTERRUPTED;
	case WN_E_CORRUPT:
	case WN_E_REJECTED:
	case WN_E_MISSING:
	case WN_E_STALE:
	case WN_E_NOTFOUND: return EXIT_DATA;
	}
	return EXIT_IO;
}

int report(wn_catalog *c, int rc, const char *what)
{
	const char *m = wn_catalog_errmsg(c);
	if (m && *m)
		die(0, "%s", m);
	else
		die(0, "%s: %s", what, wn_strerror(rc));
	return exit_for(rc);
}

int open_catalog(wn_catalog **cat, const char *dir, int mode)
{
	int rc = wn_catalog_open(cat, dir, mode);
	if (!rc)
		return 0;
	int e = report(*cat, rc, dir);
	wn_catalog_close(*cat);
	*cat = NULL;
	return e;
}

int read_key_file(const char *cmd, const char *path, uint8_t *key, size_t cap, size_t *len)
{
	FILE *kf = fopen(path, "rb");
	if (!kf)
		return usage_error(cmd, "--key-file %s: %s", path, strerror(errno));
	size_t kn = fread(key, 1, cap, kf);
	int more = fgetc(kf) != EOF, bad = ferror(kf);
	fclose(kf);
	if (bad || more || kn < 16)
		return usage_error(cmd, "--key-file %s: %s", path, bad ? "cannot be read" : more ? "longer than 4096 bytes" :
			"a key has at least 16 bytes (e.g. head -c 32 /dev/urandom > KEY)");
	*len = kn;
	return 0;
}

int parse_kind(const char *cmd, const char *s, const char **kind)
{
	if (!strcmp(s, "tracks") || !strcmp(s, "artists"))
		s = s[0] == 't' ? "track" : "artist";
	if (!wn_kind_valid(s))
		return usage_error(cmd, "bad kind '%s': a kind is a name of 1 to %d letters a-z, digits and '_', starting "
			"with a letter ([a-z][a-z0-9_]{0,%d}): track, artist, release, ...", s, WN_KIND_NAME_MAX,
			WN_KIND_NAME_MAX - 1);
	*kind = s;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	uint64_t mul = 1;
	if (*end) {
		switch (*end) {
		case 'k': case 'K': mul = 1ull << 10; break;
		case 'm': case 'M': mul = 1ull << 20; break;
		case 'g': case 'G': mul = 1ull << 30; break;
		case 't': case 'T': mul = 1ull << 40; break;
		default: return -1;
		}
		end++;
		if (*end == 'i')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
		if (*end)
			return -1;
	}
	*out = v * mul;
	return 0;
}

/* ---- stdout ---- */

void out_init(outbuf *o)
{
	o->cap = 1 << 20;
	o->p = malloc(o->cap);
	o->len = 0;
	o->err = o->p ? 0 : ENOMEM;
	o->user = NULL;
}

static void out_flush(outbuf *o)
{
	const char *p = o->p;
	size_t n = o->len;
	while (n && !o->err) {
		ssize_t w = write(1, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			o->err = errno;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	o->len = 0;
}

void out_put(outbuf *o, const char *s, size_t n)
{
	if (o->err)
		return;
	if (o->len + n > o->cap) {
		out_flush(o);
		if (n > o->cap) {
			char *save = o->p;
			size_t sl = o->len;
			o->p = (char *)s;
			o->len = n;
			out_flush(o);
			o->p = save;
			o->len = sl;
			return;
		}
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

int out_line(const char *rec, size_t len, void *ud)
{
	outbuf *o = ud;
	out_put(o, rec, len);
	out_put(o, "\n", 1);
	return o->err ? o->err : 0;
}

void out_str(outbuf *o, const char *s)
{
	out_put(o, s, strlen(s));
}

void out_fmt(outbuf *o, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)
		out_put(o, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

void out_json_str(outbuf *o, const char *s, size_t n)
{
	char small[256], *q = 6 * n + 2 <= sizeof small ? small : malloc(6 * n + 2);
	if (!q) {
		o->err = ENOMEM;
		return;
	}
	out_put(o, q, wn_json_quote(q, s, n));
	if (q != small)
		free(q);
}

/* ---- file names in text output ----
 * A name is printed as it is unless some byte of it could break the line or reach the
 * terminal as a control: a newline (which would forge a line of its own), a backslash,
 * another C0 control or DEL, a C1 control (U+0080-U+009F), or bytes that are not UTF-8.
 * Then, as sha256sum and xxhsum mark such a name, it is preceded by a backslash and those
 * bytes are escaped: \\ \n \r \t, and \xHH for the rest. */

/* Bytes of the valid UTF-8 sequence at s (n left, n > 0): 1-4, or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	if (s[0] < 0x80)
		return 1;
	size_t len = s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : s[0] >= 0xe0 && s[0] < 0xf0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	uint32_t cp = len == 2 ? (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f) :
		len == 3 ? (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f) :
		(uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 | (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;   /* overlong, surrogate, out of range */
	return len;
}

int utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0, k; i < n; i += k)
		if (!(k = utf8_seq(u + i, n - i)))
			return 0;
	return 1;
}

/* Bytes of the UTF-8 sequence at s (n left) that may be shown as they are: 1-4, or 0. */
static size_t utf8_plain(const unsigned char *s, size_t n)
{
	if (s[0] < 0x80)
		return s[0] >= 0x20 && s[0] < 0x7f && s[0] != '\\';
	size_t len = utf8_seq(s, n);
	if (len == 2 && s[0] == 0xc2 && s[1] < 0xa0)
		return 0;   /* a C1 control, U+0080-U+009F */
	return len;
}

void out_name(outbuf *o, const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t n = strlen(name), i, k;
	for (i = 0; i < n && (k = utf8_plain(s + i, n - i)); i += k)
		;
	if (i == n) {
		out_put(o, name, n);
		return;
	}
	out_put(o, "\\", 1);
	for (i = 0; i < n;) {
		if ((k = utf8_plain(s + i, n - i))) {
			out_put(o, name + i, k);
			i += k;
			continue;
		}
		switch (s[i]) {
		case '\\': out_str(o, "\\\\"); break;
		case '\n': out_str(o, "\\n"); break;
		case '\r': out_str(o, "\\r"); break;
		case '\t': out_str(o, "\\t"); break;
		default: out_fmt(o, "\\x%02x", s[i]);
		}
		i++;
	}
}

int out_finish(outbuf *o)
{
	out_flush(o);
	free(o->p);
	o->p = NULL;
	if (!o->err && close(1) && errno != EBADF)
		o->err = errno;
	return o->err;
}

int out_end(outbuf *o, int *rc)
{
	int werr = o->err, e = out_finish(o);
	if (rc && *rc > 0 && *rc == werr)
		*rc = 0;
	if (!e || e == EPIPE)
		return EXIT_OK;
	return die(EXIT_IO, "standard output: %s", strerror(e));
}

/* ---- signals and progress ---- */

static void on_signal(int sig)
{
	(void)sig;
	/* atomic: the library's threads watch it too */
	__atomic_store_n(&wn_interrupted, 1, __ATOMIC_RELAXED);
}

void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void human_bytes(char *out, size_t n, double v)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(out, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

void progress_ingest(const wn_progress *p, void *ud)
{
	progress *pr = ud;
	if (!pr->on)
		return;
	char done[32], tot[32], eta[32] = "";
	human_bytes(done, sizeof done, (double)p->bytes);
	double rate = p->elapsed > 0 ? p->records / p->elapsed : 0;
	if (p->total_bytes && p->bytes && p->elapsed > 0.5) {
		double left = (double)(p->total_bytes - (p->bytes < p->total_bytes ? p->bytes : p->total_bytes)) /
			(p->bytes / p->elapsed);
		snprintf(eta, sizeof eta, ", ETA %d:%02d", (int)left / 60, (int)left % 60);
		human_bytes(tot, sizeof tot, (double)p->total_bytes);
		fprintf(stderr, "\r%s: %llu records, %.0f records/s, %s of %s%s   ", p->input ? p->input : "",
			(unsigned long long)p->records, rate, done, tot, eta);
	} else {
		fprintf(stderr, "\r%s: %llu records, %.0f records/s, %s   ", p->input ? p->input : "",
			(unsigned long long)p->records, rate, done);
	}
	pr->drawn = 1;
}

void progress_clear(progress *pr)
{
	if (pr->drawn)
		fprintf(stderr, "\r\033[K");
	pr->drawn = 0;
}
