/*
 * cmd_get.c - `winnow get`: records by id, or every track with an ISRC.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
	"usage: winnow get -C CATALOG [--kind KIND] ID ...\n"
	"       winnow get -C CATALOG --isrc ISRC ...\n"
	"\n"
	"Prints the surviving record of each ID (JSONL, in the order given), or every surviving\n"
	"track that carries the ISRC (catalog order). Each record is checked against the\n"
	"index first. Exit status 1 if any was not found, or damaged, or in a missing shard.\n"
	"\n"
	"  -C, --catalog DIR        the catalog\n"
	"  -k, --kind KIND          the records' kind: track (default), artist, or any other\n"
	"                           kind the catalog holds\n"
	"  -i, --isrc               the arguments are ISRCs: the records of the kind that carry\n"
	"                           them (compared upper-case, letters and digits only)\n"
	"  -h, --help               print this text\n";

typedef struct many {
	outbuf *o;
	char **ids;
	const char *kind;
	int missing;
} many;

static int many_fn(size_t i, const char *rec, size_t len, void *ud)
{
	many *m = ud;
	if (!rec) {
		die(0, "no %s with id \"%s\"", m->kind, m->ids[i]);
		m->missing++;
		return 0;
	}
	return out_line(rec, len, m->o);
}

int cmd_get(int argc, char **argv)
{
	static const struct option lo[] = { { "catalog", 1, 0, 'C' }, { "kind", 1, 0, 'k' }, { "isrc", 0, 0, 'i' },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	const char *dir = NULL;
	const char *kind = "track";
	int isrc = 0, c, e;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:k:ih", lo, NULL)) != -1) {
		switch (c) {
		case 'C': dir = optarg; break;
		case 'k':
			if ((e = parse_kind("get", optarg, &kind)))
				return e;
			break;
		case 'i': isrc = 1; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return usage_error("get", "bad option");
		}
	}
	if (!dir)
		return usage_error("get", "-C CATALOG is required");
	if (optind >= argc)
		return usage_error("get", isrc ? "no ISRC given" : "no ID given");
	wn_catalog *cat;
	int rc = open_catalog(&cat, dir, WN_OPEN_READ);
	if (rc)
		return rc;
	outbuf out;
	out_init(&out);
	int status = EXIT_OK;
	if (isrc) {
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
		many m = { &out, argv + optind, kind, 0 };
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
