/*
 * tap.h - minimal TAP producer for the C unit tests.
 *
 * Each unit test is its own program: it prints "ok N - what" / "not ok N - what"
 * lines, then "1..N", and exits 1 if anything failed. Randomised tests print their
 * seed as a "# seed" comment so a failure can be replayed (WN_SEED=... overrides).
 */
#ifndef WN_TAP_H
#define WN_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>

static int tap_n, tap_failed;

#define OK(cond, ...) do { \
	tap_n++; \
	if (cond) { printf("ok %d - ", tap_n); } \
	else { tap_failed++; printf("not ok %d - ", tap_n); } \
	printf(__VA_ARGS__); printf("\n"); \
	if (!(cond)) printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	fflush(stdout); \
} while (0)

#define IS_INT(got, want, ...) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	OK(g_ == w_, __VA_ARGS__); \
	if (g_ != w_) printf("#   got %lld, want %lld\n", g_, w_); \
} while (0)

static inline void tap_is_str(const char *got, const char *want, const char *what)
{
	OK(!strcmp(got, want), "%s", what);
	if (strcmp(got, want))
		printf("#   got:  %s\n#   want: %s\n", got, want);
}

/* Write n bytes of data to dir/name (exits on failure); returns the path, valid until
 * the next call. */
static inline const char *tap_write_file(const char *dir, const char *name, const void *data, size_t n)
{
	static char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(2);
	}
	return path;
}

static inline uint64_t tap_seed(void)
{
	const char *s = getenv("WN_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);
	printf("# seed %llu (set WN_SEED to replay)\n", (unsigned long long)seed);
	return seed;
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
