/*
 * replay.c - runs a fuzz target over saved inputs, without libFuzzer: every file named on
 * the command line, or every file in a directory named there. A crash, an abort() or a
 * sanitizer report stops it; otherwise it prints one TAP line per directory or file.
 * make test builds each target with this file and runs it on tests/fuzz/corpus/<target>/.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	size_t cap = 1 << 16, n = 0, got;
	uint8_t *b = malloc(cap);
	while (b && (got = fread(b + n, 1, cap - n, f)) > 0)
		if ((n += got) == cap && !(b = realloc(b, cap *= 2)))
			break;
	int bad = !b || ferror(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "%s: cannot read\n", path);
		free(b);
		return -1;
	}
	/* like libFuzzer: the target sees a copy that ends where the input does */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact)
		return -1;
	memcpy(exact, b, n);
	free(b);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	int failed = 0, t = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st)) {
			perror(argv[i]);
			return 2;
		}
		if (!S_ISDIR(st.st_mode)) {
			failed |= run_file(argv[i]) != 0;
			printf("%sok %d - %s\n", failed ? "not " : "", ++t, argv[i]);
			continue;
		}
		DIR *d = opendir(argv[i]);
		if (!d) {
			perror(argv[i]);
			return 2;
		}
		char **names = NULL;
		size_t n = 0, cap = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			if (n == cap && !(names = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names)))
				return 2;
			if (!(names[n++] = strdup(e->d_name)))
				return 2;
		}
		closedir(d);
		qsort(names, n, sizeof *names, cmp);
		int bad = 0;
		for (size_t j = 0; j < n; j++) {
			char p[4096];
			snprintf(p, sizeof p, "%s/%s", argv[i], names[j]);
			bad |= run_file(p) != 0;
			free(names[j]);
		}
		free(names);
		failed |= bad;
		printf("%sok %d - %s: %zu inputs\n", bad ? "not " : "", ++t, argv[i], n);
	}
	printf("1..%d\n", t);
	return failed;
}
