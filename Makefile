# jtkit — one plain Makefile.
#
#   make                 build libjt (build/lib) and the programs (build/bin)
#   make test            install what is missing, build under ASan+UBSan, run every test
#   make install         PREFIX=/usr/local DESTDIR=  (headers, libjt.so/.a, jt.pc, programs, man pages)
#   make bench           benchmarks (ratios against baselines measured in the same run)
#   make fuzz            each libFuzzer target for FUZZ_SECONDS (default 60)
#   make up              install what is missing, build, start what exists, say what to do next
#
# BUILD selects the output tree; SAN=1 adds AddressSanitizer and UndefinedBehaviorSanitizer.

VERSION      := 0.1.0
SOVERSION    := 0
PREFIX       ?= /usr/local
DESTDIR      ?=
BUILD        ?= build
SAN          ?= 0
FUZZ_SECONDS ?= 60

CC       ?= cc
# libcurl: libjt's gateway client (sdk/src/gateway_client.c); jt-gateway's
# webhooks use it too.
PKGS     := libsodium libsecp256k1 libcrypto yajl libwebsockets libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter
CSTD     := -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L
OPT      := -O2 -g
# Link-time optimisation when the compiler is GCC (LTO=0 turns it off): the
# ledger engine reads entries through libjt's small accessors in other files
# (field lookups, amount arithmetic), calls only the linker can inline; the
# node spends ~6 % less CPU per transaction with it. -ffat-lto-objects keeps
# ordinary code in every object too, so an installed libjt.a links with any
# compiler, with or without LTO; gcc-ar indexes the LTO symbols of the archive.
LTO      ?= $(shell $(CC) -dM -E -x c /dev/null 2>/dev/null | grep -q __clang__ && echo 0 || echo 1)
ifeq ($(LTO),1)
OPT      += -flto=auto -ffat-lto-objects
AR       := gcc-ar
endif
ifeq ($(SAN),1)
OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
AR       := ar
endif
CFLAGS_ALL := $(CSTD) $(OPT) $(WARN) -Isdk/include $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL := $(OPT) $(LDFLAGS)

# ---------------------------------------------------------------- libjt
SDK_SRC  := $(sort $(wildcard sdk/src/*.c))
SDK_OBJ  := $(patsubst %.c,$(BUILD)/obj/%.o,$(SDK_SRC))
PUB_HDR  := $(sort $(wildcard sdk/include/jt/*.h))
LIB_A    := $(BUILD)/lib/libjt.a
LIB_SO   := $(BUILD)/lib/libjt.so.$(VERSION)

# ---------------------------------------------------------------- the server core
# What the daemons share (server/: listeners, limits, admission, posts,
# timers, logs): a private static library beside libjt, never installed.
SRV_SRC  := $(sort $(wildcard server/*.c))
SRV_OBJ  := $(patsubst %.c,$(BUILD)/obj/%.o,$(SRV_SRC))
SRV_A    := $(BUILD)/lib/libjtsrv.a

# ---------------------------------------------------------------- programs
# Each program is a directory whose .c files link against libjt.a.
WALLET_SRC := $(sort $(wildcard wallet/*.c))
NODE_SRC   := $(sort $(wildcard node-lite/*.c))
NODE_OBJ   := $(patsubst %.c,$(BUILD)/obj/%.o,$(NODE_SRC))
# jt-node's engine and ledger core: every module but the program (main.c).
# Unit tests and fuzz_rpc link these.
NODE_CORE_SRC := $(filter-out node-lite/main.c,$(NODE_SRC))
# The data directory's lock and whole-file writes are the server core's
# (server/datadir.c); the store uses them, so the core links that object too.
JN_CORE_OBJ   := $(patsubst %.c,$(BUILD)/obj/%.o,$(NODE_CORE_SRC)) $(BUILD)/obj/server/datadir.o
NODE_LIBS  := -llmdb -linih -lpthread -lm
# The daemons' allocator: jemalloc when its development files are installed
# (scripts/install-deps.sh installs them; docs/node.md, "Memory"), else the C
# library's. Sanitizer builds keep the C library's (ASan replaces it anyway).
ifneq ($(SAN),1)
MALLOC_LIBS := $(shell pkg-config --libs jemalloc 2>/dev/null)
endif
# jt-gateway: like jt-node, objects compiled separately so its unit tests can
# link every module but the program (main.c).
GW_SRC     := $(sort $(wildcard gateway/*.c))
GW_OBJ     := $(patsubst %.c,$(BUILD)/obj/%.o,$(GW_SRC))
GW_CORE_OBJ := $(filter-out $(BUILD)/obj/gateway/main.o,$(GW_OBJ))
GW_LIBS    := -llmdb -linih -lpthread -lm
PROGRAMS   := $(BUILD)/bin/jt-wallet $(BUILD)/bin/jt-node $(BUILD)/bin/jt-gateway

# ---------------------------------------------------------------- tests
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TESTLIB    := tests/unit/testutil.c
INTEROP_DRV := $(BUILD)/tests/jt-interop-driver
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BENCH_SRC  := $(sort $(wildcard bench/bench_*.c))
BENCH_NODE_SRC := $(sort $(wildcard bench/node/*.c))
BENCH_NODE_HDR := $(sort $(wildcard bench/node/*.h))
BENCH_BIN  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all lib programs tests test adversarial install uninstall bench fuzz fuzz-build up clean check-deps format
.DELETE_ON_ERROR:

all: lib programs

lib: $(LIB_A) $(LIB_SO) $(BUILD)/lib/jt.pc

programs: $(PROGRAMS)

$(BUILD)/obj/%.o: %.c $(PUB_HDR) $(wildcard sdk/src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fPIC -fvisibility=hidden -DJT_BUILDING -c $< -o $@

$(LIB_A): $(SDK_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(LIB_SO): $(SDK_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libjt.so.$(SOVERSION) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)
	ln -sf libjt.so.$(VERSION) $(BUILD)/lib/libjt.so.$(SOVERSION)
	ln -sf libjt.so.$(SOVERSION) $(BUILD)/lib/libjt.so

$(BUILD)/lib/jt.pc: sdk/jt.pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' sdk/jt.pc.in > $@

$(BUILD)/bin/jt-wallet: $(WALLET_SRC) $(wildcard wallet/*.h) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iwallet -o $@ $(WALLET_SRC) $(LIB_A) $(LDFLAGS_ALL) $(PKG_LIBS)

$(BUILD)/obj/server/%.o: server/%.c $(PUB_HDR) $(wildcard server/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iserver -pthread -c $< -o $@

$(SRV_A): $(SRV_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $(SRV_OBJ)

# jt-node: objects compiled separately so node-lite unit tests can link them.
$(BUILD)/obj/node-lite/%.o: node-lite/%.c $(PUB_HDR) $(wildcard node-lite/*.h) $(wildcard server/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Inode-lite -Iserver -pthread -c $< -o $@

$(BUILD)/bin/jt-node: $(NODE_OBJ) $(SRV_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) -pthread -o $@ $(NODE_OBJ) $(SRV_A) $(LIB_A) $(LDFLAGS_ALL) $(PKG_LIBS) $(NODE_LIBS) $(MALLOC_LIBS)

$(BUILD)/obj/gateway/%.o: gateway/%.c $(PUB_HDR) $(wildcard gateway/*.h) $(wildcard server/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Igateway -Iserver -pthread -c $< -o $@

$(BUILD)/bin/jt-gateway: $(GW_OBJ) $(SRV_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) -pthread -o $@ $(GW_OBJ) $(SRV_A) $(LIB_A) $(LDFLAGS_ALL) $(PKG_LIBS) $(GW_LIBS) $(MALLOC_LIBS)

# ---------------------------------------------------------------- tests
JTPCAT     := $(BUILD)/tests/jtpcat
tests: all $(UNIT_BIN) $(INTEROP_DRV) $(JTPCAT)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(TESTLIB) tests/unit/testutil.h $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isdk/src -Itests/unit -o $@ $< $(TESTLIB) $(LIB_A) $(LDFLAGS_ALL) \
	    $(PKG_LIBS) -lcmocka

# Unit tests of jt-node modules: test_jn_MOD links node-lite/MOD.o plus the
# objects listed in JN_TEST_DEPS_MOD. JN_CORE_DEPS: the whole core but MOD.o,
# so a new engine file is linked without being listed.
JN_OBJ = $(BUILD)/obj/node-lite/$(1).o
JN_CORE_DEPS = $(filter-out $(call JN_OBJ,$(1)),$(JN_CORE_OBJ))
JN_TEST_DEPS_shamap := $(call JN_CORE_DEPS,shamap)
$(BUILD)/tests/test_jn_shamap: $(JN_TEST_DEPS_shamap)
JN_TEST_DEPS_keyset := $(call JN_CORE_DEPS,keyset)
$(BUILD)/tests/test_jn_keyset: $(JN_TEST_DEPS_keyset)
JN_TEST_DEPS_directory := $(call JN_CORE_DEPS,directory)
$(BUILD)/tests/test_jn_directory: $(JN_TEST_DEPS_directory)
JN_TEST_DEPS_ledger := $(call JN_CORE_DEPS,ledger)
$(BUILD)/tests/test_jn_ledger: $(JN_TEST_DEPS_ledger)
JN_TEST_DEPS_readmodel := $(call JN_CORE_DEPS,readmodel)
$(BUILD)/tests/test_jn_readmodel: $(JN_TEST_DEPS_readmodel)
JN_TEST_DEPS_pathfind := $(call JN_CORE_DEPS,pathfind)
$(BUILD)/tests/test_jn_pathfind: $(JN_TEST_DEPS_pathfind)
JN_TEST_DEPS_rpc_submit := $(call JN_CORE_DEPS,rpc_submit)
$(BUILD)/tests/test_jn_rpc_submit: $(JN_TEST_DEPS_rpc_submit)
JN_TEST_DEPS_store := $(BUILD)/obj/server/datadir.o
$(BUILD)/tests/test_jn_store: $(JN_TEST_DEPS_store)

$(BUILD)/tests/test_jn_%: tests/unit/test_jn_%.c $(TESTLIB) tests/unit/testutil.h \
    $(BUILD)/obj/node-lite/%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Inode-lite -Iserver -Itests/unit -pthread -o $@ $< $(TESTLIB) \
	    $(BUILD)/obj/node-lite/$*.o $(JN_TEST_DEPS_$*) $(LIB_A) $(LDFLAGS_ALL) $(PKG_LIBS) \
	    $(NODE_LIBS) -lcmocka


# The engine's fixtures (tests/engine/*.json) run by test_jn_engine; there
# is no node-lite/engine.c, so it has a rule of its own.
$(BUILD)/tests/test_jn_engine: tests/unit/test_jn_engine.c $(TESTLIB) tests/unit/testutil.h \
    $(JN_CORE_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Inode-lite -Itests/unit -pthread -o $@ $< $(TESTLIB) $(JN_CORE_OBJ) \
	    $(LIB_A) $(LDFLAGS_ALL) $(PKG_LIBS) $(NODE_LIBS) -lcmocka

# Offer crossing under random order flow, against the ledger's invariants
# and against a reference order book written for the test (book_model.c,
# which links nothing of node-lite).
$(BUILD)/tests/test_jn_offers_prop: tests/unit/test_jn_offers_prop.c tests/unit/book_model.c \
    tests/unit/book_model.h $(TESTLIB) tests/unit/testutil.h $(JN_CORE_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Inode-lite -Itests/unit -pthread -o $@ $< tests/unit/book_model.c \
	    $(TESTLIB) $(JN_CORE_OBJ) $(LIB_A) $(LDFLAGS_ALL) $(PKG_LIBS) $(NODE_LIBS) -lcmocka

# jt-gateway's module tests: test_gw_MOD links every gateway module but main.c.
$(BUILD)/tests/test_gw_%: tests/unit/test_gw_%.c $(TESTLIB) tests/unit/testutil.h $(GW_CORE_OBJ) \
    $(SRV_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Igateway -Iserver -Itests/unit -pthread -o $@ $< $(TESTLIB) $(GW_CORE_OBJ) \
	    $(SRV_A) $(LIB_A) $(LDFLAGS_ALL) $(PKG_LIBS) $(GW_LIBS) -lcmocka

# The gateway client's test is libjt's, not a gateway module's: it links
# libjt alone, as a program using the client would, and runs a real
# jt-node and jt-gateway.
$(BUILD)/tests/test_gw_client: tests/unit/test_gw_client.c $(TESTLIB) tests/unit/testutil.h \
    $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isdk/src -Itests/unit -pthread -o $@ $< $(TESTLIB) $(LIB_A) \
	    $(LDFLAGS_ALL) $(PKG_LIBS) -lcmocka

# The server core's tests: real listeners on loopback, linked with libjtsrv.a.
$(BUILD)/tests/test_srv: tests/unit/test_srv.c $(TESTLIB) tests/unit/testutil.h $(SRV_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iserver -Itests/unit -pthread -o $@ $< $(TESTLIB) $(SRV_A) $(LIB_A) \
	    $(LDFLAGS_ALL) $(PKG_LIBS) -lcmocka

# The WebSocket handshake and frame parser alone.
$(BUILD)/tests/test_ws: tests/unit/test_ws.c $(TESTLIB) tests/unit/testutil.h $(SRV_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iserver -Itests/unit -o $@ $< $(TESTLIB) $(SRV_A) $(LIB_A) \
	    $(LDFLAGS_ALL) $(PKG_LIBS) -lcmocka

# The HTTP listener's tests: the same, plus libssl for the HTTPS client.
$(BUILD)/tests/test_srv_http: tests/unit/test_srv_http.c $(TESTLIB) tests/unit/testutil.h $(SRV_A) \
    $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iserver -Itests/unit -pthread -o $@ $< $(TESTLIB) $(SRV_A) $(LIB_A) \
	    $(LDFLAGS_ALL) $(PKG_LIBS) -lssl -lcmocka

$(JTPCAT): tests/integration/jtpcat.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB_A) $(LDFLAGS_ALL) $(PKG_LIBS)

$(INTEROP_DRV): tests/interop/driver.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LIB_A) $(LDFLAGS_ALL) $(PKG_LIBS)

check-deps:
	@scripts/install-deps.sh

# make test: a sanitizer build in build/test, then the whole suite.
test: check-deps
	$(MAKE) --no-print-directory BUILD=build/test SAN=1 tests
	BUILD=build/test scripts/run-tests.sh

# The adversarial suite at the sizes of its table (the test target runs a
# short form); see docs/operations.md.
adversarial: check-deps
	ADV_FULL=1 sh tests/adversarial/test_adversarial.sh

# ---------------------------------------------------------------- install
install: all
	install -d $(DESTDIR)$(PREFIX)/include/jt $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(PUB_HDR) $(DESTDIR)$(PREFIX)/include/jt/
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libjt.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libjt.so.$(SOVERSION)
	ln -sf libjt.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libjt.so
	install -m 644 $(BUILD)/lib/jt.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 docs/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/include/jt
	rm -f $(DESTDIR)$(PREFIX)/lib/libjt.* $(DESTDIR)$(PREFIX)/lib/pkgconfig/jt.pc
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(notdir $(PROGRAMS)))

# ---------------------------------------------------------------- bench
# Each bench/bench_NAME.c is one program, but bench_node: its driver
# (bench/bench_node.c) with its parts and modes (bench/node/*.c).
$(BUILD)/bench/bench_%: bench/bench_%.c bench/threads.h $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isdk/src -pthread -o $@ $< $(LIB_A) $(LDFLAGS_ALL) $(PKG_LIBS)

$(BUILD)/bench/bench_node: bench/bench_node.c $(BENCH_NODE_SRC) $(BENCH_NODE_HDR) bench/threads.h $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isdk/src -pthread -o $@ bench/bench_node.c $(BENCH_NODE_SRC) $(LIB_A) \
	    $(LDFLAGS_ALL) $(PKG_LIBS)

bench:
	@scripts/install-deps.sh --bench
	$(MAKE) --no-print-directory all $(BENCH_BIN)
	BUILD=$(BUILD) bench/run.sh

# ---------------------------------------------------------------- fuzz
FUZZ_CC    := clang
FUZZ_FLAGS := $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined -Isdk/include -Isdk/src $(PKG_CFLAGS)
FUZZ_BIN   := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(SDK_SRC) $(PUB_HDR) $(wildcard sdk/src/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(SDK_SRC) $(PKG_LIBS)

# The dispatcher target links jt-node's engine (not its network layer).
FUZZ_NODE_SRC := $(NODE_CORE_SRC) server/datadir.c
build/fuzz/fuzz_rpc: tests/fuzz/fuzz_rpc.c $(SDK_SRC) $(FUZZ_NODE_SRC) $(PUB_HDR) $(wildcard node-lite/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Inode-lite -Iserver -o $@ $< $(SDK_SRC) $(FUZZ_NODE_SRC) $(PKG_LIBS) $(NODE_LIBS)

# The server core's WebSocket handshake and frame parser.
build/fuzz/fuzz_ws: tests/fuzz/fuzz_ws.c server/ws.c server/ws.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Iserver -o $@ $< server/ws.c $(PKG_LIBS)

# The gateway's request bodies through its transaction builders.
build/fuzz/fuzz_gw_body: tests/fuzz/fuzz_gw_body.c gateway/txbuild.c gateway/txbuild.h $(SDK_SRC) $(PUB_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Igateway -o $@ $< gateway/txbuild.c $(SDK_SRC) $(PKG_LIBS)

fuzz: check-deps
	$(MAKE) --no-print-directory fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/run-fuzz.sh $(FUZZ_BIN)

fuzz-build: $(FUZZ_BIN)

# ---------------------------------------------------------------- up
up: check-deps
	$(MAKE) --no-print-directory all
	@scripts/up.sh

format:
	clang-format -i sdk/src/*.c sdk/src/*.h sdk/include/jt/*.h wallet/*.c tests/unit/*.c tests/fuzz/*.c bench/*.c bench/node/*.c bench/node/*.h

clean:
	rm -rf build
