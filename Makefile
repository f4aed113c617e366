# Gavel build. `make` builds build/gavel; `make run`, `make test`, `make bench`, `make fuzz`, `make clean`.
#
# Integration tests, benchmarks' helpers and the conformance kit run with Debian's interpreter,
# /usr/bin/python3, and Debian's python3-* packages: a `python3` earlier on PATH may be another
# interpreter without them (and PyPI is not used).
PYTHON   := /usr/bin/python3
CC       ?= gcc
SAN_CC   := clang
LLHTTP   := /usr/share/llhttp
CPPFLAGS := -Isrc -Ibuild/gen -I/usr/share/include/llhttp $(shell pkg-config --cflags libpq 2>/dev/null) -D_GNU_SOURCE
WARN     := -std=c17 -Wall -Wextra -Wshadow -Wformat=2 -Wno-missing-field-initializers
CFLAGS   ?= -O2 -g
LIBS     := $(shell pkg-config --libs libuv jansson sqlite3 libpq libcrypto libcurl libzstd 2>/dev/null) -lwslay -lhiredis -lm -lpthread
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)

SRC      := $(wildcard src/*/*.c)
LIB_SRC  := $(filter-out src/main.c,$(SRC))
SQL      := $(sort $(wildcard src/store/sql/*.sql))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
GEN_NAMES:= migrations pg_migrations openapi catalogue
GEN      := $(GEN_NAMES:%=build/gen/%.c)

REL_OBJ  := $(patsubst src/%.c,build/obj/%.o,$(LIB_SRC)) $(GEN_NAMES:%=build/obj/gen/%.o)
SAN_OBJ  := $(patsubst src/%.c,build/asan/obj/%.o,$(LIB_SRC)) $(GEN_NAMES:%=build/asan/obj/gen/%.o)
FUZ_OBJ  := $(patsubst src/%.c,build/fuzz/obj/%.o,$(LIB_SRC)) $(GEN_NAMES:%=build/fuzz/obj/gen/%.o)
LLH_NAMES:= api http llhttp
REL_LLH  := $(LLH_NAMES:%=build/obj/llhttp/%.o)
SAN_LLH  := $(LLH_NAMES:%=build/asan/obj/llhttp/%.o)
FUZ_LLH  := $(LLH_NAMES:%=build/fuzz/obj/llhttp/%.o)
UNIT_BIN := $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRC))
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))

.PHONY: all deps run test unit integration integration-pg conformance fuzz fuzz-smoke bench format clean web web-test
.DELETE_ON_ERROR:
.SECONDARY: $(FUZ_OBJ) $(FUZ_LLH)

all: build/gavel web

deps:
	@scripts/deps.sh

# ---- release build ---------------------------------------------------------------------------
build/gavel: build/obj/main.o $(REL_OBJ) $(REL_LLH)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

# One compile pattern for every flavour of the objects: $(call objects,DIR,COMPILER,FLAGS) makes
# DIR/obj/%.o from src/ (with dependency files), DIR/obj/gen/%.o from the generated sources and
# DIR/obj/llhttp/%.o from Debian's llhttp sources (its own warnings silenced).
define objects
$(1)/obj/%.o: src/%.c
	@mkdir -p $$(dir $$@)
	$(2) $$(CPPFLAGS) $(3) -MMD -c -o $$@ $$<

$(1)/obj/gen/%.o: build/gen/%.c
	@mkdir -p $$(dir $$@)
	$(2) $$(CPPFLAGS) $(3) -c -o $$@ $$<

$(1)/obj/llhttp/%.o: $$(LLHTTP)/%.c
	@mkdir -p $$(dir $$@)
	$(2) $$(CPPFLAGS) $(3) -w -c -o $$@ $$<
endef

$(eval $(call objects,build,$(CC),$(WARN) $(CFLAGS)))

build/gen/migrations.c: $(SQL) scripts/embed_sql.sh
	@mkdir -p $(dir $@)
	scripts/embed_sql.sh $@ $(SQL)

# The same migrations translated for PostgreSQL (scripts/embed_sql.sh says how).
build/gen/pg_migrations.c: $(SQL) scripts/embed_sql.sh
	@mkdir -p $(dir $@)
	scripts/embed_sql.sh -n store_pg_migrations -p $@ $(SQL)

build/gen/openapi.c: docs/openapi.json scripts/embed_text.sh
	@mkdir -p $(dir $@)
	scripts/embed_text.sh $@ api_openapi_json docs/openapi.json

# The shipped catalogue (data/*.csv) as the strings catalogue_csv_<file name>.
CATALOGUE_CSV := data/competitions.csv data/football_clubs.csv data/national_teams.csv \
                 data/cricket_players.csv
build/gen/catalogue.c: $(CATALOGUE_CSV) scripts/embed_text.sh
	@mkdir -p $(dir $@)
	for f in $(CATALOGUE_CSV); do n=$$(basename $$f .csv); \
	  scripts/embed_text.sh $@.$$n catalogue_csv_$$n $$f || exit 1; done
	cat $(CATALOGUE_CSV:data/%.csv=$@.%) >$@.tmp && rm -f $(CATALOGUE_CSV:data/%.csv=$@.%) && mv $@.tmp $@

# The version is compiled into one small object, rebuilt every time.
VERSION_OBJ := build/obj/core/version.o build/asan/obj/core/version.o build/fuzz/obj/core/version.o
$(VERSION_OBJ): CPPFLAGS += -DGAVEL_VERSION='"$(VERSION)"'
$(VERSION_OBJ): FORCE
.PHONY: FORCE
FORCE:

# ---- web app (web/): Vite + Preact; `npm ci` only when package-lock.json changed ----------------
WEB_SRC   := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/package.json \
             web/package-lock.json web/vite.config.ts web/tsconfig.json web/scripts/gzip.mjs
WEB_STAMP := web/.build/stamp

web: $(WEB_STAMP)

$(WEB_STAMP): $(WEB_SRC)
	@web/scripts/npm-ci.sh
	cd web && npm run --silent build
	@mkdir -p $(dir $@) && touch $@

# ---- load generator (bench/gavel-load.c, bench/load_net.c): a client, not part of the server --
LOAD_SRC := $(wildcard bench/*.c)
build/gavel-load: $(LOAD_SRC) bench/load.h $(REL_LLH)
	$(CC) -I/usr/share/include/llhttp -D_GNU_SOURCE $(WARN) -O2 -g -o $@ $(LOAD_SRC) $(REL_LLH) \
	  $(shell pkg-config --libs libuv jansson libcrypto)

# ---- sanitizer build (tests) -----------------------------------------------------------------
SAN_FLAGS := $(WARN) -Werror -O1 -g $(SAN)

build/asan/gavel: build/asan/obj/main.o $(SAN_OBJ) $(SAN_LLH)
	$(SAN_CC) $(SAN) -o $@ $^ $(LIBS)

$(eval $(call objects,build/asan,$(SAN_CC),$(SAN_FLAGS)))

build/asan/tests/%: tests/unit/%.c $(SAN_OBJ) $(SAN_LLH)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(CPPFLAGS) $(SAN_FLAGS) -MMD -MP -MF $@.d -MT $@ -o $@ $(filter-out %.h,$^) $(LIBS) -lcmocka

# ---- thread sanitizer: the tests of code that runs on more than one thread ---------------------
# The auction service's writer and checkpointer threads (tests/unit/test_service.c), built again
# with ThreadSanitizer; its reports go where the other sanitizers' do and fail `make test`.
TSAN_FLAGS := $(WARN) -Werror -O1 -g -fsanitize=thread
TSAN_OBJ   := $(patsubst build/asan/%,build/tsan/%,$(SAN_OBJ) $(SAN_LLH))
TSAN_BIN   := build/tsan/tests/test_service
.SECONDARY: $(TSAN_OBJ)
$(eval $(call objects,build/tsan,$(SAN_CC),$(TSAN_FLAGS)))

build/tsan/tests/%: tests/unit/%.c $(TSAN_OBJ)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(CPPFLAGS) $(TSAN_FLAGS) -MMD -MP -MF $@.d -MT $@ -o $@ $(filter-out %.h,$^) $(LIBS) -lcmocka

# ---- fuzz build (clang libFuzzer) ------------------------------------------------------------
FUZZ_FLAGS := $(WARN) -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer

$(eval $(call objects,build/fuzz,clang,$(FUZZ_FLAGS)))

FUZZ_HDR := $(wildcard tests/fuzz/*.h) tests/tmpdir.h

build/fuzz/%: tests/fuzz/%.c $(FUZZ_HDR) $(FUZ_OBJ) $(FUZ_LLH)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) $(WARN) -O1 -g -fsanitize=fuzzer,address,undefined -o $@ $(filter-out %.h,$^) $(LIBS)

# Coverage of the fuzz targets (`make fuzz-coverage`): the targets again with clang's source-based
# coverage and no sanitizers (build/fuzz-cov/), each replaying its committed corpus (and the one
# `make fuzz` grew in build/fuzz/corpus) once; the line coverage of src/api, src/auction and src/
# goes to build/fuzz/coverage.txt, the per-file table to build/fuzz-cov/report.txt.
FUZZ_COV_FLAGS := $(WARN) -O1 -g -fprofile-instr-generate -fcoverage-mapping -fsanitize=fuzzer-no-link
FUZZ_COV_OBJ   := $(patsubst build/fuzz/%,build/fuzz-cov/%,$(FUZ_OBJ) $(FUZ_LLH))
FUZZ_COV_BIN   := $(patsubst build/fuzz/%,build/fuzz-cov/%,$(FUZZ_BIN))
LLVM_PROFDATA  ?= $(firstword $(shell command -v llvm-profdata-14 llvm-profdata 2>/dev/null) llvm-profdata)
LLVM_COV       ?= $(firstword $(shell command -v llvm-cov-14 llvm-cov 2>/dev/null) llvm-cov)
.PHONY: fuzz-coverage
.SECONDARY: $(FUZZ_COV_OBJ)

$(eval $(call objects,build/fuzz-cov,clang,$(FUZZ_COV_FLAGS)))

build/fuzz-cov/%: tests/fuzz/%.c $(FUZZ_HDR) $(FUZZ_COV_OBJ)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) $(FUZZ_COV_FLAGS) -fsanitize=fuzzer -o $@ $(filter-out %.h,$^) $(LIBS)

-include $(wildcard build/fuzz-cov/obj/*/*.d)

# ---- entry points ----------------------------------------------------------------------------
run: deps
	@$(MAKE) --no-print-directory build/gavel web
	build/gavel serve --listen 127.0.0.1:8080 --data ./var --dev $$([ -f web/dist/index.html ] && echo --web web/dist)

# Sanitizer reports of every process (unit tests and the servers the integration tests start) go
# to build/asan/logs; any file there fails the run.
SAN_ENV := ASAN_OPTIONS=log_path=$(CURDIR)/build/asan/logs/asan:detect_leaks=1:abort_on_error=0 \
           UBSAN_OPTIONS=log_path=$(CURDIR)/build/asan/logs/ubsan:print_stacktrace=1:halt_on_error=1 \
           LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
           TSAN_OPTIONS=log_path=$(CURDIR)/build/asan/logs/tsan:halt_on_error=0

test: deps
	@$(MAKE) --no-print-directory build/asan/gavel $(UNIT_BIN) $(TSAN_BIN) $(FUZZ_BIN)
	@rm -rf build/asan/logs && mkdir -p build/asan/logs
	@scripts/with-pg.sh scripts/run-tests.sh "$(PYTHON)" "$(SAN_ENV)" $(UNIT_BIN) $(TSAN_BIN)
	@$(MAKE) --no-print-directory web-test

# The web app: Vitest, the bundle budget, Playwright (Debian's chromium) against the ASan server.
# The servers' sanitizer reports go to build/asan/logs-web; any file there fails the run.
WEB_SAN_ENV := $(subst /asan/logs/,/asan/logs-web/,$(SAN_ENV))
web-test: deps
	@$(MAKE) --no-print-directory build/asan/gavel web
	@rm -rf build/asan/logs-web && mkdir -p build/asan/logs-web
	@GAVEL_BIN=$(CURDIR)/build/asan/gavel web/scripts/web-test.sh "$(WEB_SAN_ENV)"; rc=$$?; \
	  if [ -n "$$(ls -A build/asan/logs-web)" ]; then echo "== sanitizer reports (web):"; \
	    head -60 build/asan/logs-web/*; rc=1; fi; exit $$rc

unit: deps
	@$(MAKE) --no-print-directory $(UNIT_BIN)
	@scripts/with-pg.sh sh -c 'for t in $(UNIT_BIN); do $$t || exit 1; done'

integration: deps
	@$(MAKE) --no-print-directory build/asan/gavel
	GAVEL_BIN=build/asan/gavel $(PYTHON) -m pytest -q tests/integration

# The integration suite with every server's store in a throwaway PostgreSQL
integration-pg: deps
	@$(MAKE) --no-print-directory build/asan/gavel
	scripts/with-pg.sh sh -c 'GAVEL_BIN=build/asan/gavel GAVEL_TEST_STORE_PG="$$GAVEL_TEST_PG" \
	  $(PYTHON) -m pytest -q tests/integration'

conformance: build/gavel
	GAVEL_CMD='build/gavel serve --listen 127.0.0.1:{port} --data {dir} --dev --rate-limit-scale 0' \
	  $(PYTHON) -m pytest -q ../shared/conformance

fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
	@mkdir -p build/fuzz/crashes
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build/fuzz/corpus/$$n; \
	  UBSAN_OPTIONS=$${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
	  $$f -max_total_time=$${FUZZ_SECONDS:-60} -timeout=10 -artifact_prefix=build/fuzz/crashes/$$n- \
	    $$([ -f tests/fuzz/$$n.dict ] && echo -dict=tests/fuzz/$$n.dict) \
	    build/fuzz/corpus/$$n tests/fuzz/corpus/$$n || exit 1; done

fuzz-coverage: deps
	@$(MAKE) --no-print-directory $(FUZZ_COV_BIN)
	@rm -rf build/fuzz-cov/prof && mkdir -p build/fuzz-cov/prof build/fuzz
	@for f in $(FUZZ_COV_BIN); do n=$$(basename $$f); c=tests/fuzz/corpus/$$n; \
	  [ -d build/fuzz/corpus/$$n ] && c="$$c build/fuzz/corpus/$$n"; \
	  LLVM_PROFILE_FILE=build/fuzz-cov/prof/$$n-%p.profraw $$f -runs=0 \
	    -artifact_prefix=build/fuzz-cov/$$n- $$c >build/fuzz-cov/$$n.log 2>&1 \
	    || echo "fuzz-coverage: $$n stopped early (build/fuzz-cov/$$n.log): its counts are partial"; \
	done
	@$(LLVM_PROFDATA) merge -sparse -o build/fuzz-cov/fuzz.profdata build/fuzz-cov/prof/*.profraw
	@set -- $(FUZZ_COV_BIN); bin=$$1; shift; objs=$$(for o in "$$@"; do printf ' -object %s' $$o; done); \
	  cov() { $(LLVM_COV) report $$bin $$objs -instr-profile=build/fuzz-cov/fuzz.profdata "$$@" \
	    2>>build/fuzz-cov/llvm-cov.log; }; rm -f build/fuzz-cov/llvm-cov.log; \
	  cov src >build/fuzz-cov/report.txt; \
	  { echo "Line coverage of the fuzz corpora replayed once ($$(date -u +%Y-%m-%dT%H:%MZ), $$(ls build/fuzz-cov/prof | wc -l) profiles):"; \
	    for d in src/api src/auction src; do cov $$d | awk -v d=$$d '$$1 == "TOTAL" { \
	      printf "  %-12s %6d of %6d lines  %s\n", d, $$8 - $$9, $$8, $$10 }'; done; } >build/fuzz/coverage.txt
	@cat build/fuzz/coverage.txt

bench: deps
	@$(MAKE) --no-print-directory build/gavel build/gavel-load
	bench/run.sh
	bench/auction.sh
	$(PYTHON) bench/season.py
	$(PYTHON) bench/season_big.py
	bench/backup.sh

# the 30-minute soak of issue 13 (AUCTION_SOAK_MINUTES=3 for a trial): bench/results/soak.md
.PHONY: bench-soak
bench-soak: deps
	@$(MAKE) --no-print-directory build/gavel build/gavel-load
	AUCTION_SCENARIOS=soak bench/auction.sh

# issue 14: backups while 100 auctions bid, restore, RPO (about 5 minutes): bench/results/backup.md
.PHONY: bench-backup
bench-backup: deps
	@$(MAKE) --no-print-directory build/gavel build/gavel-load
	bench/backup.sh

# three nodes on one PostgreSQL (fsync on) and one Redis against one node on PostgreSQL and one
# on SQLite, and failover times (about 13 minutes): bench/results/cluster.md
.PHONY: bench-cluster
bench-cluster: deps
	@$(MAKE) --no-print-directory build/gavel build/gavel-load
	bench/cluster.sh

# issue 13: what this machine allows for fan-out over loopback and for a durable commit, without
# Gavel (bench/floor/README.md; about 11 minutes): bench/results/floor.md
build/fanout-floor: bench/floor/fanout_floor.c
	@mkdir -p build
	$(CC) -O2 -g -Wall -Wextra -Werror -pthread -o $@ $<

build/commit-floor: bench/floor/commit_floor.c
	@mkdir -p build
	$(CC) -O2 -g -Wall -Wextra -Werror -pthread -o $@ $< -lm

.PHONY: bench-floor
bench-floor: build/fanout-floor build/commit-floor
	bench/floor/run.sh

# Every C source and header of the server, its tests and the load generator.
FORMAT_SRC := $(SRC) $(wildcard src/*/*.h) $(UNIT_SRC) $(FUZZ_SRC) $(wildcard tests/*.h tests/fuzz/*.h) \
              $(wildcard bench/*.c bench/*.h bench/floor/*.c)
format:
	clang-format -i $(FORMAT_SRC)

clean:
	rm -rf build

-include $(wildcard build/obj/*.d build/obj/*/*.d build/asan/obj/*.d build/asan/obj/*/*.d \
                    build/fuzz/obj/*/*.d build/tsan/obj/*/*.d build/asan/tests/*.d build/tsan/tests/*.d)
