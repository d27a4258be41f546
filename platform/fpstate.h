/* The FPU/SSE/AVX state as the platforms hand it out: the XSAVE area Linux puts in a signal frame
 * on this machine (its layout, size, software bytes, initial state and validity rules). Shared by
 * the ptrace and systrap backends.
 *
 * The layout (Intel SDM vol. 1, 13.4): a 512-byte legacy (fxsave) area whose bytes 464..511 are
 * free for software (Linux's signal frame puts struct _fpx_sw_bytes there), a 64-byte header
 * starting with XSTATE_BV, then the extended components at the offsets cpuid 0xd gives (the
 * standard, non-compacted format).
 */
#ifndef PLATFORM_FPSTATE_H
#define PLATFORM_FPSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FX_FCW 0
#define FX_MXCSR 24
#define FX_MXCSR_MASK 28
#define FX_SW_BYTES 464
#define FX_SIZE 512
#define XSAVE_HEADER 512
#define XSAVE_HEADER_SIZE 64
#define XSAVE_MIN (XSAVE_HEADER + XSAVE_HEADER_SIZE)
#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U
#define XFEATURE_MASK_FPSSE 0x3ULL
/* AMX tile data: Linux enables it in XCR0 but puts it in a signal frame only for tasks that
 * asked for it (arch_prctl ARCH_REQ_XCOMP_PERM), which the Sentry does not pass on. */
#define XFEATURE_MASK_XTILEDATA (1ULL << 18)

/* Read cpuid once (idempotent, thread-safe): the sizes and features below. */
void fpstate_init(void);
/* Does the machine use XSAVE (false: fxsave only, 512 bytes of FP and SSE)? */
bool fpstate_xsave(void);
/* The size of the fpstate the platforms hand out: the XSAVE area of the features Linux puts in
 * a signal frame (those enabled in XCR0 but the dynamically enabled AMX tile data). */
size_t fpstate_user_size(void);
/* Those features (XSTATE_BV bits). */
uint64_t fpstate_user_features(void);
/* The size of the XSAVE area of every feature enabled in XCR0 (what ptrace's regset holds). */
size_t fpstate_full_size(void);
/* The MXCSR bits the CPU accepts. */
uint32_t fpstate_mxcsr_mask(void);

/* Write the software bytes (464..511) Linux puts in a signal frame's fpstate into buf. */
void fpstate_put_sw_bytes(void *buf);
/* Fill buf (fpstate_user_size() bytes) with Linux's initial state (after execve): x87 and SSE at
 * their reset values, every other component in its initial state; software bytes included. */
void fpstate_initial(void *buf);
/* Would the kernel load buf (a signal frame's fpstate, fpstate_user_size() bytes)? Checks MXCSR
 * against the CPU's mask and the XSAVE header (no feature beyond the user ones, standard
 * format, reserved bytes zero). Returns 0 or -EINVAL. */
int fpstate_check(const void *buf);

#endif
