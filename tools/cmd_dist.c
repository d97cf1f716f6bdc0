/*
 * cmd_dist.c - the scale-out commands: `winnow plan`, `winnow map`, `winnow reduce` and
 * `winnow merge` (doc/FORMAT.md section 17; a Slurm job array runs map and reduce, one
 * task each, with the index in SLURM_ARRAY_TASK_ID). The ingest options a plan stores
 * are parsed by cmd_ingest.c's parser, when the plan is made and again by every task.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static const char plan_usage[] =
	"usage: winnow plan -C WORK --parts N [--tasks M] [--slice-size SIZE] [ingest options] FILE ...\n"
	"\n"
	"Plans one ingest of the FILEs as map and reduce tasks that run anywhere (a Slurm job\n"
	"array: winnow map, winnow reduce, then winnow merge), and writes it to WORK/plan.json.\n"
	"Prints the number of map tasks. Records are partitioned by the hash of their id, so the\n"
	"merged catalog holds what one winnow ingest of the same FILEs would.\n"
	"\n"
	"  -C, --work DIR           the folder every task works in, seen by every node\n"
	"      --parts N            partitions: reduce tasks (1 to 4096)\n"
	"      --tasks M            map tasks wanted (default N); fewer when the inputs make fewer\n"
	"                           slices\n"
	"      --slice-size SIZE    cut plain JSONL files larger than this into byte ranges\n"
	"                           (default: the inputs' bytes / M)\n"
	"  -h, --help               print this text\n"
	"\n"
	"Every option of winnow ingest that says how records are read and kept (the kind, the\n"
	"profile, the formats, the transforms, the sizes) may follow, and is stored in the plan:\n"
	"winnow ingest --help lists them. Not with a plan: stopping at the first reject, the\n"
	"clusters (run winnow cluster on the merged catalog), the digest option.\n";

static const char map_usage[] =
	"usage: winnow map -C WORK [--task I]\n"
	"\n"
	"Runs map task I of the plan in WORK: reads its slices of the inputs and writes one run\n"
	"file per partition to WORK/map/I/. A task whose output is complete does nothing.\n"
	"\n"
	"  -C, --work DIR           the plan's folder\n"
	"      --task I             the task (default: $SLURM_ARRAY_TASK_ID)\n"
	"  -q, --quiet              no summary line\n"
	"  -h, --help               print this text\n";

static const char reduce_usage[] =
	"usage: winnow reduce -C WORK [--part P]\n"
	"\n"
	"Runs reduce task P of the plan in WORK: ingests partition P's runs from every map task\n"
	"into the catalog WORK/part/P. A task whose output is complete does nothing.\n"
	"\n"
	"  -C, --work DIR           the plan's folder\n"
	"      --part P             the partition (default: $SLURM_ARRAY_TASK_ID)\n"
	"  -q, --quiet              no summary line\n"
	"  -h, --help               print this text\n";

static const char merge_usage[] =
	"usage: winnow merge -C WORK -o CATALOG\n"
	"\n"
	"Merges the partition catalogs of the plan in WORK into CATALOG, a new ordinary catalog:\n"
	"data files linked, not rewritten, the index built from them. Run again once it is\n"
	"complete, it does nothing.\n"
	"\n"
	"  -C, --work DIR           the plan's folder\n"
	"  -o, --output CATALOG     the catalog to make (must not exist)\n"
	"  -j, --threads N          threads that build the index (default: number of cores)\n"
	"      --memory SIZE        memory for building the index (default 1G)\n"
	"  -q, --quiet              no summary line\n"
	"  -h, --help               print this text\n";

static int dist_fail(const char *cmd, int rc, const wn_dist_result *r)
{
	fprintf(stderr, "winnow %s: %s\n", cmd, *r->err ? r->err : wn_strerror(rc));
	/* an earlier stage that has not completed: the task cannot run yet */
	return rc == WN_E_NOTFOUND ? EXIT_IO : exit_for(rc);
}

static void on_note(const char *msg, void *ud)
{
	(void)ud;
	fprintf(stderr, "winnow: warning: %s\n", msg);
}

/* ---- plan ---- */

/* the ingest options that a plan does not take */
static int plan_refuses(const char *name)
{
	return !strcmp(name, "strict");
}

static int plan_run(int argc, char **argv, char **args);

int cmd_plan(int argc, char **argv)
{
	/* the ingest options as given: what the plan stores (copied: --map splits its value) */
	char **args = calloc((size_t)argc * 2 + 1, sizeof *args);
	if (!args)
		return die(EXIT_IO, "out of memory");
	int e = plan_run(argc, argv, args);
	for (size_t i = 0; args[i]; i++)
		free(args[i]);
	free(args);
	return e;
}

static int plan_run(int argc, char **argv, char **args)
{
	enum { O_PARTS = 1000, O_TASKS, O_SLICE };
	const int NING = ingest_noptions;
	struct option lo[NING + 6];
	memcpy(lo, ingest_options, (size_t)NING * sizeof *lo);
	const struct option own[] = { { "work", 1, 0, 'C' }, { "parts", 1, 0, O_PARTS }, { "tasks", 1, 0, O_TASKS },
		{ "slice-size", 1, 0, O_SLICE }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	memcpy(lo + NING, own, sizeof own);
	static ingest_args ia;
	ingest_args_init(&ia);
	wn_dist_plan_opts po = { 0 };
	const char *work = NULL;
	size_t nargs = 0;
	uint64_t v;
	int c, e, li;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:k:l:j:h", lo, &li)) != -1) {
		switch (c) {
		case 'C': work = optarg; break;
		case O_PARTS:
			if (parse_size(optarg, &v) || v < 1 || v > 4096)
				return usage_error("plan", "--parts takes 1 to 4096");
			po.parts = (unsigned)v;
			break;
		case O_TASKS:
			if (parse_size(optarg, &v) || v < 1 || v > 1000000)
				return usage_error("plan", "--tasks takes 1 to 1000000");
			po.tasks = (unsigned)v;
			break;
		case O_SLICE:
			if (parse_size(optarg, &v) || v < 1)
				return usage_error("plan", "bad --slice-size '%s'", optarg);
			po.slice_bytes = v;
			break;
		case 'h': fputs(plan_usage, stdout); return EXIT_OK;
		case '?': return usage_error("plan", "bad option");
		default: {
			const struct option *io = NULL;
			for (int i = 0; i < NING && !io; i++)
				if (ingest_options[i].val == c)
					io = &ingest_options[i];
			if (!io)
				return usage_error("plan", "bad option");
			if (plan_refuses(io->name))
				return usage_error("plan", "--%s is not for a plan", io->name);
			char name[64];
			snprintf(name, sizeof name, "--%s", io->name);
			if (!(args[nargs++] = strdup(name)) || (optarg && !(args[nargs++] = strdup(optarg))))
				return die(EXIT_IO, "out of memory");
			if ((e = ingest_option(&ia, "plan", c, optarg)))
				return e < 0 ? usage_error("plan", "bad option") : e;
		}
		}
	}
	if (!work)
		return usage_error("plan", "-C WORK is required");
	if (!po.parts)
		return usage_error("plan", "--parts N is required");
	if (optind >= argc)
		return usage_error("plan", "a plan needs input files");
	if ((e = ingest_args_finish(&ia, "plan")))
		return e;
	po.args = (const char *const *)args;
	po.nargs = nargs;
	po.ingest = &ia.o;
	wn_dist_result r;
	int rc = wn_dist_plan(work, &po, (const char *const *)argv + optind, (size_t)(argc - optind), &r);
	if (rc)
		return dist_fail("plan", rc, &r);
	if (r.done_before)
		fprintf(stderr, "winnow plan: %s/plan.json is this plan already: nothing to do\n", work);
	outbuf out;
	out_init(&out);
	out_fmt(&out, "%u\n", r.tasks);
	return out_end(&out, NULL);
}

/* ---- the task index and the plan's options, for map and reduce ---- */

/* The task index: the flag's, else SLURM_ARRAY_TASK_ID's. 0, or the exit code. */
static int task_index(const char *cmd, const char *flag, const char *opt, unsigned *out)
{
	const char *s = opt ? opt : getenv("SLURM_ARRAY_TASK_ID");
	if (!s)
		return usage_error(cmd, "%s I is required (or SLURM_ARRAY_TASK_ID in the environment)", flag);
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > 1000000)
		return usage_error(cmd, "%s takes a task number, not '%s'%s", flag, s, opt ? "" : " (SLURM_ARRAY_TASK_ID)");
	*out = (unsigned)v;
	return 0;
}

/* The ingest options plan.json stores, parsed by ingest's parser into *ia. 0 or the
 * exit code. *block: the arguments' memory (ia points into it). */
static int plan_options(const char *cmd, const char *work, ingest_args *ia, char ***block)
{
	size_t n;
	wn_dist_result r;
	int rc = wn_dist_plan_args(work, block, &n, &r), c, e;
	if (rc)
		return dist_fail(cmd, rc, &r);
	char **av = calloc(n + 2, sizeof *av);
	if (!av)
		return die(EXIT_IO, "out of memory");
	av[0] = (char *)cmd;
	memcpy(av + 1, *block, n * sizeof *av);
	ingest_args_init(ia);
	optind = 0;   /* a new argument vector: glibc starts over */
	opterr = 0;
	while ((c = getopt_long((int)n + 1, av, "+k:l:j:", ingest_options, NULL)) != -1) {
		if (c == '?' || (e = ingest_option(ia, cmd, c, optarg))) {
			free(av);
			return die(EXIT_DATA, "%s/plan.json: its ingest options are not this winnow's", work);
		}
	}
	opterr = 1;
	int extra = optind <= (int)n;
	free(av);
	if (extra)
		return die(EXIT_DATA, "%s/plan.json: its ingest options are not this winnow's", work);
	if ((e = ingest_args_finish(ia, cmd)))
		return e;
	ia->o.on_note = on_note;
	ia->o.cancel = &wn_interrupted;
	return 0;
}

/* map and reduce: the same shape */
static int run_task(int argc, char **argv, int reduce)
{
	const char *cmd = reduce ? "reduce" : "map", *flag = reduce ? "--part" : "--task";
	enum { O_TASK = 1000 };
	const struct option lo[] = { { "work", 1, 0, 'C' }, { reduce ? "part" : "task", 1, 0, O_TASK },
		{ "quiet", 0, 0, 'q' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	const char *work = NULL, *idx = NULL;
	int quiet = 0, c, e;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'C': work = optarg; break;
		case O_TASK: idx = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(reduce ? reduce_usage : map_usage, stdout); return EXIT_OK;
		default: return usage_error(cmd, "bad option");
		}
	}
	if (!work)
		return usage_error(cmd, "-C WORK is required");
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	unsigned task = 0;
	if ((e = task_index(cmd, flag, idx, &task)))
		return e;
	static ingest_args ia;
	char **block = NULL;
	if ((e = plan_options(cmd, work, &ia, &block))) {
		free(block);
		return e;
	}
	catch_signals();
	wn_dist_result r;
	int rc = reduce ? wn_dist_reduce(work, task, &ia.o, &r) : wn_dist_map(work, task, &ia.o, &r);
	free(block);
	if (rc)
		return dist_fail(cmd, rc, &r);
	if (r.done_before) {
		fprintf(stderr, "winnow %s: %s %u is complete already: nothing to do\n", cmd, reduce ? "partition" : "map task",
			task);
		return EXIT_OK;
	}
	if (quiet)
		return EXIT_OK;
	outbuf out;
	out_init(&out);
	if (reduce)
		out_fmt(&out, "partition %u of %u: read %llu: kept %llu, duplicates %llu, revisions %llu, rejected %llu; "
			"%.2f s\n", task, r.parts, (unsigned long long)r.ingest.read, (unsigned long long)r.ingest.kept,
			(unsigned long long)r.ingest.duplicates, (unsigned long long)r.ingest.revisions,
			(unsigned long long)r.ingest.rejected, r.seconds);
	else
		out_fmt(&out, "map task %u of %u: %llu records into %u partitions; %.2f s\n", task, r.tasks,
			(unsigned long long)r.records, r.parts, r.seconds);
	return out_end(&out, NULL);
}

int cmd_map(int argc, char **argv)
{
	return run_task(argc, argv, 0);
}

int cmd_reduce(int argc, char **argv)
{
	return run_task(argc, argv, 1);
}

/* ---- merge ---- */

int cmd_merge(int argc, char **argv)
{
	enum { O_MEM = 1000 };
	const struct option lo[] = { { "work", 1, 0, 'C' }, { "output", 1, 0, 'o' }, { "threads", 1, 0, 'j' },
		{ "memory", 1, 0, O_MEM }, { "quiet", 0, 0, 'q' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	const char *work = NULL, *outdir = NULL;
	wn_dist_merge_opts mo;
	wn_dist_merge_opts_init(&mo);
	uint64_t v;
	int quiet = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:o:j:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'C': work = optarg; break;
		case 'o': outdir = optarg; break;
		case 'j':
			mo.threads = atoi(optarg);
			if (mo.threads < 1 || mo.threads > 256)
				return usage_error("merge", "--threads takes 1 to 256");
			break;
		case O_MEM:
			if (parse_size(optarg, &v) || v < (16u << 20))
				return usage_error("merge", "bad --memory '%s' (at least 16M)", optarg);
			mo.memory = v;
			break;
		case 'q': quiet = 1; break;
		case 'h': fputs(merge_usage, stdout); return EXIT_OK;
		default: return usage_error("merge", "bad option");
		}
	}
	if (!work || !outdir)
		return usage_error("merge", "-C WORK and -o CATALOG are required");
	if (optind < argc)
		return usage_error("merge", "unexpected argument '%s'", argv[optind]);
	static ingest_args ia;
	char **block = NULL;
	int e = plan_options("merge", work, &ia, &block);
	if (e) {
		free(block);
		return e;
	}
	mo.ingest = &ia.o;
	catch_signals();
	mo.cancel = &wn_interrupted;
	wn_dist_result r;
	int rc = wn_dist_merge(work, outdir, &mo, &r);
	free(block);
	if (rc)
		return dist_fail("merge", rc, &r);
	if (r.done_before) {
		fprintf(stderr, "winnow merge: %s is this plan's merged catalog already: nothing to do\n", outdir);
		return EXIT_OK;
	}
	if (quiet)
		return EXIT_OK;
	outbuf out;
	out_init(&out);
	out_fmt(&out, "merged %u partitions into %s: %llu records in input order, %llu data files; %.2f s (the index "
		"%.2f s)\n", r.parts, outdir, (unsigned long long)r.records, (unsigned long long)r.rewritten, r.seconds,
		r.index_seconds);
	return out_end(&out, NULL);
}
