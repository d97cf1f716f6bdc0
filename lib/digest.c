/*
 * digest.c - whole-file digests: XXH128 (what MANIFEST holds, what xxhsum checks) and,
 * when the catalog keeps SHA256SUMS, SHA-256 in the same pass.
 *
 * Sealing a file (catalog.c) and checking it (verify) hash with this one loop, so what
 * is written into the manifests and what is checked against them cannot drift apart.
 * Files are read in chunks that stay in L2 between the read and the two hashes.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <xxhash.h>

#define CHUNK (256u << 10)

struct wn_hasher {
	XXH3_state_t *xs;
	EVP_MD_CTX *sha;
	char *buf;
};

wn_hasher *wn_hasher_new(void)
{
	wn_hasher *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->xs = XXH3_createState();
	h->sha = EVP_MD_CTX_new();
	h->buf = malloc(CHUNK);
	if (!h->xs || !h->sha || !h->buf) {
		wn_hasher_free(h);
		return NULL;
	}
	return h;
}

void wn_hasher_free(wn_hasher *h)
{
	if (!h)
		return;
	XXH3_freeState(h->xs);
	EVP_MD_CTX_free(h->sha);
	free(h->buf);
	free(h);
}

int wn_hasher_fd(wn_hasher *h, int fd, uint8_t xxh[16], uint8_t *sha256, uint64_t *size,
	int (*step)(uint64_t done, size_t n, void *ud), void *ud)
{
	uint64_t off = 0;
	XXH3_128bits_reset(h->xs);
	if (sha256)
		EVP_DigestInit_ex(h->sha, EVP_sha256(), NULL);
	for (;;) {
		ssize_t r = pread(fd, h->buf, CHUNK, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			*size = off;
			return errno;
		}
		if (!r)
			break;
		XXH3_128bits_update(h->xs, h->buf, (size_t)r);
		if (sha256)
			EVP_DigestUpdate(h->sha, h->buf, (size_t)r);
		off += (uint64_t)r;
		if (step && step(off, (size_t)r, ud)) {
			*size = off;
			return WN_E_INTERRUPTED;
		}
	}
	XXH128_canonical_t canon;
	XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(h->xs));
	memcpy(xxh, canon.digest, 16);
	if (sha256) {
		unsigned sl = 32;
		EVP_DigestFinal_ex(h->sha, sha256, &sl);
	}
	*size = off;
	return 0;
}

int wn_file_digests(int dirfd, const char *rel, uint8_t xxh[16], uint8_t sha256[32], uint64_t *size)
{
	int fd = wn_open_in(dirfd, rel, O_RDONLY, 0);
	if (fd < 0)
		return fd <= WN_OPEN_SYMLINK ? fd : -fd;
	wn_hasher *h = wn_hasher_new();
	uint64_t n = 0;
	int rc = h ? wn_hasher_fd(h, fd, xxh, sha256, &n, NULL, NULL) : WN_E_NOMEM;
	if (!rc && size)
		*size = n;
	wn_hasher_free(h);
	close(fd);
	return rc;
}
