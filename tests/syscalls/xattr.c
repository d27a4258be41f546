/* xattr.c: extended attributes on regular files, directories and symlinks (in /tmp and on the
 * /dev/shm tmpfs): get/set/list/remove in their path, no-follow and fd forms, flags, size rules, name rules, the
 * user/trusted/security namespaces for root and for others, pipes and /proc. */
#include "sc.h"

#include <stdbool.h>
#include <sys/xattr.h>

/* The names listxattr gives for path, sorted, joined by spaces (order differs by fs). */
static const char *names(const char *path)
{
	static char out[1024];
	char buf[1024], *v[64];
	int n = 0;
	ssize_t len = listxattr(path, buf, sizeof(buf));

	CHECK(len >= 0, "listxattr %s", path);
	for (ssize_t off = 0; off < len; off += (ssize_t)strlen(buf + off) + 1)
		v[n++] = buf + off;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (strcmp(v[j], v[i]) < 0) {
				char *x = v[i];
				v[i] = v[j];
				v[j] = x;
			}
	out[0] = 0;
	for (int i = 0; i < n; i++) {
		strcat(out, i ? " " : "");
		strcat(out, v[i]);
	}
	return out;
}

static void basics(const char *dir, const char *label, bool tmpfs)
{
	char path[256], val[64];

	snprintf(path, sizeof(path), "%s/f", dir);
	write_file(path, "data", 0644);
	CHECK_OK(setxattr(path, "user.a", "one", 3, 0));
	CHECK(getxattr(path, "user.a", val, sizeof(val)) == 3 && memcmp(val, "one", 3) == 0,
	      "get");
	CHECK(getxattr(path, "user.a", NULL, 0) == 3, "size query");
	CHECK_ERR(getxattr(path, "user.a", val, 2), ERANGE);
	CHECK_OK(setxattr(path, "user.a", "three", 5, XATTR_REPLACE));
	CHECK(getxattr(path, "user.a", val, sizeof(val)) == 5, "replaced");
	CHECK_ERR(setxattr(path, "user.a", "x", 1, XATTR_CREATE), EEXIST);
	CHECK_ERR(setxattr(path, "user.b", "x", 1, XATTR_REPLACE), ENODATA);
	CHECK_ERR(setxattr(path, "user.b", "x", 1, 4), EINVAL);
	CHECK_OK(setxattr(path, "user.empty", "", 0, XATTR_CREATE));
	CHECK(getxattr(path, "user.empty", val, sizeof(val)) == 0, "empty value");
	CHECK_ERR(getxattr(path, "user.none", val, sizeof(val)), ENODATA);
	ok("%s: setxattr/getxattr, flags, sizes", label);

	CHECK(strcmp(names(path), "user.a user.empty") == 0, "names %s", names(path));
	CHECK(listxattr(path, NULL, 0) == (ssize_t)strlen("user.a user.empty") + 1, "list size");
	CHECK_ERR(listxattr(path, val, 5), ERANGE);
	CHECK_OK(removexattr(path, "user.empty"));
	CHECK_ERR(removexattr(path, "user.empty"), ENODATA);
	CHECK(strcmp(names(path), "user.a") == 0, "after remove %s", names(path));
	ok("%s: listxattr, removexattr", label);

	char longname[300];
	memset(longname, 'n', sizeof(longname));
	memcpy(longname, "user.", 5);
	longname[256] = 0;
	CHECK_ERR(setxattr(path, longname, "x", 1, 0), ERANGE);
	CHECK_ERR(getxattr(path, longname, val, sizeof(val)), ERANGE);
	CHECK_ERR(setxattr(path, "", "x", 1, 0), ERANGE);
	CHECK_ERR(setxattr(path, "user.", "x", 1, 0), EINVAL);
	CHECK_ERR(setxattr(path, "nonsense.x", "x", 1, 0), EOPNOTSUPP);
	CHECK_ERR(getxattr(path, "nonsense.x", val, sizeof(val)), EOPNOTSUPP);
	static char big[65537];
	CHECK_ERR(setxattr(path, "user.big", big, sizeof(big), 0), E2BIG);
	/* tmpfs takes values up to XATTR_SIZE_MAX; ext4 only what fits in a block */
	size_t bigsz = tmpfs ? 65536 : 2048;
	CHECK_OK(setxattr(path, "user.big", big, bigsz, 0));
	CHECK(getxattr(path, "user.big", NULL, 0) == (ssize_t)bigsz, "big value");
	CHECK_OK(removexattr(path, "user.big"));
	CHECK_ERR(setxattr(path, "user.x", (void *)8, 4, 0), EFAULT);
	CHECK_ERR(getxattr(path, "user.a", (void *)8, 10), EFAULT);
	ok("%s: name and value limits", label);

	/* the fd and no-follow forms; symlinks */
	char lnk[256], sub[256];
	snprintf(lnk, sizeof(lnk), "%s/l", dir);
	CHECK_OK(symlink("f", lnk));
	CHECK(getxattr(lnk, "user.a", val, sizeof(val)) == 5, "through the link");
	CHECK_ERR(lgetxattr(lnk, "user.a", val, sizeof(val)), ENODATA);
	CHECK_ERR(lsetxattr(lnk, "user.a", "x", 1, 0), EPERM);
	CHECK(llistxattr(lnk, val, sizeof(val)) == 0, "a symlink lists none");
	int fd = (int)CHECK_OK(open(path, O_RDONLY));
	CHECK(fgetxattr(fd, "user.a", val, sizeof(val)) == 5, "fgetxattr");
	CHECK_OK(fsetxattr(fd, "user.f", "v", 1, 0));
	CHECK(flistxattr(fd, val, sizeof(val)) == (ssize_t)strlen("user.a user.f") + 1, "flist");
	CHECK_OK(fremovexattr(fd, "user.f"));
	close(fd);
	fd = (int)CHECK_OK(open(path, O_PATH));
	CHECK_ERR(fgetxattr(fd, "user.a", val, sizeof(val)), EBADF);
	close(fd);
	snprintf(sub, sizeof(sub), "%s/d", dir);
	CHECK_OK(mkdir(sub, 0755));
	CHECK_OK(setxattr(sub, "user.dir", "D", 1, 0));
	CHECK(getxattr(sub, "user.dir", val, sizeof(val)) == 1, "dir xattr");
	ok("%s: no-follow and fd forms, symlinks, directories", label);

	/* attributes belong to the inode: renames and hard links keep them */
	char moved[256], hard[256];
	snprintf(moved, sizeof(moved), "%s/g", dir);
	snprintf(hard, sizeof(hard), "%s/h", dir);
	CHECK_OK(rename(path, moved));
	CHECK_OK(link(moved, hard));
	CHECK(getxattr(hard, "user.a", val, sizeof(val)) == 5, "through a hard link");
	CHECK_ERR(getxattr(path, "user.a", val, sizeof(val)), ENOENT);
	ok("%s: rename and link keep attributes", label);

	/* privileged namespaces, as root */
	CHECK_OK(setxattr(moved, "trusted.t", "T", 1, 0));
	CHECK_OK(setxattr(moved, "security.s", "S", 1, 0));
	CHECK(strcmp(names(moved), "security.s trusted.t user.a") == 0, "names %s", names(moved));
	ok("%s: trusted.* and security.* for root", label);
}

static void user_child(void)
{
	const char *dir = sc_tmpdir();
	char path[256], val[64];

	snprintf(path, sizeof(path), "%s/g", dir);
	CHECK_OK(setresuid(1000, 1000, 1000));
	CHECK(getxattr(path, "user.a", val, sizeof(val)) == 5, "readable");
	CHECK_ERR(setxattr(path, "user.a", "x", 1, 0), EACCES);
	CHECK_ERR(getxattr(path, "trusted.t", val, sizeof(val)), ENODATA);
	CHECK_ERR(setxattr(path, "trusted.t", "x", 1, 0), EPERM);
	CHECK(getxattr(path, "security.s", val, sizeof(val)) == 1, "security.* readable");
	CHECK_ERR(setxattr(path, "security.s", "x", 1, 0), EPERM);
	CHECK(strcmp(names(path), "security.s user.a") == 0, "names %s", names(path));
	ok("a user: no write without permission, trusted.* hidden, security.* read-only");

	snprintf(path, sizeof(path), "%s/sticky", dir);
	CHECK_ERR(setxattr(path, "user.s", "x", 1, 0), EPERM);
	snprintf(path, sizeof(path), "%s/mine", dir);
	write_file(path, "", 0600);
	CHECK_OK(setxattr(path, "user.mine", "m", 1, 0));
	ok("a user: sticky directories refuse, own files accept");
}

int main(void)
{
	char shm[64], val[16];
	const char *dir = sc_tmpdir();

	CHECK_OK(chmod(dir, 0777));
	basics(dir, "tmp", false);
	snprintf(shm, sizeof(shm), "/dev/shm/sc-xattr-%d", getpid());
	CHECK_OK(mkdir(shm, 0755));
	basics(shm, "shm", true);
	char p[256];
	const char *rm[] = {"h", "g", "l", "d"};
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", shm, rm[i]);
		CHECK_OK(i == 3 ? rmdir(p) : unlink(p));
	}
	CHECK_OK(rmdir(shm));

	snprintf(p, sizeof(p), "%s/sticky", dir);
	CHECK_OK(mkdir(p, 01777));
	in_child(user_child);

	int pfd[2];
	CHECK_OK(pipe(pfd));
	CHECK_ERR(fgetxattr(pfd[0], "user.x", val, sizeof(val)), ENODATA);
	CHECK_ERR(fsetxattr(pfd[1], "user.x", "v", 1, 0), EPERM);
	CHECK(flistxattr(pfd[0], val, sizeof(val)) == 0, "a pipe lists none");
	close(pfd[0]);
	close(pfd[1]);
	CHECK_ERR(getxattr("/proc/self/status", "user.x", val, sizeof(val)), EOPNOTSUPP);
	CHECK_ERR(getxattr("/nonexistent", "user.x", val, sizeof(val)), ENOENT);
	ok("pipes, /proc, missing paths");
	return 0;
}
