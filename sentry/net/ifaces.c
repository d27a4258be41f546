/* The sandbox's one network interface, lo (index 1, 127.0.0.1/8 and ::1/128): its counters and
 * the SIOCGIF* ioctls any socket answers (ifconfig, glibc's if_nametoindex fallback...). */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/net/net_impl.h"

static _Atomic uint64_t g_lo_bytes, g_lo_packets;

void net_lo_count(size_t len)
{
	atomic_fetch_add(&g_lo_bytes, len);
	atomic_fetch_add(&g_lo_packets, 1);
}

void net_lo_stats(uint64_t *bytes, uint64_t *packets)
{
	*bytes = atomic_load(&g_lo_bytes);
	*packets = atomic_load(&g_lo_packets);
}

static void put_v4(struct linux_sockaddr *sa, uint32_t host_order)
{
	struct linux_sockaddr_in sin = {.sin_family = LINUX_AF_INET};

	sin.sin_addr = __builtin_bswap32(host_order);
	memcpy(sa, &sin, sizeof(sin));
}

static long ifconf(struct task *t, uint64_t arg)
{
	struct linux_ifconf ic;
	struct linux_ifreq ifr = {0};

	if (copy_in(t->mm, &ic, arg, sizeof(ic)) < 0)
		return -EFAULT;
	if (ic.ifc_buf == 0) {
		ic.ifc_len = sizeof(ifr); /* the size a full answer takes */
	} else if (ic.ifc_len >= (int)sizeof(ifr)) {
		strcpy(ifr.ifr_name, "lo");
		put_v4(&ifr.u.addr, 0x7f000001);
		if (copy_out(t->mm, ic.ifc_buf, &ifr, sizeof(ifr)) < 0)
			return -EFAULT;
		ic.ifc_len = sizeof(ifr);
	} else {
		ic.ifc_len = 0;
	}
	return copy_out(t->mm, arg, &ic, sizeof(ic));
}

long net_ifioctl(struct task *t, unsigned int cmd, uint64_t arg)
{
	struct linux_ifreq ifr;

	switch (cmd) {
	case LINUX_SIOCGIFCONF:
		return ifconf(t, arg);
	case LINUX_SIOCGIFNAME:
	case LINUX_SIOCGIFFLAGS:
	case LINUX_SIOCGIFADDR:
	case LINUX_SIOCGIFNETMASK:
	case LINUX_SIOCGIFBRDADDR:
	case LINUX_SIOCGIFMETRIC:
	case LINUX_SIOCGIFMTU:
	case LINUX_SIOCGIFHWADDR:
	case LINUX_SIOCGIFINDEX:
	case LINUX_SIOCGIFTXQLEN:
		break;
	default:
		return -ENOTTY;
	}
	if (copy_in(t->mm, &ifr, arg, sizeof(ifr)) < 0)
		return -EFAULT;
	if (cmd == LINUX_SIOCGIFNAME) {
		if (ifr.u.ivalue != NET_LO_INDEX)
			return -ENODEV;
		memset(ifr.ifr_name, 0, sizeof(ifr.ifr_name));
		strcpy(ifr.ifr_name, "lo");
		return copy_out(t->mm, arg, &ifr, sizeof(ifr));
	}
	ifr.ifr_name[LINUX_IFNAMSIZ - 1] = 0;
	if (strcmp(ifr.ifr_name, "lo") != 0)
		return -ENODEV;
	memset(&ifr.u, 0, sizeof(ifr.u));
	switch (cmd) {
	case LINUX_SIOCGIFFLAGS:
		ifr.u.flags = LINUX_IFF_UP | LINUX_IFF_LOOPBACK | LINUX_IFF_RUNNING;
		break;
	case LINUX_SIOCGIFADDR:
		put_v4(&ifr.u.addr, 0x7f000001);
		break;
	case LINUX_SIOCGIFNETMASK:
		put_v4(&ifr.u.addr, 0xff000000);
		break;
	case LINUX_SIOCGIFBRDADDR:
		put_v4(&ifr.u.addr, 0);
		break;
	case LINUX_SIOCGIFMETRIC:
		ifr.u.ivalue = 0;
		break;
	case LINUX_SIOCGIFMTU:
		ifr.u.ivalue = NET_LO_MTU;
		break;
	case LINUX_SIOCGIFHWADDR:
		ifr.u.addr.sa_family = LINUX_ARPHRD_LOOPBACK;
		break;
	case LINUX_SIOCGIFINDEX:
		ifr.u.ivalue = NET_LO_INDEX;
		break;
	case LINUX_SIOCGIFTXQLEN:
		ifr.u.ivalue = 1000;
		break;
	}
	return copy_out(t->mm, arg, &ifr, sizeof(ifr));
}
