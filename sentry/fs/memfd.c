/* memfd_create: a tmpfs regular file linked nowhere, as Linux's memfd (a shmem file on the
 * kernel's internal mount). It is made in the root of a private tmpfs and unlinked at once, so
 * it is an ordinary tmpfs file in every other respect (read/write, ftruncate, MAP_SHARED
 * mappings that fork shares) and /proc/PID/fd shows "/memfd:NAME (deleted)" as on Linux. */
#include "sentry/fs/event.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "sentry/fs/fs.h"
#include "sentry/vfs/vfs_fs.h"

static struct super_block *g_memfd_sb;
static struct mount *g_memfd_mnt;
static pthread_once_t g_memfd_once = PTHREAD_ONCE_INIT;
/* The name exists in the directory only between create and unlink: one memfd at a time, so
 * that two memfds of the same name never meet there. */
static pthread_mutex_t g_memfd_lock = PTHREAD_MUTEX_INITIALIZER;

static void memfd_init(void)
{
	if (tmpfs_create(01777, &g_memfd_sb) < 0) {
		g_memfd_sb = NULL;
		return;
	}
	g_memfd_mnt = mount_create_internal(g_memfd_sb);
}

int memfd_create_file(const char *name, unsigned flags, struct file **out)
{
	char dname[LINUX_NAME_MAX + 1];
	struct dentry *root, *d;
	struct file *f;
	uint32_t mode;
	int r;

	pthread_once(&g_memfd_once, memfd_init);
	if (!g_memfd_mnt)
		return -ENOMEM;
	if (snprintf(dname, sizeof(dname), "memfd:%s", name) >= (int)sizeof(dname))
		return -EINVAL;
	/* vm.memfd_noexec = 0 (Linux's default): executable unless MFD_NOEXEC_SEAL */
	mode = (flags & LINUX_MFD_NOEXEC_SEAL) ? 0666 : 0777;
	root = g_memfd_sb->root;
	pthread_mutex_lock(&g_memfd_lock);
	r = vfs_create_in(root, dname, mode, &d);
	if (r == 0) {
		struct path p = {g_memfd_mnt, d};
		r = vfs_open_path(&p, LINUX_O_RDWR | LINUX_O_LARGEFILE, &f);
		int u = vfs_unlink_in(root, dname);
		if (u < 0)
			log_warn("memfd: cannot unlink %s: %d", dname, u);
		dput(d);
	}
	pthread_mutex_unlock(&g_memfd_lock);
	if (r < 0)
		return r;
	if (flags & LINUX_MFD_NOEXEC_SEAL)
		tmpfs_set_seals(f, LINUX_F_SEAL_EXEC);
	else if (flags & LINUX_MFD_ALLOW_SEALING)
		tmpfs_set_seals(f, 0);
	/* else the F_SEAL_SEAL every tmpfs file starts with */
	*out = f;
	return 0;
}
