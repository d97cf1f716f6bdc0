/*
 * fuzz_seektable.c - libFuzzer target for the seek table of zstd's seekable format as
 * lib/seekable.c reads it from the end of a shard, ledger or rejects file.
 *
 * The input is the whole file. The reader must refuse it with a reason, or give a
 * table that fits in the file and whose size is what its frame count says (whether
 * the frames before it match the table is for their readers: verify, frame.c). A table
 * that reads, written again with wn_seektable_write (checksums on), reads back to the
 * same entries.
 */
#include "fuzz.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[256];
	int fd = fuzz_file(data, size, path);
	wn_seekent *e;
	uint32_t n;
	uint64_t tb;
	err[0] = 0;
	int rc = wn_seektable_read(fd, size, &e, &n, &tb, err, sizeof err);
	close(fd);
	if (rc) {
		FUZZ_ASSERT(rc != WN_E_CORRUPT || *err);
		return 0;
	}
	/* 12-byte entries with checksums, 8 without */
	FUZZ_ASSERT(tb <= size && (tb == wn_seektable_size(n) || tb == wn_seektable_size(n) - 4 * (uint64_t)n));
	size_t ts = wn_seektable_size(n);
	uint8_t *t = malloc(ts);
	FUZZ_ASSERT(t);
	wn_seektable_write(t, e, n);
	fd = fuzz_file(t, ts, path);
	wn_seekent *e2;
	uint32_t n2;
	uint64_t tb2;
	FUZZ_ASSERT(!wn_seektable_read(fd, ts, &e2, &n2, &tb2, err, sizeof err));
	close(fd);
	FUZZ_ASSERT(n2 == n && tb2 == ts);
	for (uint32_t i = 0; i < n; i++)
		FUZZ_ASSERT(e2[i].csize == e[i].csize && e2[i].dsize == e[i].dsize &&
		            (e2[i].checksum == e[i].checksum || tb != ts));
	free(e2);
	free(t);
	free(e);
	return 0;
}
