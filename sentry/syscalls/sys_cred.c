/* Credentials: capget/capset on the emulated capability sets, getgroups/setgroups on the
 * supplementary groups (sentry/kernel/cred.h). */
#include "sentry/syscalls/sys_res.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sentry/kernel/cred.h"
#include "sentry/mm/mm.h"

#define NGROUPS_MAX 65536

/* cap_validate_magic: how many cap_user_data entries the header's version takes (1 or 2), or
 * -EINVAL after writing the version the kernel prefers into the header, or -EFAULT. */
static int cap_version(struct task *t, uint64_t uhdr, int *count)
{
	uint32_t version, preferred = LINUX_CAPABILITY_VERSION_3;

	if (copy_in(t->mm, &version, uhdr, sizeof(version)))
		return -EFAULT;
	switch (version) {
	case LINUX_CAPABILITY_VERSION_1:
		*count = 1;
		return 0;
	case LINUX_CAPABILITY_VERSION_2:
	case LINUX_CAPABILITY_VERSION_3:
		*count = 2;
		return 0;
	}
	if (copy_out(t->mm, uhdr, &preferred, sizeof(preferred)))
		return -EFAULT;
	return -EINVAL;
}

SYSCALL_DEFINE(capget)
{
	uint64_t uhdr = a->a[0], udata = a->a[1];
	struct linux_cap_data data[2];
	uint64_t eff, prm, inh;
	int32_t pid;
	int count, r = cap_version(t, uhdr, &count);

	/* a NULL data pointer only asks for the version */
	if (!udata || r)
		return (!udata && r == -EINVAL) ? 0 : r;
	if (copy_in(t->mm, &pid, uhdr + 4, sizeof(pid)))
		return -EFAULT;
	if (pid < 0)
		return -EINVAL;
	kernel_lock();
	struct task *o = pid && pid != t->tid ? task_lookup(pid) : t;
	if (!o || (o != t && o->tg->state == TG_DEAD)) {
		kernel_unlock();
		return -ESRCH;
	}
	eff = o->cred.cap_effective;
	prm = o->cred.cap_permitted;
	inh = o->cred.cap_inheritable;
	kernel_unlock();
	data[0] = (struct linux_cap_data){(uint32_t)eff, (uint32_t)prm, (uint32_t)inh};
	data[1] = (struct linux_cap_data){(uint32_t)(eff >> 32), (uint32_t)(prm >> 32),
					  (uint32_t)(inh >> 32)};
	return copy_out(t->mm, udata, data, (size_t)count * sizeof(data[0]));
}

SYSCALL_DEFINE(capset)
{
	uint64_t uhdr = a->a[0], udata = a->a[1];
	struct linux_cap_data data[2];
	int32_t pid;
	int count, r = cap_version(t, uhdr, &count);

	if (r)
		return r;
	if (copy_in(t->mm, &pid, uhdr + 4, sizeof(pid)))
		return -EFAULT;
	/* only the calling thread's own sets */
	if (pid != 0 && pid != t->tid)
		return -EPERM;
	memset(data, 0, sizeof(data));
	if (copy_in(t->mm, data, udata, (size_t)count * sizeof(data[0])))
		return -EFAULT;
	uint64_t eff = data[0].effective | (uint64_t)data[1].effective << 32;
	uint64_t prm = data[0].permitted | (uint64_t)data[1].permitted << 32;
	uint64_t inh = data[0].inheritable | (uint64_t)data[1].inheritable << 32;
	kernel_lock();
	r = cred_capset(&t->cred, eff, prm, inh);
	kernel_unlock();
	return r;
}

SYSCALL_DEFINE(getgroups)
{
	int size = (int)a->a[0];
	uint32_t n = t->cred.ngroups;

	if (size < 0)
		return -EINVAL;
	if (size == 0)
		return n;
	if ((uint32_t)size < n)
		return -EINVAL;
	if (copy_out(t->mm, a->a[1], t->cred.groups, n * sizeof(uint32_t)))
		return -EFAULT;
	return n;
}

static int cmp_gid(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

SYSCALL_DEFINE(setgroups)
{
	int size = (int)a->a[0];
	uint32_t groups[ARRAY_SIZE(t->cred.groups)];

	if (!cred_capable(&t->cred, LINUX_CAP_SETGID))
		return -EPERM;
	if ((unsigned)size > NGROUPS_MAX)
		return -EINVAL;
	if ((size_t)size > ARRAY_SIZE(groups))
		return -EINVAL; /* the sandbox keeps at most 32 */
	if (copy_in(t->mm, groups, a->a[1], (size_t)size * sizeof(uint32_t)))
		return -EFAULT;
	for (int i = 0; i < size; i++)
		if (groups[i] == (uint32_t)-1)
			return -EINVAL; /* not a valid kgid */
	/* groups_sort: getgroups returns them in ascending order */
	qsort(groups, (size_t)size, sizeof(groups[0]), cmp_gid);
	kernel_lock();
	memcpy(t->cred.groups, groups, (size_t)size * sizeof(uint32_t));
	t->cred.ngroups = (uint32_t)size;
	kernel_unlock();
	return 0;
}

/* ---- the setuid and setgid families (kernel/sys.c), with capability fix-ups ---- */

#define NOID ((uint32_t)-1)

/* Commit new creds for t: others read creds under g_kernel.lock. */
static void commit(struct task *t, const struct creds *c)
{
	kernel_lock();
	t->cred = *c;
	kernel_unlock();
}

SYSCALL_DEFINE(setuid)
{
	uint32_t id = (uint32_t)a->a[0];
	struct creds old = t->cred, c = old;

	if (id == NOID)
		return -EINVAL;
	if (cred_capable(&old, LINUX_CAP_SETUID))
		c.ruid = c.suid = id;
	else if (id != old.ruid && id != old.suid)
		return -EPERM;
	c.euid = c.fsuid = id;
	cred_fix_setuid(&c, &old, t->keepcaps, false);
	commit(t, &c);
	return 0;
}

SYSCALL_DEFINE(setgid)
{
	uint32_t id = (uint32_t)a->a[0];
	struct creds c = t->cred;

	if (id == NOID)
		return -EINVAL;
	if (cred_capable(&c, LINUX_CAP_SETGID))
		c.rgid = c.sgid = id;
	else if (id != c.rgid && id != c.sgid)
		return -EPERM;
	c.egid = c.fsgid = id;
	commit(t, &c);
	return 0;
}

SYSCALL_DEFINE(setreuid)
{
	uint32_t r = (uint32_t)a->a[0], e = (uint32_t)a->a[1];
	struct creds old = t->cred, c = old;
	bool cap = cred_capable(&old, LINUX_CAP_SETUID);

	if (r != NOID) {
		c.ruid = r;
		if (r != old.ruid && r != old.euid && !cap)
			return -EPERM;
	}
	if (e != NOID) {
		c.euid = e;
		if (e != old.ruid && e != old.euid && e != old.suid && !cap)
			return -EPERM;
	}
	if (r != NOID || (e != NOID && e != old.ruid))
		c.suid = c.euid;
	c.fsuid = c.euid;
	cred_fix_setuid(&c, &old, t->keepcaps, false);
	commit(t, &c);
	return 0;
}

SYSCALL_DEFINE(setregid)
{
	uint32_t r = (uint32_t)a->a[0], e = (uint32_t)a->a[1];
	struct creds old = t->cred, c = old;
	bool cap = cred_capable(&old, LINUX_CAP_SETGID);

	if (r != NOID) {
		c.rgid = r;
		if (r != old.rgid && r != old.egid && !cap)
			return -EPERM;
	}
	if (e != NOID) {
		c.egid = e;
		if (e != old.rgid && e != old.egid && e != old.sgid && !cap)
			return -EPERM;
	}
	if (r != NOID || (e != NOID && e != old.rgid))
		c.sgid = c.egid;
	c.fsgid = c.egid;
	commit(t, &c);
	return 0;
}

/* setresuid/setresgid: NOID leaves an id alone; a new id that is none of the old three needs
 * the capability. ids points at {real, effective, saved, fs} of c. */
static long set_res(struct task *t, int cap, size_t off, uint32_t r, uint32_t e, uint32_t s)
{
	struct creds old = t->cred, c = old;
	uint32_t *oid = (uint32_t *)((char *)&old + off), *nid = (uint32_t *)((char *)&c + off);

	/* a no-op (fsuid already following euid) */
	if ((r == NOID || r == oid[0]) && (e == NOID || (e == oid[1] && e == oid[3])) &&
	    (s == NOID || s == oid[2]))
		return 0;
	uint32_t want[3] = {r, e, s};
	for (int i = 0; i < 3; i++)
		if (want[i] != NOID && want[i] != oid[0] && want[i] != oid[1] &&
		    want[i] != oid[2] && !cred_capable(&old, cap))
			return -EPERM;
	for (int i = 0; i < 3; i++)
		if (want[i] != NOID)
			nid[i] = want[i];
	nid[3] = nid[1];
	if (cap == LINUX_CAP_SETUID)
		cred_fix_setuid(&c, &old, t->keepcaps, false);
	commit(t, &c);
	return 0;
}

SYSCALL_DEFINE(setresuid)
{
	return set_res(t, LINUX_CAP_SETUID, offsetof(struct creds, ruid), (uint32_t)a->a[0],
		       (uint32_t)a->a[1], (uint32_t)a->a[2]);
}

SYSCALL_DEFINE(setresgid)
{
	return set_res(t, LINUX_CAP_SETGID, offsetof(struct creds, rgid), (uint32_t)a->a[0],
		       (uint32_t)a->a[1], (uint32_t)a->a[2]);
}

static long get_res(struct task *t, const struct syscall_args *a, uint32_t r, uint32_t e,
		    uint32_t s)
{
	if (copy_out(t->mm, a->a[0], &r, 4) || copy_out(t->mm, a->a[1], &e, 4) ||
	    copy_out(t->mm, a->a[2], &s, 4))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(getresuid) { return get_res(t, a, t->cred.ruid, t->cred.euid, t->cred.suid); }
SYSCALL_DEFINE(getresgid) { return get_res(t, a, t->cred.rgid, t->cred.egid, t->cred.sgid); }

/* setfsuid/setfsgid return the old value and never fail visibly, as Linux. */
SYSCALL_DEFINE(setfsuid)
{
	uint32_t id = (uint32_t)a->a[0];
	struct creds old = t->cred, c = old;

	if (id == NOID || id == old.fsuid)
		return old.fsuid;
	if (id == old.ruid || id == old.euid || id == old.suid ||
	    cred_capable(&old, LINUX_CAP_SETUID)) {
		c.fsuid = id;
		cred_fix_setuid(&c, &old, t->keepcaps, true);
		commit(t, &c);
	}
	return old.fsuid;
}

SYSCALL_DEFINE(setfsgid)
{
	uint32_t id = (uint32_t)a->a[0];
	struct creds c = t->cred;
	uint32_t old = c.fsgid;

	if (id == NOID || id == old)
		return old;
	if (id == c.rgid || id == c.egid || id == c.sgid || cred_capable(&c, LINUX_CAP_SETGID)) {
		c.fsgid = id;
		commit(t, &c);
	}
	return old;
}
