/*
 * fuzz_manifest.c - libFuzzer target for the MANIFEST and SHA256SUMS lines of
 * lib/manifest.c (what verify reads, and what xxhsum -c and sha256sum -c read).
 *
 * The first byte picks the reader (XXH128 or SHA-256); the rest is one line. A line
 * must be refused with a reason or give a path inside the line; a line that parses,
 * written back as winnow writes it, must parse to the same path and hash.
 */
#include "fuzz.h"
#include "internal.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static wn_buf out;
	if (!size)
		return 0;
	size_t n = size - 1;
	char *line = fuzz_copy(data + 1, n);   /* alone in its block: reading past it is seen */
	int sha = data[0] & 1;
	size_t hl = sha ? 32 : 16;
	uint8_t h[32], h2[32];
	const char *path, *path2;
	size_t pl, pl2;
	const char *why = sha ? wn_manifest_parse_sha(line, n, &path, &pl, h) : wn_manifest_parse_xxh(line, n, &path, &pl, h);
	if (why) {
		FUZZ_ASSERT(*why);
	} else {
		FUZZ_ASSERT(pl > 0 && path >= line && path + pl <= line + n);
		out.len = 0;
		FUZZ_ASSERT(!(sha ? wn_manifest_sha_line(&out, path, pl, h) : wn_manifest_xxh_line(&out, path, pl, h)));
		FUZZ_ASSERT(out.len && out.p[out.len - 1] == '\n');
		why = sha ? wn_manifest_parse_sha(out.p, out.len - 1, &path2, &pl2, h2)
		          : wn_manifest_parse_xxh(out.p, out.len - 1, &path2, &pl2, h2);
		FUZZ_ASSERT(!why && pl2 == pl && !memcmp(path2, path, pl) && !memcmp(h2, h, hl));
	}
	free(line);
	return 0;
}
