# runsc-c: one flat, non-recursive Makefile. Objects under build/obj, generated files under build/gen.
CC      ?= gcc
SAN     ?=
O       ?= 2
CFLAGS  ?= -O$(O) -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter \
           -Wno-missing-field-initializers -fno-strict-aliasing -I. -Ibuild/gen -MMD -MP
ifneq ($(SAN),)
CFLAGS  += -fsanitize=$(SAN) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SAN)
endif
LDLIBS  := -lseccomp -luring -lxxhash -ljson-c -lcap -lpthread
# runsc-c is linked statically: every sandbox execs it three times (CLI, gofer, Sentry), and
# without the dynamic loader each start is shorter (docs/performance.md). Sanitizers need the
# dynamic runtime.
ifeq ($(SAN),)
RUNSC_LDFLAGS := -static
endif

B := build
MODULES := common abi platform gofer sentry runsc-c
CORE_SRC := $(filter-out runsc-c/main.c,$(shell find $(MODULES) -name '*.c' | sort))
CORE_OBJ := $(CORE_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/vdso_image.o
MAIN_OBJ := $(B)/obj/runsc-c/main.o

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)

PROG_SRC := $(sort $(wildcard tests/progs/*.c))
PROG_BIN := $(PROG_SRC:tests/progs/%.c=$(B)/tests/progs/%)

SYSCALL_SRC := $(sort $(wildcard tests/syscalls/*.c))
SYSCALL_BIN := $(SYSCALL_SRC:tests/syscalls/%.c=$(B)/tests/syscalls/%)

TTY_DRIVE := $(B)/tests/tty/ptydrive

BENCH_SRC := $(sort $(wildcard benchmarks/*.c))
BENCH_BIN := $(BENCH_SRC:benchmarks/%.c=$(B)/benchmarks/%)
BENCH_TOOLS := $(B)/benchmarks/tools/cmdtime

.PHONY: all deps demo test unit progs check-progs syscalls check-syscalls workloads security tty clients \
	clean format bench bench-deps bench-peers
all: $(B)/runsc-c docs/compatibility.md

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# The Sentry's seccomp program, compiled from its allowlist by libseccomp at build time
# (tools/sentry_bpf.c), so that the Sentry's boot loads it without compiling it.
$(B)/tools/sentry_bpf: tools/sentry_bpf.c $(B)/obj/runsc-c/sentry_seccomp.o $(B)/obj/common/log.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lseccomp

$(B)/gen/sentry_bpf.h: $(B)/tools/sentry_bpf
	@mkdir -p $(dir $@)
	$< > $@.tmp && mv $@.tmp $@

$(B)/obj/runsc-c/sentry_seccomp_load.o: $(B)/gen/sentry_bpf.h

# The sandbox's vDSO (vdso/): freestanding and position independent, its own flags (no
# sanitizer, no stack protector), linked at 0 by vdso.lds; a build that gave it relocations
# fails. Embedded in the binary as vdso_image[] (sentry/loader/vdso_map.c).
VDSO_CFLAGS := -std=gnu11 -O2 -I. -fPIC -ffreestanding -fno-builtin -fno-stack-protector \
	-fcf-protection=none -Wall -Wextra -Wshadow -MMD -MP
$(B)/vdso/vdso.o: vdso/vdso.c
	@mkdir -p $(dir $@)
	$(CC) $(VDSO_CFLAGS) -c $< -o $@

$(B)/vdso/vdso.so: $(B)/vdso/vdso.o vdso/vdso.lds
	$(CC) -nostdlib -shared -Wl,-T,vdso/vdso.lds -Wl,-soname=linux-vdso.so.1 \
		-Wl,--hash-style=both -Wl,--eh-frame-hdr -Wl,--no-undefined -Wl,--build-id=none \
		-o $@ $<
	@if readelf -r $@ | grep -q 'Relocation section'; then \
		echo "$@: the vDSO must have no relocations" >&2; rm -f $@; exit 1; fi

$(B)/gen/vdso_image.S: | $(B)/vdso/vdso.so
	@mkdir -p $(dir $@)
	@printf '%s\n' '.section .rodata' '.balign 4096' '.globl vdso_image, vdso_image_end' \
		'vdso_image:' '.incbin "$(B)/vdso/vdso.so"' 'vdso_image_end:' \
		'.section .note.GNU-stack,"",@progbits' > $@

$(B)/obj/gen/vdso_image.o: $(B)/gen/vdso_image.S $(B)/vdso/vdso.so
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@

$(B)/libcore.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/runsc-c: $(MAIN_OBJ) $(B)/libcore.a
	$(CC) $(LDFLAGS) $(RUNSC_LDFLAGS) -o $@ $(MAIN_OBJ) $(B)/libcore.a $(LDLIBS)

$(B)/tests/unit/%: tests/unit/%.c $(B)/libcore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libcore.a $(LDLIBS) -lcriterion

# Guest test programs: static, so they run the same natively and in the sandbox.
$(B)/tests/progs/%: tests/progs/%.c tests/progs/check.h
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -static -Wall -o $@ $<

progs: $(PROG_BIN)

# Syscall conformance tests: static too; each checks itself, natively and in the sandbox.
$(B)/tests/syscalls/%: tests/syscalls/%.c tests/syscalls/sc.h tests/progs/check.h
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -static -Wall -o $@ $<

syscalls: $(SYSCALL_BIN)

# The pty driver of the interactive-shell tests (tests/tty): a host program, not a guest one.
$(TTY_DRIVE): tests/tty/ptydrive.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -Wall -Wextra -Wshadow -Wformat=2 -o $@ $< -lutil

# The compatibility table comes from the binary's dispatch table (checked in; the README states its
# count). tests/compat/run.sh fails when either is stale.
docs/compatibility.md: $(B)/runsc-c scripts/gen-compat.sh docs/runtime-syscalls.txt
	@scripts/gen-compat.sh $(B)/runsc-c

# Benchmarks: static, so the same binary runs natively and in the sandbox. Not part of `make test`.
# bench-deps installs what the report needs (python3, gnuplot); bench-peers also the sandboxes
# compared against (gVisor's runsc, proot, bwrap). See benchmarks/run.sh for BENCH_* variables.
$(B)/benchmarks/%: benchmarks/%.c benchmarks/bench.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -static -Wall -Wextra -Wno-unused-parameter -o $@ $<

bench-deps:
	@benchmarks/deps.sh

bench-peers:
	@benchmarks/deps.sh --peers

bench: bench-deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN) $(BENCH_TOOLS)
	@benchmarks/run.sh

# deps first, then build: the build needs the packages (a plain prerequisite list could be
# reordered by make -j).
deps:
	@scripts/deps.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

unit: $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

check-progs: all progs
	@tests/progs/run.sh

check-syscalls: all syscalls
	@tests/syscalls/run.sh

workloads: all
	@tests/workloads/run.sh

security: all progs
	@tests/security/run.sh

tty: all $(TTY_DRIVE)
	@tests/tty/run.sh

# podman and containerd against RUNTIME (default runc; e.g. make clients RUNTIME=build/runsc-c).
clients: all $(TTY_DRIVE)
	@tests/oci/clients.sh

test: deps
	@$(MAKE) --no-print-directory all progs syscalls $(TTY_DRIVE) $(UNIT_BIN)
	@UNIT_BIN="$(UNIT_BIN)" scripts/test.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
