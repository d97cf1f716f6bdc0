/*
 * cmd_export.c - `winnow export`: every kept record as JSONL on stdout, in the order the
 * catalog accepted them.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
	"usage: winnow export -C CATALOG [--kind track|artist] [-o FILE]\n"
	"\n"
	"Writes every surviving record, one a line, in the order in which the catalog accepted\n"
	"them (the stored bytes: for JSONL input, each record's original line).\n"
	"\n"
	"  -C, --catalog DIR        the catalog\n"
	"  -k, --kind KIND          track (default) or artist\n"
	"  -o, --output FILE        write to FILE instead of standard output ('-')\n"
	"  -h, --help               print this text\n";

static int emit(const char *rec, size_t len, void *ud)
{
	outbuf *o = ud;
	out_put(o, rec, len);
	out_put(o, "\n", 1);
	return o->err ? o->err : 0;
}

int cmd_export(int argc, char **argv)
{
	static const struct option lo[] = { { "catalog", 1, 0, 'C' }, { "kind", 1, 0, 'k' }, { "output", 1, 0, 'o' },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	const char *dir = NULL, *outpath = NULL;
	int kind = WN_KIND_TRACK, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:k:o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'C': dir = optarg; break;
		case 'k':
			if (parse_kind(optarg, &kind))
				return usage_error("export", "unknown kind '%s' (track or artist)", optarg);
			break;
		case 'o': outpath = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return usage_error("export", "bad option");
		}
	}
	if (!dir)
		return usage_error("export", "-C CATALOG is required");
	if (optind < argc)
		return usage_error("export", "unexpected argument '%s'", argv[optind]);
	if (outpath && strcmp(outpath, "-") && !freopen(outpath, "w", stdout))
		return die(EXIT_IO, "%s: %s", outpath, strerror(errno));
	catch_signals();
	wn_catalog *cat;
	int rc = wn_catalog_open(&cat, dir, WN_OPEN_READ);
	if (rc) {
		int e = report(cat, rc, dir);
		wn_catalog_close(cat);
		return e;
	}
	outbuf out;
	out_init(&out);
	rc = wn_export(cat, kind, emit, &out);
	int oe = out_finish(&out);
	int status = EXIT_OK;
	if (rc > 0 && rc == oe)
		status = die(EXIT_IO, "standard output: %s", strerror(oe));
	else if (rc)
		status = report(cat, rc, "export");
	else if (oe)
		status = die(EXIT_IO, "standard output: %s", strerror(oe));
	wn_catalog_close(cat);
	return status;
}
