/*
 * cmd_get.c - `winnow get`: records by id, or every track with an ISRC.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
	"usage: winnow get -C CATALOG [--kind KIND] [--json] ID ...\n"
	"       winnow get -C CATALOG [--kind KIND] -\n"
	"       winnow get -C CATALOG --isrc ISRC ...\n"
	"       winnow get -C CATALOG [--kind KIND] --cluster CLUSTER\n"
	"\n"
	"Prints the surviving record of each ID (JSONL, in the order given), or every surviving\n"
	"record of the kind that carries the ISRC (catalog order), or every surviving member\n"
	"of a cluster (winnow cluster, winnow dups), survivor first. Each record is checked\n"
	"against the index first. Exit status 1 if any was not found, or damaged, or in a\n"
	"missing shard, or if the clusters are not current. With - the IDs are read from\n"
	"standard input, one a line (a composite id as its JSON array text), and answered\n"
	"in batches, in the order read; a line that is not an id (not UTF-8, empty, longer\n"
	"than 512 bytes) is reported with its number, as an id not found is.\n"
	"\n"
	"  -C, --catalog DIR        the catalog\n"
	"  -k, --kind KIND          the records' kind: track (default), artist, or any other\n"
	"                           kind the catalog holds\n"
	"  -i, --isrc               the arguments are ISRCs: the records of the kind that carry\n"
	"                           them (compared upper-case, letters and digits only)\n"
	"      --cluster CLUSTER    the members of the cluster with this id (32 hex digits)\n"
	"      --json               for each ID one object: {\"id\",\"cluster\",\"survivor\",\n"
	"                           \"merged\",\"record\"}: its cluster and that cluster's survivor\n"
	"  -h, --help               print this text\n";

typedef struct many {
	outbuf *o;
	char **ids;
	const char *kind;
	int missing;
	const uint64_t *lines;   /* ids read from standard input: the line of each */
} many;

static int many_fn(size_t i, const char *rec, size_t len, void *ud)
{
	many *m = ud;
	if (!rec) {
		if (m->lines)
			die(0, "standard input, line %llu: no %s with id \"%s\"", (unsigned long long)m->lines[i], m->kind,
				m->ids[i]);
		else
			die(0, "no %s with id \"%s\"", m->kind, m->ids[i]);
		m->missing++;
		return 0;
	}
	return out_line(rec, len, m->o);
}

/* get -: ids one a line on standard input, answered GET_BATCH at a time (each batch is one
 * wn_get_many call: its frames are read once, so the larger the batch the fewer times a
 * frame is decoded), so memory does not grow with the input. The ids are packed in an
 * arena of GET_ARENA bytes; a batch also ends when it is full.
 * A line that cannot be an id is reported with its number and counts as missing. */
#define GET_BATCH 65536
#define GET_SLOT (WN_MAX_ID + 2)   /* an id, one more byte to see that it is too long, a NUL */
#define GET_ARENA ((size_t)4 << 20)

static int get_stdin(wn_catalog *cat, const char *kind, outbuf *out, int *missing, int *read_err)
{
	char *store = malloc(GET_ARENA);
	char **ids = malloc(GET_BATCH * sizeof *ids);
	size_t *lens = malloc(GET_BATCH * sizeof *lens);
	uint64_t *lines = malloc(GET_BATCH * sizeof *lines);
	int rc = 0;
	if (!store || !ids || !lens || !lines) {
		rc = WN_E_NOMEM;
		goto out;
	}
	many m = { out, ids, kind, 0, lines };
	uint64_t lineno = 0;
	int c = 0;
	while (c != EOF && !rc && !out->err) {
		size_t n = 0, used = 0;
		while (n < GET_BATCH && GET_ARENA - used >= GET_SLOT) {
			size_t len = 0, total = 0;
			char *p = ids[n] = store + used;
			while ((c = getc_unlocked(stdin)) != EOF && c != '\n') {
				if (total++ < GET_SLOT - 1)
					p[len++] = (char)c;
			}
			if (c == EOF && total == 0)
				break;
			lineno++;
			if (total && p[len - 1] == '\r' && total == len) {   /* CRLF */
				len--;
				total--;
			}
			p[len] = 0;
			const char *why = total == 0 ? "empty line, no id" : total > WN_MAX_ID ? "id longer than 512 bytes"
				: memchr(p, 0, len) ? "id holds a NUL byte" : !utf8_valid(p, len) ? "id is not valid UTF-8" : NULL;
			if (why) {
				/* the ones before it first, so that the messages come in input order */
				if (n) {
					rc = wn_get_many(cat, kind, (const char *const *)ids, lens, n, many_fn, &m);
					n = used = 0;
					if (rc)
						break;
				}
				die(0, "standard input, line %llu: %s", (unsigned long long)lineno, why);
				m.missing++;
				continue;
			}
			lens[n] = len;
			lines[n] = lineno;
			n++;
			used += len + 1;
			if (c == EOF)
				break;
		}
		if (!rc && n)
			rc = wn_get_many(cat, kind, (const char *const *)ids, lens, n, many_fn, &m);
	}
	if (!rc && ferror(stdin))
		*read_err = die(EXIT_IO, "standard input: %s", strerror(errno));
	*missing = m.missing;
out:
	free(store);
	free(ids);
	free(lens);
	free(lines);
	return rc;
}

static int cluster_members(const wn_cluster_view *v, void *ud)
{
	for (size_t i = 0; i < v->n; i++) {
		int rc = out_line(v->m[i].rec, v->m[i].rec_len, ud);
		if (rc)
			return rc;
	}
	return 0;
}

/* get --json ID: the record with its cluster and survivor */
static int copy_rec(const char *rec, size_t len, void *ud)
{
	char **p = ud;
	free(*p);
	if (!(*p = malloc(len + 1)))
		return ENOMEM;
	memcpy(*p, rec, len);
	(*p)[len] = 0;
	return 0;
}

static int get_json(wn_catalog *cat, const char *kind, const char *id, outbuf *o)
{
	char *rec = NULL, cluster[33], survivor[1024];
	size_t n = strlen(id);
	int rc = wn_get(cat, kind, id, n, copy_rec, &rec);
	if (!rc)
		rc = wn_cluster_of(cat, kind, id, n, cluster, survivor, sizeof survivor);
	if (!rc) {
		out_str(o, "{\"id\":");
		out_json_str(o, id, n);
		out_fmt(o, ",\"cluster\":\"%s\",\"survivor\":", cluster);
		out_json_str(o, survivor, strlen(survivor));
		out_fmt(o, ",\"merged\":%s,\"record\":", strcmp(survivor, id) ? "true" : "false");
		out_str(o, rec);
		out_str(o, "}\n");
	}
	free(rec);
	return rc;
}

enum { O_CLUSTER = 256, O_JSON };

int cmd_get(int argc, char **argv)
{
	static const struct option lo[] = { { "catalog", 1, 0, 'C' }, { "kind", 1, 0, 'k' }, { "isrc", 0, 0, 'i' },
		{ "cluster", 1, 0, O_CLUSTER }, { "json", 0, 0, O_JSON }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	const char *dir = NULL, *cluster = NULL;
	const char *kind = "track";
	int isrc = 0, json = 0, c, e;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:k:ih", lo, NULL)) != -1) {
		switch (c) {
		case 'C': dir = optarg; break;
		case 'k':
			if ((e = parse_kind("get", optarg, &kind)))
				return e;
			break;
		case 'i': isrc = 1; break;
		case O_CLUSTER: cluster = optarg; break;
		case O_JSON: json = 1; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return usage_error("get", "bad option");
		}
	}
	if (!dir)
		return usage_error("get", "-C CATALOG is required");
	if (cluster && (isrc || json))
		return usage_error("get", "--cluster takes no --isrc or --json");
	if (cluster && optind < argc)
		return usage_error("get", "unexpected argument '%s' (--cluster gives the members)", argv[optind]);
	if (json && isrc)
		return usage_error("get", "--json is for ids, not --isrc");
	if (optind >= argc && !cluster)
		return usage_error("get", isrc ? "no ISRC given" : "no ID given");
	int from_stdin = !cluster && optind + 1 == argc && !strcmp(argv[optind], "-");
	for (int i = optind; i < argc && !from_stdin && !isrc; i++)
		if (!strcmp(argv[i], "-"))
			return usage_error("get", "- (ids on standard input) must be the only argument");
	if (from_stdin && (isrc || json))
		return usage_error("get", "- (ids on standard input) takes no --isrc or --json");
	wn_catalog *cat;
	int rc = open_catalog(&cat, dir, WN_OPEN_READ);
	if (rc)
		return rc;
	outbuf out;
	out_init(&out);
	int status = EXIT_OK;
	if (cluster) {
		rc = wn_cluster_get(cat, kind, cluster, cluster_members, &out);
	} else if (from_stdin) {
		int missing = 0, read_err = 0;
		rc = get_stdin(cat, kind, &out, &missing, &read_err);
		status = read_err ? read_err : missing ? EXIT_DATA : EXIT_OK;
	} else if (json) {
		for (int i = optind; i < argc && !rc; i++) {
			rc = get_json(cat, kind, argv[i], &out);
			if (rc == WN_E_NOTFOUND) {
				die(0, "%s", wn_catalog_errmsg(cat));
				status = EXIT_DATA;
				rc = 0;
			}
		}
	} else if (isrc) {
		for (int i = optind; i < argc; i++) {
			rc = wn_get_isrc(cat, kind, argv[i], strlen(argv[i]), out_line, &out);
			if (rc == WN_E_NOTFOUND) {
				die(0, "%s", wn_catalog_errmsg(cat));
				status = EXIT_DATA;
				rc = 0;
			} else if (rc) {
				break;
			}
		}
	} else {
		/* all ids in one call: each frame is read once */
		size_t n = (size_t)(argc - optind);
		size_t *lens = malloc(n * sizeof *lens);
		if (!lens)
			return die(EXIT_IO, "out of memory");
		for (size_t i = 0; i < n; i++)
			lens[i] = strlen(argv[optind + i]);
		many m = { &out, argv + optind, kind, 0, NULL };
		rc = wn_get_many(cat, kind, (const char *const *)argv + optind, lens, n, many_fn, &m);
		free(lens);
		if (m.missing)
			status = EXIT_DATA;
	}
	int os = out_end(&out, &rc);
	if (rc)
		status = report(cat, rc, "get");
	else if (os)
		status = os;
	wn_catalog_close(cat);
	return status;
}
