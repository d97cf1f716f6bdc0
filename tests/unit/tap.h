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
