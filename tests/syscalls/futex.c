/* futex.c: futex argument checks, and shared futexes between processes: a word in MAP_SHARED
 * anonymous memory, in a /dev/shm file mapped at another address by each process (the way
 * sem_open's semaphores are used), CMP_REQUEUE and WAKE_OP across processes, and private futexes
 * in shared memory that do not meet across processes. */
#include "sc.h"

#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts,
		  uint32_t *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

static void test_args(void)
{
	uint32_t w[2] = {7, 0};
	struct timespec ts = {0, 20 * 1000000L};

	CHECK_ERR(futex(w, FUTEX_WAIT_PRIVATE, 8, NULL, NULL, 0), EAGAIN);
	CHECK_ERR(futex(w, FUTEX_WAIT_PRIVATE, 7, &ts, NULL, 0), ETIMEDOUT);
	CHECK_ERR(futex((uint32_t *)((char *)w + 1), FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), EINVAL);
	CHECK_ERR(futex(w, FUTEX_WAIT_BITSET_PRIVATE, 7, NULL, NULL, 0), EINVAL);
	CHECK(futex(w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 0, "no waiter: 0 woken");
	CHECK(futex(w, FUTEX_WAKE, 1, NULL, NULL, 0) == 0, "shared, no waiter: 0 woken");
	ok("futex: EAGAIN, ETIMEDOUT, EINVAL, nothing to wake");

	/* A shared futex op looks the memory up; a private one never does. */
	uint32_t *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(none != MAP_FAILED, "mmap");
	CHECK_OK(munmap(none, 4096));
	CHECK_ERR(futex(none, FUTEX_WAKE, 1, NULL, NULL, 0), EFAULT);
	CHECK(futex(none, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 0, "private: no lookup");
	ok("futex: a shared wake on unmapped memory is EFAULT, a private one 0");
}

/* The child's side: announce itself in *ready, then wait on *word (value 0) with op; exit 0
 * when woken, 2 on a timeout, 1 on anything else. */
static void child_wait(uint32_t *word, uint32_t *ready, int op, long timeout_ms)
{
	struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};

	__atomic_store_n(ready, 1, __ATOMIC_SEQ_CST);
	long r = futex(word, op, 0, timeout_ms ? &ts : NULL, NULL, 0);
	_exit(r == 0 ? 0 : r == -1 && errno == ETIMEDOUT ? 2 : 1);
}

/* Calls wake() until it reports one waiter woken (the child may not be waiting yet); fails
 * after 20 s. */
static void wake_one(long (*wake)(void *), void *arg, const char *what)
{
	long t0 = now_ms(), r;

	while ((r = wake(arg)) == 0) {
		CHECK(now_ms() - t0 < 20000, "%s: nobody woken in 20 s", what);
		msleep(5);
	}
	CHECK(r == 1, "%s woke %ld", what, r);
}

static long wake_shared(void *word)
{
	return CHECK_OK(futex(word, FUTEX_WAKE, 1, NULL, NULL, 0));
}

static void wait_ready(uint32_t *ready)
{
	long t0 = now_ms();

	while (!__atomic_load_n(ready, __ATOMIC_SEQ_CST)) {
		CHECK(now_ms() - t0 < 20000, "child not ready in 20 s");
		msleep(1);
	}
}

static void test_shared_anon(void)
{
	uint32_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	CHECK(m != MAP_FAILED, "mmap");
	pid_t pid = sc_fork();
	if (pid == 0)
		child_wait(&m[0], &m[1], FUTEX_WAIT, 0);
	wake_one(wake_shared, &m[0], "FUTEX_WAKE in MAP_SHARED|MAP_ANONYMOUS memory");
	expect_exit(pid, 0);
	ok("futex: a shared futex in shared anonymous memory wakes another process");

	/* Private futexes are per address space, even in shared memory. */
	m[1] = 0;
	pid = sc_fork();
	if (pid == 0)
		child_wait(&m[0], &m[1], FUTEX_WAIT_PRIVATE, 100);
	wait_ready(&m[1]);
	for (int i = 0; i < 10; i++) {
		CHECK(futex(&m[0], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 0,
		      "a private wake reached another process");
		msleep(5);
	}
	expect_exit(pid, 2);
	ok("futex: private futexes in shared memory do not meet across processes");
	munmap(m, 4096);
}

/* A /dev/shm file mapped twice in the parent, so that the word's address differs from the
 * child's mapping of it: the key is the file's page, not the address. */
static void test_shared_file(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/dev/shm/sc-futex-%d", (int)getpid());
	int fd = (int)CHECK_OK(open(path, O_RDWR | O_CREAT | O_EXCL, 0600));
	CHECK_OK(unlink(path));
	CHECK_OK(ftruncate(fd, 2 * 4096));
	uint32_t *a = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(a != MAP_FAILED, "mmap");

	pid_t pid = sc_fork();
	if (pid == 0) {
		/* its own mapping of the second page, at an address of its own */
		munmap(a, 2 * 4096);
		uint32_t *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
		if (c == MAP_FAILED)
			_exit(3);
		child_wait(&c[0], &c[1], FUTEX_WAIT, 0);
	}
	uint32_t *b = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
	CHECK(b != MAP_FAILED, "mmap");
	wake_one(wake_shared, &b[0], "FUTEX_WAKE in a /dev/shm file");
	expect_exit(pid, 0);
	CHECK(futex(&a[1024], FUTEX_WAKE, 1, NULL, NULL, 0) == 0, "nobody left");
	ok("futex: a shared futex in a /dev/shm file wakes another process's mapping of it");
	munmap(b, 4096);
	munmap(a, 2 * 4096);
	close(fd);
}

struct two {
	uint32_t *from, *to;
};

static long requeue(void *arg)
{
	struct two *t = arg;
	/* CMP_REQUEUE returns woken + requeued: 0 woken, up to 1 moved */
	return CHECK_OK(futex(t->from, FUTEX_CMP_REQUEUE, 0, (struct timespec *)1, t->to, 0));
}

static long wake_op(void *arg)
{
	struct two *t = arg;
	/* *to += 0 (it stays 0, so a waiter not yet asleep still sleeps), then wake one on from,
	 * and one on to as the old *to was 0 */
	return CHECK_OK(futex(t->from, FUTEX_WAKE_OP, 1, (struct timespec *)1, t->to,
			      FUTEX_OP(FUTEX_OP_ADD, 0, FUTEX_OP_CMP_EQ, 0)));
}

static void test_requeue_wake_op(void)
{
	uint32_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED, "mmap");
	struct two t = {&m[0], &m[2]};

	pid_t pid = sc_fork();
	if (pid == 0)
		child_wait(&m[0], &m[1], FUTEX_WAIT, 0);
	wake_one(requeue, &t, "FUTEX_CMP_REQUEUE across processes");
	CHECK(futex(&m[0], FUTEX_WAKE, 1, NULL, NULL, 0) == 0, "requeued away from the first word");
	CHECK(futex(&m[2], FUTEX_WAKE, 1, NULL, NULL, 0) == 1, "woken on the second word");
	expect_exit(pid, 0);
	ok("futex: FUTEX_CMP_REQUEUE moves another process's waiter");

	m[1] = 0;
	pid = sc_fork();
	if (pid == 0)
		child_wait(&m[2], &m[1], FUTEX_WAIT, 0);
	wake_one(wake_op, &t, "FUTEX_WAKE_OP across processes");
	expect_exit(pid, 0);
	ok("futex: FUTEX_WAKE_OP wakes another process's waiter on the second word");
	CHECK(futex(&m[0], FUTEX_WAKE_OP, 1, (struct timespec *)1, &m[2],
		    FUTEX_OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 0)) == 0 && m[2] == 5,
	      "FUTEX_OP_SET: word %u", m[2]);
	ok("futex: FUTEX_WAKE_OP sets the second word");
	munmap(m, 4096);
}

struct robust {
	pthread_mutex_t m;
	uint32_t locked;
};

/* Takes the mutex and dies holding it, after delay_ms. */
static void die_holding(struct robust *r, long delay_ms)
{
	if (pthread_mutex_lock(&r->m))
		_exit(1);
	__atomic_store_n(&r->locked, 1, __ATOMIC_SEQ_CST);
	msleep(delay_ms);
	_exit(0);
}

/* pthread_mutex_lock that gives up after 20 s (ETIMEDOUT), so a lost wake-up fails the test. */
static int lock20(pthread_mutex_t *m)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	return pthread_mutex_timedlock(m, &until);
}

static void test_robust(void)
{
	struct robust *r = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
				0);
	pthread_mutexattr_t at;

	CHECK(r != MAP_FAILED, "mmap");
	CHECK(pthread_mutexattr_init(&at) == 0 &&
		  pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED) == 0 &&
		  pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST) == 0 &&
		  pthread_mutex_init(&r->m, &at) == 0,
	      "a robust, process-shared mutex");

	/* the owner is gone before the lock is tried */
	pid_t pid = sc_fork();
	if (pid == 0)
		die_holding(r, 0);
	expect_exit(pid, 0);
	int e = lock20(&r->m);
	CHECK(e == EOWNERDEAD, "lock after the owner died: %s", strerrorname_np(e));
	CHECK(pthread_mutex_consistent(&r->m) == 0 && pthread_mutex_unlock(&r->m) == 0,
	      "consistent, unlock");
	ok("futex: a robust mutex whose owner died is EOWNERDEAD for the next locker");

	/* the owner dies while the lock is being waited for: the waiter is woken */
	r->locked = 0;
	pid = sc_fork();
	if (pid == 0)
		die_holding(r, 100);
	wait_ready(&r->locked);
	e = lock20(&r->m);
	CHECK(e == EOWNERDEAD, "a waiter woken by the owner's death: %s", strerrorname_np(e));
	CHECK(pthread_mutex_consistent(&r->m) == 0 && pthread_mutex_unlock(&r->m) == 0,
	      "consistent, unlock");
	expect_exit(pid, 0);
	ok("futex: a waiter on a robust mutex is woken with EOWNERDEAD when the owner dies");

	/* a thread that exits holding it (the process lives on) */
	pthread_t th;
	CHECK(pthread_create(&th, NULL, (void *(*)(void *))pthread_mutex_lock, &r->m) == 0 &&
		  pthread_join(th, NULL) == 0,
	      "a thread locks and exits");
	e = lock20(&r->m);
	CHECK(e == EOWNERDEAD, "after the thread's exit: %s", strerrorname_np(e));
	pthread_mutex_consistent(&r->m);
	pthread_mutex_unlock(&r->m);
	ok("futex: a thread exiting with a robust mutex held leaves it EOWNERDEAD");
	munmap(r, 4096);
}

int main(void)
{
	test_args();
	test_shared_anon();
	test_shared_file();
	test_requeue_wake_op();
	test_robust();
	return 0;
}
