# siogate: hand-written Makefile.  `configure` (from configure.ac) writes
# config.mk with the dependencies' flags; this file does the rest.
#
#   make            build src/siogate (runs ./configure first if needed)
#   make run        install missing Debian packages, build, start siogate with conf/minimal.yaml
#   make check      install what the tests need, build, run every unit and integration test
#   make unit       C unit tests only
#   make integration  node --test integration suites only
#   make fuzz       build the libFuzzer drivers with clang (build-fuzz/)
#   make conformance  build tests/conformance; run the official protocol suites when given
#   make install    PREFIX (/usr/local), DESTDIR: binary, man pages, unit, example config
#   make lint       cppcheck and mandoc -Tlint
#   make bench      the shared benchmark: siogate against the Node.js reference (BENCH_ARGS)
#   make bench-workers  the same with server.workers: 1 against 2 (BENCH_ARGS)
#   make fuzz-run   run each driver for FUZZ_TIME seconds (default 15) over its corpus
#   make clean
#
# SANITIZE=address,undefined builds everything with those sanitizers
# (in build-san/ objects, so a plain build is not disturbed).

-include config.mk

SANITIZE ?=
WERROR ?= -Werror
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wpointer-arith -Wformat=2 $(WERROR)
OPT ?= -O2 -g
CFLAGS_ALL = -std=gnu11 $(OPT) $(WARN) -D_GNU_SOURCE -DSG_VERSION='"$(VERSION)"' \
             -Isrc $(DEPS_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(LDFLAGS)
ifneq ($(SANITIZE),)
  CFLAGS_ALL += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS_ALL += -fsanitize=$(SANITIZE)
  OBJDIR = build-san
else
  OBJDIR = build
endif

SRCS := $(filter-out src/main.c,$(wildcard src/*.c))
# src/client/ (libsiogate-client and siocat) has its own rules, in
# src/client/client.mk, included below.
OBJS := $(patsubst src/%.c,$(OBJDIR)/%.o,$(SRCS))
LIB := $(OBJDIR)/libsiogate.a
BIN := src/siogate
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OBJDIR)/unit/%,$(UNIT_SRCS))

# libFuzzer drivers: clang, every src/ module except main.c, ASan+UBSan.
FUZZ_CC ?= clang
FUZZ_TIME ?= 15
FUZZ_CFLAGS = -std=gnu11 -g -O1 -D_GNU_SOURCE -DSG_VERSION='"$(VERSION)"' -Isrc \
              $(DEPS_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRCS))
FUZZ_LIB_SRCS := $(filter-out src/main.c,$(wildcard src/*.c))
# src/client/ (libsiogate-client and siocat) has its own rules, in
# src/client/client.mk, included below.

.PHONY: all run check unit integration fuzz fuzz-run conformance install bench bench-workers deps test-deps clean lint distclean

ifneq ($(SANITIZE),)
# A sanitizer build stays in build-san/; src/siogate remains the plain one.
SIOGATE_BIN = $(abspath $(OBJDIR)/siogate)
all: $(OBJDIR)/siogate
else
SIOGATE_BIN = $(abspath $(BIN))
all: $(BIN)
endif

config.mk: configure config.mk.in
	./configure

configure: configure.ac
	autoreconf -fi

$(OBJDIR)/%.o: src/%.c config.mk
	@mkdir -p $(OBJDIR)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(LIB): $(OBJS)
	rm -f $@
	ar rcs $@ $^

$(OBJDIR)/main.o: src/main.c config.mk

$(OBJDIR)/siogate: $(OBJDIR)/main.o $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(DEPS_LIBS)

# cp + mv: replacing a running binary in place would fail (ETXTBSY)
$(BIN): $(OBJDIR)/siogate
	cp $< $@.tmp && mv -f $@.tmp $@

$(OBJDIR)/unit/%: tests/unit/%.c tests/unit/unit.h $(LIB)
	@mkdir -p $(OBJDIR)/unit
	$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(LIB) $(LDFLAGS_ALL) $(DEPS_LIBS)

build-fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRCS) config.mk
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRCS) $(DEPS_LIBS)

fuzz: $(FUZZ_BINS)

# Runs every driver for FUZZ_TIME seconds over a copy of its committed corpus
# (new inputs go to build-fuzz/corpus/, the committed corpus is not touched).
fuzz-run: fuzz
	@for f in $(FUZZ_BINS); do \
		n=$$(basename $$f); mkdir -p build-fuzz/corpus/$$n; \
		echo "fuzz: $$n for $(FUZZ_TIME)s"; \
		dict=$$( [ -f tests/fuzz/$$n.dict ] && echo -dict=tests/fuzz/$$n.dict ); \
		$$f $$dict -max_total_time=$(FUZZ_TIME) -rss_limit_mb=2048 -print_final_stats=0 \
			-artifact_prefix=build-fuzz/$$n- build-fuzz/corpus/$$n tests/fuzz/corpus/$$n \
			>build-fuzz/$$n.log 2>&1 || { tail -n 40 build-fuzz/$$n.log; echo "fuzz: $$n FAILED"; exit 1; }; \
		grep -E '^#[0-9]+.*DONE' build-fuzz/$$n.log | tail -n 1; \
	done

$(OBJDIR)/siogate-conformance: tests/conformance/conformance.c $(LIB)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB) $(LDFLAGS_ALL) $(DEPS_LIBS)

# The official protocol suites are fetched outside the tree and never
# committed: give their test-suite folders to run them, e.g.
#   make conformance ENGINE_IO_SUITE=/tmp/engine.io-protocol/test-suite \
#                    SOCKET_IO_SUITE=/tmp/socket.io-protocol/test-suite
conformance: $(OBJDIR)/siogate-conformance
	tests/conformance/run $(OBJDIR)/siogate-conformance "$(ENGINE_IO_SUITE)" "$(SOCKET_IO_SUITE)"

# make install [PREFIX=/usr/local] [DESTDIR=...]: the binary, the man
# pages, the systemd unit (with its paths rewritten to PREFIX) and the
# example configuration in /etc/siogate/ (never over an existing one).
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/siogate
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/siogate
	install -m 644 man/siogate.8 $(DESTDIR)$(PREFIX)/share/man/man8/siogate.8
	install -m 644 man/siogate.yaml.5 $(DESTDIR)$(PREFIX)/share/man/man5/siogate.yaml.5
	sed -e 's|/usr/bin/siogate|$(PREFIX)/bin/siogate|g' \
	    -e 's|/etc/siogate/|$(SYSCONFDIR)/siogate/|g' systemd/siogate.service \
		>$(DESTDIR)$(UNITDIR)/siogate.service
	chmod 644 $(DESTDIR)$(UNITDIR)/siogate.service
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/siogate/siogate.yaml ]; then \
		echo "install: keeping the existing $(SYSCONFDIR)/siogate/siogate.yaml"; \
	else \
		install -m 644 conf/siogate.yaml $(DESTDIR)$(SYSCONFDIR)/siogate/siogate.yaml; \
	fi

# The shared benchmark harness against a fresh siogate and the Node.js
# reference, in one run, with the ratio table (not a test: see README).
#   make bench [BENCH=../shared/bench] [BENCH_ARGS='--repeat 3']
BENCH ?= ../shared/bench
BENCH_ARGS ?=
# The optimised build itself, not src/siogate (a SANITIZE build replaces it).
bench: build/siogate
	cp build/siogate build/siogate-bench
	$(BENCH)/run.sh --compare '$(abspath $(BENCH))/siogate-server.sh $(abspath build/siogate-bench) {port} {redis_url}' \
		--compare-name siogate $(BENCH_ARGS)

# The same scenarios with server.workers: 1 and server.workers: 2 (the scaling
# of the worker threads), e.g. BENCH_ARGS="--scenarios 'burst:n=5000'".
bench-workers: build/siogate
	cp build/siogate build/siogate-bench
	$(BENCH)/run.sh --server-cmd '$(abspath $(BENCH))/siogate-server.sh $(abspath build/siogate-bench) {port} {redis_url} "workers: 1"' \
		--name workers-1 \
		--compare '$(abspath $(BENCH))/siogate-server.sh $(abspath build/siogate-bench) {port} {redis_url} "workers: 2"' \
		--compare-name workers-2 $(BENCH_ARGS)

# Static checks beyond the compilers' warnings: cppcheck on the sources and
# mandoc on the man pages (both from Debian: cppcheck, mandoc).
lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
		-D_GNU_SOURCE -Isrc --suppress=missingIncludeSystem --inline-suppr src/*.c
	mandoc -Tlint -Wwarning man/*.[0-9]

# the client library, its header, .pc, siocat and siocat(1) (src/client/client.mk)
install: install-client

deps:
	scripts/install-deps

test-deps:
	scripts/install-deps --test

run: deps
	$(MAKE) all
	scripts/run-dev

unit: $(UNIT_BINS)
	@tests/unit/run $(UNIT_BINS)

integration: all
	SIOGATE_BIN=$(SIOGATE_BIN) SIOGATE_SANITIZE=$(SANITIZE) tests/integration/run

check: test-deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) conformance
	SIOGATE=$(SIOGATE_BIN) tests/check-docs
	tests/check-contrib
	$(MAKE) integration

clean:
	rm -rf build build-san build-fuzz $(BIN)

distclean: clean
	rm -rf config.mk config.log config.status configure autom4te.cache aclocal.m4

-include src/client/client.mk
-include $(OBJS:.o=.d) $(OBJDIR)/main.d
