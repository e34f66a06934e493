# qfleet. Don't edit the build commands here: use conf-cc, conf-ld and the
# other conf-* files (first line of each).
#
#   make            build every program into bin/
#   make check      build and run the whole test suite (tests/run)
#   make run        start the suite on a local instance under ./run/ (README.md)
#   make setup check   as root: install under conf-qmail from package/hier and verify it
#   make bench      benchmarks against Postfix (bench/)
#   make fresh-check   as root: make check in a fresh minimal Debian 12 root (CI)
#   make soak       10 minutes of load, kill -9 and a full disk; the oracle (tests/soak)
#   make fuzz       long libFuzzer runs of every target (tests/fuzz/README), FUZZ_SECONDS each

SHELL := /bin/sh
.SUFFIXES:
.DELETE_ON_ERROR:

SRCDIR := src
PROG_SRCS := $(wildcard src/*.cc) $(wildcard queue-fix/*.cc)
LIB_SRCS := $(filter-out src/owfat/%,$(wildcard src/*/*.cc))
OWFAT_SRCS := $(wildcard src/owfat/*.cc)
TEST_SRCS := $(wildcard tests/*/*_test.cc)
PROGS := $(patsubst %.cc,bin/%,$(notdir $(PROG_SRCS)))

LIB_OBJS := $(patsubst %.cc,obj/%.o,$(LIB_SRCS)) obj/auto.o
OWFAT_OBJS := $(patsubst %.cc,obj/%.o,$(OWFAT_SRCS))
TEST_OBJS := $(patsubst %.cc,obj/%.o,$(TEST_SRCS))
LIBS := obj/libqfleet.a obj/libqfowfat.a obj/libowfat-private.a
SYSLIBS := -Wl,-Bstatic -lskarnet -Wl,-Bdynamic -lrt

OWFAT_A = $(shell $(CC_FIRST) -print-file-name=libowfat.a)
SKARNET_A = $(shell $(CC_FIRST) -print-file-name=libskarnet.a)
CC_FIRST = $(firstword $(shell head -n 1 conf-cc))
NPROC = $(shell nproc 2>/dev/null || echo 2)

all: it
it: $(PROGS)

# Build dependencies: installed when root, named otherwise (package/deps).
.PHONY: deps test-deps
deps:
	@package/deps build
test-deps:
	@package/deps test

# djb style: conf-cc and conf-ld become two scripts; every object depends on them.
obj/compile: conf-cc | deps
	@mkdir -p obj
	@printf '#!/bin/sh\nexec %s -Isrc "$$@"\n' "`head -n 1 conf-cc`" > $@ && chmod 755 $@
obj/load: conf-ld | deps
	@mkdir -p obj
	@printf '#!/bin/sh\nexec %s "$$@"\n' "`head -n 1 conf-ld`" > $@ && chmod 755 $@

obj/auto.cc: conf-qmail conf-split conf-spawn conf-users conf-groups package/gen-auto
	@mkdir -p obj
	package/gen-auto > $@

obj/auto.o: obj/auto.cc obj/compile
	obj/compile -c -o $@ $<

obj/%.o: %.cc obj/compile
	@mkdir -p $(dir $@)
	obj/compile -MMD -MP -c -o $@ $<

obj/libqfleet.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# libowfat, quarantined (src/owfat/README): rename the names it shares with skalibs.
obj/owfat.map: | deps
	@mkdir -p obj
	nm -g --defined-only $(OWFAT_A) 2>/dev/null | awk 'NF==3 && $$2 ~ /[TDBRCVW]/ {print $$3}' | sort -u > obj/owfat.syms
	nm -g --defined-only $(SKARNET_A) 2>/dev/null | awk 'NF==3 && $$2 ~ /[TDBRCVW]/ {print $$3}' | sort -u > obj/skarnet.syms
	comm -12 obj/owfat.syms obj/skarnet.syms | awk '{print $$1 " owfat_" $$1}' > $@.tmp
	test -s $@.tmp
	mv $@.tmp $@

obj/libowfat-private.a: obj/owfat.map
	objcopy --redefine-syms=obj/owfat.map $(OWFAT_A) $@

obj/src/owfat/%.o: src/owfat/%.cc obj/compile obj/owfat.map
	@mkdir -p $(dir $@)
	obj/compile -MMD -MP -c -o $@.raw $<
	objcopy --redefine-syms=obj/owfat.map $@.raw $@
	@rm -f $@.raw

obj/libqfowfat.a: $(OWFAT_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(filter-out bin/queue-fix,$(PROGS)): bin/%: obj/src/%.o $(LIBS) obj/load
	@mkdir -p bin
	obj/load -o $@ $< $(LIBS) $(SYSLIBS)

bin/queue-fix: obj/queue-fix/queue-fix.o $(LIBS) obj/load
	@mkdir -p bin
	obj/load -o $@ $< $(LIBS) $(SYSLIBS)

# Tests: Catch2 v2 unit tests (one binary) and helper programs for the integration tests.
TEST_HELPERS := $(patsubst %.cc,obj/%,$(wildcard tests/helpers/*.cc))
obj/tests/unit: $(TEST_OBJS) $(LIBS) obj/load
	obj/load -o $@ $(TEST_OBJS) $(LIBS) -lCatch2WithMain $(SYSLIBS)

$(TEST_HELPERS): obj/tests/helpers/%: obj/tests/helpers/%.o $(LIBS) obj/load
	obj/load -o $@ $< $(LIBS) $(SYSLIBS)

.PHONY: all it check setup instcheck run bench soak clean tests fresh-check fuzz fuzz-build
tests: it obj/tests/unit $(TEST_HELPERS)

ifneq ($(filter setup,$(MAKECMDGOALS)),)
# "make setup check": check verifies the installation, as in qmail.
check: instcheck
else
# One step after the other: the packages, the build (in parallel), the tests.
check:
	@package/deps test
	@$(MAKE) --no-print-directory -j$(NPROC) tests
	@tests/run
endif

setup: it
	package/users
	package/install

instcheck: it
	package/check

run:
	@package/deps test
	@$(MAKE) --no-print-directory -j$(NPROC) it
	@package/run

# One report per file system of the scratch directory (bench/run --fs):
# /var/tmp as it is, ext4 with a journal, and xfs where mkfs.xfs exists;
# BENCH_FS="ext4j" picks some. Each run waits for the machine's bench lock.
BENCH_FS ?= root ext4j $(if $(wildcard /usr/sbin/mkfs.xfs /sbin/mkfs.xfs),xfs)
bench:
	@package/deps test
	@$(MAKE) --no-print-directory -j$(NPROC) it
	@for fs in $(BENCH_FS); do \
	  echo "bench/run --fs $$fs $(if $(QUICK),--quick)"; \
	  bench/run --fs $$fs --lock-wait 3600 $(if $(QUICK),--quick) || exit $$?; \
	done

# The soak (tests/soak/README): SOAK_SECONDS (600) of mixed load with kill -9
# and a full disk, then the drain and the oracle; obj/soak/report.md.
soak:
	@package/deps test
	@$(MAKE) --no-print-directory -j$(NPROC) it
	@tests/soak/run

fresh-check:
	package/fresh-check

clean:
	rm -rf obj bin

# Fuzzing (tests/fuzz/README): the library again, compiled by clang with
# libFuzzer's coverage and ASan+UBSan (conf-fuzz) into obj/fuzz/, never mixed
# with the g++ objects; one program per tests/fuzz/NAME_fuzz.cc in obj/fuzz/bin/.
FUZZ_NAMES := $(patsubst tests/fuzz/%_fuzz.cc,%,$(wildcard tests/fuzz/*_fuzz.cc))
FUZZ_BINS := $(patsubst %,obj/fuzz/bin/%,$(FUZZ_NAMES))
FUZZ_LIB_OBJS := $(patsubst %.cc,obj/fuzz/%.o,$(LIB_SRCS)) obj/fuzz/auto.o
FUZZ_OWFAT_OBJS := $(patsubst %.cc,obj/fuzz/%.o,$(OWFAT_SRCS))
FUZZ_LIBS := obj/fuzz/libqfleet.a obj/fuzz/libqfowfat.a obj/libowfat-private.a
FUZZ_SECONDS = 600

# conf-cc's -I and -D flags, less _FORTIFY_SOURCE (it hides errors from ASan).
obj/fuzz/compile: conf-fuzz conf-cc
	@mkdir -p obj/fuzz
	@printf '#!/bin/sh\nexec %s %s -Isrc "$$@"\n' "`head -n 1 conf-fuzz`" \
	  "`head -n 1 conf-cc | tr ' ' '\n' | grep -E '^-[DI]' | grep -v '^-D_FORTIFY_SOURCE' | tr '\n' ' '`" > $@ && chmod 755 $@
obj/fuzz/load: conf-fuzz
	@mkdir -p obj/fuzz
	@printf '#!/bin/sh\nexec %s "$$@"\n' "`sed -n 2p conf-fuzz`" > $@ && chmod 755 $@

obj/fuzz/auto.o: obj/auto.cc obj/fuzz/compile
	obj/fuzz/compile -c -o $@ $<

obj/fuzz/%.o: %.cc obj/fuzz/compile
	@mkdir -p $(dir $@)
	obj/fuzz/compile -MMD -MP -c -o $@ $<

obj/fuzz/src/owfat/%.o: src/owfat/%.cc obj/fuzz/compile obj/owfat.map
	@mkdir -p $(dir $@)
	obj/fuzz/compile -MMD -MP -c -o $@.raw $<
	objcopy --redefine-syms=obj/owfat.map $@.raw $@
	@rm -f $@.raw

obj/fuzz/libqfleet.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

obj/fuzz/libqfowfat.a: $(FUZZ_OWFAT_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BINS): obj/fuzz/bin/%: obj/fuzz/tests/fuzz/%_fuzz.o $(FUZZ_LIBS) obj/fuzz/load
	@mkdir -p obj/fuzz/bin
	obj/fuzz/load -o $@ $< $(FUZZ_LIBS) $(SYSLIBS)

fuzz-build: $(FUZZ_BINS)

# Long runs, two targets at a time (FUZZ=names for some); the corpus grows in
# obj/fuzz/corpus/NAME, logs and crashes go to obj/fuzz/out.
fuzz:
	@$(MAKE) --no-print-directory -j$(NPROC) fuzz-build
	@tests/fuzz/run -t $(FUZZ_SECONDS) -c obj/fuzz/corpus -o obj/fuzz/out $(FUZZ)

-include $(shell find obj -name '*.d' 2>/dev/null)
