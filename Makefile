# siogate: hand-written Makefile.  `configure` (from configure.ac) writes
# config.mk with the dependencies' flags; this file does the rest.
#
#   make            build src/siogate (runs ./configure first if needed)
#   make run        install missing Debian packages, build, start siogate with conf/minimal.yaml
#   make check      install what the tests need, build, run every unit and integration test
#   make unit       C unit tests only
#   make integration  node --test integration suites only
#   make fuzz       build the libFuzzer drivers with clang (tests/fuzz/bin/)
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
OBJS := $(patsubst src/%.c,$(OBJDIR)/%.o,$(SRCS))
LIB := $(OBJDIR)/libsiogate.a
BIN := src/siogate
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OBJDIR)/unit/%,$(UNIT_SRCS))

.PHONY: all run check unit integration fuzz deps test-deps clean lint distclean

all: $(BIN)

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

deps:
	scripts/install-deps

test-deps:
	scripts/install-deps --test

run: deps
	$(MAKE) all
	scripts/run-dev

unit: $(UNIT_BINS)
	@tests/unit/run $(UNIT_BINS)

integration: $(BIN)
	tests/integration/run

check: test-deps
	$(MAKE) all
	$(MAKE) unit
	tests/check-docs
	$(MAKE) integration

clean:
	rm -rf build build-san $(BIN) tests/fuzz/bin

distclean: clean
	rm -rf config.mk config.log config.status configure autom4te.cache aclocal.m4

-include $(OBJS:.o=.d) $(OBJDIR)/main.d
