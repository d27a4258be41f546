/* FPU/SSE/AVX state of stub threads: the XSAVE area, through PTRACE_{GET,SET}REGSET. The layout
 * and sizes are platform/fpstate.h's. */
#define _GNU_SOURCE
#include "platform/ptrace/ptrace.h"

#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "common/util.h"
#include "platform/fpstate.h"

int fpstate_get(struct stub_thread *th, void *buf, size_t size)
{
	size_t n = fpstate_user_size();
	struct iovec iov = {.iov_base = buf, .iov_len = n};
	uint64_t bv;

	if (size < n)
		return -EINVAL;
	if (th->dead)
		return -ESRCH;
	if (!fpstate_xsave()) {
		if (ptrace(PTRACE_GETFPREGS, th->tid, NULL, buf) < 0)
			return -errno;
		fpstate_put_sw_bytes(buf);
		return 0;
	}
	/* The kernel copies what fits: the area up to the components we hand out. */
	if (ptrace(PTRACE_GETREGSET, th->tid, (void *)NT_X86_XSTATE, &iov) < 0)
		return -errno;
	if (iov.iov_len != n)
		return -EIO;
	/* The software bytes as Linux writes them in a signal frame (ptrace puts XCR0 there). */
	fpstate_put_sw_bytes(buf);
	memcpy(&bv, (char *)buf + XSAVE_HEADER, sizeof(bv));
	bv &= fpstate_user_features();
	memcpy((char *)buf + XSAVE_HEADER, &bv, sizeof(bv));
	return 0;
}

/* Load area (fpstate_full_size() bytes) into th. */
static int fpstate_load(struct stub_thread *th, void *area)
{
	struct iovec iov = {.iov_base = area, .iov_len = fpstate_full_size()};

	if (th->dead)
		return -ESRCH;
	if (!fpstate_xsave())
		return ptrace(PTRACE_SETFPREGS, th->tid, NULL, area) < 0 ? -errno : 0;
	/* The kernel takes only a whole regset, and checks the header and MXCSR (-EINVAL). */
	return ptrace(PTRACE_SETREGSET, th->tid, (void *)NT_X86_XSTATE, &iov) < 0 ? -errno : 0;
}

int fpstate_set(struct stub_thread *th, const void *buf, size_t size)
{
	size_t full = fpstate_full_size(), n = fpstate_user_size();
	uint8_t area[full] __attribute__((aligned(64)));
	uint64_t bv;

	if (size < n)
		return -EINVAL;
	memcpy(area, buf, n);
	memset(area + n, 0, full - n);
	if (fpstate_xsave()) {
		memcpy(&bv, area + XSAVE_HEADER, sizeof(bv));
		bv &= fpstate_user_features(); /* nothing beyond what we handed out */
		memcpy(area + XSAVE_HEADER, &bv, sizeof(bv));
	}
	return fpstate_load(th, area);
}

int fpstate_reset(struct stub_thread *th)
{
	size_t full = fpstate_full_size();
	uint8_t area[full] __attribute__((aligned(64)));

	memset(area, 0, full);
	fpstate_initial(area);
	memset(area + FX_SW_BYTES, 0, FX_SIZE - FX_SW_BYTES); /* ptrace's regset has none */
	return fpstate_load(th, area);
}
