# containment-chamber — build, test and run.
#
#   make run      install what is missing, build, start the signer with demo keys
#   make test     install what is missing, build, run the whole suite
#   make build    just the binaries (build/containment-chamber)
#   make asan     the whole C test suite under AddressSanitizer + UBSan
#   make bench    benchmarks (bench/), figures as ratios to raw blst
#
# Sources are found by folder: every src/<concern>/*.c is part of the library
# (build/libcc.a) except src/cli, which is the thin command-line shell.

BUILD    ?= build
CC       ?= cc
BLST_DIR := build/deps/blst
OPT      ?= -O2
CFLAGS   += -std=c11 -D_GNU_SOURCE $(OPT) -g -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
            -fno-strict-aliasing -pthread -Isrc -I$(BLST_DIR)/include $(EXTRA_CFLAGS)
LDLIBS   += $(BLST_DIR)/lib/libblst.a -lssl -lcrypto -ljansson -lmicrohttpd -lyaml -lsqlite3 \
            -lunistring -lpthread -lm

# LIB_DIRS / TEST_DIRS narrow a build to some folders (e.g. while one concern is
# being written: make BUILD=build/x LIB_DIRS="src/util src/signing" TEST_DIRS=tests/signing tests-bin).
LIB_DIRS ?= $(filter-out src/cli,$(wildcard src/*))
TEST_DIRS ?= $(wildcard tests/*)
LIB_SRC  := $(sort $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(sort $(foreach d,$(TEST_DIRS),$(wildcard $(d)/test_*.c)))
TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all build deps test-deps run test test-unit asan bench clean
all: build

build: deps $(BUILD)/containment-chamber

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

tests-bin: $(TEST_BIN)

run: build
	@scripts/run-demo.sh

test: test-deps
	@$(MAKE) --no-print-directory build tests-bin $(BENCH_BIN)
	@BUILD=$(BUILD) tests/run.sh

# The C suite under AddressSanitizer and UndefinedBehaviorSanitizer, in its own tree.
asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan OPT=-O1 \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    build/asan/containment-chamber tests-bin
	@BUILD=build/asan ONLY_C=1 tests/run.sh

bench: build $(BENCH_BIN)
	@bench/run.sh

clean:
	rm -rf $(BUILD)/obj $(BUILD)/tests $(BUILD)/bench $(BUILD)/libcc.a $(BUILD)/containment-chamber $(BUILD)/asan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
