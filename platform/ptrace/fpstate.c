/* FPU/SSE/AVX state of stub threads: the XSAVE area, through PTRACE_{GET,SET}REGSET. */
#define _GNU_SOURCE
#include "platform/ptrace/ptrace.h"

#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "common/log.h"
#include "common/util.h"

/* The XSAVE layout (Intel SDM vol. 1, 13.4): a 512-byte legacy (fxsave) area whose bytes
 * 464..511 are free for software (Linux's signal frame puts struct _fpx_sw_bytes there), a
 * 64-byte header starting with XSTATE_BV, then the extended components at the offsets cpuid
 * 0xd gives. */
#define FX_FCW 0
#define FX_MXCSR 24
#define FX_SW_BYTES 464
#define XSAVE_HEADER 512
#define XSAVE_MIN 576
#define FP_XSTATE_MAGIC1 0x46505853U
#define XFEATURE_MASK_FPSSE 0x3ULL
/* AMX tile data: Linux enables it in XCR0 but puts it in a signal frame only for tasks that
 * asked for it (arch_prctl ARCH_REQ_XCOMP_PERM), which the Sentry does not pass on. */
#define XFEATURE_MASK_XTILEDATA (1ULL << 18)

static size_t g_full_size = 512; /* what the kernel's NT_X86_XSTATE regset holds */
static size_t g_user_size = 512; /* what we hand out: Linux's signal frame fpstate */
static uint64_t g_user_features = XFEATURE_MASK_FPSSE;
static bool g_xsave;             /* false: fxsave only (PTRACE_GETFPREGS) */

/* Linux's struct _fpx_sw_bytes, at FX_SW_BYTES of a signal frame's fpstate. */
struct fpx_sw_bytes {
	uint32_t magic1;
	uint32_t extended_size; /* the area plus the FP_XSTATE_MAGIC2 word after it */
	uint64_t xfeatures;
	uint32_t xstate_size;
	uint32_t padding[7];
};
_Static_assert(sizeof(struct fpx_sw_bytes) == 48, "fills bytes 464..511");

void fpstate_init(void)
{
	unsigned a, b, c, d;
	uint32_t lo, hi;
	uint64_t xcr0;

	__cpuid(1, a, b, c, d);
	if (!(c & bit_OSXSAVE))
		return; /* fxsave: 512 bytes, FP and SSE */
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	xcr0 = (uint64_t)hi << 32 | lo;
	__cpuid_count(0xd, 0, a, b, c, d);
	g_xsave = true;
	g_full_size = b; /* the size for the features enabled in XCR0 */
	g_user_features = xcr0 & ~XFEATURE_MASK_XTILEDATA;
	g_user_size = XSAVE_MIN;
	for (int i = 2; i < 63; i++) {
		if (!(g_user_features & (1ULL << i)))
			continue;
		__cpuid_count(0xd, (unsigned)i, a, b, c, d); /* eax size, ebx offset */
		g_user_size = MAX(g_user_size, (size_t)b + a);
	}
	if (g_user_size > g_full_size) {
		log_warn("ptrace: cpuid 0xd sizes disagree (%zu > %zu)", g_user_size, g_full_size);
		g_user_size = g_full_size;
	}
}

size_t fpstate_user_size(void)
{
	return g_user_size;
}

int fpstate_get(struct stub_thread *th, void *buf, size_t size)
{
	struct iovec iov = {.iov_base = buf, .iov_len = g_user_size};
	struct fpx_sw_bytes sw = {
		.magic1 = FP_XSTATE_MAGIC1,
		.extended_size = (uint32_t)g_user_size + 4,
		.xfeatures = g_user_features,
		.xstate_size = (uint32_t)g_user_size,
	};
	uint64_t bv;

	if (size < g_user_size)
		return -EINVAL;
	if (th->dead)
		return -ESRCH;
	if (!g_xsave) {
		if (ptrace(PTRACE_GETFPREGS, th->tid, NULL, buf) < 0)
			return -errno;
		memset((char *)buf + FX_SW_BYTES, 0, sizeof(sw));
		return 0;
	}
	/* The kernel copies what fits: the area up to the components we hand out. */
	if (ptrace(PTRACE_GETREGSET, th->tid, (void *)NT_X86_XSTATE, &iov) < 0)
		return -errno;
	if (iov.iov_len != g_user_size)
		return -EIO;
	/* The software bytes as Linux writes them in a signal frame (ptrace puts XCR0 there). */
	memcpy((char *)buf + FX_SW_BYTES, &sw, sizeof(sw));
	memcpy(&bv, (char *)buf + XSAVE_HEADER, sizeof(bv));
	bv &= g_user_features;
	memcpy((char *)buf + XSAVE_HEADER, &bv, sizeof(bv));
	return 0;
}

/* Load area (g_full_size bytes) into th. */
static int fpstate_load(struct stub_thread *th, void *area)
{
	struct iovec iov = {.iov_base = area, .iov_len = g_full_size};

	if (th->dead)
		return -ESRCH;
	if (!g_xsave)
		return ptrace(PTRACE_SETFPREGS, th->tid, NULL, area) < 0 ? -errno : 0;
	/* The kernel takes only a whole regset, and checks the header and MXCSR (-EINVAL). */
	return ptrace(PTRACE_SETREGSET, th->tid, (void *)NT_X86_XSTATE, &iov) < 0 ? -errno : 0;
}

int fpstate_set(struct stub_thread *th, const void *buf, size_t size)
{
	uint8_t area[g_full_size] __attribute__((aligned(64)));
	uint64_t bv;

	if (size < g_user_size)
		return -EINVAL;
	memcpy(area, buf, g_user_size);
	memset(area + g_user_size, 0, g_full_size - g_user_size);
	if (g_xsave) {
		memcpy(&bv, area + XSAVE_HEADER, sizeof(bv));
		bv &= g_user_features; /* nothing beyond what we handed out */
		memcpy(area + XSAVE_HEADER, &bv, sizeof(bv));
	}
	return fpstate_load(th, area);
}

int fpstate_reset(struct stub_thread *th)
{
	uint8_t area[g_full_size] __attribute__((aligned(64)));
	const uint16_t fcw = 0x37f;      /* x87: all exceptions masked, extended precision */
	const uint32_t mxcsr = 0x1f80;   /* SSE: all exceptions masked, round to nearest */
	const uint64_t bv = XFEATURE_MASK_FPSSE; /* the rest in its initial state */

	memset(area, 0, g_full_size);
	memcpy(area + FX_FCW, &fcw, sizeof(fcw));
	memcpy(area + FX_MXCSR, &mxcsr, sizeof(mxcsr));
	if (g_xsave)
		memcpy(area + XSAVE_HEADER, &bv, sizeof(bv));
	return fpstate_load(th, area);
}
