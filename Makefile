# clarifyd - build, test, benchmark, install.
#
#   make            build clarifyd and clarify (build/release/)
#   make check      install missing Debian packages, build, run every test
#   make check-asan the tests under ASan+UBSan;  make check-tsan under TSan
#   make bench      run the benchmarks under bench/
#   make soak       the long reliability suites: test_soak.sh with SOAK_JOBS
#                   jobs (default 5000) against fakellm's fault mix, and
#                   test_crash.sh with CRASH_ROUNDS kill -9 rounds (default
#                   50); 'make check' runs them short (300 jobs, 20 rounds)
#   make run        import the sample problems into ./run/store, train its
#                   language model, generate their data with the offline
#                   provider (clarifyd --once), show the store and its
#                   stats, and export ./run/export.jsonl
#   make install    PREFIX=/usr/local DESTDIR=

VARIANT ?= release
B := build/$(VARIANT)
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc

PKGS := libcurl yaml-0.1 lmdb libpcre2-8 libzstd jansson libsystemd libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS := $(shell pkg-config --libs libmicrohttpd 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
CFLAGS_release := -O2 -g
CFLAGS_asan := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
CFLAGS_tsan := -O1 -g -fsanitize=thread
CFLAGS ?=
DATADIR := $(PREFIX)/share/clarifyd
MANDIR := $(PREFIX)/share/man
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -pthread $(WARN) $(CFLAGS_$(VARIANT)) $(PKG_CFLAGS) \
	-DCLARIFY_DATADIR='"$(DATADIR)"' \
	$(MHD_CFLAGS) $(CFLAGS)
LDFLAGS_asan := -fsanitize=address,undefined
LDFLAGS_tsan := -fsanitize=thread
ALL_LDFLAGS := -pthread $(LDFLAGS_$(VARIANT)) $(LDFLAGS)

LIB_SRC := $(wildcard common/*.c) $(wildcard store/*.c) $(wildcard filters/*.c) $(wildcard stats/*.c) \
	$(wildcard prompts/*.c) $(wildcard llm/*.c) \
	$(wildcard export/*.c) \
	pipeline/config.c pipeline/apps.c pipeline/daemon.c pipeline/pool.c pipeline/batchrun.c \
	pipeline/plan.c pipeline/progress.c pipeline/dedup.c
CLI_SRC := $(wildcard cli/*.c)
D_SRC := pipeline/clarifyd.c
UNIT_SRC := $(wildcard tests/unit/test_*.c)
BENCH_SRC := $(wildcard bench/*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
LIB := $(B)/libclarify.a
BINS := $(B)/clarify $(B)/clarifyd
UNIT_BINS := $(UNIT_SRC:%.c=$(B)/%)
FAKELLM := $(B)/tests/fakellm/fakellm
NOTIFY := $(B)/tests/tools/notify_listen
CORPUS_TOOL := $(B)/tests/tools/filter_corpus
OFFLINE_DUMP := $(B)/tests/tools/offline_dump
K8S_CHECK := $(B)/tests/tools/k8s_check
BENCH_BINS := $(BENCH_SRC:%.c=$(B)/%)
FUZZ_BINS := $(FUZZ_SRC:%.c=build/fuzz/%)

DEB_PKGS := make gcc clang pkg-config zstd libcurl4-openssl-dev libyaml-dev liblmdb-dev \
	lmdb-utils libpcre2-dev libzstd-dev libjansson-dev libsystemd-dev libcmocka-dev \
	libmicrohttpd-dev libssl-dev jq chromium groff-base time tmux

.PHONY: all deps check check-run check-asan check-tsan test-bins run-tests bench run install \
	uninstall clean fuzz soak

all: $(BINS)

# V=1 shows the commands
Q := $(if $(V),,@)
msg = $(if $(V),,@printf '  %-6s %s\n' $(1) $(2))

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# offline_rules.c builds llm/offline.yaml in (.incbin)
$(B)/llm/offline_rules.o: llm/offline.yaml

$(LIB): $(LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/clarify: $(CLI_SRC:%.c=$(B)/%.o) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/clarifyd: $(D_SRC:%.c=$(B)/%.o) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tests/unit/%: $(B)/tests/unit/%.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

$(FAKELLM): $(B)/tests/fakellm/fakellm.o $(B)/tests/fakellm/reply.o $(B)/tests/fakellm/batch.o $(B)/tests/fakellm/batch_gemini.o $(B)/tests/fakellm/opts.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(MHD_LIBS) $(PKG_LIBS)

$(B)/bench/%: $(B)/bench/%.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# libFuzzer harnesses: clang only, with ASan+UBSan, the library compiled in.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all $(PKG_CFLAGS)
build/fuzz/tests/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(wildcard */*.h) $(wildcard tests/fuzz/*.h) llm/offline.yaml
	@mkdir -p $(dir $@)
	$(call msg,FUZZ,$@)
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(PKG_LIBS)

$(NOTIFY): $(B)/tests/tools/notify_listen.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^

$(OFFLINE_DUMP): $(B)/tests/tools/offline_dump.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(CORPUS_TOOL): $(B)/tests/tools/filter_corpus.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(K8S_CHECK): $(B)/tests/tools/k8s_check.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# bench/export also makes the 100,000-record store of tests/integration/test_export.sh
test-bins: $(BINS) $(UNIT_BINS) $(FAKELLM) $(NOTIFY) $(CORPUS_TOOL) $(OFFLINE_DUMP) $(K8S_CHECK) \
	$(B)/bench/export

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' \
	    || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -ne 0 ]; then \
	    echo "missing Debian packages:$$missing (run 'sudo make deps')"; exit 1; fi; \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

run-tests: test-bins
	@sh tests/run.sh $(B) $(if $(FUZZ),build/fuzz,)

# a second make, so that what deps installed (pkg-config, clang) is seen
check: deps
	@$(MAKE) --no-print-directory check-run

HAVE_CLANG := $(shell command -v clang 2>/dev/null)
check-run: test-bins $(if $(HAVE_CLANG),$(FUZZ_BINS),)
	@$(if $(HAVE_CLANG),,echo "note: clang is missing: the fuzz harnesses are not smoke-run")
	@sh tests/run.sh $(B) $(if $(HAVE_CLANG),build/fuzz,)

check-asan: deps
	@$(MAKE) --no-print-directory VARIANT=asan CC=$${CC:-cc} run-tests

check-tsan: deps
	@$(MAKE) --no-print-directory VARIANT=tsan run-tests

fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); mkdir -p build/fuzz/corpus/$$n; \
	  echo "fuzzing $$n for $${FUZZ_SECONDS:-60} s"; \
	  $$f -max_total_time=$${FUZZ_SECONDS:-60} -dict=tests/fuzz/$$n.dict \
	    build/fuzz/corpus/$$n tests/fuzz/corpus/$$n || exit 1; done

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BINS) $(FAKELLM) $(CORPUS_TOOL)
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done
	@for s in bench/*.sh; do echo "== $$s"; CLARIFY=$(B)/clarify sh $$s || exit 1; done

SOAK_JOBS ?= 5000
CRASH_ROUNDS ?= 50
soak: deps
	@$(MAKE) --no-print-directory test-bins
	@mkdir -p $(B)/soak-logs
	@for t in soak crash; do echo "== test_$$t.sh"; \
	  SOAK_JOBS=$(SOAK_JOBS) CRASH_ROUNDS=$(CRASH_ROUNDS) CLARIFY=$(B)/clarify \
	  CLARIFYD=$(B)/clarifyd FAKELLM=$(B)/tests/fakellm/fakellm CLARIFY_ROOT=$(CURDIR) \
	  CLARIFY_CONFIG=/dev/null sh tests/integration/test_$$t.sh | tee $(B)/soak-logs/$$t.log; \
	  grep -q '^not ok' $(B)/soak-logs/$$t.log && exit 1; done; true

# the main job on the built-in defaults (the offline provider), whatever
# /etc/clarifyd/clarifyd.yaml or $$CLARIFY_CONFIG say
RUN_ENV := CLARIFY_CONFIG=/dev/null
run: deps
	@$(MAKE) --no-print-directory all
	$(RUN_ENV) $(B)/clarify -s run/store import tests/data/apps
	$(RUN_ENV) $(B)/clarify -s run/store lm train
	$(RUN_ENV) $(B)/clarifyd -s run/store --once
	$(RUN_ENV) $(B)/clarify -s run/store status
	$(RUN_ENV) $(B)/clarify -s run/store stats
	$(RUN_ENV) $(B)/clarify -s run/store export -o run/export.jsonl --ratio 0.5 --provenance
	$(RUN_ENV) $(B)/clarify -s run/store export -o run/chat.jsonl --format chat --ratio 0.5 --no-card
	$(RUN_ENV) $(B)/clarify -s run/store export -o run/dialogue.jsonl --format dialogue --no-card
	@echo "the training set: run/export.jsonl (paper, the mix r = 0.5), run/chat.jsonl," \
	  "run/dialogue.jsonl (ask, hear the answers, then code), each with its .manifest.json;" \
	  "run/README.md is the dataset card of run/export.jsonl"

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/clarifyd
	install -m 755 $(B)/clarify $(B)/clarifyd $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(DATADIR)/filters $(DESTDIR)$(DATADIR)/prompts
	install -m 644 filters/*.yaml $(DESTDIR)$(DATADIR)/filters/
	install -m 644 prompts/*.yaml $(DESTDIR)$(DATADIR)/prompts/
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|/usr/local/bin/|$(PREFIX)/bin/|' etc/clarifyd.service \
	  >$(DESTDIR)$(PREFIX)/lib/systemd/system/clarifyd.service
	test -e $(DESTDIR)/etc/clarifyd/clarifyd.yaml \
	  || install -m 644 etc/clarifyd.yaml $(DESTDIR)/etc/clarifyd/clarifyd.yaml
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 644 man/clarify.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/clarifyd.yaml.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/clarifyd.8 $(DESTDIR)$(MANDIR)/man8/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/clarify $(DESTDIR)$(PREFIX)/bin/clarifyd
	rm -f $(DESTDIR)/etc/clarifyd/clarifyd.yaml
	rm -rf $(DESTDIR)$(DATADIR)
	rm -f $(DESTDIR)$(PREFIX)/lib/systemd/system/clarifyd.service
	rm -f $(DESTDIR)$(MANDIR)/man1/clarify.1 $(DESTDIR)$(MANDIR)/man5/clarifyd.yaml.5 \
	  $(DESTDIR)$(MANDIR)/man8/clarifyd.8

clean:
	rm -rf build run

.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)
