/*
 * fuzz.h - what the libFuzzer targets share: the input as a file the library can open
 * (a memfd named by /proc/self/fd), and reading a record source to its end while
 * checking what every source promises.
 *
 * A target is one function, LLVMFuzzerTestOneInput(). Built with clang's libFuzzer it is
 * fuzzed (make fuzz); built with replay.c and any C compiler it runs the saved corpus
 * (tests/fuzz/corpus/<target>/) as part of make test.
 */
#ifndef WN_FUZZ_H
#define WN_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property of the code under test does not hold: stop where a fuzzer sees it. */
#define FUZZ_ASSERT(c) do { if (!(c)) { fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c); abort(); } } while (0)

/* A copy of p[0..n) in a block of exactly n bytes (free it), so that a reader that goes
 * past the end is seen by ASan even when the bytes are a part of the input. */
static inline char *fuzz_copy(const void *p, size_t n)
{
	char *c = malloc(n ? n : 1);
	FUZZ_ASSERT(c);
	memcpy(c, p, n);
	return c;
}

/* data[0..size) as an open file; *path names it. Returns the fd (close it). */
static inline int fuzz_file(const void *data, size_t size, char path[64])
{
	int fd = memfd_create("fuzz", 0);
	FUZZ_ASSERT(fd >= 0);
	FUZZ_ASSERT(!size || write(fd, data, size) == (ssize_t)size);
	lseek(fd, 0, SEEK_SET);
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

/* Read source s to its end (or its first error). Every source promises: an error comes
 * with a message; positions never go back; a record the strict parser accepts (js,
 * may be NULL) is compact, one line; check(r, ud), if given, adds the target's own. */
static inline void fuzz_drain(wn_source *s, wn_json *js, void (*check)(const wn_srec *, const wn_jresult *, void *), void *ud)
{
	wn_srec r;
	uint64_t last_end = 0;

	for (int i = 0;; i++) {
		int got = s->next(s, &r, i % 5 == 0);
		if (got == 2)
			got = s->next(s, &r, 1);
		if (got == 0)
			return;
		if (got != 1) {
			FUZZ_ASSERT(*s->err);
			return;
		}
		FUZZ_ASSERT(r.end >= last_end);
		last_end = r.end;
		if (r.toolong_len)
			continue;
		if (r.code) {
			FUZZ_ASSERT(r.why && *r.why);
			continue;
		}
		wn_jresult jr;
		if (js && !wn_json_record(js, r.rec, r.len, &jr)) {
			FUZZ_ASSERT(!memchr(r.rec, '\n', r.len));
			if (check)
				check(&r, &jr, ud);
		} else if (check) {
			check(&r, NULL, ud);
		}
	}
}

#endif
