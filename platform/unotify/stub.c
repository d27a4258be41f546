/* The unotify stub: its code page (the signal handler, the factory, a worker's start), its two
 * seccomp filters, and the boot a new stub runs in the child the master forked. */
#define _GNU_SOURCE
#include "platform/unotify/unotify.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"

#define STR(x) #x
#define XSTR(x) STR(x)

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
_Static_assert(SECCOMP_FILTER_FLAG_NEW_LISTENER == UN_NEW_LISTENER, "the stub's seccomp flag");
_Static_assert(UN_USER_TOP == STUB_USER_TOP && UN_USER_TOP_LA57 == STUB_USER_TOP_LA57, "tops");
_Static_assert(UN_HANDOFF_NR == __NR_getppid, "the hand-off");
_Static_assert(UN_SIG_INTERRUPT == SIGUSR1, "the interrupt");
_Static_assert(UN_CODE == PLAT_STUB_BASE && UN_REGION_END <= PLAT_STUB_BASE + PLAT_STUB_REGION_SIZE,
	       "the stub region");
#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#endif

/*
 * The code, copied to UN_CODE by each stub's boot. Position independent: it refers to nothing
 * outside itself but absolute addresses of the stub region. Registers on entry:
 *  - un_boot: rsp in slot 0. Unmaps everything outside the stub region, installs F0, clones the
 *    first worker into slot 1 unasked (every address space needs one), then is the factory:
 *    waits for CTL_REQ to move and clones a worker into the slot CTL_SLOT names. The worker
 *    reports in its slot (SLOT_READY); a failed clone is reported there too.
 *  - a worker (the clone's child): r13 its slot, rsp its first stack. Sets its signal stack,
 *    installs Fw with a new listener, publishes the listener, and reports itself with an int3
 *    (not a ud2: a #UD costs a VM exit where a hypervisor intercepts it, as KVM does).
 *  - un_handler (every signal, on the worker's signal stack): rdi, rsi, rdx the signal, its
 *    siginfo and ucontext. Hands them over (with fs_base and gs_base when rdfsbase works) and
 *    runs the commands the answers carry until one says resume.
 * The generic `syscall; ret` (un_sys) is the only place most of the stub's own syscalls come
 * from, so that F0 has few instruction pointers to know.
 */
__asm__(".pushsection .rodata.unotify_stub, \"a\"\n"
	"	.balign 64\n"
	"un_code:\n"
	"un_boot:\n"
	"	xor %edi, %edi\n"
	"	movabs $" XSTR(UN_CODE) ", %rsi\n" /* [0, UN_CODE) */
	"	mov $" XSTR(__NR_munmap) ", %eax\n"
	"	syscall\n"
	"	movabs $" XSTR(UN_REGION_END) ", %rdi\n"
	"	movabs $(" XSTR(UN_USER_TOP) " - " XSTR(UN_REGION_END) "), %rsi\n"
	"	mov $" XSTR(__NR_munmap) ", %eax\n"
	"	syscall\n"
	"	movabs $" XSTR(UN_USER_TOP) ", %rdi\n" /* 5-level paging only: result ignored */
	"	movabs $(" XSTR(UN_USER_TOP_LA57) " - " XSTR(UN_USER_TOP) "), %rsi\n"
	"	mov $" XSTR(__NR_munmap) ", %eax\n"
	"	syscall\n"
	"	mov $" XSTR(SECCOMP_SET_MODE_FILTER) ", %edi\n"
	"	xor %esi, %esi\n"
	"	movabs $" XSTR(UN_PROG0) ", %rdx\n"
	"	mov $" XSTR(__NR_seccomp) ", %eax\n"
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jnz .Lboot_fail\n"
	"	movabs $" XSTR(UN_SHM) ", %rbx\n"
	"	xor %r12d, %r12d\n" /* requests answered: none (the Sentry may have asked already) */
	"	lea " XSTR(UN_SLOT_SIZE) "(%rbx), %r13\n" /* the first worker (slot 1), unasked */
	"	jmp .Lfactory_clone\n"
	".Lfactory_wait:\n"
	"	mov " XSTR(CTL_REQ) "(%rbx), %eax\n"
	"	cmp %eax, %r12d\n"
	"	jne .Lfactory_req\n"
	"	lea " XSTR(CTL_REQ) "(%rbx), %rdi\n"
	"	mov $" XSTR(FUTEX_WAIT) ", %esi\n"
	"	mov %r12d, %edx\n"
	"	xor %r10d, %r10d\n"
	"	mov $" XSTR(__NR_futex) ", %eax\n"
	"	call un_sys\n"
	"	jmp .Lfactory_wait\n"
	".Lfactory_req:\n"
	"	mov %eax, %r12d\n"
	"	mov " XSTR(CTL_SLOT) "(%rbx), %r13\n"
	".Lfactory_clone:\n"
	"	mov $" XSTR(UN_WORKER_CLONE_FLAGS) ", %edi\n"
	"	lea " XSTR(UN_INIT_SP_OFF) "(%r13), %rsi\n"
	"	xor %edx, %edx\n"
	"	lea " XSTR(SLOT_TID) "(%r13), %r10\n"
	"	xor %r8d, %r8d\n"
	"	mov $" XSTR(__NR_clone) ", %eax\n"
	"	syscall\n"
	"un_clone_ret:\n"
	"	test %rax, %rax\n"
	"	jz .Lworker\n"
	"	jns .Lfactory_wait\n" /* the new worker reports itself in its slot */
	"	mov %eax, " XSTR(SLOT_LISTENER) "(%r13)\n" /* clone failed: say so there */
	"	movl $1, " XSTR(SLOT_READY) "(%r13)\n"
	"	lea " XSTR(SLOT_READY) "(%r13), %rdi\n"
	"	mov $" XSTR(FUTEX_WAKE) ", %esi\n"
	"	mov $1, %edx\n"
	"	mov $" XSTR(__NR_futex) ", %eax\n"
	"	call un_sys\n"
	"	jmp .Lfactory_wait\n"
	".Lboot_fail:\n" /* no filter yet: any call goes */
	"	mov $" XSTR(EIO) ", %edi\n"
	"	mov $" XSTR(__NR_exit_group) ", %eax\n"
	"	syscall\n"
	"	ud2\n"
	".Lworker:\n" /* the factory blocks everything: let faults and SIGSYS in */
	"	mov $" XSTR(SIG_SETMASK) ", %edi\n"
	"	lea .Lworker_mask(%rip), %rsi\n"
	"	xor %edx, %edx\n"
	"	mov $8, %r10d\n"
	"	mov $" XSTR(__NR_rt_sigprocmask) ", %eax\n"
	"	call un_sys\n"
	"	test %rax, %rax\n"
	"	jnz .Lworker_fail\n"
	"	lea " XSTR(UN_ALTSTACK_OFF) "(%r13), %rax\n" /* its signal stack: the slot's rest */
	"	mov %rax, " XSTR(SLOT_ALTSTACK) "(%r13)\n"
	"	movq $0, " XSTR(SLOT_ALTSTACK) "+8(%r13)\n"
	"	movq $(" XSTR(UN_SLOT_SIZE) " - " XSTR(UN_ALTSTACK_OFF) "), " XSTR(SLOT_ALTSTACK) "+16(%r13)\n"
	"	lea " XSTR(SLOT_ALTSTACK) "(%r13), %rdi\n"
	"	xor %esi, %esi\n"
	"	mov $" XSTR(__NR_sigaltstack) ", %eax\n"
	"	call un_sys\n"
	"	test %rax, %rax\n"
	"	jnz .Lworker_fail\n"
	"	mov $" XSTR(SECCOMP_SET_MODE_FILTER) ", %edi\n"
	"	mov $" XSTR(UN_NEW_LISTENER) ", %esi\n"
	"	movabs $" XSTR(UN_PROGW) ", %rdx\n"
	"	mov $" XSTR(__NR_seccomp) ", %eax\n"
	"	call un_sys\n"
	"	mov %eax, " XSTR(SLOT_LISTENER) "(%r13)\n"
	"	mov %rax, %r14\n"
	"	movl $1, " XSTR(SLOT_READY) "(%r13)\n"
	"	lea " XSTR(SLOT_READY) "(%r13), %rdi\n"
	"	mov $" XSTR(FUTEX_WAKE) ", %esi\n"
	"	mov $1, %edx\n"
	"	mov $" XSTR(__NR_futex) ", %eax\n"
	"	call un_sys\n"
	"	test %r14, %r14\n"
	"	js .Lworker_fail\n"
	"un_start_trap:\n"
	"	int3\n"
	".Lworker_fail:\n"
	"	xor %edi, %edi\n"
	"	mov $" XSTR(__NR_exit) ", %eax\n"
	"	call un_sys\n"
	"	ud2\n"
	"	.balign 16, 0xcc\n"
	"un_handler:\n"
	"	mov %rsp, %rbx\n"
	"	and $-" XSTR(UN_SLOT_SIZE) ", %rbx\n"
	"	xor %r10d, %r10d\n"
	"	xor %r8d, %r8d\n"
	"	testb $" XSTR(UN_SLOT_FSGSBASE) ", " XSTR(SLOT_FLAGS) "(%rbx)\n"
	"	jz .Lhandoff\n"
	"	rdfsbase %r10\n"
	"	rdgsbase %r8\n"
	".Lhandoff:\n"
	"	mov $" XSTR(UN_HANDOFF_NR) ", %eax\n"
	"	syscall\n"
	"un_handoff_ret:\n"
	"	test %rax, %rax\n"
	"	jz .Lresume\n"
	"	cmp $" XSTR(UN_CMD_VERIFIED) ", %rax\n"
	"	je .Lverified\n"
	"	cmp $" XSTR(UN_CMD_SYSCALL) ", %rax\n"
	"	je .Lsyscall\n"
	"	cmp $" XSTR(UN_CMD_EXIT) ", %rax\n"
	"	je .Lexit\n"
	"	mov $-" XSTR(EINVAL) ", %rax\n"
	"	jmp .Ldone\n"
	".Lverified:\n" /* mmap or mprotect, which the Sentry checks before the host runs it */
	"	mov " XSTR(SLOT_ARGS) "(%rbx), %rdi\n"
	"	mov " XSTR(SLOT_ARGS) "+8(%rbx), %rsi\n"
	"	mov " XSTR(SLOT_ARGS) "+16(%rbx), %rdx\n"
	"	mov " XSTR(SLOT_ARGS) "+24(%rbx), %r10\n"
	"	mov " XSTR(SLOT_ARGS) "+32(%rbx), %r8\n"
	"	mov " XSTR(SLOT_ARGS) "+40(%rbx), %r9\n"
	"	mov " XSTR(SLOT_NR) "(%rbx), %rax\n"
	"	syscall\n"
	"un_vsys_ret:\n"
	"	jmp .Ldone\n"
	".Lsyscall:\n"
	"	mov " XSTR(SLOT_ARGS) "(%rbx), %rdi\n"
	"	mov " XSTR(SLOT_ARGS) "+8(%rbx), %rsi\n"
	"	mov " XSTR(SLOT_ARGS) "+16(%rbx), %rdx\n"
	"	mov " XSTR(SLOT_ARGS) "+24(%rbx), %r10\n"
	"	mov " XSTR(SLOT_ARGS) "+32(%rbx), %r8\n"
	"	mov " XSTR(SLOT_ARGS) "+40(%rbx), %r9\n"
	"	mov " XSTR(SLOT_NR) "(%rbx), %rax\n"
	"	call un_sys\n"
	".Ldone:\n" /* hand over again: signal 0 (a command is done) and its result */
	"	mov %rax, %rsi\n"
	"	xor %edi, %edi\n"
	"	jmp .Lhandoff\n"
	".Lresume:\n"
	"	testb $" XSTR(UN_SLOT_FSGSBASE) ", " XSTR(SLOT_FLAGS) "(%rbx)\n"
	"	jz 1f\n"
	"	mov " XSTR(SLOT_FS) "(%rbx), %rax\n"
	"	wrfsbase %rax\n"
	"	mov " XSTR(SLOT_GS) "(%rbx), %rax\n"
	"	wrgsbase %rax\n"
	"1:	add $8, %rsp\n" /* past the frame's return address, as after a ret */
	"	mov $" XSTR(__NR_rt_sigreturn) ", %eax\n"
	"	jmp un_sys\n"
	".Lexit:\n"
	"	xor %edi, %edi\n"
	"	mov $" XSTR(__NR_exit) ", %eax\n"
	"	jmp un_sys\n"
	"	.balign 16, 0xcc\n"
	"un_restorer:\n" /* never reached (the handler returns itself), but x86-64 needs one */
	"	mov $" XSTR(__NR_rt_sigreturn) ", %eax\n"
	"un_sys:\n"
	"	syscall\n"
	"un_sys_ret:\n"
	"	ret\n"
	"	ud2\n"
	"	.balign 8, 0xcc\n"
	".Lworker_mask:\n" /* all blocked but SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP */
	"	.quad ~((1 << (" XSTR(SIGSYS) " - 1)) | (1 << (" XSTR(SIGSEGV) " - 1)) | (1 << ("
	XSTR(SIGBUS) " - 1)) | (1 << (" XSTR(SIGFPE) " - 1)) | (1 << (" XSTR(SIGILL) " - 1)) | (1 << ("
	XSTR(SIGTRAP) " - 1)))\n"
	"	.org un_code + " XSTR(UN_CODE_MAX) ", 0xcc\n"
	"un_code_end:\n"
	"	.popsection\n");
extern const char un_code[], un_code_end[], un_boot[], un_handler[], un_restorer[], un_sys_ret[],
	un_vsys_ret[], un_clone_ret[], un_handoff_ret[], un_start_trap[];

struct un_image {
	uint8_t code[UN_CODE_MAX];
	struct sock_fprog prog0;
	struct sock_fprog progw;
	struct sock_filter f0[UN_F0_MAX];
	struct sock_filter fw[UN_FW_MAX];
};
_Static_assert(offsetof(struct un_image, prog0) == UN_PROG_OFF, "UN_PROG0");
_Static_assert(offsetof(struct un_image, progw) == UN_PROG_OFF + 16, "UN_PROGW");
_Static_assert(sizeof(struct un_image) <= PAGE_SIZE, "one page");

static struct un_image g_image __attribute__((aligned(4096)));
struct un_addrs g_un;

#define SD_NR offsetof(struct seccomp_data, nr)
#define SD_ARCH offsetof(struct seccomp_data, arch)
#define SD_IP_LO offsetof(struct seccomp_data, instruction_pointer)
#define SD_IP_HI (offsetof(struct seccomp_data, instruction_pointer) + 4)
#define SD_ARG_LO(i) offsetof(struct seccomp_data, args[i])
#define SD_ARG_HI(i) (offsetof(struct seccomp_data, args[i]) + 4)

/* A tiny BPF assembler with labels resolved after the fact (jumps go forward only). */
struct bpf_prog_buf {
	struct sock_filter *insn;
	int n, max;
	int label[32];     /* label -> instruction index */
	struct {           /* jumps to patch: instruction, label if true, label if false */
		int at, jt, jf;
	} fix[64];
	int nfix;
};

enum { L_NONE = -1 };

static void emit(struct bpf_prog_buf *b, struct sock_filter f)
{
	if (b->n < b->max)
		b->insn[b->n] = f;
	b->n++;
}

static void ld(struct bpf_prog_buf *b, uint32_t off)
{
	emit(b, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off));
}

static void ret(struct bpf_prog_buf *b, uint32_t v)
{
	emit(b, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, v));
}

/* if (A op k) goto jt else goto jf; L_NONE means the next instruction. */
static void jmp(struct bpf_prog_buf *b, uint16_t op, uint32_t k, int jt, int jf)
{
	if (b->nfix < (int)ARRAY_SIZE(b->fix))
		b->fix[b->nfix++] = (typeof(b->fix[0])){b->n, jt, jf};
	emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | op | BPF_K, k, 0, 0));
}

static void label(struct bpf_prog_buf *b, int l)
{
	b->label[l] = b->n;
}

/* Resolve the jumps. Returns the length, or 0 when the program did not fit. */
static int bpf_finish(struct bpf_prog_buf *b)
{
	if (b->n > b->max || b->nfix >= (int)ARRAY_SIZE(b->fix))
		return 0;
	for (int i = 0; i < b->nfix; i++) {
		int at = b->fix[i].at;
		int t = b->fix[i].jt == L_NONE ? at + 1 : b->label[b->fix[i].jt];
		int f = b->fix[i].jf == L_NONE ? at + 1 : b->label[b->fix[i].jf];

		if (t <= at || f <= at || t - at - 1 > 255 || f - at - 1 > 255)
			return 0;
		b->insn[at].jt = (uint8_t)(t - at - 1);
		b->insn[at].jf = (uint8_t)(f - at - 1);
	}
	return b->n;
}

/*
 * F0, the process's filter. Syscalls made outside the code page trap (SIGSYS: the application's
 * syscalls, whatever their architecture). From the code page, each syscall instruction may make
 * only the calls it is for, else the stub is killed:
 *  - the generic one: munmap from below PLAT_STUB_BASE, less than 4 GiB (unmapping can only
 *    take from the application itself), futex wait/wake, exit, rt_sigreturn, sigaltstack,
 *    rt_sigprocmask, close, arch_prctl ARCH_SET_FS/GS, seccomp(SET_MODE_FILTER, NEW_LISTENER);
 *  - the verified one: mmap and mprotect, which Fw turns into notifications the Sentry checks
 *    against its own request before it lets the host run them (mprotect too: PROT_WRITE on a
 *    page shared copy-on-write with another process would let this one write into that one);
 *  - the factory's clone: the worker flags exactly;
 *  - the hand-off: getppid (Fw notifies it; never run by the host).
 * The application can jump to any of these instructions with registers of its choosing; what it
 * can do that way is the list above, on itself.
 */
enum { F_TRAP, F_KILL, F_ALLOW, F_GENERIC, F_RANGE, F_FUTEX, F_ARCH, F_SECCOMP, F_MMAP, F_CLONE,
       F_HANDOFF };

static int build_f0(struct sock_filter *out, int max)
{
	struct bpf_prog_buf b = {.insn = out, .max = max};

	ld(&b, SD_ARCH);
	jmp(&b, BPF_JEQ, AUDIT_ARCH_X86_64, L_NONE, F_TRAP);
	ld(&b, SD_IP_HI);
	jmp(&b, BPF_JEQ, (uint32_t)(UN_CODE >> 32), L_NONE, F_TRAP);
	ld(&b, SD_IP_LO);
	jmp(&b, BPF_JEQ, (uint32_t)g_un.sys_ret, F_GENERIC, L_NONE);
	jmp(&b, BPF_JEQ, (uint32_t)g_un.vsys_ret, F_MMAP, L_NONE);
	jmp(&b, BPF_JEQ, (uint32_t)g_un.clone_ret, F_CLONE, L_NONE);
	jmp(&b, BPF_JEQ, (uint32_t)g_un.handoff_ret, F_HANDOFF, F_KILL);

	label(&b, F_GENERIC);
	ld(&b, SD_NR);
	jmp(&b, BPF_JEQ, __NR_munmap, F_RANGE, L_NONE);
	jmp(&b, BPF_JEQ, __NR_futex, F_FUTEX, L_NONE);
	jmp(&b, BPF_JEQ, __NR_exit, F_ALLOW, L_NONE);
	jmp(&b, BPF_JEQ, __NR_rt_sigreturn, F_ALLOW, L_NONE);
	jmp(&b, BPF_JEQ, __NR_sigaltstack, F_ALLOW, L_NONE);
	jmp(&b, BPF_JEQ, __NR_rt_sigprocmask, F_ALLOW, L_NONE);
	jmp(&b, BPF_JEQ, __NR_close, F_ALLOW, L_NONE);
	jmp(&b, BPF_JEQ, __NR_arch_prctl, F_ARCH, L_NONE);
	jmp(&b, BPF_JEQ, __NR_seccomp, F_SECCOMP, F_KILL);

	label(&b, F_RANGE);
	ld(&b, SD_ARG_HI(0));
	jmp(&b, BPF_JGE, (uint32_t)(PLAT_STUB_BASE >> 32), F_KILL, L_NONE);
	ld(&b, SD_ARG_HI(1));
	jmp(&b, BPF_JEQ, 0, F_ALLOW, F_KILL);

	label(&b, F_FUTEX);
	ld(&b, SD_ARG_LO(1));
	jmp(&b, BPF_JEQ, FUTEX_WAIT, F_ALLOW, L_NONE);
	jmp(&b, BPF_JEQ, FUTEX_WAKE, F_ALLOW, F_KILL);

	label(&b, F_ARCH);
	ld(&b, SD_ARG_LO(0));
	jmp(&b, BPF_JEQ, 0x1002 /* ARCH_SET_FS */, F_ALLOW, L_NONE);
	jmp(&b, BPF_JEQ, 0x1001 /* ARCH_SET_GS */, F_ALLOW, F_KILL);

	label(&b, F_SECCOMP);
	ld(&b, SD_ARG_LO(0));
	jmp(&b, BPF_JEQ, SECCOMP_SET_MODE_FILTER, L_NONE, F_KILL);
	ld(&b, SD_ARG_LO(1));
	jmp(&b, BPF_JEQ, SECCOMP_FILTER_FLAG_NEW_LISTENER, F_ALLOW, F_KILL);

	label(&b, F_MMAP);
	ld(&b, SD_NR);
	jmp(&b, BPF_JEQ, __NR_mmap, F_ALLOW, L_NONE);
	jmp(&b, BPF_JEQ, __NR_mprotect, F_ALLOW, F_KILL);

	label(&b, F_CLONE);
	ld(&b, SD_NR);
	jmp(&b, BPF_JEQ, __NR_clone, L_NONE, F_KILL);
	ld(&b, SD_ARG_LO(0));
	jmp(&b, BPF_JEQ, UN_WORKER_CLONE_FLAGS, L_NONE, F_KILL);
	ld(&b, SD_ARG_HI(0));
	jmp(&b, BPF_JEQ, 0, F_ALLOW, F_KILL);

	label(&b, F_HANDOFF);
	ld(&b, SD_NR);
	jmp(&b, BPF_JEQ, UN_HANDOFF_NR, F_ALLOW, F_KILL);

	label(&b, F_ALLOW);
	ret(&b, SECCOMP_RET_ALLOW);
	label(&b, F_KILL);
	ret(&b, SECCOMP_RET_KILL_PROCESS);
	label(&b, F_TRAP);
	ret(&b, SECCOMP_RET_TRAP);
	return bpf_finish(&b);
}

/* Fw, each worker's own filter (with its listener): the hand-off and the verified syscall are
 * notifications to the Sentry thread that runs this worker; anything else is F0's to decide
 * (ALLOW is the weakest action, so the strictest filter wins). */
enum { W_ALLOW, W_NOTIFY };

static int build_fw(struct sock_filter *out, int max)
{
	struct bpf_prog_buf b = {.insn = out, .max = max};

	ld(&b, SD_IP_HI);
	jmp(&b, BPF_JEQ, (uint32_t)(UN_CODE >> 32), L_NONE, W_ALLOW);
	ld(&b, SD_IP_LO);
	jmp(&b, BPF_JEQ, (uint32_t)g_un.handoff_ret, W_NOTIFY, L_NONE);
	jmp(&b, BPF_JEQ, (uint32_t)g_un.vsys_ret, W_NOTIFY, W_ALLOW);
	label(&b, W_ALLOW);
	ret(&b, SECCOMP_RET_ALLOW);
	label(&b, W_NOTIFY);
	ret(&b, SECCOMP_RET_USER_NOTIF);
	return bpf_finish(&b);
}

static uint64_t code_addr(const char *label_)
{
	return UN_CODE + (uint64_t)(label_ - un_code);
}

void un_stub_init(void)
{
	int n0, nw;

	if (g_un.boot)
		return;
	g_un = (struct un_addrs){
		.boot = code_addr(un_boot),
		.handler = code_addr(un_handler),
		.restorer = code_addr(un_restorer),
		.sys_ret = code_addr(un_sys_ret),
		.vsys_ret = code_addr(un_vsys_ret),
		.clone_ret = code_addr(un_clone_ret),
		.handoff_ret = code_addr(un_handoff_ret),
		.start_rip = code_addr(un_start_trap) + 1, /* past the int3 */
	};
	memset(&g_image, 0xcc, sizeof(g_image.code));
	memcpy(g_image.code, un_code, (size_t)(un_code_end - un_code));
	n0 = build_f0(g_image.f0, UN_F0_MAX);
	nw = build_fw(g_image.fw, UN_FW_MAX);
	/* The programs are fixed; a size change shows up in the unit tests at once. */
	if (n0 == 0 || nw == 0)
		abort();
	g_image.prog0 = (struct sock_fprog){
		.len = (unsigned short)n0,
		.filter = (struct sock_filter *)(UN_CODE + offsetof(struct un_image, f0))};
	g_image.progw = (struct sock_fprog){
		.len = (unsigned short)nw,
		.filter = (struct sock_filter *)(UN_CODE + offsetof(struct un_image, fw))};
}

/* What the stubs' own code makes, beyond a boot's calls (for the master's filter). */
const struct stub_master_rule un_stub_rules[] = {
	{__NR_mprotect, -1, 0},
	{__NR_clone, 0, UN_WORKER_CLONE_FLAGS},
	{__NR_sigaltstack, -1, 0},
	{__NR_rt_sigreturn, -1, 0},
	{__NR_arch_prctl, -1, 0},
	{__NR_getppid, -1, 0}, /* the hand-off (notified by Fw) */
	{__NR_seccomp, 0, SECCOMP_SET_MODE_FILTER},
};
const size_t un_stub_nrules = ARRAY_SIZE(un_stub_rules);

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

/* The kernel's struct sigaction for rt_sigaction(2). */
struct ksigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

void un_stub_boot(const struct stub_boot *b)
{
	const int fds[2] = {b->memfd, b->shmfd}; /* to fds 0 (UN_FD_MEMFILE) and 1 */
	const int sigs[] = {SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, UN_SIG_INTERRUPT};
	struct ksigaction ka = {
		.handler = g_un.handler,
		.flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
		.restorer = g_un.restorer,
		.mask = ~0ULL,
	};
	int err;
	long p;

	_Static_assert(UN_FD_MEMFILE == 0, "the prelude puts fds[0] at 0");
	if ((err = stub_child_prelude(b->sentry, fds, 2)) != 0)
		stub_child_exit(err);
	/* Every signal stays blocked in the factory (the prelude's mask; a signal sent to the
	 * process must not run the handler there). A worker lets the faults and SIGSYS in (they
	 * are forced through a mask, and a forced blocked signal kills), and, while it runs the
	 * application, the interrupt. Its own session: the terminal's job-control signals are
	 * not for it. */
	syscall(SYS_setsid);
	if (syscall(SYS_mmap, UN_SHM, UN_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		    1, 0) == -1)
		stub_child_exit(errno);
	syscall(SYS_close, 1);
	/* un_boot makes the first worker at once: it needs its flags now. */
	((struct un_slot *)(UN_SHM + UN_SLOT_SIZE))->flags = g_un_fsgsbase ? UN_SLOT_FSGSBASE : 0;
	p = syscall(SYS_mmap, UN_CODE, PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == -1)
		stub_child_exit(errno);
	memcpy((void *)p, &g_image, sizeof(g_image));
	if (syscall(SYS_mprotect, UN_CODE, PAGE_SIZE, PROT_READ | PROT_EXEC) < 0)
		stub_child_exit(errno);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		if (syscall(SYS_rt_sigaction, sigs[i], &ka, NULL, sizeof(ka.mask)) < 0)
			stub_child_exit(errno);
	if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		stub_child_exit(errno);
	/* Onto slot 0's stack, into the code page: nothing of this image survives un_boot. */
	__asm__ volatile("mov %0, %%rsp\n\tjmp *%1"
			 :
			 : "r"(UN_SHM + UN_INIT_SP_OFF), "r"(g_un.boot)
			 : "memory");
	__builtin_unreachable();
}
