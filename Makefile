# winnow - plain GNU make. `make help` lists the targets.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
PKGDIR  ?= $(LIBDIR)/pkgconfig
MANDIR  ?= $(PREFIX)/share/man

CC      ?= cc
PKG_CONFIG ?= pkg-config
DEPS    := libzstd libxxhash lmdb libcrypto sqlite3 libxml-2.0 libarchive libutf8proc
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wstrict-prototypes -Wmissing-prototypes
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(DEPS) 2>/dev/null)
DEP_LIBS   := $(shell $(PKG_CONFIG) --libs $(DEPS) 2>/dev/null || echo -lzstd -lxxhash -llmdb -lcrypto -lsqlite3 -lxml2 -larchive -lutf8proc)
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -pthread $(WARN) -Iinclude -Ilib $(DEP_CFLAGS) $(CFLAGS)
ALL_LDLIBS := $(DEP_LIBS) -pthread $(LDLIBS)

# The winnow executable links its dependencies' static archives (Debian's -dev packages
# ship them), at a fixed address, when every archive is present: a process then starts in
# about 1 ms instead of 9 (the dynamic loader relocating libcrypto, libxml2, ICU and
# libstdc++ for every `winnow get` was most of a lookup's time). STATIC_DEPS=no links the
# shared libraries; the library, the tests and the sanitizer build always do.
STATIC_DEPS ?= auto
STATIC_LIBS := $(filter-out -lm -ldl -lpthread -lrt -lc,$(shell $(PKG_CONFIG) --static --libs-only-l $(DEPS) 2>/dev/null)) -lstdc++
ifeq ($(STATIC_DEPS),auto)
STATIC_DEPS := $(shell for l in $(patsubst -l%,%,$(STATIC_LIBS)); do \
	f=$$($(CC) -print-file-name=lib$$l.a); [ -f "$$f" ] || { echo no; exit 0; }; done; echo yes)
endif
ifeq ($(STATIC_DEPS),yes)
TOOL_LDFLAGS := -no-pie -static-libgcc
TOOL_LDLIBS := -Wl,-Bstatic -Wl,--start-group $(STATIC_LIBS) -Wl,--end-group -Wl,-Bdynamic -lm -ldl -pthread $(LDLIBS)
else
TOOL_LDFLAGS :=
TOOL_LDLIBS := $(ALL_LDLIBS)
endif

# Builds go to $(B) so that `make check` (sanitizers) does not mix objects with `make`.
B ?= build

LIB_SRC   := $(sort $(wildcard lib/*.c))
TOOL_SRC  := $(sort $(wildcard tools/*.c))
UNIT_SRC  := $(sort $(wildcard tests/unit/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(B)/%.o)
TOOL_OBJ  := $(TOOL_SRC:%.c=$(B)/%.o)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TEST_TOOLS := $(patsubst tests/tools/%.c,$(B)/tests/tools/%,$(wildcard tests/tools/*.c))
# the fuzz targets, built with tests/fuzz/replay.c to run their saved corpus in make test
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/tests/fuzz/%)
FUZZ_TIME ?= 20
# one page for the tool and one per command (tests/cli/t0110-man.sh keeps them in step with --help)
MAN_PAGES := $(sort $(wildcard doc/man/*.1))

# the version is written once, in winnow.h's WN_VERSION_MAJOR/MINOR/PATCH
VERSION := $(shell awk '$$2 ~ /^WN_VERSION_(MAJOR|MINOR|PATCH)$$/ { v = v s $$3; s = "." } END { print v }' include/winnow.h)

.PHONY: demo all test check bench bench-compare bench-scale bench-dist fuzz fuzz-run install uninstall clean help unit cli gen

all: $(B)/winnow winnow bench/gen $(B)/bench/ctruth  ## build the winnow tool, libwinnow.a and the data generator

winnow: $(B)/winnow
	@if [ "$(B)" = build ]; then ln -sf build/winnow winnow; fi

$(B)/libwinnow.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(B)/winnow: $(TOOL_OBJ) $(B)/libwinnow.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(TOOL_LDFLAGS) -o $@ $(TOOL_OBJ) $(B)/libwinnow.a $(TOOL_LDLIBS)

$(B)/%.o: %.c $(wildcard include/*.h lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# helpers the command line tests run (e.g. wn-corrupt damages an index on purpose)
$(B)/tests/tools/%: tests/tools/%.c $(B)/libwinnow.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libwinnow.a $(ALL_LDLIBS)

$(B)/tests/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(B)/libwinnow.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/replay.c $(B)/libwinnow.a $(ALL_LDLIBS)

$(B)/tests/%: tests/unit/%.c tests/unit/tap.h $(B)/libwinnow.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libwinnow.a $(ALL_LDLIBS)

# the micro benchmark of the matching keys (make bench runs it; not a test)
$(B)/bench/norm: bench/norm.c $(B)/libwinnow.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libwinnow.a $(ALL_LDLIBS)

# the clusters' truth from bench/gen --cluster-facts (tests and make bench)
$(B)/bench/ctruth: bench/ctruth.c $(B)/libwinnow.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libwinnow.a $(ALL_LDLIBS)

# The generator is a standalone program: it must never be what a benchmark waits on.
bench/gen: bench/gen.c
	$(CC) -std=c11 -D_GNU_SOURCE -O3 -Wall -Wextra $(CFLAGS_GEN) -o $@ $<
gen: bench/gen  ## build only the data generator

demo: $(B)/winnow bench/gen  ## generate sample data, ingest it, check it with stock tools (in ./demo)
	WINNOW=$(B)/winnow bash tools/demo.sh

test: $(B)/winnow $(UNIT_BIN) $(TEST_TOOLS) $(FUZZ_REPLAY) bench/gen $(B)/bench/ctruth  ## build and run every test (unit + command line)
	@B=$(B) bash tests/run.sh $(UNIT_BIN)

check:  ## build with ASan+UBSan and run every test
	$(MAKE) B=build-san STATIC_DEPS=no OPT=-O1 CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" test

# the library once, instrumented for libFuzzer (fuzzer-no-link), then each target linked to it
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=address,undefined -Iinclude -Ilib $(DEP_CFLAGS)
FUZZ_LIB_OBJ := $(LIB_SRC:lib/%.c=build-fuzz/lib/%.o)
.SECONDARY: $(FUZZ_LIB_OBJ)
build-fuzz/lib/%.o: lib/%.c $(wildcard include/*.h lib/*.h)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(DEP_LIBS) -pthread

fuzz: $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)  ## build the libFuzzer targets (needs clang) into build-fuzz/
	@echo "run e.g.: build-fuzz/fuzz_json -max_total_time=60 tests/fuzz/corpus/fuzz_json; or make fuzz-run"

fuzz-run: fuzz  ## fuzz every target for FUZZ_TIME seconds (default 20) from its corpus; a finding fails
	bash tests/fuzz/run.sh $(FUZZ_TIME) $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)

bench: ## optimised build, generate data, run the benchmark, write bench/RESULTS.md
	$(MAKE) B=build-bench OPT="-O3 -march=native" CFLAGS="-O3 -march=native -g" build-bench/winnow build-bench/bench/norm build-bench/bench/ctruth bench/gen
	WINNOW=build-bench/winnow NORM=build-bench/bench/norm CTRUTH=build-bench/bench/ctruth bash bench/run.sh
	WINNOW=build-bench/winnow BENCH_RECORD=1 bash bench/transforms.sh
	WINNOW=build-bench/winnow BENCH_RECORD=1 bash bench/forget.sh
	WINNOW=build-bench/winnow BENCH_RECORD=1 bash bench/listen.sh

bench-compare: ## ingest and verify --deep with OLD=binary and this tree's, side by side (medians)
	$(MAKE) B=build-bench OPT="-O3 -march=native" CFLAGS="-O3 -march=native -g" build-bench/winnow bench/gen
	NEW=build-bench/winnow bash bench/compare.sh

bench-scale: ## ingest 1M, 10M and 100M generated records (long; needs ~80 GB free)
	$(MAKE) B=build-bench OPT="-O3 -march=native" CFLAGS="-O3 -march=native -g" build-bench/winnow bench/gen
	WINNOW=build-bench/winnow bash bench/scale.sh
	WINNOW=build-bench/winnow bash bench/dist.sh

bench-dist: ## the scale-out: a 2-partition plan of 10M records against one ingest (bench/RESULTS-scale.md)
	$(MAKE) B=build-bench OPT="-O3 -march=native" CFLAGS="-O3 -march=native -g" build-bench/winnow bench/gen
	WINNOW=build-bench/winnow bash bench/dist.sh

# written on every install: it holds $(PREFIX), which may differ from one install to the next
.PHONY: winnow.pc
winnow.pc:
	printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: winnow\nDescription: deduplicated, checksummed, indexed music-metadata catalogs\nVersion: %s\nRequires.private: libzstd libxxhash lmdb libcrypto sqlite3 libxml-2.0 libarchive libutf8proc\nLibs: -L$${libdir} -lwinnow\nLibs.private: -pthread\nCflags: -I$${includedir}\n' \
		'$(PREFIX)' '$(VERSION)' > $@

install: $(B)/winnow $(B)/libwinnow.a winnow.pc  ## install tool, library, header, winnow.pc and man pages under $(DESTDIR)$(PREFIX)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(PKGDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(B)/winnow $(DESTDIR)$(BINDIR)/winnow
	install -m 644 $(B)/libwinnow.a $(DESTDIR)$(LIBDIR)/libwinnow.a
	install -m 644 include/winnow.h $(DESTDIR)$(INCDIR)/winnow.h
	install -m 644 winnow.pc $(DESTDIR)$(PKGDIR)/winnow.pc
	install -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man1/

uninstall:  ## remove what install put there
	rm -f $(DESTDIR)$(BINDIR)/winnow $(DESTDIR)$(LIBDIR)/libwinnow.a $(DESTDIR)$(INCDIR)/winnow.h $(DESTDIR)$(PKGDIR)/winnow.pc
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN_PAGES)))

clean:  ## remove build output
	rm -rf build build-san build-bench build-fuzz winnow bench/gen winnow.pc tests/tmp demo

help:  ## list the documented targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14
