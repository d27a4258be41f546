/* sendmsg, recvmsg, sendmmsg, recvmmsg: struct msghdr in and out of the guest, and the control
 * messages: SCM_RIGHTS (files looked up at send, installed as new fds at receive, MSG_CTRUNC
 * when they do not fit) and SCM_CREDENTIALS (checked as Linux's scm_check_creds). */
#include "sentry/syscalls/sys_socket.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "sentry/mm/mm.h"

#define OPTMEM_MAX 131072 /* net.core.optmem_max: the largest control buffer a send takes */
#define RECV_CTL_MAX 4096 /* more than two full control messages need */

/* The msghdr's iovecs, checked as import_iovec: at most IOV_MAX (EMSGSIZE), no negative
 * length (EINVAL), the total clamped to MAX_RW_COUNT. *out is malloc'd (or NULL). */
static long import_msg_iov(struct task *t, const struct linux_msghdr *mh, struct linux_iovec **out,
			   size_t *total)
{
	struct linux_iovec *iov;
	size_t sum = 0;

	*out = NULL;
	*total = 0;
	if (mh->msg_iovlen > LINUX_IOV_MAX)
		return -EMSGSIZE;
	if (mh->msg_iovlen == 0)
		return 0;
	iov = malloc(mh->msg_iovlen * sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	if (copy_in(t->mm, iov, mh->msg_iov, mh->msg_iovlen * sizeof(*iov)) < 0) {
		free(iov);
		return -EFAULT;
	}
	for (uint64_t i = 0; i < mh->msg_iovlen; i++) {
		if ((int64_t)iov[i].iov_len < 0) {
			free(iov);
			return -EINVAL;
		}
		if (iov[i].iov_len > SYS_MAX_RW_COUNT - sum)
			iov[i].iov_len = SYS_MAX_RW_COUNT - sum;
		sum += iov[i].iov_len;
	}
	*out = iov;
	*total = sum;
	return 0;
}

/* The name length as Linux takes it: negative is EINVAL, more than sockaddr_storage is cut. */
static int msg_namelen(const struct linux_msghdr *mh, uint32_t *len)
{
	int32_t n = (int32_t)mh->msg_namelen;

	if (!mh->msg_name) {
		*len = 0;
		return 0;
	}
	if (n < 0)
		return -EINVAL;
	*len = (uint32_t)MIN(n, LINUX_SOCKADDR_STORAGE);
	return 0;
}

static bool privileged(struct task *t) { return t->cred.euid == 0; }

static int check_creds(struct task *t, const struct linux_ucred *c)
{
	const struct creds *me = &t->cred;

	if (c->pid != (uint32_t)t->tgid && !privileged(t))
		return -EPERM;
	if (c->uid != me->ruid && c->uid != me->euid && c->uid != me->suid && !privileged(t))
		return -EPERM;
	if (c->gid != me->rgid && c->gid != me->egid && c->gid != me->sgid && !privileged(t))
		return -EPERM;
	return 0;
}

static int add_rights(struct task *t, const int32_t *fds, int n, struct net_scm *scm)
{
	struct file **nf;

	if (scm->nfiles + n > LINUX_SCM_MAX_FD)
		return -EINVAL;
	nf = realloc(scm->files, (size_t)(scm->nfiles + n) * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	scm->files = nf;
	for (int i = 0; i < n; i++) {
		struct file *f = sys_fget_raw(t, fds[i]);
		if (!f)
			return -EBADF;
		scm->files[scm->nfiles++] = f;
	}
	return 0;
}

/* Parse the control buffer of a send (__scm_send). Only unix sockets take SOL_SOCKET
 * messages; other levels are ignored. */
static int parse_control(struct task *t, struct sock *sk, const uint8_t *buf, size_t len,
			 struct net_scm *scm)
{
	bool is_unix = net_sock_family(sk) == LINUX_AF_UNIX;
	size_t off = 0;

	while (off + sizeof(struct linux_cmsghdr) <= len) {
		struct linux_cmsghdr h;
		int r;

		memcpy(&h, buf + off, sizeof(h));
		if (h.cmsg_len < sizeof(h) || h.cmsg_len > len - off)
			return -EINVAL;
		if (h.cmsg_level == LINUX_SOL_SOCKET) {
			size_t dlen = h.cmsg_len - sizeof(h);
			const uint8_t *data = buf + off + sizeof(h);

			if (!is_unix) {
				/* inet: the protocol checks its destination first; nothing
				 * here is taken (SO_TIMESTAMPING, SO_MARK...) */
				off += LINUX_CMSG_ALIGN(h.cmsg_len);
				continue;
			}
			switch (h.cmsg_type) {
			case LINUX_SCM_RIGHTS: {
				int n = (int)(dlen / sizeof(int32_t));
				int32_t fds[LINUX_SCM_MAX_FD];
				if (n <= 0)
					break;
				if (n > LINUX_SCM_MAX_FD)
					return -EINVAL;
				memcpy(fds, data, (size_t)n * sizeof(int32_t));
				r = add_rights(t, fds, n, scm);
				if (r < 0)
					return r;
				break;
			}
			case LINUX_SCM_CREDENTIALS:
				if (h.cmsg_len != LINUX_CMSG_LEN(sizeof(struct linux_ucred)))
					return -EINVAL;
				memcpy(&scm->cred, data, sizeof(scm->cred));
				r = check_creds(t, &scm->cred);
				if (r < 0)
					return r;
				scm->has_cred = true;
				break;
			default:
				return -EINVAL;
			}
		}
		off += LINUX_CMSG_ALIGN(h.cmsg_len);
	}
	return 0;
}

/* One sendmsg of the msghdr mh (already copied in). */
static long do_sendmsg(struct task *t, struct file *f, struct sock *sk,
		       const struct linux_msghdr *mh, int flags)
{
	struct linux_iovec *iov = NULL;
	struct net_scm scm = {0};
	struct net_msg m = {.scm = &scm};
	struct net_addr to;
	uint8_t *ctl = NULL;
	uint32_t namelen;
	size_t total;
	long r;

	r = msg_namelen(mh, &namelen);
	if (r < 0)
		return r;
	if (namelen) {
		r = sys_addr_in(t, mh->msg_name, namelen, &to);
		if (r < 0)
			return r;
		m.to = &to;
	}
	r = import_msg_iov(t, mh, &iov, &total);
	if (r < 0)
		return r;
	if (mh->msg_controllen && mh->msg_control) {
		if (mh->msg_controllen > INT_MAX || mh->msg_controllen > OPTMEM_MAX) {
			r = -ENOBUFS;
			goto out;
		}
		ctl = malloc(mh->msg_controllen);
		if (!ctl) {
			r = -ENOMEM;
			goto out;
		}
		if (copy_in(t->mm, ctl, mh->msg_control, mh->msg_controllen) < 0) {
			r = -EFAULT;
			goto out;
		}
		r = parse_control(t, sk, ctl, mh->msg_controllen, &scm);
		if (r < 0)
			goto out;
	}
	net_iov_init_user(&m.iov, t, iov, mh->msg_iovlen, total);
	r = sys_sock_sigpipe(t, net_sendmsg(t, sk, &m, flags, sys_sock_nonblock(f)), flags);
out:
	net_scm_release(&scm);
	free(ctl);
	free(iov);
	return r;
}

/* Control messages of a receive, built in a Sentry buffer as put_cmsg/scm_detach_fds do. */
struct ctl_out {
	uint8_t *buf;
	size_t cap; /* the application's msg_controllen (at most RECV_CTL_MAX kept) */
	size_t used;
	int flags; /* MSG_CTRUNC */
	int fds[LINUX_SCM_MAX_FD];
	int nfds; /* reserved fds, committed once the buffer is out */
};

static void put_cmsg(struct ctl_out *c, int type, const void *data, size_t len)
{
	struct linux_cmsghdr h = {LINUX_CMSG_LEN(len), LINUX_SOL_SOCKET, type};
	size_t room = c->cap - c->used, cmlen = LINUX_CMSG_LEN(len);

	if (room < sizeof(h)) {
		c->flags |= LINUX_MSG_CTRUNC;
		return;
	}
	if (room < cmlen) {
		c->flags |= LINUX_MSG_CTRUNC;
		cmlen = room;
	}
	memcpy(c->buf + c->used, &h, sizeof(h));
	memcpy(c->buf + c->used + sizeof(h), data, cmlen - sizeof(h));
	c->used += MIN(LINUX_CMSG_SPACE(len), room);
}

/* SCM_RIGHTS: reserve an fd for each file that fits; the rest are dropped (MSG_CTRUNC). */
static void put_rights(struct task *t, struct ctl_out *c, struct net_scm *scm)
{
	size_t room = c->cap - c->used;
	int fdmax = room > sizeof(struct linux_cmsghdr)
			? (int)((room - sizeof(struct linux_cmsghdr)) / sizeof(int32_t))
			: 0;
	int limit = vfs_nofile_limit();
	int i;

	for (i = 0; i < MIN(fdmax, scm->nfiles); i++) {
		int fd = fdtable_reserve(t->fdt, 0, limit);
		if (fd < 0)
			break;
		c->fds[c->nfds++] = fd;
	}
	if (i > 0) {
		struct linux_cmsghdr h = {LINUX_CMSG_LEN((size_t)i * 4), LINUX_SOL_SOCKET,
					  LINUX_SCM_RIGHTS};
		memcpy(c->buf + c->used, &h, sizeof(h));
		memcpy(c->buf + c->used + sizeof(h), c->fds, (size_t)i * 4);
		c->used += MIN(LINUX_CMSG_SPACE((size_t)i * 4), room);
	}
	if (i < scm->nfiles)
		c->flags |= LINUX_MSG_CTRUNC;
}

/* One recvmsg into the msghdr at umsg (mh: its copy). */
static long do_recvmsg(struct task *t, struct file *f, struct sock *sk, uint64_t umsg,
		       struct linux_msghdr *mh, int flags)
{
	struct linux_iovec *iov = NULL;
	struct net_addr from = {0};
	struct net_scm scm = {0};
	struct net_msg m = {.from = &from, .scm = &scm};
	struct ctl_out c = {0};
	uint32_t namelen;
	size_t total;
	long r;

	r = msg_namelen(mh, &namelen);
	if (r < 0)
		return r;
	r = import_msg_iov(t, mh, &iov, &total);
	if (r < 0)
		return r;
	net_iov_init_user(&m.iov, t, iov, mh->msg_iovlen, total);
	r = net_recvmsg(t, sk, &m, flags, sys_sock_nonblock(f));
	free(iov);
	if (r < 0)
		goto out;

	if (mh->msg_control) {
		c.cap = MIN(mh->msg_controllen, (uint64_t)RECV_CTL_MAX);
		c.buf = calloc(1, c.cap ? c.cap : 1);
		if (!c.buf) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (m.want_cred && scm.has_cred)
		put_cmsg(&c, LINUX_SCM_CREDENTIALS, &scm.cred, sizeof(scm.cred));
	if (scm.nfiles)
		put_rights(t, &c, &scm);
	if (c.used && copy_out(t->mm, mh->msg_control, c.buf, c.used) < 0) {
		for (int i = 0; i < c.nfds; i++)
			fdtable_unreserve(t->fdt, c.fds[i]);
		c.nfds = 0;
		r = -EFAULT;
		goto out;
	}
	for (int i = 0; i < c.nfds; i++) {
		fdtable_commit(t->fdt, c.fds[i], scm.files[i], flags & LINUX_MSG_CMSG_CLOEXEC);
	}
	if (mh->msg_name) {
		uint32_t n = MIN(namelen, from.len);
		if (n && copy_out(t->mm, mh->msg_name, from.bytes, n) < 0) {
			r = -EFAULT;
			goto out;
		}
		mh->msg_namelen = from.len;
	}
	mh->msg_controllen = c.used;
	mh->msg_flags = (uint32_t)(m.flags_out | c.flags | (flags & LINUX_MSG_CMSG_CLOEXEC));
	/* msg_namelen, msg_controllen and msg_flags go back; the rest is the application's */
	if (copy_out(t->mm, umsg + offsetof(struct linux_msghdr, msg_namelen), &mh->msg_namelen,
		     sizeof(mh->msg_namelen)) < 0 ||
	    copy_out(t->mm, umsg + offsetof(struct linux_msghdr, msg_controllen),
		     &mh->msg_controllen, sizeof(mh->msg_controllen)) < 0 ||
	    copy_out(t->mm, umsg + offsetof(struct linux_msghdr, msg_flags), &mh->msg_flags,
		     sizeof(mh->msg_flags)) < 0)
		r = -EFAULT;
out:
	/* the installed files now belong to the fd table (it took its own references) */
	net_scm_release(&scm);
	free(c.buf);
	return r;
}

SYSCALL_DEFINE(sendmsg)
{
	struct linux_msghdr mh;
	struct sock *sk;
	struct file *f;
	long r = sys_sockfd(t, (int)a->a[0], &f, &sk);

	if (r < 0)
		return r;
	if (copy_in(t->mm, &mh, a->a[1], sizeof(mh)) < 0)
		r = -EFAULT;
	else
		r = do_sendmsg(t, f, sk, &mh, (int)a->a[2]);
	file_put(f);
	return r;
}

SYSCALL_DEFINE(recvmsg)
{
	struct linux_msghdr mh;
	struct sock *sk;
	struct file *f;
	long r = sys_sockfd(t, (int)a->a[0], &f, &sk);

	if (r < 0)
		return r;
	if (copy_in(t->mm, &mh, a->a[1], sizeof(mh)) < 0)
		r = -EFAULT;
	else
		r = do_recvmsg(t, f, sk, a->a[1], &mh, (int)a->a[2]);
	file_put(f);
	return r;
}

SYSCALL_DEFINE(sendmmsg)
{
	uint64_t base = a->a[1];
	unsigned vlen = (unsigned)MIN(a->a[2], (uint64_t)LINUX_IOV_MAX);
	int flags = (int)a->a[3];
	struct sock *sk;
	struct file *f;
	unsigned i;
	long r = sys_sockfd(t, (int)a->a[0], &f, &sk);

	if (r < 0)
		return r;
	for (i = 0; i < vlen; i++) {
		uint64_t u = base + (uint64_t)i * sizeof(struct linux_mmsghdr);
		struct linux_mmsghdr mm;
		uint32_t len;

		if (copy_in(t->mm, &mm, u, sizeof(mm)) < 0) {
			r = -EFAULT;
			break;
		}
		r = do_sendmsg(t, f, sk, &mm.msg_hdr, flags);
		if (r < 0)
			break;
		len = (uint32_t)r;
		if (copy_out(t->mm, u + offsetof(struct linux_mmsghdr, msg_len), &len,
			     sizeof(len)) < 0) {
			r = -EFAULT;
			break;
		}
	}
	file_put(f);
	return i ? (long)i : r;
}

SYSCALL_DEFINE(recvmmsg)
{
	uint64_t base = a->a[1], utimeout = a->a[4];
	unsigned vlen = (unsigned)MIN(a->a[2], (uint64_t)LINUX_IOV_MAX);
	int flags = (int)a->a[3];
	struct timespec end = {0}, now;
	struct sock *sk;
	struct file *f;
	unsigned i;
	long r;

	if (utimeout) {
		struct linux_timespec ts;
		if (copy_in(t->mm, &ts, utimeout, sizeof(ts)) < 0)
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
			return -EINVAL;
		struct timespec rel = {ts.tv_sec, ts.tv_nsec};
		deadline_after(&end, &rel);
	}
	r = sys_sockfd(t, (int)a->a[0], &f, &sk);
	if (r < 0)
		return r;
	for (i = 0; i < vlen; i++) {
		uint64_t u = base + (uint64_t)i * sizeof(struct linux_mmsghdr);
		struct linux_mmsghdr mm;
		uint32_t len;

		if (copy_in(t->mm, &mm, u, sizeof(mm)) < 0) {
			r = -EFAULT;
			break;
		}
		r = do_recvmsg(t, f, sk, u, &mm.msg_hdr, flags & ~LINUX_MSG_WAITFORONE);
		if (r < 0)
			break;
		len = (uint32_t)r;
		if (copy_out(t->mm, u + offsetof(struct linux_mmsghdr, msg_len), &len,
			     sizeof(len)) < 0) {
			r = -EFAULT;
			break;
		}
		if (flags & LINUX_MSG_WAITFORONE)
			flags |= LINUX_MSG_DONTWAIT;
		if (utimeout) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec > end.tv_sec ||
			    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec)) {
				i++;
				break;
			}
		}
	}
	if (utimeout) {
		struct linux_timespec left = {0, 0};
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t ns = (end.tv_sec - now.tv_sec) * 1000000000LL + (end.tv_nsec - now.tv_nsec);
		if (ns > 0) {
			left.tv_sec = ns / 1000000000;
			left.tv_nsec = ns % 1000000000;
		}
		if (copy_out(t->mm, utimeout, &left, sizeof(left)) < 0 && !i)
			r = -EFAULT;
	}
	file_put(f);
	return i ? (long)i : r;
}
