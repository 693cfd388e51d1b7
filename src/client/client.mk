# src/client/client.mk: libsiogate-client (static and shared), siocat, the
# integration driver sgc-driver, the client's C unit tests and its install
# rule.  Included at the end of the top Makefile, whose variables it uses
# (CC, CFLAGS_ALL, LDFLAGS_ALL, OBJDIR, SANITIZE, VERSION).  It compiles its
# own -fPIC copies of the daemon's pure codecs rather than linking $(LIB).
#
#   make                 also builds $(OBJDIR)/libsiogate-client.{a,so}, siocat, sgc-driver
#   make unit            also runs the client's unit tests (client-unit)
#   make install-client  installs the library, header, .pc, siocat and siocat.1
#                        under $(DESTDIR)$(PREFIX) (default /usr/local)
#
# The library's objects are compiled with -fPIC -fvisibility=hidden: only the
# functions marked SGC_API in siogate/client.h are exported by the .so (with
# a version script as a second fence), and the .a is one relocatable object
# whose hidden symbols are made local (ld -r + objcopy --localize-hidden), so
# siogate's internal symbols (sg_buf_*, eio_*, sio_*) never leak into or clash
# with a program that links the client.

CLIENT_DIR := src/client
CLIENT_OBJDIR := $(OBJDIR)/client
CLIENT_ENGINE_SRCS := $(addprefix $(CLIENT_DIR)/,engine.c engine_core.c engine_conn.c engine_polling.c \
                      engine_ws.c)
CLIENT_LIB_SRCS := $(addprefix $(CLIENT_DIR)/,client.c client_recv.c client_conn.c \
                     client_token.c client_send.c client_state.c subs.c backoff.c jsonout.c) \
                   $(CLIENT_ENGINE_SRCS)
# siogate's own pure codecs, compiled again here with -fPIC
CLIENT_SG_SRCS := src/core/common.c src/core/base64.c src/proto/eio_packet.c \
                  src/proto/sio_packet.c src/core/json_js.c src/proto/ws_accept.c \
                  src/proto/url.c src/proto/http_resp_parser.c
CLIENT_OBJS := $(patsubst $(CLIENT_DIR)/%.c,$(CLIENT_OBJDIR)/%.o,$(CLIENT_LIB_SRCS)) \
               $(patsubst src/%.c,$(CLIENT_OBJDIR)/sg/%.o,$(CLIENT_SG_SRCS))
CLIENT_CFLAGS = $(CFLAGS_ALL) -fPIC -fvisibility=hidden -I$(CLIENT_DIR) -I$(CLIENT_DIR)/include
CLIENT_PC_MODS := libevent_openssl libevent jansson openssl
CLIENT_LIBS := $(shell pkg-config --libs $(CLIENT_PC_MODS) 2>/dev/null || \
                 echo -levent_openssl -levent -ljansson -lssl -lcrypto) $(or $(WSLAY_LIBS),-lwslay) -lm
CLIENT_SOVERSION := 0
CLIENT_A := $(OBJDIR)/libsiogate-client.a
CLIENT_SO := $(OBJDIR)/libsiogate-client.so
CLIENT_PC := $(OBJDIR)/siogate-client.pc
SIOCAT := $(OBJDIR)/siocat
SGC_DRIVER := $(OBJDIR)/sgc-driver
# examples/client/notify.c, built as an outside program would build it
CLIENT_EXAMPLE := $(OBJDIR)/example-notify
CLIENT_UNIT_SRCS := $(wildcard tests/unit/client/test_*.c)
CLIENT_UNIT_BINS := $(patsubst tests/unit/client/%.c,$(CLIENT_OBJDIR)/unit/%,$(CLIENT_UNIT_SRCS))
# the unit tests link the library's objects with a fake engine instead of engine*.o
CLIENT_UNIT_OBJS := $(filter-out $(patsubst $(CLIENT_DIR)/%.c,$(CLIENT_OBJDIR)/%.o,$(CLIENT_ENGINE_SRCS)),\
                      $(CLIENT_OBJS)) \
                    $(CLIENT_OBJDIR)/unit/fake_engine.o

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

.PHONY: client client-unit install-client clean-client

client: $(CLIENT_A) $(CLIENT_SO) $(CLIENT_PC) $(SIOCAT) $(SGC_DRIVER) $(CLIENT_EXAMPLE)
all: client
unit: client-unit

# `make clean` removes build/ and build-san/; this removes the copy below.
clean: clean-client
clean-client:
	rm -f $(CLIENT_DIR)/siocat $(CLIENT_DIR)/siocat.tmp

ifeq ($(SANITIZE),)
# like src/siogate: a plain build also leaves siocat next to its source
client: $(CLIENT_DIR)/siocat
$(CLIENT_DIR)/siocat: $(SIOCAT)
	cp $< $@.tmp && mv -f $@.tmp $@
endif

$(CLIENT_OBJDIR)/%.o: $(CLIENT_DIR)/%.c config.mk
	@mkdir -p $(@D)
	$(CC) $(CLIENT_CFLAGS) -MMD -MP -c -o $@ $<

$(CLIENT_OBJDIR)/sg/%.o: src/%.c config.mk
	@mkdir -p $(@D)
	$(CC) $(CLIENT_CFLAGS) -MMD -MP -c -o $@ $<

# One relocatable object with every hidden symbol made local.
$(CLIENT_OBJDIR)/libsiogate-client.o: $(CLIENT_OBJS)
	ld -r -o $@.tmp $(CLIENT_OBJS)
	objcopy --localize-hidden $@.tmp $@
	rm -f $@.tmp

$(CLIENT_A): $(CLIENT_OBJDIR)/libsiogate-client.o
	rm -f $@
	ar rcs $@ $<

$(CLIENT_SO): $(CLIENT_OBJS) $(CLIENT_DIR)/client.map
	$(CC) -shared -Wl,-soname,libsiogate-client.so.$(CLIENT_SOVERSION) \
		-Wl,--version-script=$(CLIENT_DIR)/client.map $(LDFLAGS_ALL) \
		-o $@ $(CLIENT_OBJS) $(CLIENT_LIBS)

$(CLIENT_PC): $(CLIENT_DIR)/siogate-client.pc.in config.mk
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' $< >$@

# The programs use the public header, plus common.h / base64.h / jsonout.h
# (JSON written as JSON.stringify writes it), linked from this directory's own
# objects: they never depend on the state of the daemon's other modules.
# siocat also links cmdrun.o (its --refresh-cmd), which is not in the library.
CLIENT_PROG_OBJS := $(CLIENT_OBJDIR)/jsonout.o $(CLIENT_OBJDIR)/sg/core/json_js.o \
                    $(CLIENT_OBJDIR)/sg/core/common.o $(CLIENT_OBJDIR)/sg/core/base64.o

$(CLIENT_OBJDIR)/prog/%.o: $(CLIENT_DIR)/%.c config.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -I$(CLIENT_DIR) -I$(CLIENT_DIR)/include -MMD -MP -c -o $@ $<

$(SIOCAT): $(CLIENT_OBJDIR)/prog/siocat.o $(CLIENT_OBJDIR)/prog/cmdrun.o $(CLIENT_PROG_OBJS) \
		$(CLIENT_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(CLIENT_OBJDIR)/prog/cmdrun.o $(CLIENT_PROG_OBJS) \
		$(CLIENT_A) $(CLIENT_LIBS)

$(SGC_DRIVER): $(CLIENT_OBJDIR)/prog/sgc-driver.o $(CLIENT_PROG_OBJS) $(CLIENT_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(CLIENT_PROG_OBJS) $(CLIENT_A) $(CLIENT_LIBS)

$(CLIENT_EXAMPLE): examples/client/notify.c $(CLIENT_DIR)/include/siogate/client.h $(CLIENT_A) config.mk
	$(CC) $(filter-out -Isrc,$(CFLAGS_ALL)) -I$(CLIENT_DIR)/include -o $@ $< $(CLIENT_A) \
		$(LDFLAGS_ALL) $(CLIENT_LIBS)

# unit tests
$(CLIENT_OBJDIR)/unit/fake_engine.o: tests/unit/client/fake_engine.c tests/unit/client/fake_engine.h \
		$(CLIENT_DIR)/engine.h config.mk
	@mkdir -p $(@D)
	$(CC) $(CLIENT_CFLAGS) -Itests/unit -Itests/unit/client -c -o $@ $<

$(CLIENT_OBJDIR)/unit/%: tests/unit/client/%.c tests/unit/unit.h tests/unit/client/fake_engine.h \
		tests/unit/client/client_fx.h $(CLIENT_UNIT_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CLIENT_CFLAGS) -Itests/unit -Itests/unit/client -o $@ $< $(CLIENT_UNIT_OBJS) \
		$(LDFLAGS_ALL) $(CLIENT_LIBS)

client-unit: $(CLIENT_UNIT_BINS)
	@tests/unit/run $(CLIENT_UNIT_BINS)

install-client: $(CLIENT_A) $(CLIENT_SO) $(SIOCAT)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/siogate \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(CLIENT_A) $(DESTDIR)$(LIBDIR)/libsiogate-client.a
	install -m 755 $(CLIENT_SO) $(DESTDIR)$(LIBDIR)/libsiogate-client.so.$(VERSION)
	ln -sf libsiogate-client.so.$(VERSION) \
		$(DESTDIR)$(LIBDIR)/libsiogate-client.so.$(CLIENT_SOVERSION)
	ln -sf libsiogate-client.so.$(CLIENT_SOVERSION) $(DESTDIR)$(LIBDIR)/libsiogate-client.so
	install -m 644 $(CLIENT_DIR)/include/siogate/client.h $(DESTDIR)$(INCLUDEDIR)/siogate/client.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    $(CLIENT_DIR)/siogate-client.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/siogate-client.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/siogate-client.pc
	install -m 755 $(SIOCAT) $(DESTDIR)$(BINDIR)/siocat
	install -m 644 man/siocat.1 $(DESTDIR)$(MANDIR)/man1/siocat.1

-include $(CLIENT_OBJS:.o=.d) $(CLIENT_OBJDIR)/prog/siocat.d $(CLIENT_OBJDIR)/prog/sgc-driver.d \
	$(CLIENT_OBJDIR)/prog/cmdrun.d
