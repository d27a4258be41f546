/* memfd.c: memfd_create: flags and name rules, an unlinked regular file (nlink 0, its
 * "/memfd:NAME (deleted)" name), I/O, seals (F_ADD_SEALS/F_GET_SEALS: SEAL, SHRINK, GROW,
 * WRITE, FUTURE_WRITE, EXEC, and their errors), MFD_NOEXEC_SEAL, and MAP_SHARED mappings that
 * a forked child shares. */
#include "sc.h"

#include <sys/mman.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

static int mfd(const char *name, unsigned flags)
{
	return (int)CHECK_OK(syscall(SYS_memfd_create, name, flags));
}

static void test_create(void)
{
	char name[300];
	struct stat st;

	CHECK_ERR(syscall(SYS_memfd_create, "x", 0x100), EINVAL);
	CHECK_ERR(syscall(SYS_memfd_create, "x", MFD_EXEC | MFD_NOEXEC_SEAL), EINVAL);
	CHECK_ERR(syscall(SYS_memfd_create, NULL, 0), EFAULT);
	memset(name, 'n', sizeof(name));
	name[250] = 0;
	CHECK_ERR(syscall(SYS_memfd_create, name, 0), EINVAL);
	name[249] = 0;
	int longest = mfd(name, MFD_CLOEXEC);
	close(longest);

	int fd = mfd("test", 0);
	CHECK(fcntl(fd, F_GETFD) == 0, "no cloexec");
	CHECK(fcntl(fd, F_GETFL) == (O_RDWR | 0100000), "O_RDWR|O_LARGEFILE: %#x",
	      fcntl(fd, F_GETFL));
	CHECK_OK(fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0777 && st.st_nlink == 0 &&
		  st.st_size == 0,
	      "mode %o nlink %lu", st.st_mode, (unsigned long)st.st_nlink);
	char link[300] = {0}, proc[32];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	CHECK(readlink(proc, link, sizeof(link) - 1) > 0, "readlink");
	CHECK(strcmp(link, "/memfd:test (deleted)") == 0, "link %s", link);
	int fd2 = mfd("test", MFD_CLOEXEC);
	CHECK(fcntl(fd2, F_GETFD) == FD_CLOEXEC, "MFD_CLOEXEC");
	CHECK(fd2 != fd, "a second one of the same name");

	/* I/O */
	CHECK(write(fd, "hello world", 11) == 11, "write");
	CHECK_OK(fstat(fd, &st));
	CHECK(st.st_size == 11, "size");
	char buf[16] = {0};
	CHECK(pread(fd, buf, sizeof(buf), 6) == 5 && memcmp(buf, "world", 5) == 0, "pread");
	CHECK(pread(fd2, buf, sizeof(buf), 0) == 0, "separate files");
	CHECK_OK(ftruncate(fd, 4096));
	CHECK(lseek(fd, 0, SEEK_END) == 4096, "truncated up");
	/* reopened through /proc: the same file */
	int again = (int)CHECK_OK(open(proc, O_RDONLY | O_CLOEXEC));
	CHECK(pread(again, buf, 5, 0) == 5 && memcmp(buf, "hello", 5) == 0, "reopen");
	close(again);
	close(fd2);
	close(fd);
	ok("memfd: flags, name rules, an unlinked file, its name, I/O");
}

static void test_seals(void)
{
	int fd = mfd("noseal", 0);

	CHECK(fcntl(fd, F_GET_SEALS) == F_SEAL_SEAL, "sealed against sealing");
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	close(fd);

	fd = mfd("seals", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	CHECK(fcntl(fd, F_GET_SEALS) == 0, "no seals");
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, 0x1000), EINVAL);
	CHECK(write(fd, "abcd", 4) == 4, "write");
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	CHECK(fcntl(fd, F_GET_SEALS) == F_SEAL_GROW, "GROW");
	CHECK_ERR(pwrite(fd, "xyz", 3, 2), EPERM);
	CHECK(pwrite(fd, "XY", 2, 2) == 2, "a write inside is fine");
	CHECK_ERR(ftruncate(fd, 100), EPERM);
	CHECK_OK(ftruncate(fd, 3));
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	CHECK_ERR(ftruncate(fd, 1), EPERM);
	CHECK_OK(ftruncate(fd, 3)); /* the same size is neither */
	/* a read-only open of the same file may not add seals */
	char proc[32];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	int ro = (int)CHECK_OK(open(proc, O_RDONLY | O_CLOEXEC));
	CHECK_ERR(fcntl(ro, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	CHECK(fcntl(ro, F_GET_SEALS) == (F_SEAL_GROW | F_SEAL_SHRINK), "shared by every open");
	close(ro);
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	CHECK_ERR(pwrite(fd, "q", 1, 0), EPERM);
	char c;
	CHECK(pread(fd, &c, 1, 0) == 1 && c == 'a', "reads still work");
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	CHECK_ERR(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), EPERM);
	CHECK(fcntl(fd, F_GET_SEALS) == (F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_WRITE | F_SEAL_SEAL),
	      "all of them");
	close(fd);

	fd = mfd("future", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	CHECK_ERR(write(fd, "x", 1), EPERM);
	close(fd);

	/* F_SEAL_EXEC on an executable memfd implies the write seals */
	fd = mfd("exec", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	CHECK_OK(fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC));
	CHECK(fcntl(fd, F_GET_SEALS) ==
		  (F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE),
	      "W^X: %#x", fcntl(fd, F_GET_SEALS));
	close(fd);
	/* MFD_NOEXEC_SEAL: not executable, sealed against exec, sealable */
	fd = mfd("noexec", MFD_NOEXEC_SEAL | MFD_CLOEXEC);
	struct stat st;
	CHECK_OK(fstat(fd, &st));
	CHECK((st.st_mode & 07777) == 0666, "mode %o", st.st_mode & 07777);
	CHECK(fcntl(fd, F_GET_SEALS) == F_SEAL_EXEC, "seals %#x", fcntl(fd, F_GET_SEALS));
	CHECK(write(fd, "ok", 2) == 2, "still writable");
	close(fd);

	/* not a memfd: a pipe has no seals */
	int p[2];
	CHECK_OK(pipe(p));
	CHECK_ERR(fcntl(p[0], F_GET_SEALS), EINVAL);
	CHECK_ERR(fcntl(p[1], F_ADD_SEALS, F_SEAL_WRITE), EINVAL);
	close(p[0]);
	close(p[1]);
	ok("memfd: seals and their errors, MFD_NOEXEC_SEAL");
}

static void test_shared_mapping(void)
{
	int fd = mfd("map", MFD_CLOEXEC);

	CHECK_OK(ftruncate(fd, 8192));
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED, "mmap");
	strcpy(m, "parent");
	pid_t pid = sc_fork();
	if (pid == 0) {
		CHECK(strcmp(m, "parent") == 0, "the child sees the parent's write");
		strcpy(m + 4096, "child");
		char buf[8] = {0};
		CHECK(pread(fd, buf, 6, 0) == 6 && strcmp(buf, "parent") == 0, "pread in child");
		_exit(0);
	}
	expect_exit(pid, 0);
	CHECK(strcmp(m + 4096, "child") == 0, "the parent sees the child's write");
	char buf[8] = {0};
	CHECK(pread(fd, buf, 5, 4096) == 5 && strcmp(buf, "child") == 0, "and read(2) does too");
	CHECK(pwrite(fd, "P", 1, 0) == 1, "pwrite");
	CHECK(m[0] == 'P', "the mapping sees write(2)");
	/* a second mapping of the same file, from another fd */
	char proc[32];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	int fd2 = (int)CHECK_OK(open(proc, O_RDWR | O_CLOEXEC));
	char *m2 = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd2, 0);
	CHECK(m2 != MAP_FAILED && m2[0] == 'P', "second mapping");
	munmap(m2, 4096);
	munmap(m, 8192);
	close(fd2);
	close(fd);
	ok("memfd: MAP_SHARED shared with a forked child, coherent with read/write");
}

int main(void)
{
	test_create();
	test_seals();
	test_shared_mapping();
	return 0;
}
