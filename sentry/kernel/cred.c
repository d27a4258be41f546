/* Credentials: emulated capabilities, their setuid/execve transitions and capset rules, after
 * Linux's security/commoncap.c; supplementary group membership. */
#include "sentry/kernel/cred.h"

#include <errno.h>
#include <string.h>

/* prctl options (uapi/linux/prctl.h) */
#define PR_CAPBSET_READ 23
#define PR_CAPBSET_DROP 24
#define PR_GET_SECUREBITS 27
#define PR_SET_SECUREBITS 28
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_IS_SET 1
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_LOWER 3
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#define SECBIT_KEEP_CAPS (1u << 4)

void cred_init_root(struct creds *c)
{
	memset(c, 0, sizeof(*c));
	c->cap_permitted = c->cap_effective = c->cap_bset = CRED_CAP_FULL;
}

bool cred_in_group(const struct creds *c, uint32_t gid)
{
	if (c->fsgid == gid)
		return true;
	for (uint32_t i = 0; i < c->ngroups && i < 32; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

void cred_fix_setuid(struct creds *c, const struct creds *old, bool keepcaps, bool fs)
{
	bool was_root = old->ruid == 0 || old->euid == 0 || old->suid == 0;
	bool is_root = c->ruid == 0 || c->euid == 0 || c->suid == 0;

	if (fs) {
		/* LSM_SETID_FS */
		if (old->fsuid == 0 && c->fsuid != 0)
			c->cap_effective &= ~CRED_CAP_FS_MASK;
		if (old->fsuid != 0 && c->fsuid == 0)
			c->cap_effective |= c->cap_permitted & CRED_CAP_FS_MASK;
		return;
	}
	/* cap_emulate_setxuid */
	if (was_root && !is_root) {
		if (!keepcaps)
			c->cap_permitted = c->cap_effective = 0;
		c->cap_ambient = 0;
	}
	if (old->euid == 0 && c->euid != 0)
		c->cap_effective = 0;
	if (old->euid != 0 && c->euid == 0)
		c->cap_effective = c->cap_permitted;
}

void cred_exec(struct creds *c, bool setid)
{
	bool effective = false;

	c->suid = c->fsuid = c->euid;
	c->sgid = c->fsgid = c->egid;
	/* get_file_caps: no file capabilities, so pP' starts empty */
	uint64_t prm = 0;
	/* handle_privileged_root */
	if (c->euid == 0 || c->ruid == 0)
		prm = c->cap_bset | c->cap_inheritable;
	if (c->euid == 0)
		effective = true;
	if (setid)
		c->cap_ambient = 0;
	c->cap_permitted = prm | c->cap_ambient;
	c->cap_effective = effective ? c->cap_permitted : c->cap_ambient;
}

int cred_capset(struct creds *c, uint64_t eff, uint64_t prm, uint64_t inh)
{
	eff &= CRED_CAP_FULL;
	prm &= CRED_CAP_FULL;
	inh &= CRED_CAP_FULL;
	/* cap_inh_is_capped: without CAP_SETPCAP, the inheritable set may only take what is
	 * already permitted */
	if (!cred_capable(c, LINUX_CAP_SETPCAP) && (inh & ~(c->cap_inheritable | c->cap_permitted)))
		return -EPERM;
	/* ...and never beyond the bounding set */
	if (inh & ~(c->cap_inheritable | c->cap_bset))
		return -EPERM;
	if (prm & ~c->cap_permitted)
		return -EPERM;
	if (eff & ~prm)
		return -EPERM;
	c->cap_effective = eff;
	c->cap_permitted = prm;
	c->cap_inheritable = inh;
	c->cap_ambient &= prm & inh;
	return 0;
}

bool cred_prctl_option(int option)
{
	switch (option) {
	case PR_CAPBSET_READ:
	case PR_CAPBSET_DROP:
	case PR_GET_SECUREBITS:
	case PR_SET_SECUREBITS:
	case PR_CAP_AMBIENT:
		return true;
	}
	return false;
}

static bool cap_valid(uint64_t cap) { return cap <= LINUX_CAP_LAST_CAP; }

long cred_prctl(struct task *t, int option, uint64_t arg2, uint64_t arg3, uint64_t arg4,
		uint64_t arg5)
{
	struct creds *c = &t->cred;

	switch (option) {
	case PR_CAPBSET_READ:
		if (!cap_valid(arg2))
			return -EINVAL;
		return (c->cap_bset >> arg2) & 1;
	case PR_CAPBSET_DROP:
		if (!cred_capable(c, LINUX_CAP_SETPCAP))
			return -EPERM;
		if (!cap_valid(arg2))
			return -EINVAL;
		kernel_lock();
		c->cap_bset &= ~(1ULL << arg2);
		kernel_unlock();
		return 0;
	case PR_GET_SECUREBITS:
		return t->keepcaps ? SECBIT_KEEP_CAPS : 0;
	case PR_SET_SECUREBITS:
		/* Only SECBIT_KEEP_CAPS is emulated (PR_SET_KEEPCAPS's bit). */
		if (!cred_capable(c, LINUX_CAP_SETPCAP))
			return -EPERM;
		if (arg2 & ~(uint64_t)SECBIT_KEEP_CAPS)
			return -EINVAL;
		t->keepcaps = (arg2 & SECBIT_KEEP_CAPS) != 0;
		return 0;
	case PR_CAP_AMBIENT:
		if (arg2 == PR_CAP_AMBIENT_CLEAR_ALL) {
			if (arg3 || arg4 || arg5)
				return -EINVAL;
			kernel_lock();
			c->cap_ambient = 0;
			kernel_unlock();
			return 0;
		}
		if (arg4 || arg5)
			return -EINVAL;
		if (!cap_valid(arg3))
			return -EINVAL;
		switch (arg2) {
		case PR_CAP_AMBIENT_IS_SET:
			return (c->cap_ambient >> arg3) & 1;
		case PR_CAP_AMBIENT_RAISE:
			/* must be permitted and inheritable already (no
			 * SECBIT_NO_CAP_AMBIENT_RAISE) */
			if (!((c->cap_permitted >> arg3) & 1) ||
			    !((c->cap_inheritable >> arg3) & 1))
				return -EPERM;
			kernel_lock();
			c->cap_ambient |= 1ULL << arg3;
			kernel_unlock();
			return 0;
		case PR_CAP_AMBIENT_LOWER:
			kernel_lock();
			c->cap_ambient &= ~(1ULL << arg3);
			kernel_unlock();
			return 0;
		}
		return -EINVAL;
	}
	return -EINVAL;
}
