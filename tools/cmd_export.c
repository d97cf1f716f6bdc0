/*
 * cmd_export.c - `winnow export`: every kept record as JSONL on stdout, in the order the
 * catalog accepted them.
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
	"usage: winnow export -C CATALOG [--kind KIND] [-o FILE] [--ignore-missing]\n"
	"       winnow export -C CATALOG [--kind KIND] [-o FILE] --one-per-cluster\n"
	"                     [--survivor POLICY]\n"
	"\n"
	"Writes every surviving record, one a line, in the order in which the catalog accepted\n"
	"them (the stored bytes: for JSONL input, each record's original line). Each frame's\n"
	"checksum is checked: damage stops the export (exit status 1) and names the shard,\n"
	"the frame and its bytes. A missing shard stops it too (exit status 1), named with\n"
	"the ordinals of the records it holds. With --one-per-cluster, one record per cluster of\n"
	"the same recording (winnow cluster): each cluster's survivor, singletons included.\n"
	"\n"
	"  -C, --catalog DIR        the catalog\n"
	"  -k, --kind KIND          the records' kind: track (default), artist, or any other\n"
	"                           kind the catalog holds\n"
	"  -o, --output FILE        write to FILE instead of standard output ('-')\n"
	"      --ignore-missing     a partial mirror: skip shards that are not there, write the\n"
	"                           records of those that are, and name each skipped shard on\n"
	"                           standard error with its ordinals and surviving records\n"
	"      --one-per-cluster    only the survivor of each cluster (exit status 1 when the\n"
	"                           clusters are not current: the message says what to run)\n"
	"      --survivor POLICY    the survivor policy the clusters were built with (default),\n"
	"                           or first (acceptance order)\n"
	"  -h, --help               print this text\n";

typedef struct skips {
	uint64_t shards, survivors;
} skips;

static int on_missing(const char *shard, uint64_t first, uint64_t last, uint64_t survivors, void *ud)
{
	skips *k = ((outbuf *)ud)->user;
	k->shards++;
	k->survivors += survivors;
	die(0, "skipped %s: missing (records %llu-%llu, %llu of them surviving)", shard, (unsigned long long)first,
		(unsigned long long)last, (unsigned long long)survivors);
	return 0;
}

enum { O_IGNORE_MISSING = 256, O_ONE, O_SURVIVOR };

int cmd_export(int argc, char **argv)
{
	static const struct option lo[] = { { "catalog", 1, 0, 'C' }, { "kind", 1, 0, 'k' }, { "output", 1, 0, 'o' },
		{ "ignore-missing", 0, 0, O_IGNORE_MISSING }, { "one-per-cluster", 0, 0, O_ONE },
		{ "survivor", 1, 0, O_SURVIVOR }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	const char *dir = NULL, *outpath = NULL;
	const char *kind = "track";
	int ignore_missing = 0, one = 0, c, e;
	const char *survivor = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:k:o:h", lo, NULL)) != -1) {
		switch (c) {
		case O_IGNORE_MISSING: ignore_missing = 1; break;
		case O_ONE: one = 1; break;
		case O_SURVIVOR: survivor = optarg; break;
		case 'C': dir = optarg; break;
		case 'k':
			if ((e = parse_kind("export", optarg, &kind)))
				return e;
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
	if (survivor && !one)
		return usage_error("export", "--survivor goes with --one-per-cluster");
	if (one && ignore_missing)
		return usage_error("export", "--one-per-cluster needs every shard: no --ignore-missing");
	if (outpath && strcmp(outpath, "-") && !freopen(outpath, "w", stdout))
		return die(EXIT_IO, "%s: %s", outpath, strerror(errno));
	catch_signals();
	wn_catalog *cat;
	int rc = open_catalog(&cat, dir, WN_OPEN_READ);
	if (rc)
		return rc;
	outbuf out;
	skips sk = { 0, 0 };
	out_init(&out);
	out.user = &sk;
	if (one)
		rc = wn_export_clusters(cat, kind, survivor, out_line, &out);
	else
		rc = wn_export_partial(cat, kind, out_line, ignore_missing ? on_missing : NULL, &out);
	int status = out_end(&out, &rc);
	if (rc) {
		status = report(cat, rc, "export");
		if (rc == WN_E_MISSING)
			die(0, "export --ignore-missing writes the records of the shards that are there");
	} else if (sk.shards) {
		die(0, "%llu missing shard%s skipped: %llu surviving records not exported", (unsigned long long)sk.shards,
			sk.shards == 1 ? "" : "s", (unsigned long long)sk.survivors);
	}
	wn_catalog_close(cat);
	return status;
}
