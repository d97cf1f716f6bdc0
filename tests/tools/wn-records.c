/*
 * wn-records.c - prints what a record source hands out, for the tests that compare two
 * readings of the same input (never installed):
 *
 *   wn-records [--format F] [--max-line N] [--skip POS] FILE
 *
 * One line per record: "line off end code toolong_len why<TAB>record" (why is "-" when
 * the source did not reject it), then "end" or "error CODE: MESSAGE (line N)" when the
 * source stopped. With --skip POS the source first goes on from position POS as a
 * resumed run would. Records are read as ingest reads them: a call that may move the
 * buffer every few records.
 *
 * Exit status 0 when the source ended or stopped on an error (both are output), 2 on
 * misuse, 3 when the source cannot be opened.
 */
#include "source.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	wn_ingest_opts o;
	wn_ingest_opts_init(&o);
	unsigned long long skip = 0;
	int i = 1;
	for (; i + 1 < argc && argv[i][0] == '-' && argv[i][1] == '-'; i += 2) {
		if (!strcmp(argv[i], "--format"))
			o.format = argv[i + 1];
		else if (!strcmp(argv[i], "--max-line"))
			o.max_line = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--skip"))
			skip = strtoull(argv[i + 1], NULL, 10);
		else
			break;
	}
	if (i + 1 != argc) {
		fprintf(stderr, "usage: wn-records [--format F] [--max-line N] [--skip POS] FILE\n");
		return 2;
	}
	wn_source *s;
	int rc = wn_source_open(&s, argv[i], &o);
	if (rc) {
		fprintf(stderr, "wn-records: %s: %s\n", argv[i], s && s->err[0] ? s->err : wn_strerror(rc));
		wn_source_close(s);
		return 3;
	}
	if (skip && (rc = s->skip(s, skip, 0))) {
		printf("error %d: %s\n", rc, s->err);
		wn_source_close(s);
		return 0;
	}
	for (unsigned n = 0;; n++) {
		wn_srec r;
		rc = s->next(s, &r, n % 7 == 0);
		if (rc == 2)
			rc = s->next(s, &r, 1);
		if (rc == 0) {
			printf("end\n");
			break;
		}
		if (rc != 1) {
			printf("error %d: %s (line %llu)\n", rc, s->err, (unsigned long long)s->err_line);
			break;
		}
		printf("%llu %llu %llu %d %zu %s\t", (unsigned long long)r.lineno, (unsigned long long)r.off,
			(unsigned long long)r.end, r.code, r.toolong_len, r.why ? r.why : "-");
		fwrite(r.rec, 1, r.len, stdout);
		putchar('\n');
	}
	wn_source_close(s);
	return fflush(stdout) ? 3 : 0;
}
