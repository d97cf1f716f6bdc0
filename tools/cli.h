/*
 * cli.h - what the subcommands share: exit codes, option helpers, buffered stdout
 * whose write errors (ENOSPC on a redirect) are reported, and the progress line.
 */
#ifndef WN_CLI_H
#define WN_CLI_H

#include <stdio.h>
#include <stdint.h>
#include "winnow.h"

/* exit codes (documented in README.md and `winnow --help`) */
#define EXIT_OK 0
#define EXIT_DATA 1         /* a data check failed */
#define EXIT_USAGE 2
#define EXIT_IO 3           /* I/O or runtime error */
#define EXIT_INTERRUPTED 130

extern const char *wn_prog;
extern volatile int wn_interrupted;

/* "winnow: message" on stderr; returns code */
int die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* usage error: message + hint on stderr, returns EXIT_USAGE */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* map a library return code to an exit code */
int exit_for(int rc);
/* report a library error on handle c (or without handle) and return its exit code */
int report(wn_catalog *c, int rc, const char *what);

/* Open the catalog in dir: 0, or the exit code after the reason is on stderr (and the
 * handle closed, *cat NULL). */
int open_catalog(wn_catalog **cat, const char *dir, int mode);

/* A --kind value of command cmd: a kind name ("tracks" and "artists" are read as track
 * and artist). 0 and *kind, or the exit code of the usage error it printed. */
int parse_kind(const char *cmd, const char *s, const char **kind);
/* Read the pseudonymisation key, the bytes of the file at path (16 to 4096), into key (cap
 * bytes): 0 and *len, or the exit code of the usage error it printed (command cmd). The key
 * is never stored or shown. */
int read_key_file(const char *cmd, const char *path, uint8_t *key, size_t cap, size_t *len);
/* parse sizes like 1048576, 1M, 256MiB, 1G; 0 on success */
int parse_size(const char *s, uint64_t *out);

/* buffered stdout that notices write errors */
typedef struct outbuf {
	char *p;
	size_t len, cap;
	int err;
	void *user;             /* the command's own, for callbacks that get only the outbuf */
} outbuf;
void out_init(outbuf *o);
void out_put(outbuf *o, const char *s, size_t n);
void out_str(outbuf *o, const char *s);
void out_fmt(outbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_json_str(outbuf *o, const char *s, size_t n);
/* A file name for text output, the one escaper of names (--json output escapes as JSON
 * instead): as it is, or, if it holds a newline, a backslash, a control or bytes that are
 * not UTF-8, a backslash and then the name with those escaped (\\ \n \r \t \xHH), as
 * sha256sum and xxhsum print such names. */
void out_name(outbuf *o, const char *name);
/* Are the n bytes at s valid UTF-8 (no overlong form, surrogate or code point past
 * U+10FFFF)? 1 or 0. */
int utf8_valid(const char *s, size_t n);
/* a record callback (wn_record_fn) for an outbuf: the record and a newline */
int out_line(const char *rec, size_t len, void *ud);
/* flush and close stdout; returns 0 or an errno */
int out_finish(outbuf *o);
/* The one end of a command's output: finish o and return EXIT_OK, or EXIT_IO after
 * "standard output: <reason>" on stderr (ENOSPC on a redirect). A reader that went away
 * (EPIPE: `winnow export | head`) is a quiet, successful end: no message, EXIT_OK; what
 * the command found otherwise (verify's damage) still sets its status. If rc is not
 * NULL and *rc, a library result, is the error o's writes returned through a callback,
 * it is o's to report: *rc becomes 0. */
int out_end(outbuf *o, int *rc);

/* ---- the ingest options (cmd_ingest.c), one parser for ingest and plan ----
 * ingest_options: the long options that shape how records are read and stored (the
 * short ones are k:l:j:), ending in a zero entry; ingest_option() takes one of them as
 * getopt_long returned it. The lists point into argv and into *a. */
#include <getopt.h>
enum { L_DROP, L_KEEP, L_PSEUDO, L_RENAME, INGEST_NLISTS };
typedef struct ingest_args {
	wn_ingest_opts o;
	const char *ignore[16];
	size_t nign;
	const char *members[64];
	size_t nmem;
	const char *lists[INGEST_NLISTS][16];   /* --drop, --keep, --pseudonymise, --rename */
	size_t nlist[INGEST_NLISTS];
	const char *key_file;
	uint8_t key[4096];
} ingest_args;
extern const struct option ingest_options[];
extern const int ingest_noptions;      /* entries before the zero one */
void ingest_args_init(ingest_args *a);
/* 0 done, -1 not an ingest option, or the exit code of the usage error it printed */
int ingest_option(ingest_args *a, const char *cmd, int c, char *arg);
/* The checks across options, the lists into a->o, the key file read: 0 or an exit code. */
int ingest_args_finish(ingest_args *a, const char *cmd);

/* install SIGINT/SIGTERM handlers that set wn_interrupted */
void catch_signals(void);

/* v bytes as "512 B", "1.5 MiB", ... */
void human_bytes(char *out, size_t n, double v);

/* progress: enabled when stderr is a terminal, or forced */
typedef struct progress {
	int on;
	double last;
	int drawn;
} progress;
void progress_ingest(const wn_progress *p, void *ud);
void progress_clear(progress *pr);

int cmd_ingest(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_reindex(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_dups(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_reduce(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_compact(int argc, char **argv);
int cmd_forget(int argc, char **argv);
int cmd_contributors(int argc, char **argv);
int cmd_slurm(int argc, char **argv);

#endif
