/* Requests to a systrap stub's control thread: a syscall run in the stub for the Sentry. */
#define _GNU_SOURCE
#include "platform/systrap/systrap.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

/* The request goes in the request page (read-only in the stub, so the application cannot change
 * it), the control thread's doorbell is rung, and the Sentry waits for the request's sequence number on
 * the pipe: only the control thread can write there (filter B refuses write to application
 * threads), so when it arrives the syscall has run. The result itself comes from the result
 * page, which the application can write too: callers treat it as a claim, never as a reason to
 * do anything but fail or go on. */
long st_control(struct plat_as *as, long nr, const uint64_t a[6], uint64_t thread_ss)
{
	struct st_req *req = (struct st_req *)(as->shm + 0);
	volatile uint64_t *res = (volatile uint64_t *)(as->shm + ST_RES_OFF + RES_VAL);
	uint32_t *res_seq = (uint32_t *)(as->shm + ST_RES_OFF + RES_SEQ), seq, word = 0;
	uint32_t *sleeping = (uint32_t *)(as->shm + ST_RES_OFF + RES_SLEEPING);
	unsigned spin;
	long r;

	pthread_mutex_lock(&as->req_lock);
	if (atomic_load(&as->dead)) {
		r = -ESRCH;
		goto out;
	}
	seq = as->seq + 1;
	if (seq == 0) /* the control thread starts having served request 0 */
		seq = 1;
	as->seq = seq;
	req->nr = (uint64_t)nr;
	memcpy(req->args, a, sizeof(req->args));
	req->thread = thread_ss;
	__atomic_store_n(&req->seq, seq, __ATOMIC_RELEASE);
	/* Ring even when the control thread may be awake: it reads what piled up when it sleeps
	 * next, and a hint the application could clear must not decide whether it wakes. */
	if (write(as->bell_wr, "", 1) < 0 && errno != EAGAIN)
		log_warn("systrap stub %d: doorbell: %s", as->pid, strerror(errno));
	/* A control thread that was awake answers in a few microseconds: wait for its hint, then
	 * for the proof. One that sleeps is woken (the pipe's wake-up is synchronous) to run on
	 * this CPU, which must not be kept busy spinning meanwhile. */
	spin = __atomic_load_n(sleeping, __ATOMIC_ACQUIRE) ? 0 : st_ctl_spin_iterations();
	for (unsigned i = 0; i < spin && __atomic_load_n(res_seq, __ATOMIC_ACQUIRE) != seq; i++)
		__builtin_ia32_pause();
	for (;;) {
		ssize_t n = read(as->pipe_rd, &word, sizeof(word));

		if (n == (ssize_t)sizeof(word))
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) { /* every writer is gone: the stub died */
			atomic_store(&as->dead, true);
			r = -ESRCH;
			goto out;
		}
		st_stub_kill(as, "short read on the control pipe");
		r = -ESRCH;
		goto out;
	}
	if (word != seq) {
		st_stub_kill(as, "out-of-order control completion");
		r = -ESRCH;
		goto out;
	}
	r = (long)*res;
out:
	pthread_mutex_unlock(&as->req_lock);
	return r;
}
