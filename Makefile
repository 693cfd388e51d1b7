# siogate: hand-written Makefile.  `configure` (from configure.ac) writes
# config.mk with the dependencies' flags; this file does the rest.
#
#   make            build src/siogate (runs ./configure first if needed)
#   make run        install missing Debian packages, build, start siogate with conf/minimal.yaml
#   make check      install what the tests need, build, run every unit and integration test
#   make unit       C unit tests only
#   make integration  node --test integration suites only
#   make soak       the chaos soak (tests/soak/): 30 minutes, SOAK=5m for a short run; not in check
#   make fuzz       build the libFuzzer drivers with clang (build-fuzz/)
#   make conformance  build tests/conformance; run the official protocol suites when given
#   make install    PREFIX (/usr/local), DESTDIR: binary, man pages, unit, example config
#   make lint       cppcheck, mandoc -Tlint and clang-format --dry-run
#   make format     clang-format every C file in place
#   make bench      the shared benchmark: siogate against the Node.js reference (BENCH_ARGS)
#   make bench-workers  the same with server.workers: 1 against 2 (BENCH_ARGS)
#   make fuzz-run   run each driver for FUZZ_TIME seconds (default 15) over its corpus
#   make clean
#
# SANITIZE=address,undefined builds everything with those sanitizers
# (in build-san/ objects, so a plain build is not disturbed).

# The set-up goals (make run, make check, make deps ...) install the build
# dependencies before anything may run autoreconf or ./configure, so they must
# not make config.mk themselves: make remakes an included makefile before it
# runs any recipe.  Their recipes call $(MAKE) again, which includes it.
SETUP_GOALS := run check deps test-deps clean distclean
ifeq ($(filter $(SETUP_GOALS),$(MAKECMDGOALS)),)
-include config.mk
endif

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

# src/ in layer folders, lowest first (core, proto, config, net, redis, eio,
# sio, app, cluster, ops), then the top: main.c, server.c, worker_set.c,
# cmd_token.c.  src/client/ (libsiogate-client and siocat) has its own
# rules, in src/client/client.mk, included below.
LAYERS := core proto config net redis eio sio app cluster ops
SRCS := $(filter-out src/main.c,$(wildcard src/*.c $(addsuffix /*.c,$(addprefix src/,$(LAYERS)))))
OBJS := $(patsubst src/%.c,$(OBJDIR)/%.o,$(SRCS))
LIB := $(OBJDIR)/libsiogate.a
BIN := src/siogate
# tests/unit/<folder>/test_<module>.c, as the sources (tests/unit/client/
# is the client library's, in client.mk)
UNIT_SRCS := $(wildcard $(addsuffix /test_*.c,$(addprefix tests/unit/,$(LAYERS) top)))
UNIT_BINS := $(patsubst tests/unit/%.c,$(OBJDIR)/unit/%,$(UNIT_SRCS))

# libFuzzer drivers: clang, every src/ module except main.c, ASan+UBSan.
FUZZ_CC ?= clang
FUZZ_TIME ?= 15
FUZZ_CFLAGS = -std=gnu11 -g -O1 -D_GNU_SOURCE -DSG_VERSION='"$(VERSION)"' -Isrc \
              $(DEPS_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRCS))
FUZZ_LIB_SRCS := $(SRCS)

.PHONY: all run check unit integration soak fuzz fuzz-run conformance install bench bench-workers bench-recovery deps test-deps clean lint format distclean

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

# autoreconf needs autoconf, automake (aclocal) and pkg-config (pkg.m4);
# `make deps` (or `make run`) installs them.
configure: configure.ac
	@for t in autoreconf aclocal pkg-config; do command -v $$t >/dev/null 2>&1 || { \
		echo "make: $$t not found: run 'make deps' as root (or scripts/install-deps)" >&2; \
		exit 1; }; done
	autoreconf -fi

$(OBJDIR)/%.o: src/%.c config.mk
	@mkdir -p $(@D)
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

# tests/unit/*.h: unit.h (the harness) and wire.h (the test support of the
# layers that run on a connection), header-only
$(OBJDIR)/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(TEST_CFLAGS) -Itests/unit -o $@ $< $(LIB) $(LDFLAGS_ALL) $(DEPS_LIBS) \
		$(TEST_LIBS)

# The adapter codec's unit test checks siogate's msgpack encoder against an
# independent decoder, msgpack-c (libmsgpack-dev, a test dependency that
# `make check` installs; siogate itself does not link it).  Asked of
# pkg-config when the test is linked, not when configure ran.
# The constant-time test sees every CRYPTO_memcmp auth_jwt.c makes.
$(OBJDIR)/unit/app/test_jwt_compare: TEST_LIBS = -Wl,--wrap=CRYPTO_memcmp
$(OBJDIR)/unit/proto/test_adapter_codec: TEST_CFLAGS = $(shell pkg-config --cflags msgpack)
$(OBJDIR)/unit/proto/test_adapter_codec: TEST_LIBS = $(shell pkg-config --libs msgpack || echo -lmsgpackc)

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
# pages, the systemd unit (with its paths rewritten to PREFIX and
# SYSCONFDIR) and the service configuration conf/siogate.service.yaml as
# /etc/siogate/siogate.yaml (never over an existing one).  Without DESTDIR it
# also generates the random secret files that configuration names
# (scripts/siogate-keygen: jwt.key and admin.token, mode 0600, never over
# existing ones); into a DESTDIR (a package tree) no key is written: a
# package generates them when it is installed (debian/siogate.postinst).
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
INSTALL_KEYS ?= $(if $(DESTDIR),no,yes)
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
		install -m 644 conf/siogate.service.yaml $(DESTDIR)$(SYSCONFDIR)/siogate/siogate.yaml; \
	fi
ifeq ($(INSTALL_KEYS),yes)
	scripts/siogate-keygen $(DESTDIR)$(SYSCONFDIR)/siogate
endif

# make install-test: `make install` into a temporary directory, checked as
# an administrator would (tests/install/make-install); part of `make check`.
# Not with SANITIZE: make install installs the plain build.
.PHONY: install-test
install-test: all
ifeq ($(SANITIZE),)
	tests/install/make-install
else
	@echo "install-test: skipped with SANITIZE (make install installs the plain build)"
endif

# make deb: the Debian packages of debian/ (siogate, siocat,
# libsiogate-client0, libsiogate-client-dev), built by dpkg-buildpackage in
# build-deb/siogate/, a copy of the tree's files (tracked and new, not
# ignored), so the working tree and its build are left alone; the .deb files
# land in build-deb/.  When lintian is installed, any error or warning it
# reports fails the target.  Needs the Build-Depends of debian/control
# (`apt-get build-dep ./`), dpkg-dev and debhelper.
# make deb-test (tests/install/deb-test): in a fresh Debian 12 root
# (FRESH_DEBIAN, which clones the committed tree), installs the
# Build-Depends, runs `make deb`, installs the packages and checks them
# (tests/install/deb-fresh-root); then boots that root with systemd-nspawn
# and checks the service systemd starts from the installed unit
# (tests/install/boot-probe).
# Both need the Debian mirror and take minutes: neither is part of `make check`.
FRESH_DEBIAN ?= ../shared/tools/fresh-debian
.PHONY: deb deb-test
deb:
	rm -rf build-deb && mkdir -p build-deb/siogate
	git ls-files -z -c -o --exclude-standard | \
		tar --null -T - --ignore-failed-read -cf - | tar -xf - -C build-deb/siogate
	cd build-deb/siogate && dpkg-buildpackage -us -uc -b
	@if command -v lintian >/dev/null; then \
		echo "lintian build-deb/*.changes"; \
		lintian --display-info --pedantic --fail-on error,warning build-deb/*.changes; \
	else \
		echo "deb: lintian is not installed, the packages were not checked"; \
	fi

deb-test:
	tests/install/deb-test $(FRESH_DEBIAN)

# The shared benchmark harness against a fresh siogate and the Node.js
# reference, in one run, with the ratio table (not a test: see README).
#   make bench [BENCH=../shared/bench] [BENCH_ARGS='--repeat 3']
BENCH ?= ../shared/bench
BENCH_ARGS ?=
# The harness's own default JWT secret ("bench-secret", 12 bytes) is a key
# siogate refuses for HS256 (RFC 7518 section 3.2): give it one of 40.
BENCH_SECRET ?= siogate-benchmark-hs256-0123456789abcdef
# ... and the token the load generator presents, signed with it (the harness's
# own {"sub":"bench"} claims, HS256), computed with openssl.
BENCH_JWT_SIGNED = eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJiZW5jaCJ9
BENCH_TOKEN ?= $(BENCH_JWT_SIGNED).$(shell printf %s '$(BENCH_JWT_SIGNED)' | \
	openssl dgst -sha256 -hmac '$(BENCH_SECRET)' -binary | base64 | tr '+/' '-_' | tr -d '=')
BENCH_ENV = BENCH_SECRET='$(BENCH_SECRET)' BENCH_TOKEN='$(BENCH_TOKEN)'
# The optimised build itself, not src/siogate (a SANITIZE build replaces it).
bench: build/siogate
	cp build/siogate build/siogate-bench
	$(BENCH_ENV) $(BENCH)/run.sh --compare '$(abspath $(BENCH))/siogate-server.sh $(abspath build/siogate-bench) {port} {redis_url}' \
		--compare-name siogate $(BENCH_ARGS)

# The cost of connection state recovery: the same scenarios with recovery
# off, then on (fan-out CPU and idle memory per client, in one run), e.g.
# BENCH_ARGS="--scenarios 'connect:n=5000 fanout:n=1000,r=100'".
bench-recovery: build/siogate
	cp build/siogate build/siogate-bench
	$(BENCH_ENV) $(BENCH)/run.sh --server-cmd '$(abspath tests/bench/siogate-server.sh) $(abspath build/siogate-bench) {port} {redis_url}' \
		--name recovery-off \
		--compare '$(abspath tests/bench/siogate-server.sh) $(abspath build/siogate-bench) {port} {redis_url} "recovery: { enabled: true }"' \
		--compare-name recovery-on $(BENCH_ARGS)

# The same scenarios with server.workers: 1 and server.workers: 2 (the scaling
# of the worker threads), e.g. BENCH_ARGS="--scenarios 'burst:n=5000'".
bench-workers: build/siogate
	cp build/siogate build/siogate-bench
	$(BENCH_ENV) $(BENCH)/run.sh --server-cmd '$(abspath $(BENCH))/siogate-server.sh $(abspath build/siogate-bench) {port} {redis_url} "workers: 1"' \
		--name workers-1 \
		--compare '$(abspath $(BENCH))/siogate-server.sh $(abspath build/siogate-bench) {port} {redis_url} "workers: 2"' \
		--compare-name workers-2 $(BENCH_ARGS)

# Static checks beyond the compilers' warnings: cppcheck on the sources and
# mandoc on the man pages (both from Debian: cppcheck, mandoc).
# The C files clang-format keeps (the tree's .clang-format): every source,
# unit test, fuzz driver, the conformance program and the C example.
FORMAT_FILES = $(shell git ls-files 'src/*.[ch]' 'tests/unit/*.[ch]' 'tests/fuzz/*.c' \
		 'tests/conformance/*.c' 'examples/client/*.c' 2>/dev/null)

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
		-D_GNU_SOURCE -Isrc --suppress=missingIncludeSystem --inline-suppr src/main.c $(SRCS)
	mandoc -Tlint -Wwarning man/*.[0-9]
	@clang-format --dry-run --Werror $(FORMAT_FILES) || \
		{ echo "lint: clang-format would change the files above: run make format" >&2; exit 1; }

# Formats every C file of FORMAT_FILES in place with clang-format.
format:
	clang-format -i $(FORMAT_FILES)

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

# The chaos soak (tests/soak/README.md): two instances of the binary under
# test (the sanitizer build with SANITIZE=...) on one private Redis, churning
# clients, a fan-out stream checked for losses and duplicates, Redis killed and
# stopped, verifier bursts, reloads, slow consumers, a slow-body attacker; a
# report (SOAK_REPORT, default build/soak-report.txt) with a PASS/FAIL line per
# check.  SOAK is the duration (s, m or h; default 30m).  Not part of check.
SOAK ?= 30m
soak: all
	SIOGATE_BIN=$(SIOGATE_BIN) SIOGATE_SANITIZE=$(SANITIZE) SOAK=$(SOAK) tests/soak/run

check: test-deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) conformance
	SIOGATE=$(SIOGATE_BIN) tests/check-docs
	tests/check-layers
	tests/check-contrib
	$(MAKE) install-test
	$(MAKE) integration

clean:
	rm -rf build build-san build-fuzz $(BIN)

distclean: clean
	rm -rf config.mk config.log config.status configure autom4te.cache aclocal.m4

-include src/client/client.mk
-include $(OBJS:.o=.d) $(OBJDIR)/main.d
