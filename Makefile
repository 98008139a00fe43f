# ktstr build. Everything lands in build/; see README.md for the targets.
#
# Sources are found by wildcard so that adding a module, a test or a
# scenario never needs an edit here:
#   lib/<layer>/*.c   -> build/libktstr.a, build/libktstr.so (lib/README.md)
#   tests/<room>/*.c  -> build/tests/<room>/<name>.t   (a room per layer of
#                        lib/, and sensitivity/, fuzz/, package/; every test
#                        links tests/harness/unit.c, and tests/fuzz/*.c the
#                        engine tests/fuzz/engine.c too)
#   tests/<room>/*.t  -> run as they are (Perl, TAP::Parser)
#   tests/progs/*.c   -> build/tests/progs/<name> (helpers the .t files run)
#   tests/bench/*.c   -> build/bench/<name>
#   lib/cmd/*.c       -> build/bin/ktstr, the command (not in the library;
#                        build/libexec/ktstr/ holds what it runs, as installed)
#   scenarios/*.c     -> build/scenarios/<name>.t

CC      ?= cc
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
BINDIR  ?= $(PREFIX)/bin
EXECDIR ?= $(PREFIX)/libexec/ktstr
MANDIR  ?= $(PREFIX)/share/man
VERSION := 0.1.0
B       := build

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -Iinclude -Ilib $(WARN) $(CFLAGS)
LDLIBS  := -lpthread -lm
ALL_LDFLAGS := $(LDFLAGS)
ifeq ($(SAN),1)
ALL_CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ALL_LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC   := $(filter-out lib/cmd/%,$(sort $(wildcard lib/*.c lib/*/*.c)))
LIB_OBJ   := $(LIB_SRC:%.c=$(B)/obj/%.o)
# libktstr.so exports only what include/ declares with KT_API (ktstr/api.h);
# the library's private kt__ helpers stay inside it (tests/package/exports.t).
LIB_CFLAGS := -fvisibility=hidden
$(LIB_OBJ): ALL_CFLAGS += $(LIB_CFLAGS)
# Every folder of tests/ is a room of tests but these: helpers, benches,
# tools, Perl modules and fixtures. The harness's room holds its C code
# (linked into every test, not one itself) and its Perl tests.
NOT_ROOMS := tests/progs/ tests/bench/ tests/tools/ tests/lib/ tests/fixtures/
TEST_ROOMS := $(filter-out $(NOT_ROOMS),$(sort $(wildcard tests/*/)))
TEST_SRC  := $(filter-out tests/harness/% tests/fuzz/engine.c,$(foreach r,$(TEST_ROOMS),$(wildcard $(r)*.c)))
TESTS     := $(TEST_SRC:tests/%.c=$(B)/tests/%.t)
UNIT_OBJ  := $(B)/obj/tests/harness/unit.o
PROG_SRC  := $(wildcard tests/progs/*.c)
PROGS     := $(PROG_SRC:tests/progs/%.c=$(B)/tests/progs/%)
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCHES   := $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)
CMD_SRC   := $(wildcard lib/cmd/*.c)
CMD_OBJ   := $(CMD_SRC:%.c=$(B)/obj/%.o)
$(CMD_OBJ): ALL_CFLAGS += -DKT_VERSION='"$(VERSION)"'
# What the command runs besides the catalog, installed beside it.
CMD_EXEC  := lib/cmd/fetch-kernel.sh lib/cmd/private-apt.sh lib/cmd/junit.pl
LIBEXEC   := $(B)/libexec/ktstr
SCEN_SRC  := $(wildcard scenarios/*.c)
SCENARIOS := $(SCEN_SRC:scenarios/%.c=$(B)/scenarios/%.t)
HEADERS   := include/ktstr.h $(wildcard include/ktstr/*.h)
HDRCHECK  := $(HEADERS:include/%.h=$(B)/hdrcheck/%.o)

.PHONY: all run run-vm gauntlet check bench install uninstall clean soak power calibrate kernel scx scx-matrix distclean report FORCE
all: $(B)/libktstr.a $(B)/libktstr.so $(TESTS) $(PROGS) $(BENCHES) $(SCENARIOS) $(HDRCHECK) \
     $(B)/bin/ktstr $(LIBEXEC)/.stamp

# Rebuild everything when the compiler or flags change (CC=clang SAN=1 after
# a gcc build must not link gcc objects with clang's sanitizer runtime).
FLAGS_NOW := $(CC) $(ALL_CFLAGS) $(LIB_CFLAGS) $(ALL_LDFLAGS)
$(B)/.flags: FORCE
	@mkdir -p $(B)
	@echo '$(FLAGS_NOW)' | cmp -s - $@ || echo '$(FLAGS_NOW)' > $@
FORCE:

$(B)/obj/%.o: %.c $(B)/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# Tests include the harness and each other's fixtures by room:
# "harness/unit.h", "scx/fixture.h".
$(B)/obj/tests/%.o: ALL_CFLAGS += -Itests

$(B)/libktstr.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/libktstr.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libktstr.so.0 $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%.t: $(B)/obj/tests/%.o $(UNIT_OBJ) $(B)/libktstr.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(UNIT_OBJ) $(B)/libktstr.a $(LDLIBS)

$(B)/tests/fuzz/%.t: $(B)/obj/tests/fuzz/%.o $(B)/obj/tests/fuzz/engine.o $(UNIT_OBJ) $(B)/libktstr.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(B)/libktstr.a $(LDLIBS)

$(B)/tests/progs/%: $(B)/obj/tests/progs/%.o $(B)/libktstr.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(B)/libktstr.a $(LDLIBS)

$(B)/bench/%: $(B)/obj/tests/bench/%.o $(B)/libktstr.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(B)/libktstr.a $(LDLIBS)

$(B)/bin/ktstr: $(CMD_OBJ) $(B)/libktstr.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CMD_OBJ) $(B)/libktstr.a $(LDLIBS)

# The build tree has the installed shape, so build/bin/ktstr runs as is.
$(LIBEXEC)/.stamp: $(CMD_EXEC)
	@mkdir -p $(LIBEXEC)
	ln -sfn ../../scenarios $(LIBEXEC)/scenarios
	for f in $(CMD_EXEC); do ln -sf ../../../$$f $(LIBEXEC)/; done
	@touch $@

$(B)/scenarios/%.t: $(B)/obj/scenarios/%.o $(B)/libktstr.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(B)/libktstr.a $(LDLIBS)

# Every public header must compile on its own, as strict C11, for users
# who include just one of them and build without _GNU_SOURCE.
$(B)/hdrcheck/%.o: include/%.h $(B)/.flags
	@mkdir -p $(@D)
	printf '#include <%s>\ntypedef int kt_hdrcheck_;\n' $(<:include/%=%) | \
	  $(CC) -std=c11 -Iinclude $(WARN) -Wpedantic -x c -c - -o $@

# Every point's artifacts (DIR/<scenario>.json, .csv, .svg) land in
# build/artifacts/ unless KTSTR_ARTIFACTS names another directory;
# JUNIT=FILE also writes the results as JUnit XML (ktstr run --junit).
JUNIT ?=
run: all
ifeq ($(JUNIT),)
	KTSTR_ARTIFACTS="$${KTSTR_ARTIFACTS:-$(B)/artifacts}" prove build/scenarios/
else
	KTSTR_ARTIFACTS="$${KTSTR_ARTIFACTS:-$(B)/artifacts}" $(B)/bin/ktstr run --junit '$(JUNIT)'
endif

# build/report/index.html from an artifacts directory (README: Evidence).
ARTIFACTS ?= $(B)/artifacts
report: $(B)/bin/ktstr
	@mkdir -p $(B)/report
	$(B)/bin/ktstr report $(ARTIFACTS) -o $(B)/report/index.html
	@echo "report: $(B)/report/index.html"

# tests/package/install.t runs `make install` again: hand it the same variables so
# nothing is rebuilt under the running tests. A user's KTSTR_* settings for
# `make run` must not change what the framework's own tests see.
check: all
	env -u KTSTR_FILTER -u KTSTR_TIMEOUT -u KTSTR_VERBOSE \
	  -u KTSTR_ARTIFACTS -u KTSTR_BASELINE -u KTSTR_BASELINE_REL -u KTSTR_BASELINE_ABS \
	KT_CC='$(CC)' KT_SAN='$(SAN)' KT_CFLAGS='$(CFLAGS)' KT_LDFLAGS='$(LDFLAGS)' \
	  prove -r build/tests/ $(TEST_ROOMS)

# Every benchmark runs; one that fails says why and the others go on.
bench: all
	@rc=0; for b in $(BENCHES); do echo "# $$b"; $$b || { echo "# $$b FAILED"; rc=1; }; done; \
	exit $$rc

# Runs the whole catalog N times idle and N times with a spinner pinned to
# CPU 0 (MODE=idle or MODE=loaded for one of them; MODE=stress under
# stress-ng --cpu STRESS_CPUS, default one per CPU); VM=1 runs every point
# in a guest (the kernel of run-vm). A run fails when any point is not ok.
# Prints bench: soak.failures <k> runs and bench: soak.inconclusive <k> points;
# SOAK (default build/soak.raw, build/soak-vm.raw with VM=1) keeps every
# point's outcome and claim value (calibrate.pl --raw) for `make power`.
N ?= 20
MODE ?= both
STRESS_CPUS ?=
VM ?=
SOAK ?= $(B)/soak$(if $(VM),-vm).raw
soak: all
	$(if $(VM),KTSTR_VM=1 KTSTR_KERNEL='$(KTSTR_KERNEL)') perl tests/tools/calibrate.pl \
	  --runs $(N) --mode $(MODE) $(if $(STRESS_CPUS),--stress-cpus $(STRESS_CPUS)) --no-table \
	  --raw '$(SOAK)'

# Detection power (README): the smallest graded fault each scenario
# catches in 95% of TRIALS trials, and its false alarms in the healthy
# runs `make soak` kept in SOAK. ONLY=name[,name] runs those rows; VM=1
# the guest rows.
TRIALS ?= 20
ONLY ?=
power: all
	$(if $(VM),KTSTR_VM=1 KTSTR_KERNEL='$(KTSTR_KERNEL)') perl tests/power.pl \
	  --trials $(TRIALS) --soak '$(SOAK)' $(if $(ONLY),--only '$(ONLY)')

# Threshold calibration: N idle and N loaded runs of the catalog (README).
calibrate: all
	perl tests/tools/calibrate.pl --runs $(N)

# The catalog in QEMU guests booting the kernel from `make kernel` (or
# KTSTR_KERNEL); KTSTR_TOPOLOGY picks the default guest shape. The
# uncompressed vmlinux boots (PVH) a second faster under TCG than the
# bzImage, which tests/runner/vm_mode.t boots.
KTSTR_KERNEL ?= $(B)/kernel/vmlinux
run-vm: all kernel
	KTSTR_VM=1 KTSTR_KERNEL='$(KTSTR_KERNEL)' prove build/scenarios/

# The VM catalog across topology presets, one table (README: the gauntlet).
PRESETS ?= 1n1l2c1t 1n2l2c1t 1n1l2c2t 2n2l2c1t 1n1l4c1t
gauntlet: all kernel
	KTSTR_KERNEL='$(KTSTR_KERNEL)' perl tests/tools/matrix.pl KTSTR_TOPOLOGY $(PRESETS)

# The VM catalog under no sched_ext scheduler (EEVDF), builtin:fifo and each
# example scheduler of `make scx`, one table (README: the scheduler matrix).
SCHEDULERS ?= eevdf builtin:fifo $(addprefix $(CURDIR)/$(B)/scx/,scx_simple scx_cpu0 scx_flatcg scx_pair scx_sdt scx_userland)
scx-matrix: all kernel scx
	KTSTR_KERNEL='$(KTSTR_KERNEL)' perl tests/tools/matrix.pl KTSTR_SCHEDULER $(SCHEDULERS)

# The guest kernel for VM mode (README: VM mode); cached in build/kernel/.
kernel:
	@lib/cmd/fetch-kernel.sh $(B)/kernel

# The kernel's example sched_ext schedulers, built against that kernel's
# BTF; cached in build/scx/ (README: VM mode).
scx: kernel
	@tests/tools/build-scx.sh $(B)/scx $(B)/kernel

$(B)/ktstr.pc: FORCE
	@mkdir -p $(@D)
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCDIR)' '' \
	  'Name: ktstr' 'Description: C test harness for Linux process schedulers' 'Version: $(VERSION)' \
	  'Cflags: -I$${includedir} -pthread' 'Libs: -L$${libdir} -Wl,-rpath,$${libdir} -lktstr' \
	  'Libs.private: -lpthread -lm' > $@

install: $(B)/libktstr.a $(B)/libktstr.so $(B)/ktstr.pc $(B)/bin/ktstr $(SCENARIOS)
	install -d $(DESTDIR)$(INCDIR)/ktstr $(DESTDIR)$(LIBDIR)/pkgconfig
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(EXECDIR)/scenarios $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(B)/bin/ktstr $(DESTDIR)$(BINDIR)/
	install -m 755 $(SCENARIOS) $(DESTDIR)$(EXECDIR)/scenarios/
	install -m 755 $(CMD_EXEC) $(DESTDIR)$(EXECDIR)/
	install -m 644 lib/cmd/ktstr.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 include/ktstr.h $(DESTDIR)$(INCDIR)/
	install -m 644 $(wildcard include/ktstr/*.h) $(DESTDIR)$(INCDIR)/ktstr/
	install -m 644 $(B)/libktstr.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/libktstr.so $(DESTDIR)$(LIBDIR)/libktstr.so.$(VERSION)
	ln -sf libktstr.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libktstr.so.0
	ln -sf libktstr.so.0 $(DESTDIR)$(LIBDIR)/libktstr.so
	install -m 644 $(B)/ktstr.pc $(DESTDIR)$(LIBDIR)/pkgconfig/

uninstall:
	rm -rf $(DESTDIR)$(INCDIR)/ktstr $(DESTDIR)$(INCDIR)/ktstr.h $(DESTDIR)$(LIBDIR)/libktstr.* $(DESTDIR)$(LIBDIR)/pkgconfig/ktstr.pc
	rm -rf $(DESTDIR)$(BINDIR)/ktstr $(DESTDIR)$(EXECDIR) $(DESTDIR)$(MANDIR)/man1/ktstr.1

# clean keeps the downloads and the kernel-source build (build/kernel,
# build/scx); distclean removes them too.
clean:
	@if [ -d $(B) ]; then find $(B) -mindepth 1 -maxdepth 1 ! -name kernel ! -name scx -exec rm -rf {} +; fi

distclean:
	rm -rf $(B)

.SECONDARY:
-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
