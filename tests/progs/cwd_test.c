/* cwd_test.c: getcwd/chdir/fchdir and relative paths resolved against the working directory. */
#include "check.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static const char *cwd(void)
{
	static char buf[PATH_MAX];

	CHECK(getcwd(buf, sizeof(buf)) == buf, "getcwd");
	return buf;
}

int main(void)
{
	char dir[128], sub[160];
	struct stat st, st2;

	CHECK_OK(chdir("/"));
	CHECK(!strcmp(cwd(), "/"), "cwd %s", cwd());
	printf("cwd %s\n", cwd());

	CHECK_OK(chdir("/usr/share/doc"));
	printf("cwd %s\n", cwd());
	CHECK(!strcmp(cwd(), "/usr/share/doc"), "cwd %s", cwd());

	/* Relative chdir and "..". */
	CHECK_OK(chdir("busybox-static"));
	CHECK(!strcmp(cwd(), "/usr/share/doc/busybox-static"), "relative chdir: %s", cwd());
	CHECK_OK(chdir("../../.."));
	CHECK(!strcmp(cwd(), "/usr"), "chdir ../../..: %s", cwd());
	CHECK_OK(chdir("../../../.."));
	CHECK(!strcmp(cwd(), "/"), ".. stops at /: %s", cwd());
	printf("ok relative chdir and ..\n");

	/* Relative opens and stats follow the cwd. */
	CHECK_OK(chdir("/etc"));
	int fd = CHECK_OK(open("passwd", O_RDONLY));
	CHECK_OK(fstat(fd, &st));
	CHECK_OK(stat("/etc/passwd", &st2));
	CHECK(st.st_ino == st2.st_ino && st.st_dev == st2.st_dev, "relative open found another file");
	CHECK_OK(close(fd));
	CHECK_OK(stat("./passwd", &st));
	CHECK_OK(stat("../etc/./passwd", &st2));
	CHECK(st.st_ino == st2.st_ino, "../etc/./passwd");
	printf("ok relative open/stat\n");

	/* The raw syscall returns the length including the NUL. */
	char buf[64];
	long n = syscall(SYS_getcwd, buf, sizeof(buf));
	CHECK(n == 5 && !strcmp(buf, "/etc"), "getcwd syscall returned %ld '%s'", n, buf);
	CHECK_ERR(syscall(SYS_getcwd, buf, 4), ERANGE);
	CHECK(syscall(SYS_getcwd, buf, 5) == 5, "exact-size buffer");

	/* fchdir to a directory fd; chdir through a symlink. */
	int dfd = CHECK_OK(open("/usr/include", O_RDONLY | O_DIRECTORY));
	CHECK_OK(chdir("/"));
	CHECK_OK(fchdir(dfd));
	CHECK(!strcmp(cwd(), "/usr/include"), "fchdir: %s", cwd());
	CHECK_OK(close(dfd));
	CHECK_OK(stat("linux", &st));
	CHECK(S_ISDIR(st.st_mode), "relative stat after fchdir");
	dfd = CHECK_OK(open("/usr", O_PATH | O_DIRECTORY));
	CHECK_OK(fchdir(dfd));
	CHECK(!strcmp(cwd(), "/usr"), "fchdir O_PATH: %s", cwd());
	CHECK_OK(close(dfd));
	CHECK_OK(chdir("/bin"));
	CHECK(!strcmp(cwd(), "/usr/bin"), "chdir through the /bin symlink: %s", cwd());
	printf("ok fchdir and symlinked chdir\n");

	/* A directory the program makes: getcwd names it; removing it while inside. */
	snprintf(dir, sizeof(dir), "/tmp/runsc-c-cwd-%s", uniq());
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	CHECK_OK(mkdir(dir, 0755));
	CHECK_OK(mkdir(sub, 0755));
	CHECK_OK(chdir(sub));
	CHECK(!strcmp(cwd(), sub), "cwd in /tmp");
	fd = CHECK_OK(open("made-here", O_CREAT | O_WRONLY, 0644));
	CHECK_OK(close(fd));
	char made[200];
	snprintf(made, sizeof(made), "%s/made-here", sub);
	CHECK_OK(stat(made, &st));
	CHECK_OK(unlink("made-here"));
	CHECK_OK(chdir(".."));
	CHECK(!strcmp(cwd(), dir), "cwd after ..");
	CHECK_OK(rmdir("sub"));
	CHECK_ERR(chdir("sub"), ENOENT);
	printf("ok cwd inside /tmp\n");

	CHECK_OK(chdir(dir));
	CHECK_OK(rmdir(dir));
	errno = 0;
	CHECK(getcwd(buf, sizeof(buf)) == NULL && errno == ENOENT, "getcwd in a removed directory");
	printf("ok getcwd in a removed directory -> ENOENT\n");
	CHECK_ERR(open("x", O_CREAT | O_WRONLY, 0644), ENOENT);
	CHECK_OK(chdir("/"));

	CHECK_ERR(chdir(""), ENOENT);
	CHECK_ERR(chdir("/etc/passwd"), ENOTDIR);
	printf("cwd_test: done\n");
	return 0;
}
