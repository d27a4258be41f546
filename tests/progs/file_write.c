/* file_write.c: create/write/writev/pwrite/O_APPEND/O_TRUNC/holes on a scratch file in /tmp. */
#include "check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>

static char path[128];

static off_t size_of(int fd)
{
	struct stat st;

	CHECK_OK(fstat(fd, &st));
	return st.st_size;
}

int main(void)
{
	char buf[256];
	int fd;

	umask(022);
	snprintf(path, sizeof(path), "/tmp/runsc-c-fw-%s", uniq());
	unlink(path);

	fd = CHECK_OK(open(path, O_CREAT | O_EXCL | O_RDWR, 0644));
	CHECK(size_of(fd) == 0, "new file not empty");
	CHECK_ERR(open(path, O_CREAT | O_EXCL | O_RDWR, 0644), EEXIST);

	CHECK(write(fd, "hello ", 6) == 6, "write");
	struct iovec iov[3] = { { "wor", 3 }, { "", 0 }, { "ld\n", 3 } };
	CHECK(writev(fd, iov, 3) == 6, "writev");
	CHECK(lseek(fd, 0, SEEK_CUR) == 12, "offset after writes");
	CHECK(size_of(fd) == 12, "size 12");

	/* pwrite does not move the offset. */
	CHECK(pwrite(fd, "J", 1, 0) == 1, "pwrite");
	CHECK(lseek(fd, 0, SEEK_CUR) == 12, "pwrite moved the offset");
	CHECK(pread(fd, buf, sizeof(buf), 0) == 12, "pread");
	CHECK(memcmp(buf, "Jello world\n", 12) == 0, "content '%.12s'", buf);
	printf("ok write/writev/pwrite: %.11s\n", buf);

	/* A hole reads back as zeros. */
	CHECK(lseek(fd, 100, SEEK_SET) == 100, "seek to 100");
	CHECK(write(fd, "end", 3) == 3, "write after hole");
	CHECK(size_of(fd) == 103, "size with hole %lld", (long long)size_of(fd));
	CHECK(pread(fd, buf, sizeof(buf), 0) == 103, "pread with hole");
	for (int i = 12; i < 100; i++)
		CHECK(buf[i] == 0, "hole byte %d = %d", i, buf[i]);
	CHECK(memcmp(buf + 100, "end", 3) == 0, "after hole");
	printf("ok hole reads as zeros\n");
	CHECK_OK(close(fd));

	/* O_APPEND writes at the end whatever the offset. */
	fd = CHECK_OK(open(path, O_WRONLY | O_APPEND));
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "seek");
	CHECK(write(fd, "+app", 4) == 4, "append write");
	CHECK(lseek(fd, 0, SEEK_CUR) == 107, "offset after append %lld",
	      (long long)lseek(fd, 0, SEEK_CUR));
	CHECK(read(fd, buf, 1) == -1 && errno == EBADF, "read on O_WRONLY fd");
	CHECK_OK(close(fd));
	fd = CHECK_OK(open(path, O_RDONLY));
	CHECK(write(fd, "x", 1) == -1 && errno == EBADF, "write on O_RDONLY fd");
	CHECK(read(fd, buf, sizeof(buf)) == 107, "read back appended");
	CHECK(memcmp(buf + 103, "+app", 4) == 0, "appended bytes");
	CHECK_OK(close(fd));
	printf("ok O_APPEND\n");

	/* O_TRUNC empties it. */
	fd = CHECK_OK(open(path, O_RDWR | O_TRUNC));
	CHECK(size_of(fd) == 0, "O_TRUNC size");
	CHECK(read(fd, buf, sizeof(buf)) == 0, "read after trunc");

	/* A larger write spanning several pages, read back in one go. */
	static char big[3 * 4096 + 123], back[sizeof(big)];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + 3);
	CHECK(write(fd, big, sizeof(big)) == sizeof(big), "big write");
	CHECK(pread(fd, back, sizeof(back), 0) == sizeof(back), "big pread");
	CHECK(memcmp(big, back, sizeof(big)) == 0, "big content");
	printf("ok %zu bytes, fnv1a %016llx\n", sizeof(big),
	       (unsigned long long)fnv1a(FNV_INIT, back, sizeof(back)));

	/* The mode the file was created with, modulo umask 022. */
	struct stat st;
	CHECK_OK(stat(path, &st));
	CHECK((st.st_mode & 07777) == 0644, "mode %o", st.st_mode & 07777);
	CHECK(st.st_nlink == 1, "nlink %lu", (unsigned long)st.st_nlink);
	CHECK_OK(close(fd));
	CHECK_OK(unlink(path));
	CHECK_ERR(open(path, O_RDONLY), ENOENT);
	printf("file_write: done\n");
	return 0;
}
