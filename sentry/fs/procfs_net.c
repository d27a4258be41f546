/* procfs: /proc/net/{tcp,tcp6,udp,udp6,unix,dev}, in Linux 6.x's formats, from snapshots of the
 * Sentry's sockets (sentry/net/). Kernel pointers read as zeros, as with kptr_restrict. */
#include "sentry/fs/procfs.h"

#include <errno.h>
#include <stdlib.h>

#include "sentry/net/net.h"

#define TCP_LISTEN 10
#define SO_ACCEPTCON 0x10000

/* A __be32 printed as the native integer it is in memory (%08X of Linux's s_addr). */
static unsigned word(const uint8_t *a)
{
	return (unsigned)a[0] | (unsigned)a[1] << 8 | (unsigned)a[2] << 16 | (unsigned)a[3] << 24;
}

static void put_addr(struct pbuf *b, const uint8_t a[16], uint16_t port, bool v4)
{
	if (v4)
		pbuf_printf(b, "%08X:%04X", word(a + 12), port);
	else
		pbuf_printf(b, "%08X%08X%08X%08X:%04X", word(a), word(a + 4), word(a + 8),
			    word(a + 12), port);
}

static int gen_inet(struct pbuf *b, enum net_proc_kind kind)
{
	bool tcp = kind == NET_PROC_TCP || kind == NET_PROC_TCP6;
	bool v4 = kind == NET_PROC_TCP || kind == NET_PROC_UDP;
	struct net_sock_info *v;
	int n = net_proc_snapshot(kind, &v);

	if (n < 0)
		return n;
	if (tcp && v4)
		pbuf_printf(b, "%-149s\n",
			    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
			    "retrnsmt   uid  timeout inode");
	else if (tcp)
		pbuf_puts(b,
			  "  sl  local_address                         remote_address          "
			  "              st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
			  "inode\n");
	else if (v4)
		pbuf_printf(b, "%-127s\n",
			    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
			    "retrnsmt   uid  timeout inode ref pointer drops");
	else
		pbuf_puts(b,
			  "  sl  local_address                         remote_address          "
			  "              st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
			  "inode ref pointer drops\n");
	for (int i = 0; i < n; i++) {
		const struct net_sock_info *s = &v[i];

		pbuf_printf(b, tcp ? "%4d: " : "%5d: ", i);
		put_addr(b, s->laddr, s->lport, v4);
		pbuf_puts(b, " ");
		put_addr(b, s->raddr, s->rport, v4);
		pbuf_printf(b, " %02X %08X:%08X %02X:%08lX %08X %5u %8d %llu %d 0000000000000000",
			    s->state, s->txq, s->rxq, 0, 0UL, 0, s->uid, 0,
			    (unsigned long long)s->ino, s->refs);
		if (tcp)
			pbuf_printf(b, " %lu %lu %u %u %d", 100UL, 0UL, 0u, 10u,
				    s->state == TCP_LISTEN ? 0 : -1);
		else
			pbuf_printf(b, " %u", 0u);
		if (v4)
			pbuf_pad_line(b, tcp ? 149 : 127);
		pbuf_puts(b, "\n");
	}
	free(v);
	return 0;
}

int proc_gen_net_tcp(struct pbuf *b, int tgid, int tid)
{
	(void)tgid, (void)tid;
	return gen_inet(b, NET_PROC_TCP);
}

int proc_gen_net_tcp6(struct pbuf *b, int tgid, int tid)
{
	(void)tgid, (void)tid;
	return gen_inet(b, NET_PROC_TCP6);
}

int proc_gen_net_udp(struct pbuf *b, int tgid, int tid)
{
	(void)tgid, (void)tid;
	return gen_inet(b, NET_PROC_UDP);
}

int proc_gen_net_udp6(struct pbuf *b, int tgid, int tid)
{
	(void)tgid, (void)tid;
	return gen_inet(b, NET_PROC_UDP6);
}

int proc_gen_net_unix(struct pbuf *b, int tgid, int tid)
{
	struct net_sock_info *v;
	int n = net_proc_snapshot(NET_PROC_UNIX, &v);

	(void)tgid, (void)tid;
	if (n < 0)
		return n;
	pbuf_puts(b, "Num       RefCount Protocol Flags    Type St Inode Path\n");
	for (int i = 0; i < n; i++) {
		const struct net_sock_info *s = &v[i];

		pbuf_printf(b, "0000000000000000: %08X %08X %08X %04X %02X %5llu", s->refs, 0,
			    s->listening ? SO_ACCEPTCON : 0, s->type, s->unix_state,
			    (unsigned long long)s->ino);
		if (s->pathlen) {
			pbuf_puts(b, " ");
			pbuf_put(b, s->path, s->pathlen);
		}
		pbuf_puts(b, "\n");
	}
	free(v);
	return 0;
}

int proc_gen_net_dev(struct pbuf *b, int tgid, int tid)
{
	uint64_t bytes, packets;

	(void)tgid, (void)tid;
	net_lo_stats(&bytes, &packets);
	pbuf_puts(b,
		  "Inter-|   Receive                                                |  Transmit\n"
		  " face |bytes    packets errs drop fifo frame compressed multicast|bytes    "
		  "packets errs drop fifo colls carrier compressed\n");
	pbuf_printf(b,
		    "%6s:%8llu %7llu %4llu %4llu %4llu %5llu %10llu %9llu %8llu %7llu %4llu %4llu "
		    "%4llu %5llu %7llu %10llu\n",
		    "lo", (unsigned long long)bytes, (unsigned long long)packets, 0ULL, 0ULL, 0ULL,
		    0ULL, 0ULL, 0ULL, (unsigned long long)bytes, (unsigned long long)packets, 0ULL,
		    0ULL, 0ULL, 0ULL, 0ULL, 0ULL);
	return 0;
}
