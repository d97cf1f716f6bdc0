/*
 * cmd_slurm.c - `winnow slurm`: the scale-out pipeline (plan, map, reduce, merge)
 * submitted to a Slurm cluster.
 *
 * winnow brings no scheduler. This command runs `winnow plan` (this same binary, by its
 * absolute path) on the inputs, writes three batch scripts into WORK/slurm/ and submits
 * them with sbatch: the map tasks as one array job, the reduce tasks as a second array
 * job that starts only when every map task succeeded (afterok, with
 * --kill-on-invalid-dep=yes so that a failed map cancels it instead of leaving it pending
 * for ever), and merge after every reduce task. The job ids go to WORK/slurm/jobs.
 *
 * What is done is decided per task: a task whose array element Slurm reports COMPLETED,
 * or whose own done-marker is in WORK (map and reduce write one when their outputs are
 * complete), is done; every other task failed or never ran. A failed run is reported
 * with those task indices and with the commands that rerun only them (--resume does
 * the same: it resubmits the tasks not done, then merge). Every stage is idempotent,
 * so a task run twice costs time, never correctness.
 *
 * Slurm's commands are run by posix_spawnp with argument vectors, never through a
 * shell; the only shell text is in the scripts, where every path is quoted.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

extern char **environ;

static const char usage[] =
	"usage: winnow slurm -C WORK --parts N [--tasks M] [-o CATALOG] [--wait]\n"
	"                    [Slurm options] [ingest options] FILE ...\n"
	"       winnow slurm -C WORK --resume [--wait] [Slurm options]\n"
	"       winnow slurm -C WORK --wait\n"
	"\n"
	"Runs winnow plan on the inputs, writes the batch scripts map.sbatch, reduce.sbatch\n"
	"and merge.sbatch into WORK/slurm/ and submits them with sbatch: the map tasks as an\n"
	"array job, the reduce tasks (one per partition) as an array job that starts when\n"
	"every map task succeeded and is cancelled if one failed, then merge into CATALOG.\n"
	"Prints the three job ids. The scripts call this winnow by its absolute path, so it\n"
	"and WORK must be reachable at the same paths on every node (a shared file system).\n"
	"\n"
	"  -C, --work DIR           the work folder, seen by every node (winnow plan makes it)\n"
	"      --parts N            the number of partitions, hence of reduce tasks\n"
	"      --tasks M            the number of map tasks (default: winnow plan's choice)\n"
	"  -o, --output CATALOG     where merge writes the catalog (default: WORK/catalog)\n"
	"      --wait               wait for the merge job; exit 0 when it succeeded, else\n"
	"                           list the tasks that failed and how to rerun only them\n"
	"                           (alone: wait for the jobs already submitted for WORK)\n"
	"      --resume             submit again only the tasks that are not done, then merge\n"
	"                           (after a failure; the plan is kept, and so are the\n"
	"                           scripts unless Slurm options are given)\n"
	"  -h, --help               print this text\n"
	"\n"
	"Slurm options, written into every script as #SBATCH lines:\n"
	"      --sbatch-opt ARG     one option of sbatch as sbatch spells it, with its dashes\n"
	"                           and =value (memory, qos, ...); repeatable, kept in order\n"
	"      --partition P        the same as --sbatch-opt=--partition=P\n"
	"      --time T             the same as --sbatch-opt=--time=T (a limit per task)\n"
	"      --account A          the same as --sbatch-opt=--account=A\n"
	"Every other option and the FILEs go to winnow plan (the ingest options).\n"
	"Batch output goes to WORK/slurm/log/.\n"
	"\n"
	"exit status: 0 submitted (with --wait: merged), 2 usage, 3 a Slurm command failed or\n"
	"is missing, or (with --wait) a task failed; else winnow plan's status\n";

/* ---- a growable string (the CLI has none of its own: the library's is internal) ---- */

typedef struct str {
	char *p;
	size_t n, cap;
} str;

static int str_add(str *s, const char *b, size_t n)
{
	if (s->n + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 256;
		while (cap < s->n + n + 1)
			cap *= 2;
		char *p = realloc(s->p, cap);
		if (!p)
			return ENOMEM;
		s->p = p;
		s->cap = cap;
	}
	memcpy(s->p + s->n, b, n);
	s->n += n;
	s->p[s->n] = 0;
	return 0;
}

static int str_cat(str *s, const char *b) { return str_add(s, b, strlen(b)); }

static int str_fmt(str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int str_fmt(str *s, const char *fmt, ...)
{
	char buf[PATH_MAX + 256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf)
		return ENAMETOOLONG;
	return str_add(s, buf, (size_t)n);
}

/* s as one word of POSIX shell: in single quotes, each ' written as '\'' */
static int str_shq(str *s, const char *w)
{
	int rc = str_cat(s, "'");
	for (const char *p = w; !rc && *p; p++)
		rc = *p == '\'' ? str_cat(s, "'\\''") : str_add(s, p, 1);
	return rc ? rc : str_cat(s, "'");
}

/* ---- running Slurm's commands ---- */

/* The file name of program in $PATH, in out (size n): 0, or -1 when there is none. */
static int find_in_path(const char *program, char *out, size_t n)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		return -1;
	while (*path) {
		const char *e = strchrnul(path, ':');
		int len = (int)(e - path);
		if (len == 0)
			snprintf(out, n, "./%s", program);
		else
			snprintf(out, n, "%.*s/%s", len, path, program);
		if (access(out, X_OK) == 0)
			return 0;
		path = *e ? e + 1 : e;
	}
	return -1;
}

/* Run argv (argv[0] looked up in $PATH) and wait for it. Its standard output goes to
 * *out when out is not NULL (else to ours), its standard error to ours, or nowhere when
 * quiet. Returns its exit status, 128 + the signal that killed it, or -1 with errno set
 * when it could not be started. */
static int run(char *const argv[], str *out, int quiet)
{
	int fd[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (out) {
		if (pipe2(fd, O_CLOEXEC) < 0)
			return -1;
		posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
	}
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (out)
		close(fd[1]);
	if (e) {
		if (out)
			close(fd[0]);
		errno = e;
		return -1;
	}
	int rc = 0;
	if (out) {
		char buf[4096];
		ssize_t r;
		while ((r = read(fd[0], buf, sizeof buf)) != 0) {
			if (r < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			if (!rc)
				rc = str_add(out, buf, (size_t)r);
		}
		close(fd[0]);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (rc) {
		errno = rc;
		return -1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- the command's settings ---- */

#define MAX_SBATCH_OPTS 64
typedef struct job {
	char work[PATH_MAX - 128]; /* absolute; short enough for WORK/slurm/NAME */
	char catalog[PATH_MAX]; /* absolute */
	char self[PATH_MAX];    /* this winnow, absolute */
	long tasks, parts;      /* map and reduce tasks */
	const char *opt[MAX_SBATCH_OPTS];
	int nopt;
	int all_done;           /* --resume found nothing to do */
} job;

enum { MAP, REDUCE, MERGE, NSTAGES };
static const char *const stage_name[NSTAGES] = { "map", "reduce", "merge" };

/* WORK/slurm/NAME into out */
static int slurm_path(const job *j, const char *name, char *out)
{
	int n = snprintf(out, PATH_MAX, "%s/slurm/%s", j->work, name);
	return n < 0 || n >= PATH_MAX ? ENAMETOOLONG : 0;
}

/* write s to path: a temporary file renamed into place, so a reader sees all or nothing */
static int write_atomic(const char *path, const str *s, mode_t mode)
{
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return errno;
	int ok = fwrite(s->p, 1, s->n, f) == s->n;
	ok &= fflush(f) == 0 && fsync(fileno(f)) == 0;
	int e = errno;
	if (fclose(f) != 0 && ok)
		ok = 0, e = errno;
	if (ok && chmod(tmp, mode) != 0)
		ok = 0, e = errno;
	if (ok && rename(tmp, path) != 0)
		ok = 0, e = errno;
	if (!ok)
		unlink(tmp);
	return ok ? 0 : e;
}

/* ---- the scripts ---- */

/* One #SBATCH line. sbatch splits the rest of the line at blanks and honours double
 * quotes, so an option with a blank in it is written in double quotes; one with a
 * double quote or a line break cannot be written and is refused earlier. */
static int add_directive(str *s, const char *opt)
{
	int rc = str_cat(s, "#SBATCH ");
	if (!rc && strpbrk(opt, " \t"))
		rc = str_fmt(s, "\"%s\"\n", opt);
	else if (!rc)
		rc = str_fmt(s, "%s\n", opt);
	return rc;
}

static int write_script(const job *j, int stage)
{
	str s = { 0 };
	const char *name = stage_name[stage];
	int rc = str_fmt(&s, "#!/bin/sh\n# winnow %s of %s, written by winnow slurm; submit it again to rerun\n", name, j->work);
	rc = rc ? rc : str_fmt(&s, "#SBATCH --job-name=winnow-%s\n", name);
	if (!rc && stage != MERGE)
		rc = str_fmt(&s, "#SBATCH --array=0-%ld\n", (stage == MAP ? j->tasks : j->parts) - 1);
	if (!rc) {
		/* sbatch expands % in the name (%A the job, %a the task): a % of WORK is %% */
		str log = { 0 };
		rc = str_cat(&log, "--output=");
		for (const char *p = j->work; !rc && *p; p++)
			rc = *p == '%' ? str_cat(&log, "%%") : str_add(&log, p, 1);
		rc = rc ? rc : str_fmt(&log, "/slurm/log/%s-%s.out", name, stage == MERGE ? "%j" : "%A_%a");
		rc = rc ? rc : add_directive(&s, log.p);
		free(log.p);
	}
	for (int i = 0; !rc && i < j->nopt; i++)
		rc = add_directive(&s, j->opt[i]);
	rc = rc ? rc : str_cat(&s, "exec ");
	rc = rc ? rc : str_shq(&s, j->self);
	rc = rc ? rc : str_fmt(&s, " %s -C ", name);
	rc = rc ? rc : str_shq(&s, j->work);
	if (!rc && stage == MAP)
		rc = str_cat(&s, " --task \"$SLURM_ARRAY_TASK_ID\"");
	if (!rc && stage == REDUCE)
		rc = str_cat(&s, " --part \"$SLURM_ARRAY_TASK_ID\"");
	if (!rc && stage == MERGE) {
		rc = str_cat(&s, " -o ");
		rc = rc ? rc : str_shq(&s, j->catalog);
	}
	rc = rc ? rc : str_cat(&s, "\n");
	char path[PATH_MAX];
	char fname[32];
	snprintf(fname, sizeof fname, "%s.sbatch", name);
	rc = rc ? rc : slurm_path(j, fname, path);
	rc = rc ? rc : write_atomic(path, &s, 0755);
	free(s.p);
	return rc;
}

/* ---- WORK/slurm/jobs: what was planned and submitted, one "key value" a line ----
 *   tasks M / parts N / catalog PATH     once, when the scripts are written
 *   job STAGE ID                         each submission, appended (a resume adds more)
 */
#define MAX_JOBS 64
typedef struct sub {
	long id[NSTAGES][MAX_JOBS];
	int n[NSTAGES];
} sub;

static int jobs_write_head(const job *j)
{
	str s = { 0 };
	char path[PATH_MAX];
	int rc = str_fmt(&s, "tasks %ld\nparts %ld\ncatalog %s\n", j->tasks, j->parts, j->catalog);
	rc = rc ? rc : slurm_path(j, "jobs", path);
	rc = rc ? rc : write_atomic(path, &s, 0644);
	free(s.p);
	return rc;
}

static int jobs_append(const job *j, int stage, long id)
{
	char path[PATH_MAX];
	int rc = slurm_path(j, "jobs", path);
	if (rc)
		return rc;
	FILE *f = fopen(path, "a");
	if (!f)
		return errno;
	fprintf(f, "job %s %ld\n", stage_name[stage], id);
	int e = fflush(f) ? errno : 0;
	fsync(fileno(f));
	if (fclose(f) && !e)
		e = errno;
	return e;
}

/* read WORK/slurm/jobs into j (tasks, parts, catalog) and u (the job ids) */
static int jobs_read(job *j, sub *u)
{
	char path[PATH_MAX], line[PATH_MAX + 32], a[16];
	int rc = slurm_path(j, "jobs", path);
	if (rc)
		return rc;
	FILE *f = fopen(path, "r");
	if (!f)
		return errno;
	memset(u, 0, sizeof *u);
	j->tasks = j->parts = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		long id;
		if (!strncmp(line, "catalog ", 8) && strlen(line + 8) < sizeof j->catalog)
			memcpy(j->catalog, line + 8, strlen(line + 8) + 1);
		else if (sscanf(line, "tasks %ld", &id) == 1)
			j->tasks = id;
		else if (sscanf(line, "parts %ld", &id) == 1)
			j->parts = id;
		else if (sscanf(line, "job %15s %ld", a, &id) == 2)
			for (int s = 0; s < NSTAGES; s++) {
				if (strcmp(a, stage_name[s]))
					continue;
				if (u->n[s] == MAX_JOBS) { /* the latest count: forget the oldest */
					memmove(u->id[s], u->id[s] + 1, (MAX_JOBS - 1) * sizeof u->id[s][0]);
					u->n[s]--;
				}
				u->id[s][u->n[s]++] = id;
			}
	}
	fclose(f);
	return j->tasks > 0 && j->parts > 0 && *j->catalog ? 0 : EINVAL;
}

/* ---- submitting ---- */

/* sbatch --parsable [--array=LIST] [--dependency=afterok:DEP --kill-on-invalid-dep=yes]
 * WORK/slurm/STAGE.sbatch; the job id in *id. 0, or the exit code after a message. */
static int submit(const job *j, int stage, const char *array, long dep, long *id)
{
	char script[PATH_MAX], arr[64 + 16], depo[64];
	char fname[32];
	snprintf(fname, sizeof fname, "%s.sbatch", stage_name[stage]);
	if (slurm_path(j, fname, script))
		return die(EXIT_IO, "%s/slurm/%s: %s", j->work, fname, strerror(ENAMETOOLONG));
	char *argv[8];
	int n = 0;
	argv[n++] = "sbatch";
	argv[n++] = "--parsable";
	if (array) {
		snprintf(arr, sizeof arr, "--array=%s", array);
		argv[n++] = arr;
	}
	if (dep > 0) {
		snprintf(depo, sizeof depo, "--dependency=afterok:%ld", dep);
		argv[n++] = depo;
		argv[n++] = "--kill-on-invalid-dep=yes";
	}
	argv[n++] = script;
	argv[n] = NULL;
	str out = { 0 };
	int st = run(argv, &out, 0);
	char *end = NULL;
	*id = out.p ? strtol(out.p, &end, 10) : 0;
	int good = st == 0 && *id > 0 && end && (*end == 0 || *end == '\n' || *end == ';');
	free(out.p);
	if (st < 0)
		return die(EXIT_IO, "cannot run sbatch: %s", strerror(errno));
	if (!good)
		return die(EXIT_IO, "sbatch did not submit %s (exit status %d)", script, st);
	int rc = jobs_append(j, stage, *id);
	if (rc)
		return die(EXIT_IO, "%s/slurm/jobs: %s", j->work, strerror(rc));
	return 0;
}

/* scancel the jobs submitted before a later submission failed, so none is left waiting */
static void cancel(long id)
{
	char a[32];
	snprintf(a, sizeof a, "%ld", id);
	char *argv[] = { "scancel", a, NULL };
	run(argv, NULL, 1);
}

/* ---- what Slurm says about a job's tasks ---- */

enum { T_UNKNOWN, T_WAITING, T_DONE, T_FAILED };

static int state_of(const char *s)
{
	static const char *const failed[] = { "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
		"BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY", NULL };
	if (!strncmp(s, "COMPLETED", 9) && (s[9] == 0 || s[9] == ' '))
		return T_DONE;
	for (int i = 0; failed[i]; i++) {
		size_t n = strlen(failed[i]);
		if (!strncmp(s, failed[i], n) && (s[n] == 0 || s[n] == ' '))
			return T_FAILED;
	}
	return T_WAITING;
}

/* the value of "KEY=" in a line of scontrol -o, or NULL */
static const char *field(const char *line, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = line; (p = strstr(p, key)); p += n)
		if ((p == line || p[-1] == ' ') && p[n] == '=')
			return p + n + 1;
	return NULL;
}

/* Mark in st[0..n) the state of each task in the ranges "0-3,5,7-9%2" at ids. */
static void mark_ranges(const char *ids, int state, unsigned char *st, long n)
{
	const char *p = ids;
	while (*p && *p != ' ' && *p != '%') {
		char *e;
		long a = strtol(p, &e, 10), b = a;
		if (e == p)
			return;
		if (*e == '-')
			b = strtol(e + 1, &e, 10);
		for (long i = a; i <= b && i < n; i++)
			if (i >= 0)
				st[i] = (unsigned char)state;
		p = *e == ',' ? e + 1 : e;
	}
}

/* Fold what scontrol says about job id into st[0..n) (n 1 for a job that is not an
 * array), and id into jid[] for each task it sets: a task done in any job stays done.
 * Returns 1 when some task of it is still
 * pending or running, 0 when it is over or Slurm has forgotten it, -1 when scontrol
 * could not be run. */
static int job_state(long id, unsigned char *st, long *jid, long n)
{
	char a[32];
	snprintf(a, sizeof a, "%ld", id);
	char *argv[] = { "scontrol", "-o", "show", "job", a, NULL };
	str out = { 0 };
	int rc = run(argv, &out, 1);
	if (rc < 0) {
		free(out.p);
		return -1;
	}
	int waiting = 0;
	for (char *line = out.p, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		const char *js = field(line, "JobState");
		if (!js)
			continue;
		int s = state_of(js);
		waiting |= s == T_WAITING;
		const char *t = field(line, "ArrayTaskId");
		if (t && *t != '(') {
			/* a pending range may also list tasks already done in another job: keep those */
			unsigned char *mark = calloc((size_t)n, 1);
			if (mark) {
				mark_ranges(t, s + 1, mark, n);
				for (long i = 0; i < n; i++)
					if (mark[i] && st[i] != T_DONE) {
						st[i] = (unsigned char)(mark[i] - 1);
						jid[i] = id;
					}
				free(mark);
			}
		} else if (!t && n == 1 && st[0] != T_DONE) {
			st[0] = (unsigned char)s;
			jid[0] = id;
		}
	}
	free(out.p);
	return waiting;
}

/* ---- the tasks' own done-markers ---- */

/* Is task i of stage done by its own record in WORK? Each stage's output appears by an
 * atomic rename only when complete, with the file that the next stage checks
 * (doc/FORMAT.md section 17): map task I's WORK/map/I/done.json, reduce task P's
 * WORK/part/P/dist.json, merge's WORK/merge.json. Their presence is enough here: a
 * task that finds its output damaged says so when it runs. */
static int marker_done(const job *j, int stage, long i)
{
	char path[PATH_MAX];
	int n;
	if (stage == MAP)
		n = snprintf(path, sizeof path, "%s/map/%ld/done.json", j->work, i);
	else if (stage == REDUCE)
		n = snprintf(path, sizeof path, "%s/part/%ld/dist.json", j->work, i);
	else
		n = snprintf(path, sizeof path, "%s/merge.json", j->work);
	return n > 0 && n < (int)sizeof path && access(path, F_OK) == 0;
}

/* ---- the outcome ---- */

typedef struct outcome {
	unsigned char *st[NSTAGES];
	long *jid[NSTAGES];     /* the job that last said how each task went (0: none) */
	long n[NSTAGES];
	int waiting;            /* some task is still pending or running */
	int unknown;            /* scontrol could not be run */
} outcome;

static void outcome_free(outcome *o)
{
	for (int s = 0; s < NSTAGES; s++) {
		free(o->st[s]);
		free(o->jid[s]);
	}
}

/* Add to u the jobs Slurm still lists whose script is one of WORK's, whoever submitted
 * them (the sbatch commands printed for a rerun, run by hand, are followed the same way). */
static void discover(const job *j, sub *u)
{
	char *argv[] = { "squeue", "--me", "-h", "-t", "all", "-o", "%F %o", NULL };
	str out = { 0 };
	if (run(argv, &out, 1) != 0) {
		free(out.p);
		return;
	}
	char script[NSTAGES][PATH_MAX];
	for (int s = 0; s < NSTAGES; s++) {
		char fname[32];
		snprintf(fname, sizeof fname, "%s.sbatch", stage_name[s]);
		slurm_path(j, fname, script[s]);
	}
	for (char *line = out.p, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		char *e;
		long id = strtol(line, &e, 10);
		if (e == line || *e != ' ')
			continue;
		for (int s = 0; s < NSTAGES; s++) {
			if (strcmp(e + 1, script[s]))
				continue;
			int k = 0;
			while (k < u->n[s] && u->id[s][k] != id)
				k++;
			if (k == u->n[s] && k < MAX_JOBS)
				u->id[s][u->n[s]++] = id;
		}
	}
	free(out.p);
}

static int outcome_get(const job *j, sub *u, outcome *o)
{
	discover(j, u);
	memset(o, 0, sizeof *o);
	o->n[MAP] = j->tasks, o->n[REDUCE] = j->parts, o->n[MERGE] = 1;
	for (int s = 0; s < NSTAGES; s++) {
		o->st[s] = calloc((size_t)o->n[s], 1);
		o->jid[s] = calloc((size_t)o->n[s], sizeof *o->jid[s]);
		if (!o->st[s] || !o->jid[s])
			return ENOMEM;
		for (int k = 0; k < u->n[s]; k++) {
			int w = job_state(u->id[s][k], o->st[s], o->jid[s], o->n[s]);
			if (w < 0)
				o->unknown = 1;
			else
				o->waiting |= w;
		}
		for (long i = 0; i < o->n[s]; i++)
			if (marker_done(j, s, i))
				o->st[s][i] = T_DONE;
	}
	return 0;
}

/* the tasks of stage s not done, as "3,7,9-12", in out */
static int not_done(const outcome *o, int s, str *out)
{
	int rc = 0, first = 1;
	for (long i = 0; !rc && i < o->n[s];) {
		if (o->st[s][i] == T_DONE) {
			i++;
			continue;
		}
		long k = i;
		while (k + 1 < o->n[s] && o->st[s][k + 1] != T_DONE)
			k++;
		rc = k > i ? str_fmt(out, "%s%ld-%ld", first ? "" : ",", i, k) : str_fmt(out, "%s%ld", first ? "" : ",", i);
		first = 0;
		i = k + 1;
	}
	return rc;
}

/* ---- the steps ---- */

/* Submit what is not done: the map tasks in map_array (NULL: none), the reduce tasks
 * in red_array (NULL: none), then merge, each after the one before. */
static int submit_chain(const job *j, const char *map_array, const char *red_array)
{
	long id[NSTAGES] = { 0, 0, 0 };
	int rc = 0;
	if (map_array)
		rc = submit(j, MAP, map_array, 0, &id[MAP]);
	if (!rc && red_array)
		rc = submit(j, REDUCE, red_array, id[MAP], &id[REDUCE]);
	if (!rc)
		rc = submit(j, MERGE, NULL, id[REDUCE] ? id[REDUCE] : id[MAP], &id[MERGE]);
	if (rc) {
		for (int s = 0; s < NSTAGES; s++)
			if (id[s])
				cancel(id[s]);
		return rc;
	}
	for (int s = 0; s < NSTAGES; s++)
		if (id[s])
			printf("%s job %ld\n", stage_name[s], id[s]);
	return 0;
}

/* The commands that rerun only the tasks not done: print them on stderr. */
static void print_rerun(const job *j, const str *map, const str *red)
{
	str c = { 0 };
	str_cat(&c, "winnow slurm -C ");
	str_shq(&c, j->work);
	str_cat(&c, " --resume --wait");
	fprintf(stderr, "%s: rerun only them: %s\n", wn_prog, c.p);
	c.n = 0;
	char script[PATH_MAX];
	const char *prev = NULL;
	if (map->n) {
		slurm_path(j, "map.sbatch", script);
		str_fmt(&c, "m=$(sbatch --parsable --array=%s ", map->p);
		str_shq(&c, script);
		str_cat(&c, ") && ");
		prev = "$m";
	}
	if (red->n) {
		slurm_path(j, "reduce.sbatch", script);
		str_fmt(&c, "r=$(sbatch --parsable --array=%s ", red->p);
		if (prev)
			str_fmt(&c, "--dependency=afterok:%s --kill-on-invalid-dep=yes ", prev);
		str_shq(&c, script);
		str_cat(&c, ") && ");
		prev = "$r";
	}
	slurm_path(j, "merge.sbatch", script);
	str_cat(&c, "sbatch ");
	if (prev)
		str_fmt(&c, "--dependency=afterok:%s --kill-on-invalid-dep=yes ", prev);
	str_shq(&c, script);
	fprintf(stderr, "%s: or with sbatch: %s\n", wn_prog, c.p);
	free(c.p);
}

/* The last line a failed task wrote to its batch output, on stderr (for up to 5 tasks
 * of each stage): most often winnow's own message saying why. */
static void print_failures(const job *j, const outcome *o)
{
	for (int s = 0; s < NSTAGES; s++) {
		int shown = 0;
		for (long i = 0; i < o->n[s] && shown < 5; i++) {
			if (o->st[s][i] != T_FAILED || !o->jid[s][i])
				continue;
			char path[PATH_MAX], tail[4096], task[64];
			if (s == MERGE)
				snprintf(task, sizeof task, "%ld", o->jid[s][i]);
			else
				snprintf(task, sizeof task, "%ld_%ld", o->jid[s][i], i);
			int n = snprintf(path, sizeof path, "%s/slurm/log/%s-%s.out", j->work, stage_name[s], task);
			FILE *f = n > 0 && n < (int)sizeof path ? fopen(path, "r") : NULL;
			if (!f)
				continue;   /* never started (cancelled while pending) */
			size_t got = 0;
			if (fseek(f, -(long)(sizeof tail - 1), SEEK_END) != 0)
				rewind(f);
			got = fread(tail, 1, sizeof tail - 1, f);
			fclose(f);
			while (got && (tail[got - 1] == '\n' || tail[got - 1] == '\r'))
				got--;
			tail[got] = 0;
			char *line = strrchr(tail, '\n');
			line = line ? line + 1 : tail;
			for (char *c = line; *c; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					*c = '?';
			if (!*line)
				continue;
			fprintf(stderr, "%s: %s task %ld (job %s): %.300s\n", wn_prog, stage_name[s], s == MERGE ? 0 : i, task,
				line);
			shown++;
		}
	}
}

/* Wait until no task of the submitted jobs is pending or running, then report. */
static int wait_jobs(job *j)
{
	sub u;
	outcome o;
	int rc, polls = 0;
	for (;;) {
		if ((rc = jobs_read(j, &u)))
			return die(EXIT_IO, "%s/slurm/jobs: %s", j->work, strerror(rc));
		if ((rc = outcome_get(j, &u, &o)))
			return outcome_free(&o), die(EXIT_IO, "%s", strerror(rc));
		if (o.unknown)
			return outcome_free(&o), die(EXIT_IO, "cannot run scontrol: %s", strerror(errno));
		if (!o.waiting)
			break;
		outcome_free(&o);
		if (wn_interrupted) {
			fprintf(stderr, "%s: interrupted; the jobs go on (squeue), and winnow slurm -C %s --resume "
				"submits what is left once they are over\n", wn_prog, j->work);
			return EXIT_INTERRUPTED;
		}
		/* once a second at first, then less and less often, down to every 10 s: a
		 * long run should not keep slurmctld busy answering */
		struct timespec ts = { polls < 90 ? 1 + polls / 10 : 10, 0 };
		polls++;
		nanosleep(&ts, NULL);
	}
	if (o.st[MERGE][0] == T_DONE) {
		outcome_free(&o);
		printf("merged into %s\n", j->catalog);
		return EXIT_OK;
	}
	str map = { 0 }, red = { 0 };
	not_done(&o, MAP, &map);
	not_done(&o, REDUCE, &red);
	if (map.n)
		fprintf(stderr, "%s: map tasks not done (failed, cancelled or never run): %s of 0-%ld\n", wn_prog, map.p,
			j->tasks - 1);
	if (red.n)
		fprintf(stderr, "%s: reduce tasks not done%s: %s of 0-%ld\n", wn_prog,
			map.n ? " (they wait for the map tasks)" : " (failed, cancelled or never run)", red.p, j->parts - 1);
	fprintf(stderr, "%s: merge did not run%s; the batch output is in %s/slurm/log/\n", wn_prog,
		map.n || red.n ? "" : " to its end", j->work);
	print_failures(j, &o);
	print_rerun(j, &map, &red);
	free(map.p);
	free(red.p);
	outcome_free(&o);
	return EXIT_IO;
}

static int resume(job *j)
{
	sub u;
	outcome o;
	int rc = jobs_read(j, &u);
	if (rc)
		return die(EXIT_IO, "%s/slurm/jobs: %s (was winnow slurm run on WORK?)", j->work, strerror(rc));
	/* new Slurm options replace the old ones; without any, the scripts stay as they are */
	for (int s = 0; j->nopt && s < NSTAGES; s++)
		if ((rc = write_script(j, s)))
			return die(EXIT_IO, "%s/slurm/%s.sbatch: %s", j->work, stage_name[s], strerror(rc));
	if ((rc = outcome_get(j, &u, &o)))
		return outcome_free(&o), die(EXIT_IO, "%s", strerror(rc));
	if (o.unknown)
		return outcome_free(&o), die(EXIT_IO, "cannot run scontrol: %s", strerror(errno));
	if (o.waiting)
		return outcome_free(&o), die(EXIT_IO, "tasks of %s are still pending or running (squeue); "
			"resume once they are over", j->work);
	if (o.st[MERGE][0] == T_DONE) {
		outcome_free(&o);
		printf("nothing to rerun: merged into %s\n", j->catalog);
		j->all_done = 1;
		return EXIT_OK;
	}
	str map = { 0 }, red = { 0 };
	not_done(&o, MAP, &map);
	not_done(&o, REDUCE, &red);
	outcome_free(&o);
	rc = submit_chain(j, map.n ? map.p : NULL, red.n ? red.p : NULL);
	free(map.p);
	free(red.p);
	return rc;
}

/* ---- the command line ---- */

/* the value of an option at argv[*i] spelt NAME or NAME=VALUE (NAME may be -C, taking
 * -CVALUE too): 1 and *val (the next argument consumed if needed), 0 when argv[*i] is
 * not it, -1 when the value is missing */
static int opt_val(int argc, char **argv, int *i, const char *name, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, name, n))
		return 0;
	if (a[n] == '=' && name[1] == '-') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] && name[1] != '-') {
		*val = a + n;
		return 1;
	}
	if (a[n])
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 1;
}

static int parse_count(const char *s, long *out)
{
	char *e;
	errno = 0;
	long v = strtol(s, &e, 10);
	if (errno || e == s || *e || v < 1 || v > 1000000)
		return -1;
	*out = v;
	return 0;
}

/* a Slurm option given: kept for the scripts' #SBATCH lines */
static int add_opt(job *j, const char *prefix, const char *v, char *store, size_t cap)
{
	if (j->nopt >= MAX_SBATCH_OPTS)
		return usage_error("slurm", "more than %d Slurm options", MAX_SBATCH_OPTS);
	if (strpbrk(v, "\"\n\r"))
		return usage_error("slurm", "a Slurm option with a double quote or a line break cannot go into a "
			"#SBATCH line: '%s'", v);
	if (prefix) {
		snprintf(store, cap, "%s%s", prefix, v);
		v = store;
	} else if (v[0] != '-') {
		return usage_error("slurm", "--sbatch-opt takes an sbatch option such as --mem=8G, not '%s'", v);
	}
	j->opt[j->nopt++] = v;
	return 0;
}

int cmd_slurm(int argc, char **argv)
{
	static job j;
	static char store[MAX_SBATCH_OPTS][PATH_MAX];
	memset(&j, 0, sizeof j);
	const char *work = NULL, *catalog = NULL, *parts = NULL, *tasks = NULL, *v;
	int wait = 0, resume_ = 0, nfiles = 0;
	/* what goes to winnow plan: our argv[0] becomes "plan" */
	char **plan = calloc((size_t)argc + 2, sizeof *plan);
	if (!plan)
		return die(EXIT_IO, "%s", strerror(ENOMEM));
	int np = 0;
	plan[np++] = j.self;
	plan[np++] = "plan";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int r;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			free(plan);
			fputs(usage, stdout);
			return EXIT_OK;
		}
		if (!strcmp(a, "--wait")) {
			wait = 1;
			continue;
		}
		if (!strcmp(a, "--resume")) {
			resume_ = 1;
			continue;
		}
		if (!strcmp(a, "--")) {
			for (i++; i < argc; i++, nfiles++)
				plan[np++] = argv[i];
			break;
		}
		static const struct { const char *name, *prefix; } sopt[] = { { "--sbatch-opt", NULL },
			{ "--partition", "--partition=" }, { "--time", "--time=" }, { "--account", "--account=" } };
		int matched = 0;
		for (size_t k = 0; k < sizeof sopt / sizeof *sopt && !matched; k++) {
			if (!(r = opt_val(argc, argv, &i, sopt[k].name, &v)))
				continue;
			matched = 1;
			if (r < 0)
				return free(plan), usage_error("slurm", "%s needs a value", sopt[k].name);
			if ((r = add_opt(&j, sopt[k].prefix, v, store[j.nopt], sizeof store[0])))
				return free(plan), r;
		}
		if (matched)
			continue;
		if ((r = opt_val(argc, argv, &i, "-o", &v)) || (r = opt_val(argc, argv, &i, "--output", &v))) {
			if (r < 0)
				return free(plan), usage_error("slurm", "-o needs a catalog");
			catalog = v;
			continue;
		}
		/* ours, and winnow plan's too */
		int start = i;
		if ((r = opt_val(argc, argv, &i, "-C", &v)) || (r = opt_val(argc, argv, &i, "--work", &v)))
			work = v;
		else if ((r = opt_val(argc, argv, &i, "--parts", &v)))
			parts = v;
		else if ((r = opt_val(argc, argv, &i, "--tasks", &v)))
			tasks = v;
		if (r < 0)
			return free(plan), usage_error("slurm", "%s needs a value", a);
		if (r) {
			while (start <= i)
				plan[np++] = argv[start++];
			continue;
		}
		if (a[0] != '-' || !strcmp(a, "-"))
			nfiles++;
		plan[np++] = (char *)a;
	}
	plan[np] = NULL;
	int rc = EXIT_OK, wait_only = wait && !resume_ && !parts && !tasks && !catalog && !nfiles;
	if (!work)
		rc = usage_error("slurm", "-C WORK is required");
	else if (resume_ && (parts || tasks || catalog || nfiles))
		rc = usage_error("slurm", "--resume takes the plan WORK holds: no --parts, --tasks, -o or FILE");
	else if (!resume_ && !wait_only && !parts)
		rc = usage_error("slurm", "--parts N is required");
	else if (!resume_ && !wait_only && !nfiles)
		rc = usage_error("slurm", "no input FILE");
	else if (parts && parse_count(parts, &j.parts))
		rc = usage_error("slurm", "--parts takes a count from 1 to 1000000, not '%s'", parts);
	else if (tasks && parse_count(tasks, &j.tasks))
		rc = usage_error("slurm", "--tasks takes a count from 1 to 1000000, not '%s'", tasks);
	if (rc)
		return free(plan), rc;

	if (strpbrk(work, "\"\n\r"))
		return free(plan), usage_error("slurm", "a work folder whose name holds a double quote or a line "
			"break cannot be named in a #SBATCH line");
	/* Slurm's client commands first: nothing is planned for a cluster one cannot reach */
	static const char *const need[] = { "sbatch", "squeue", "scontrol", "scancel" };
	char found[PATH_MAX];
	for (size_t k = 0; k < sizeof need / sizeof *need; k++)
		if (find_in_path(need[k], found, sizeof found))
			return free(plan), die(EXIT_IO, "%s is not in PATH: winnow slurm submits through Slurm's client "
				"commands (Debian: slurm-client); without Slurm, run winnow plan, map, reduce and merge "
				"yourself (see winnow slurm --help)", need[k]);
	ssize_t sl = readlink("/proc/self/exe", j.self, sizeof j.self - 1);
	if (sl <= 0 || (size_t)sl >= sizeof j.self - 1)
		return free(plan), die(EXIT_IO, "cannot find this winnow's own path: %s", strerror(errno));
	j.self[sl] = 0;
	catch_signals();

	if (!resume_ && !wait_only) {
		str out = { 0 };
		int st = run(plan, &out, 0);
		free(plan);
		if (st < 0)
			return free(out.p), die(EXIT_IO, "cannot run winnow plan: %s", strerror(errno));
		if (st)
			return free(out.p), st == EXIT_INTERRUPTED || st <= EXIT_IO ? st : EXIT_IO;
		char *end = NULL;
		long m = out.p ? strtol(out.p, &end, 10) : 0;
		while (end && (*end == '\n' || *end == ' '))
			end++;
		if (m < 1 || !end || *end)
			return free(out.p), die(EXIT_IO, "winnow plan printed '%s', not the number of map tasks",
				out.p ? out.p : "");
		free(out.p);
		j.tasks = m;
	} else {
		free(plan);
	}
	char abs[PATH_MAX];
	if (!realpath(work, abs))
		return die(EXIT_IO, "%s: %s", work, strerror(errno));
	if (strlen(abs) >= sizeof j.work)
		return die(EXIT_IO, "%s: %s", abs, strerror(ENAMETOOLONG));
	memcpy(j.work, abs, strlen(abs) + 1);
	if (strpbrk(j.work, "\"\n\r"))
		return die(EXIT_IO, "%s: a work folder whose path holds a double quote or a line break cannot be "
			"named in a #SBATCH line", j.work);
	if (wait_only) {
		rc = 0;
	} else if (resume_) {
		rc = resume(&j);
	} else {
		if (!catalog) {
			if (snprintf(j.catalog, sizeof j.catalog, "%s/catalog", j.work) >= (int)sizeof j.catalog)
				return die(EXIT_IO, "%s/catalog: %s", j.work, strerror(ENAMETOOLONG));
		} else if (catalog[0] == '/') {
			snprintf(j.catalog, sizeof j.catalog, "%s", catalog);
		} else {
			char cwd[PATH_MAX];
			if (!getcwd(cwd, sizeof cwd) || snprintf(j.catalog, sizeof j.catalog, "%s/%s", cwd, catalog) >= PATH_MAX)
				return die(EXIT_IO, "%s: %s", catalog, strerror(ENAMETOOLONG));
		}
		char d[PATH_MAX];
		slurm_path(&j, "", d);
		mkdir(d, 0755);
		slurm_path(&j, "log", d);
		if (mkdir(d, 0755) && errno != EEXIST)
			return die(EXIT_IO, "%s: %s", d, strerror(errno));
		for (int s = 0; s < NSTAGES && !rc; s++)
			if ((rc = write_script(&j, s)))
				return die(EXIT_IO, "%s/slurm/%s.sbatch: %s", j.work, stage_name[s], strerror(rc));
		/* a run of this WORK still under way is not submitted twice */
		sub u;
		job old = j;
		if (!jobs_read(&old, &u)) {
			outcome o;
			int busy = !outcome_get(&old, &u, &o) && o.waiting;
			outcome_free(&o);
			if (busy)
				return die(EXIT_IO, "tasks of %s are still pending or running (squeue): winnow slurm -C %s "
					"--wait waits for them", j.work, j.work);
		}
		if ((rc = jobs_write_head(&j)))
			return die(EXIT_IO, "%s/slurm/jobs: %s", j.work, strerror(rc));
		char ma[48], ra[48];
		snprintf(ma, sizeof ma, "0-%ld", j.tasks - 1);
		snprintf(ra, sizeof ra, "0-%ld", j.parts - 1);
		rc = submit_chain(&j, ma, ra);
	}
	fflush(stdout);
	if (!rc && wait && !j.all_done)
		rc = wait_jobs(&j);
	return rc;
}
