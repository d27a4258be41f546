/* efault.c: bad user pointers get EFAULT from every family of call, and never crash the kernel. */
#include "check.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>

/* Bad pointers the compiler cannot see through (so its warnings stay quiet). */
static volatile uintptr_t zero;
#define NULLP ((void *)zero)
#define BAD ((void *)(zero + 1))
#define KERNEL_PTR ((void *)(zero + 0xffff800000000000UL))

int main(void)
{
	char path[128];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/tmp/runsc-c-ef-%s", uniq());
	fd = CHECK_OK(open(path, O_CREAT | O_RDWR | O_TRUNC, 0600));
	CHECK(write(fd, "0123456789", 10) == 10, "write");

	/* write/read with bad buffers. */
	CHECK_ERR(write(fd, BAD, 10), EFAULT);
	CHECK_ERR(write(fd, NULLP, 10), EFAULT);
	CHECK_ERR(write(fd, KERNEL_PTR, 10), EFAULT);
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "rewind");
	CHECK_ERR(read(fd, NULLP, 10), EFAULT);
	CHECK_ERR(read(fd, BAD, 10), EFAULT);
	CHECK_ERR(pread(fd, KERNEL_PTR, 10, 0), EFAULT);
	CHECK_ERR(pwrite(fd, BAD, 10, 0), EFAULT);
	/* The file is unchanged by the failed writes. */
	char buf[16] = { 0 };
	CHECK(pread(fd, buf, sizeof(buf), 0) == 10 && memcmp(buf, "0123456789", 10) == 0,
	      "file changed: '%s'", buf);

	/* stdout too, unless it is /dev/null (which never reads the buffer). */
	CHECK_OK(fstat(1, &st));
	if (!S_ISCHR(st.st_mode)) {
		errno = 0;
		long r = write(1, BAD, 10);
		CHECK(r == -1 && errno == EFAULT, "write(1, (void *)1, 10) = %ld", r);
	}
	printf("ok write(1, (void *)1, 10) -> EFAULT\n");

	/* A buffer that starts valid and runs into an unmapped page. */
	char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(two != MAP_FAILED, "mmap");
	CHECK_OK(munmap(two + 4096, 4096));
	memset(two, 'a', 4096);
	errno = 0;
	long r = write(fd, two + 4096 - 4, 100);
	CHECK(r == 4 || (r == -1 && errno == EFAULT), "partial-fault write returned %ld", r);
	printf("ok write running into an unmapped page: short or EFAULT\n");
	CHECK_ERR(read(fd, two + 4096, 10), EFAULT);

	/* A read-only buffer cannot be read into. */
	CHECK_OK(mprotect(two, 4096, PROT_READ));
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "rewind");
	CHECK_ERR(read(fd, two, 10), EFAULT);
	CHECK(two[0] == 'a', "read-only page written");

	/* iovecs: a bad array, and a bad buffer inside a good array. */
	CHECK_ERR(readv(fd, BAD, 2), EFAULT);
	struct iovec iov[2] = { { buf, 4 }, { BAD, 4 } };
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "rewind");
	errno = 0;
	r = readv(fd, iov, 2);
	CHECK(r == 4 || (r == -1 && errno == EFAULT), "readv with a bad second iovec returned %ld", r);
	printf("ok readv with a bad second iovec: short or EFAULT\n");
	CHECK_ERR(writev(fd, BAD, 1), EFAULT);

	/* Path arguments. */
	CHECK_ERR(open(BAD, O_RDONLY), EFAULT);
	CHECK_ERR(open(NULLP, O_RDONLY), EFAULT);
	CHECK_ERR(openat(AT_FDCWD, KERNEL_PTR, O_RDONLY), EFAULT);
	CHECK_ERR(stat(BAD, &st), EFAULT);
	CHECK_ERR(lstat(NULLP, &st), EFAULT);
	CHECK_ERR(access(BAD, F_OK), EFAULT);
	CHECK_ERR(chdir(BAD), EFAULT);
	CHECK_ERR(readlink(BAD, buf, sizeof(buf)), EFAULT);
	struct statx sx;
	CHECK_ERR(statx(AT_FDCWD, BAD, 0, STATX_BASIC_STATS, &sx), EFAULT);

	/* Result buffers. */
	CHECK_ERR(stat("/etc/passwd", BAD), EFAULT);
	CHECK_ERR(fstat(fd, BAD), EFAULT);
	CHECK_ERR(statx(AT_FDCWD, "/etc/passwd", 0, STATX_BASIC_STATS, BAD), EFAULT);
	CHECK_ERR(syscall(SYS_uname, BAD), EFAULT);
	CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD), EFAULT);
	CHECK_ERR(syscall(SYS_gettimeofday, BAD, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_getcwd, BAD, 100), EFAULT);
	CHECK_ERR(syscall(SYS_getrandom, BAD, 16, 0), EFAULT);
	CHECK_ERR(syscall(SYS_getdents64, fd, BAD, 4096), ENOTDIR);
	int dfd = CHECK_OK(open("/etc", O_RDONLY | O_DIRECTORY));
	CHECK_ERR(syscall(SYS_getdents64, dfd, BAD, 4096), EFAULT);
	close(dfd);
	CHECK_ERR(syscall(SYS_readlink, "/proc/self/exe", BAD, 100), EFAULT);
	CHECK_ERR(syscall(SYS_nanosleep, BAD, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_rt_sigaction, 10, BAD, NULL, 8), EFAULT);
	CHECK_ERR(syscall(SYS_rt_sigprocmask, SIG_BLOCK, BAD, NULL, 8), EFAULT);
	CHECK_ERR(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, BAD), EFAULT);
	CHECK_ERR(syscall(SYS_sysinfo, BAD), EFAULT);
	CHECK_ERR(syscall(SYS_time, BAD), EFAULT);

	/* The process is intact: ordinary calls still work. */
	struct utsname u;
	CHECK_OK(uname(&u));
	CHECK_OK(close(fd));
	CHECK_OK(unlink(path));
	printf("efault: done\n");
	return 0;
}
