/* shm.c: POSIX shared memory on /dev/shm: a sticky tmpfs of its own, shm_open/ftruncate/mmap
 * MAP_SHARED seen across fork and through a second shm_open, shm_unlink, named semaphores
 * (sem_open makes its file with link(2) there), and /dev/shm files' seals. */
#include "sc.h"

#include <dirent.h>
#include <semaphore.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/statfs.h>

#define TMPFS_MAGIC 0x01021994

static char g_name[64], g_sem[64];

static void cleanup(void)
{
	if (getpid() == sc_main_pid) {
		shm_unlink(g_name);
		sem_unlink(g_sem);
	}
}

static bool listed(const char *name)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	bool found = false;

	CHECK(d != NULL, "opendir /dev/shm");
	while ((e = readdir(d)))
		if (strcmp(e->d_name, name) == 0)
			found = true;
	closedir(d);
	return found;
}

static void test_dir(void)
{
	struct stat st, dev;
	struct statfs sf;

	CHECK_OK(stat("/dev/shm", &st));
	CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 01777, "mode %o", st.st_mode);
	CHECK_OK(statfs("/dev/shm", &sf));
	CHECK(sf.f_type == TMPFS_MAGIC, "a tmpfs: %#lx", (unsigned long)sf.f_type);
	CHECK_OK(stat("/dev", &dev));
	CHECK(dev.st_dev != st.st_dev, "a filesystem of its own");
	ok("shm: /dev/shm is a sticky tmpfs of its own");
}

static void test_shm_open(void)
{
	const char *name = g_name + 1;
	int fd = (int)CHECK_OK(shm_open(g_name, O_RDWR | O_CREAT | O_EXCL, 0600));

	CHECK_ERR(shm_open(g_name, O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST);
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "shm_open sets FD_CLOEXEC");
	CHECK(listed(name), "in the directory");
	CHECK_OK(ftruncate(fd, 2 * 4096));
	char *m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED, "mmap");
	strcpy(m, "from the parent");
	CHECK(fcntl(fd, F_GET_SEALS) == F_SEAL_SEAL, "a tmpfs file is sealed against sealing");

	pid_t pid = sc_fork();
	if (pid == 0) {
		CHECK(strcmp(m, "from the parent") == 0, "inherited mapping");
		/* an independent open and mapping of the same object */
		int fd2 = (int)CHECK_OK(shm_open(g_name, O_RDWR, 0));
		char *m2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 4096);
		CHECK(m2 != MAP_FAILED, "child mmap");
		strcpy(m2, "from the child");
		munmap(m2, 4096);
		close(fd2);
		_exit(0);
	}
	expect_exit(pid, 0);
	CHECK(strcmp(m + 4096, "from the child") == 0, "the child's write through its own mapping");
	char buf[16] = {0};
	CHECK(pread(fd, buf, 14, 4096) == 14 && strcmp(buf, "from the child") == 0, "read(2)");
	munmap(m, 2 * 4096);
	close(fd);
	CHECK_OK(shm_unlink(g_name));
	CHECK_ERR(shm_open(g_name, O_RDWR, 0), ENOENT);
	CHECK(!listed(name), "gone");
	CHECK_ERR(shm_unlink(g_name), ENOENT);
	ok("shm: shm_open, ftruncate, MAP_SHARED across fork and opens, shm_unlink");
}

static void test_semaphores(void)
{
	sem_t *s = sem_open(g_sem, O_CREAT | O_EXCL, 0600, 0);

	CHECK(s != SEM_FAILED, "sem_open");
	char file[80];
	snprintf(file, sizeof(file), "sem.%s", g_sem + 1);
	CHECK(listed(file), "the semaphore's file");
	pid_t pid = sc_fork();
	if (pid == 0) {
		sem_t *c = sem_open(g_sem, 0);
		CHECK(c != SEM_FAILED, "child sem_open");
		CHECK_OK(sem_post(c));
		CHECK_OK(sem_post(s)); /* the inherited mapping is the same semaphore */
		_exit(0);
	}
	expect_exit(pid, 0);
	int v = -1;
	CHECK_OK(sem_getvalue(s, &v));
	CHECK(v == 2, "two posts: %d", v);
	CHECK_OK(sem_wait(s));
	CHECK_OK(sem_trywait(s));
	CHECK_ERR(sem_trywait(s), EAGAIN);
	CHECK_OK(sem_close(s));
	CHECK_OK(sem_unlink(g_sem));
	CHECK(!listed(file), "unlinked");
	ok("shm: named semaphores across fork");
}

int main(void)
{
	snprintf(g_name, sizeof(g_name), "/runsc-c-shm-%d", (int)getpid());
	snprintf(g_sem, sizeof(g_sem), "/runsc-c-sem-%d", (int)getpid());
	atexit(cleanup);
	test_dir();
	test_shm_open();
	test_semaphores();
	return 0;
}
