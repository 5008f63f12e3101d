# containment-chamber — build, test and run.
#
#   make run      install what is missing, build, start the signer with demo keys
#   make test     install what is missing, build, run the whole suite
#   make build    just the binaries (build/containment-chamber)
#   make asan     the whole C test suite under AddressSanitizer + UBSan
#   make asan-full   every test, C and integration, with sanitized binaries
#   make fuzz     every libFuzzer target (fuzz/) for FUZZ_RUNS executions; fuzz-smoke: briefly
#   make bench    benchmarks (bench/), figures as ratios to raw blst
#
# Sources are found by folder: every src/<concern>/*.c is part of the library
# (build/libcc.a) except src/cli, which is the thin command-line shell.

BUILD    ?= build
CC       ?= cc
BLST_DIR := build/deps/blst
OPT      ?= -O2
# -ffile-prefix-map: no checkout path in the binary (debug info, __FILE__), so the same sources build
# byte-identical binaries in any directory (reproducible enclave images: docs/enclave.md, issue 8 part 8).
CFLAGS   += -std=c11 -D_GNU_SOURCE $(OPT) -g -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
            -fno-strict-aliasing -pthread -ffile-prefix-map=$(CURDIR)=. -Isrc -I$(BLST_DIR)/include \
            -I/usr/include/postgresql $(EXTRA_CFLAGS)
LDLIBS   += $(BLST_DIR)/lib/libblst.a -lssl -lcrypto -ljansson -lmicrohttpd -lgnutls -lyaml -lsqlite3 -lpq \
            -lunistring -lcurl -lcbor -lz -largon2 -lpthread -lm

# LIB_DIRS / TEST_DIRS narrow a build to some folders (e.g. while one concern is
# being written: make BUILD=build/x LIB_DIRS="src/util src/signing" TEST_DIRS=tests/signing tests-bin).
LIB_DIRS ?= $(filter-out src/cli src/kmslocal,$(wildcard src/*))
TEST_DIRS ?= $(wildcard tests/*)
LIB_SRC  := $(sort $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(sort $(foreach d,$(TEST_DIRS),$(wildcard $(d)/test_*.c)))
TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
# kms-local (src/kmslocal): a test stand-in for AWS KMS, its own binary, never in libcc.a.
KMSL_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(sort $(wildcard src/kmslocal/*.c)))
KMSL_LIB_OBJ := $(filter-out %/main.o,$(KMSL_OBJ))
KMSL_TEST_SRC := tests/kmslocal/attdoc.c

.PHONY: all build deps test-deps run test test-unit asan asan-full bench clean fuzz fuzz-bin fuzz-smoke
all: build

build: deps $(BUILD)/containment-chamber $(BUILD)/kms-local

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --test

$(BUILD)/obj/%.o: %.c $(BLST_DIR)/lib/libblst.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BLST_DIR)/lib/libblst.a:
	@scripts/build-blst.sh

$(BUILD)/libcc.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/containment-chamber: $(CLI_OBJ) $(BUILD)/libcc.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libcc.a $(LDLIBS)

$(BUILD)/tests/%: tests/%.c tests/test.h $(BUILD)/libcc.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(BUILD)/libcc.a $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libcc.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libcc.a $(LDLIBS)

$(BUILD)/kms-local: $(KMSL_OBJ) $(BUILD)/libcc.a
	$(CC) $(CFLAGS) -o $@ $(KMSL_OBJ) $(BUILD)/libcc.a $(LDLIBS) -lcbor

# kms-local's unit tests link its objects (less main) and the attestation-document builder.
$(BUILD)/tests/kmslocal/%: tests/kmslocal/%.c tests/kmslocal/attdoc.h $(KMSL_TEST_SRC) tests/test.h $(KMSL_LIB_OBJ) $(BUILD)/libcc.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(KMSL_TEST_SRC) $(KMSL_LIB_OBJ) $(BUILD)/libcc.a $(LDLIBS) -lcbor

# Test helper programs live outside build/tests (the runner runs everything there as a test).
$(BUILD)/tools-bin/kmslocal-attdoc: tests/kmslocal/attdoc_tool.c tests/kmslocal/attdoc.h $(KMSL_TEST_SRC) $(KMSL_LIB_OBJ) $(BUILD)/libcc.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(KMSL_TEST_SRC) $(KMSL_LIB_OBJ) $(BUILD)/libcc.a $(LDLIBS) -lcbor

# The enclave tests' helper: simulated-NSM documents and aTLS certificates (tests/enclave/enclave_sim.c).
$(BUILD)/tools-bin/enclave-sim: tests/enclave/enclave_sim.c $(BUILD)/libcc.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(BUILD)/libcc.a $(LDLIBS)

tests-bin: $(TEST_BIN) $(BUILD)/tools-bin/kmslocal-attdoc $(BUILD)/tools-bin/enclave-sim

run: build
	@scripts/run-demo.sh

test: test-deps
	@$(MAKE) --no-print-directory -j$$(nproc) build tests-bin $(BENCH_BIN)
	@BUILD=$(BUILD) tests/run.sh

# The C suite under AddressSanitizer and UndefinedBehaviorSanitizer, in its own tree.
ASAN_BUILD ?= build/asan
asan: deps
	@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) OPT=-O1 \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    $(ASAN_BUILD)/containment-chamber tests-bin
	@BUILD=$(ASAN_BUILD) ONLY_C=1 tests/run.sh

# The whole suite (C tests and every integration script) with sanitized binaries: tests/asan-full.sh.
asan-full: test-deps
	@$(MAKE) --no-print-directory -j$$(nproc) BUILD=$(ASAN_BUILD) OPT=-O1 \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    $(ASAN_BUILD)/containment-chamber $(ASAN_BUILD)/kms-local tests-bin
	@ASAN_BUILD=$(ASAN_BUILD) tests/asan-full.sh

# libFuzzer targets (fuzz/fuzz_*.c): the library built with clang under ASan + UBSan in its own
# tree (FUZZ_BUILD), one binary per target in $(FUZZ_BUILD)/fuzzers/.  fuzz/run.sh runs them
# (docs/testing.md): `make fuzz` FUZZ_RUNS (default 10000000) executions per target, two at a time;
# `make fuzz-smoke` FUZZ_SMOKE_SECONDS (default 10) each, as tests/integration/fuzz_smoke.sh does.
FUZZ_BUILD ?= build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_BIN := $(patsubst fuzz/%.c,$(BUILD)/fuzzers/%,$(sort $(wildcard fuzz/fuzz_*.c)))

fuzz-bin: test-deps
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang OPT=-O2 \
	    EXTRA_CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" fuzz-targets

fuzz-targets: $(FUZZ_BIN)

$(BUILD)/fuzzers/%: fuzz/%.c fuzz/fuzz.h $(BUILD)/libcc.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libcc.a $(LDLIBS)

fuzz: fuzz-bin
	@FUZZ_BUILD=$(FUZZ_BUILD) fuzz/run.sh long

fuzz-smoke: fuzz-bin
	@FUZZ_BUILD=$(FUZZ_BUILD) fuzz/run.sh smoke

bench: build $(BENCH_BIN)
	@bench/run.sh

clean:
	rm -rf $(BUILD)/obj $(BUILD)/tests $(BUILD)/bench $(BUILD)/libcc.a $(BUILD)/containment-chamber $(BUILD)/asan \
	       $(BUILD)/kms-local $(BUILD)/tools-bin

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

e2e: build
	@tests/e2e/lodestar/run.sh
