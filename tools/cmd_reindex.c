/*
 * cmd_reindex.c - `winnow reindex`: build a catalog's index again from its data files,
 * or a catalog from a bare folder of data files (a mirror).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
	"usage: winnow reindex -C CATALOG [--from DIR] [--ignore-missing] [--json] [-j N] [--memory SIZE]\n"
	"\n"
	"Builds the index of CATALOG again from its data files alone (shards, ledger, rejects,\n"
	"MANIFEST.json, catalog.json), whatever state the old index is in: damaged, of an old\n"
	"version, or gone. Every file is checked against MANIFEST.json first (size, XXH128,\n"
	"SHA-256, frames); a damaged one is refused. The new index replaces the old one in one\n"
	"step: interrupted, the catalog keeps its old index, and running it again finishes.\n"
	"With --from, CATALOG is made from the data files of DIR (a mirror: MANIFEST.json and\n"
	"shards, with or without ledger and rejects), which are hard-linked (or copied) into it.\n"
	"\n"
	"  -C, --catalog DIR        the catalog\n"
	"      --from DIR           make the catalog from the data files in DIR\n"
	"      --ignore-missing     index the files that are there: the records of an absent\n"
	"                           shard are known to be missing (get and export say so)\n"
	"      --json               print the counts as one JSON object on stdout\n"
	"  -j, --threads N          decoding threads (default: number of cores)\n"
	"      --memory SIZE        memory for the maps being built (default 1G)\n"
	"  -q, --quiet              no notes on stderr\n"
	"  -h, --help               print this text\n"
	"\n"
	"exit status: 0 done, 1 a data file is missing or damaged, 2 usage error,\n"
	"3 could not run, 130 interrupted\n";

static void on_note(const char *msg, void *ud)
{
	if (!*(int *)ud)
		die(0, "note: %s", msg);
}

int cmd_reindex(int argc, char **argv)
{
	static const struct option lo[] = { { "catalog", 1, 0, 'C' }, { "from", 1, 0, 'F' },
		{ "ignore-missing", 0, 0, 'I' }, { "json", 0, 0, 'J' }, { "threads", 1, 0, 'j' }, { "memory", 1, 0, 'm' },
		{ "quiet", 0, 0, 'q' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	wn_reindex_opts o;
	wn_reindex_opts_init(&o);
	const char *dir = NULL;
	int json = 0, quiet = 0, c;
	uint64_t mem;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:j:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'C': dir = optarg; break;
		case 'F': o.from = optarg; break;
		case 'I': o.ignore_missing = 1; break;
		case 'J': json = 1; break;
		case 'j': o.threads = atoi(optarg); if (o.threads < 1) return usage_error("reindex", "bad --threads"); break;
		case 'm':
			if (parse_size(optarg, &mem) || mem < (16u << 20))
				return usage_error("reindex", "bad --memory (at least 16M)");
			o.memory = (size_t)mem;
			break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return usage_error("reindex", "bad option");
		}
	}
	if (!dir)
		return usage_error("reindex", "-C CATALOG is required");
	if (optind < argc)
		return usage_error("reindex", "unexpected argument '%s'", argv[optind]);
	o.on_note = on_note;
	o.note_ud = &quiet;
	o.cancel = &wn_interrupted;
	catch_signals();
	wn_reindex_result r;
	int rc = wn_reindex(dir, &o, &r);
	if (rc) {
		die(0, "%s", *r.err ? r.err : wn_strerror(rc));
		return exit_for(rc);
	}
	outbuf out;
	out_init(&out);
	double rate = r.seconds > 0 ? r.records / r.seconds : 0;
	if (json)
		out_fmt(&out, "{\"files\":%llu,\"bytes\":%llu,\"records\":%llu,\"entries\":%llu,\"files_absent\":%llu,"
			"\"records_absent\":%llu,\"contributions\":%llu,\"contribution_plays_lost\":%llu,\"seconds\":%.3f,"
			"\"records_per_second\":%.0f}\n", (unsigned long long)r.files,
			(unsigned long long)r.bytes, (unsigned long long)r.records, (unsigned long long)r.entries,
			(unsigned long long)r.files_absent, (unsigned long long)r.records_absent, (unsigned long long)r.contributions,
			(unsigned long long)r.contrib_plays_lost, r.seconds, rate);
	else if (!quiet) {
		out_fmt(&out, "reindexed %s: %llu records and %llu ledger and reject entries from %llu files", dir,
			(unsigned long long)r.records, (unsigned long long)r.entries, (unsigned long long)r.files);
		if (r.files_absent)
			out_fmt(&out, " (%llu files absent, holding %llu records)", (unsigned long long)r.files_absent,
				(unsigned long long)r.records_absent);
		if (r.contributions)
			out_fmt(&out, ", %llu contributions", (unsigned long long)r.contributions);
		if (r.contrib_plays_lost)
			out_fmt(&out, " (the contributions of %llu plays are lost)", (unsigned long long)r.contrib_plays_lost);
		out_fmt(&out, "; %.2f s, %.0f records/s\n", r.seconds, rate);
	}
	return out_end(&out, NULL);
}
