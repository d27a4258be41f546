/* The XSAVE layout of this machine as Linux's signal frames use it (see fpstate.h). */
#include "platform/fpstate.h"

#include <cpuid.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

static size_t g_full_size = FX_SIZE; /* the XSAVE area of every feature in XCR0 */
static size_t g_user_size = FX_SIZE; /* what we hand out: Linux's signal frame fpstate */
static uint64_t g_user_features = XFEATURE_MASK_FPSSE;
static uint32_t g_mxcsr_mask = 0xffbf; /* the architectural default when fxsave says 0 */
static bool g_xsave;                   /* false: fxsave only */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* Linux's struct _fpx_sw_bytes, at FX_SW_BYTES of a signal frame's fpstate. */
struct fpx_sw_bytes {
	uint32_t magic1;
	uint32_t extended_size; /* the area plus the FP_XSTATE_MAGIC2 word after it */
	uint64_t xfeatures;
	uint32_t xstate_size;
	uint32_t padding[7];
};
_Static_assert(sizeof(struct fpx_sw_bytes) == 48, "fills bytes 464..511");

static void fpstate_probe(void)
{
	uint8_t fx[FX_SIZE] __attribute__((aligned(16)));
	unsigned a, b, c, d;
	uint32_t lo, hi, mask;
	uint64_t xcr0;

	memset(fx, 0, sizeof(fx));
	__asm__ volatile("fxsave %0" : "=m"(fx));
	memcpy(&mask, fx + FX_MXCSR_MASK, sizeof(mask));
	if (mask)
		g_mxcsr_mask = mask;

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
		log_warn("platform: cpuid 0xd sizes disagree (%zu > %zu)", g_user_size, g_full_size);
		g_user_size = g_full_size;
	}
}

void fpstate_init(void)
{
	pthread_once(&g_once, fpstate_probe);
}

bool fpstate_xsave(void)
{
	return g_xsave;
}

size_t fpstate_user_size(void)
{
	return g_user_size;
}

uint64_t fpstate_user_features(void)
{
	return g_user_features;
}

size_t fpstate_full_size(void)
{
	return g_full_size;
}

uint32_t fpstate_mxcsr_mask(void)
{
	return g_mxcsr_mask;
}

void fpstate_put_sw_bytes(void *buf)
{
	struct fpx_sw_bytes sw = {
		.magic1 = FP_XSTATE_MAGIC1,
		.extended_size = (uint32_t)g_user_size + 4,
		.xfeatures = g_user_features,
		.xstate_size = (uint32_t)g_user_size,
	};

	if (!g_xsave) {
		memset((char *)buf + FX_SW_BYTES, 0, sizeof(sw));
		return;
	}
	memcpy((char *)buf + FX_SW_BYTES, &sw, sizeof(sw));
}

void fpstate_initial(void *buf)
{
	uint8_t *b = buf;
	const uint16_t fcw = 0x37f;    /* x87: all exceptions masked, extended precision */
	const uint32_t mxcsr = 0x1f80; /* SSE: all exceptions masked, round to nearest */
	const uint64_t bv = XFEATURE_MASK_FPSSE; /* the rest in its initial state */

	memset(b, 0, g_user_size);
	memcpy(b + FX_FCW, &fcw, sizeof(fcw));
	memcpy(b + FX_MXCSR, &mxcsr, sizeof(mxcsr));
	memcpy(b + FX_MXCSR_MASK, &g_mxcsr_mask, sizeof(g_mxcsr_mask));
	if (g_xsave)
		memcpy(b + XSAVE_HEADER, &bv, sizeof(bv));
	fpstate_put_sw_bytes(b);
}

int fpstate_check(const void *buf)
{
	const uint8_t *b = buf;
	uint64_t bv, comp;
	uint32_t mxcsr;

	memcpy(&mxcsr, b + FX_MXCSR, sizeof(mxcsr));
	if (mxcsr & ~g_mxcsr_mask)
		return -EINVAL;
	if (!g_xsave)
		return 0;
	memcpy(&bv, b + XSAVE_HEADER, sizeof(bv));
	memcpy(&comp, b + XSAVE_HEADER + 8, sizeof(comp));
	if ((bv & ~g_user_features) || comp)
		return -EINVAL;
	for (size_t i = XSAVE_HEADER + 16; i < XSAVE_MIN; i++)
		if (b[i])
			return -EINVAL;
	return 0;
}
