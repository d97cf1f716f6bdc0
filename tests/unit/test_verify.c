/*
 * test_verify.c - wn_verify through the library API: SHA-256 and XXH128 of files against
 * known values, a clean catalog in both modes, damage counted and reported from the
 * calling thread in file order, and MANIFESTs of random bytes (seeded) that must give
 * "metadata" problems, never a crash or a file opened outside the folder.
 */
#include "internal.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

typedef struct seen {
	int n, metadata, checksum, frame, notes, sorted, other_thread;
	char last_path[256];
	pthread_t caller;
} seen;

static void on_problem(const wn_problem *p, void *ud)
{
	seen *s = ud;
	s->n++;
	if (!pthread_equal(pthread_self(), s->caller))
		s->other_thread++;
	if (!strcmp(p->kind, "metadata"))
		s->metadata++;
	else if (!strcmp(p->kind, "checksum"))
		s->checksum++;
	else if (!strcmp(p->kind, "frame-corrupt"))
		s->frame++;
	else if (!strcmp(p->kind, "note"))
		s->notes++;
	if (p->path && strcmp(p->kind, "note")) {
		if (strcmp(p->path, s->last_path) < 0)
			s->sorted = 0;
		snprintf(s->last_path, sizeof s->last_path, "%s", p->path);
	}
}

static int run(wn_catalog *c, int deep, const char *bare_dir, seen *s, wn_verify_result *r)
{
	wn_verify_opts o;
	wn_verify_opts_init(&o);
	memset(s, 0, sizeof *s);
	s->sorted = 1;
	s->caller = pthread_self();
	o.deep = deep;
	o.threads = 3;
	o.dir = bare_dir;
	o.problem = on_problem;
	o.problem_ud = s;
	return wn_verify(c, &o, r);
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(p, 1, n, f);
		fclose(f);
	}
}

int main(void)
{
	char path[512], hex[65];
	uint8_t xxh[16], sha[32];
	uint64_t size;
	seen s;
	wn_verify_result r;
	uint64_t seed = tap_seed();

	snprintf(dir, sizeof dir, "%s/winnow-test-verify.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	char *made = mkdtemp(dir);   /* (OK evaluates its condition twice) */
	OK(made != NULL, "scratch folder %s", dir);

	/* known values: SHA-256("abc") (FIPS 180-2), XXH128 of "" (xxhsum -H2 /dev/null) */
	snprintf(path, sizeof path, "%s/abc", dir);
	write_file(path, "abc", 3);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	IS_INT(wn_file_digests(dfd, "abc", xxh, sha, &size), 0, "wn_file_digests");
	wn_hex(hex, sha, 32);
	OK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "SHA-256 of \"abc\": %s", hex);
	IS_INT(size, 3, "size of the file");
	snprintf(path, sizeof path, "%s/empty", dir);
	write_file(path, "", 0);
	IS_INT(wn_file_digests(dfd, "empty", xxh, sha, NULL), 0, "wn_file_digests of an empty file");
	wn_hex(hex, xxh, 16);
	OK(!strcmp(hex, "99aa06d3014798d86001c324468d497f"), "XXH128 of nothing: %s", hex);
	wn_hex(hex, sha, 32);
	OK(!strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "SHA-256 of nothing");
	OK(wn_file_digests(dfd, "nonexistent", xxh, sha, NULL) == ENOENT, "a missing file: ENOENT");
	snprintf(path, sizeof path, "%s/link", dir);
	IS_INT(symlink("abc", path), 0, "a link to a file");
	IS_INT(wn_file_digests(dfd, "link", xxh, sha, NULL), WN_OPEN_SYMLINK, "a link is not followed");
	unlink(path);
	close(dfd);

	/* a small catalog */
	char cat[300], in[300];
	snprintf(cat, sizeof cat, "%s/cat", dir);
	snprintf(in, sizeof in, "%s/in.jsonl", dir);
	FILE *f = fopen(in, "w");
	for (int i = 0; f && i < 3000; i++)
		fprintf(f, "{\"id\":\"t%d\",\"name\":\"track %d\",\"external_ids\":{\"isrc\":\"QZ%010d\"}}\n", i % 2700, i, i % 2700);
	if (f)
		fclose(f);
	wn_catalog *c;
	int orc = wn_catalog_open(&c, cat, WN_OPEN_WRITE);
	IS_INT(orc, 0, "create a catalog");
	if (orc) {
		printf("# %s\n", wn_catalog_errmsg(c));
		wn_catalog_close(c);
		return tap_done();
	}
	IS_INT(wn_catalog_set_digest(c, "md5"), WN_E_USAGE, "wn_catalog_set_digest refuses md5");
	IS_INT(wn_catalog_set_digest(c, "sha256"), 0, "wn_catalog_set_digest(sha256)");
	wn_ingest_opts io;
	wn_ingest_opts_init(&io);
	io.frame_bytes = 4096;
	io.shard_bytes = 32768;
	const char *paths[1] = { in };
	wn_ingest_result ir;
	IS_INT(wn_ingest(c, &io, paths, 1, &ir), 0, "ingest");
	IS_INT(ir.kept, 2700, "kept");
	IS_INT(run(c, 0, NULL, &s, &r), 0, "verify a writable handle, fast");
	IS_INT(r.problems, 0, "no problems");
	OK(r.sha256_checked, "SHA256SUMS checked");
	wn_catalog_close(c);

	IS_INT(wn_catalog_open(&c, cat, WN_OPEN_READ), 0, "open for reading");
	IS_INT(run(c, 1, NULL, &s, &r), 0, "verify, deep");
	IS_INT(r.problems, 0, "no problems");
	IS_INT(r.records_checked, 3000, "every line decoded (kept and ledger entries)");
	OK(r.index_entries_checked >= 2700 * 3, "index entries checked: %llu", (unsigned long long)r.index_entries_checked);
	IS_INT(s.n, 0, "nothing reported");

	/* two damaged shards: problems counted, reported from this thread, in path order */
	snprintf(path, sizeof path, "%s/shards/track-000002.jsonl.zst", cat);
	FILE *g = fopen(path, "r+b");
	if (g) {
		fseek(g, 100, SEEK_SET);
		int ch = fgetc(g);
		fseek(g, 100, SEEK_SET);
		fputc(ch ^ 0x40, g);
		fclose(g);
	}
	snprintf(path, sizeof path, "%s/shards/track-000001.jsonl.zst", cat);
	g = fopen(path, "r+b");
	if (g) {
		fseek(g, 50, SEEK_SET);
		int ch = fgetc(g);
		fseek(g, 50, SEEK_SET);
		fputc(ch ^ 0x40, g);
		fclose(g);
	}
	IS_INT(run(c, 1, NULL, &s, &r), 0, "verify a damaged catalog: the check ran (damage is not an error)");
	IS_INT(s.checksum, 4, "XXH128 and SHA-256 of each damaged shard");
	IS_INT(s.frame, 2, "one corrupt frame in each");
	IS_INT(r.problems, (uint64_t)s.n - (uint64_t)s.notes, "res->problems counts what was reported");
	OK(s.sorted, "reported in path order");
	IS_INT(s.other_thread, 0, "every callback from the calling thread");
	wn_catalog_close(c);

	/* a bare folder with MANIFESTs of random bytes */
	char bare[300], man[320];
	snprintf(bare, sizeof bare, "%s/bare", dir);
	mkdir(bare, 0755);
	snprintf(man, sizeof man, "%s/MANIFEST", bare);
	uint64_t st = seed | 1;
	int all_ok = 1;
	for (int round = 0; round < 200; round++) {
		char buf[2048];
		size_t n = 0;
		while (n < sizeof buf - 200) {
			st ^= st << 13, st ^= st >> 7, st ^= st << 17;
			switch (st % 6) {
			case 0: n += (size_t)snprintf(buf + n, 200, "XXH128 (../x%d) = %032d\n", (int)(st >> 8) % 10, 0); break;
			case 1: n += (size_t)snprintf(buf + n, 200, "XXH128 (/etc/hostname) = %032d\n", 1); break;
			case 2: n += (size_t)snprintf(buf + n, 200, "%032x  shards/a%u\n", 7, (unsigned)(st >> 20) % 50); break;
			default:
				for (int k = (int)(st >> 9) % 60; k > 0 && n < sizeof buf - 200; k--) {
					st ^= st << 13, st ^= st >> 7, st ^= st << 17;
					buf[n++] = (char)(st >> 24);
				}
				buf[n++] = '\n';
			}
		}
		write_file(man, buf, n);
		if (run(NULL, round & 1, bare, &s, &r) != 0 || !r.problems)
			all_ok = 0;
	}
	OK(all_ok, "200 random MANIFESTs: the check always ran, and found problems");
	snprintf(path, sizeof path, "%s/../x1", bare);
	OK(access(path, F_OK) != 0, "nothing was created outside the folder");

	/* bare mode needs a folder */
	wn_verify_opts o;
	wn_verify_opts_init(&o);
	IS_INT(wn_verify(NULL, &o, &r), WN_E_USAGE, "no catalog and no folder: WN_E_USAGE");
	OK(r.err[0] != 0, "with a message: %s", r.err);
	o.dir = "/nonexistent-folder";
	OK(wn_verify(NULL, &o, &r) == WN_E_NOTFOUND, "a folder that is not there: WN_E_NOTFOUND");

	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd)) {
	}
	return tap_done();
}
