/* The Linux socket ABI as data (x86-64): families, types, flags, option names, and the structs
 * the socket syscalls exchange with the application. Until abi/linux.h has them. */
#ifndef SENTRY_NET_NET_ABI_H
#define SENTRY_NET_NET_ABI_H

#include <stddef.h>
#include <stdint.h>

/* ---- families and types ---- */
#define LINUX_AF_UNSPEC 0
#define LINUX_AF_UNIX 1
#define LINUX_AF_INET 2
#define LINUX_AF_INET6 10
#define LINUX_AF_NETLINK 16
#define LINUX_AF_PACKET 17
#define LINUX_AF_MAX 46

#define LINUX_SOCK_STREAM 1
#define LINUX_SOCK_DGRAM 2
#define LINUX_SOCK_RAW 3
#define LINUX_SOCK_RDM 4
#define LINUX_SOCK_SEQPACKET 5
#define LINUX_SOCK_TYPE_MASK 0xf
#define LINUX_SOCK_NONBLOCK 00004000
#define LINUX_SOCK_CLOEXEC 02000000

#define LINUX_IPPROTO_IP 0
#define LINUX_IPPROTO_ICMP 1
#define LINUX_IPPROTO_TCP 6
#define LINUX_IPPROTO_UDP 17
#define LINUX_IPPROTO_IPV6 41
#define LINUX_IPPROTO_ICMPV6 58
#define LINUX_IPPROTO_UDPLITE 136
#define LINUX_IPPROTO_MPTCP 262

#define LINUX_NETLINK_ROUTE 0

/* ---- send/recv flags ---- */
#define LINUX_MSG_OOB 0x1
#define LINUX_MSG_PEEK 0x2
#define LINUX_MSG_DONTROUTE 0x4
#define LINUX_MSG_CTRUNC 0x8
#define LINUX_MSG_TRUNC 0x20
#define LINUX_MSG_DONTWAIT 0x40
#define LINUX_MSG_EOR 0x80
#define LINUX_MSG_WAITALL 0x100
#define LINUX_MSG_ERRQUEUE 0x2000
#define LINUX_MSG_NOSIGNAL 0x4000
#define LINUX_MSG_MORE 0x8000
#define LINUX_MSG_WAITFORONE 0x10000
#define LINUX_MSG_CMSG_CLOEXEC 0x40000000

#define LINUX_SHUT_RD 0
#define LINUX_SHUT_WR 1
#define LINUX_SHUT_RDWR 2

/* ---- option levels and names ---- */
#define LINUX_SOL_SOCKET 1
#define LINUX_SOL_TCP 6
#define LINUX_SOL_UDP 17
#define LINUX_SOL_IPV6 41
#define LINUX_SOL_NETLINK 270

#define LINUX_SO_DEBUG 1
#define LINUX_SO_REUSEADDR 2
#define LINUX_SO_TYPE 3
#define LINUX_SO_ERROR 4
#define LINUX_SO_DONTROUTE 5
#define LINUX_SO_BROADCAST 6
#define LINUX_SO_SNDBUF 7
#define LINUX_SO_RCVBUF 8
#define LINUX_SO_KEEPALIVE 9
#define LINUX_SO_OOBINLINE 10
#define LINUX_SO_NO_CHECK 11
#define LINUX_SO_PRIORITY 12
#define LINUX_SO_LINGER 13
#define LINUX_SO_BSDCOMPAT 14
#define LINUX_SO_REUSEPORT 15
#define LINUX_SO_PASSCRED 16
#define LINUX_SO_PEERCRED 17
#define LINUX_SO_RCVLOWAT 18
#define LINUX_SO_SNDLOWAT 19
#define LINUX_SO_RCVTIMEO_OLD 20
#define LINUX_SO_SNDTIMEO_OLD 21
#define LINUX_SO_BINDTODEVICE 25
#define LINUX_SO_TIMESTAMP_OLD 29
#define LINUX_SO_ACCEPTCONN 30
#define LINUX_SO_PEERSEC 31
#define LINUX_SO_SNDBUFFORCE 32
#define LINUX_SO_RCVBUFFORCE 33
#define LINUX_SO_PASSSEC 34
#define LINUX_SO_TIMESTAMPNS_OLD 35
#define LINUX_SO_MARK 36
#define LINUX_SO_PROTOCOL 38
#define LINUX_SO_DOMAIN 39
#define LINUX_SO_RXQ_OVFL 40
#define LINUX_SO_PEEK_OFF 42
#define LINUX_SO_BUSY_POLL 46
#define LINUX_SO_INCOMING_CPU 49
#define LINUX_SO_COOKIE 57
#define LINUX_SO_ZEROCOPY 60
#define LINUX_SO_RCVTIMEO_NEW 66
#define LINUX_SO_SNDTIMEO_NEW 67
#define LINUX_SO_PASSPIDFD 76

#define LINUX_SCM_RIGHTS 1
#define LINUX_SCM_CREDENTIALS 2
#define LINUX_SCM_MAX_FD 253

#define LINUX_TCP_NODELAY 1
#define LINUX_TCP_MAXSEG 2
#define LINUX_TCP_CORK 3
#define LINUX_TCP_KEEPIDLE 4
#define LINUX_TCP_KEEPINTVL 5
#define LINUX_TCP_KEEPCNT 6
#define LINUX_TCP_SYNCNT 7
#define LINUX_TCP_LINGER2 8
#define LINUX_TCP_DEFER_ACCEPT 9
#define LINUX_TCP_WINDOW_CLAMP 10
#define LINUX_TCP_INFO 11
#define LINUX_TCP_QUICKACK 12
#define LINUX_TCP_CONGESTION 13
#define LINUX_TCP_USER_TIMEOUT 18
#define LINUX_TCP_FASTOPEN 23
#define LINUX_TCP_NOTSENT_LOWAT 25
#define LINUX_TCP_FASTOPEN_CONNECT 30

#define LINUX_IP_TOS 1
#define LINUX_IP_TTL 2
#define LINUX_IP_HDRINCL 3
#define LINUX_IP_OPTIONS 4
#define LINUX_IP_RECVOPTS 6
#define LINUX_IP_PKTINFO 8
#define LINUX_IP_MTU_DISCOVER 10
#define LINUX_IP_RECVERR 11
#define LINUX_IP_RECVTTL 12
#define LINUX_IP_RECVTOS 13
#define LINUX_IP_MTU 14
#define LINUX_IP_FREEBIND 15
#define LINUX_IP_BIND_ADDRESS_NO_PORT 24
#define LINUX_IP_MULTICAST_IF 32
#define LINUX_IP_MULTICAST_TTL 33
#define LINUX_IP_MULTICAST_LOOP 34

#define LINUX_IPV6_UNICAST_HOPS 16
#define LINUX_IPV6_MULTICAST_IF 17
#define LINUX_IPV6_MULTICAST_HOPS 18
#define LINUX_IPV6_MULTICAST_LOOP 19
#define LINUX_IPV6_V6ONLY 26
#define LINUX_IPV6_RECVPKTINFO 49
#define LINUX_IPV6_RECVTCLASS 66
#define LINUX_IPV6_TCLASS 67

/* ---- addresses ---- */
struct linux_sockaddr {
	uint16_t sa_family;
	char sa_data[14];
};

#define LINUX_UNIX_PATH_MAX 108
struct linux_sockaddr_un {
	uint16_t sun_family;
	char sun_path[LINUX_UNIX_PATH_MAX];
};
_Static_assert(sizeof(struct linux_sockaddr_un) == 110, "sockaddr_un");

struct linux_sockaddr_in {
	uint16_t sin_family;
	uint16_t sin_port; /* network order */
	uint32_t sin_addr; /* network order */
	uint8_t sin_zero[8];
};
_Static_assert(sizeof(struct linux_sockaddr_in) == 16, "sockaddr_in");

struct linux_sockaddr_in6 {
	uint16_t sin6_family;
	uint16_t sin6_port;
	uint32_t sin6_flowinfo;
	uint8_t sin6_addr[16];
	uint32_t sin6_scope_id;
};
_Static_assert(sizeof(struct linux_sockaddr_in6) == 28, "sockaddr_in6");

struct linux_sockaddr_nl {
	uint16_t nl_family;
	uint16_t nl_pad;
	uint32_t nl_pid;
	uint32_t nl_groups;
};
_Static_assert(sizeof(struct linux_sockaddr_nl) == 12, "sockaddr_nl");

#define LINUX_SOCKADDR_STORAGE 128

/* ---- messages ---- */
struct linux_msghdr {
	uint64_t msg_name;
	uint32_t msg_namelen;
	uint32_t pad0;
	uint64_t msg_iov;
	uint64_t msg_iovlen;
	uint64_t msg_control;
	uint64_t msg_controllen;
	uint32_t msg_flags;
	uint32_t pad1;
};
_Static_assert(sizeof(struct linux_msghdr) == 56, "msghdr");

struct linux_mmsghdr {
	struct linux_msghdr msg_hdr;
	uint32_t msg_len;
	uint32_t pad;
};
_Static_assert(sizeof(struct linux_mmsghdr) == 64, "mmsghdr");

struct linux_cmsghdr {
	uint64_t cmsg_len;
	int32_t cmsg_level;
	int32_t cmsg_type;
};
_Static_assert(sizeof(struct linux_cmsghdr) == 16, "cmsghdr");
#define LINUX_CMSG_ALIGN(len) (((len) + 7) & ~(uint64_t)7)
#define LINUX_CMSG_LEN(len) (sizeof(struct linux_cmsghdr) + (len))
#define LINUX_CMSG_SPACE(len) (sizeof(struct linux_cmsghdr) + LINUX_CMSG_ALIGN(len))

struct linux_ucred {
	uint32_t pid;
	uint32_t uid;
	uint32_t gid;
};

struct linux_linger {
	int32_t l_onoff;
	int32_t l_linger;
};

/* ---- interfaces (ioctl) ---- */
#define LINUX_IFNAMSIZ 16
struct linux_ifreq {
	char ifr_name[LINUX_IFNAMSIZ];
	union {
		struct linux_sockaddr addr;
		int16_t flags;
		int32_t ivalue; /* ifindex, mtu, metric */
		char newname[LINUX_IFNAMSIZ];
		uint8_t raw[24];
	} u;
};
_Static_assert(sizeof(struct linux_ifreq) == 40, "ifreq");

struct linux_ifconf {
	int32_t ifc_len;
	int32_t pad;
	uint64_t ifc_buf;
};
_Static_assert(sizeof(struct linux_ifconf) == 16, "ifconf");

#define LINUX_SIOCGIFNAME 0x8910
#define LINUX_SIOCGIFCONF 0x8912
#define LINUX_SIOCGIFFLAGS 0x8913
#define LINUX_SIOCGIFADDR 0x8915
#define LINUX_SIOCGIFBRDADDR 0x8919
#define LINUX_SIOCGIFNETMASK 0x891b
#define LINUX_SIOCGIFMETRIC 0x891d
#define LINUX_SIOCGIFMTU 0x8921
#define LINUX_SIOCGIFHWADDR 0x8927
#define LINUX_SIOCGIFINDEX 0x8933
#define LINUX_SIOCGIFTXQLEN 0x8942
#define LINUX_SIOCINQ 0x541B  /* FIONREAD */
#define LINUX_SIOCOUTQ 0x5411 /* TIOCOUTQ */
#define LINUX_SIOCATMARK 0x8905
#define LINUX_SIOCGSTAMP 0x8906

#define LINUX_IFF_UP 0x1
#define LINUX_IFF_LOOPBACK 0x8
#define LINUX_IFF_RUNNING 0x40
#define LINUX_IFF_LOWER_UP 0x10000
#define LINUX_ARPHRD_LOOPBACK 772

/* ---- netlink ---- */
struct linux_nlmsghdr {
	uint32_t nlmsg_len;
	uint16_t nlmsg_type;
	uint16_t nlmsg_flags;
	uint32_t nlmsg_seq;
	uint32_t nlmsg_pid;
};
_Static_assert(sizeof(struct linux_nlmsghdr) == 16, "nlmsghdr");
#define LINUX_NLMSG_ALIGN(len) (((len) + 3u) & ~3u)
#define LINUX_NLMSG_NOOP 1
#define LINUX_NLMSG_ERROR 2
#define LINUX_NLMSG_DONE 3
#define LINUX_NLM_F_REQUEST 0x1
#define LINUX_NLM_F_MULTI 0x2
#define LINUX_NLM_F_ACK 0x4
#define LINUX_NLM_F_ROOT 0x100
#define LINUX_NLM_F_MATCH 0x200
#define LINUX_NLM_F_DUMP (LINUX_NLM_F_ROOT | LINUX_NLM_F_MATCH)
#define LINUX_NLM_F_CAPPED 0x100

#define LINUX_RTM_NEWLINK 16
#define LINUX_RTM_GETLINK 18
#define LINUX_RTM_NEWADDR 20
#define LINUX_RTM_GETADDR 22
#define LINUX_RTM_NEWROUTE 24
#define LINUX_RTM_GETROUTE 26

struct linux_ifinfomsg {
	uint8_t ifi_family;
	uint8_t pad;
	uint16_t ifi_type;
	int32_t ifi_index;
	uint32_t ifi_flags;
	uint32_t ifi_change;
};
_Static_assert(sizeof(struct linux_ifinfomsg) == 16, "ifinfomsg");

struct linux_ifaddrmsg {
	uint8_t ifa_family;
	uint8_t ifa_prefixlen;
	uint8_t ifa_flags;
	uint8_t ifa_scope;
	uint32_t ifa_index;
};
_Static_assert(sizeof(struct linux_ifaddrmsg) == 8, "ifaddrmsg");

struct linux_rtattr {
	uint16_t rta_len;
	uint16_t rta_type;
};
#define LINUX_IFLA_ADDRESS 1
#define LINUX_IFLA_BROADCAST 2
#define LINUX_IFLA_IFNAME 3
#define LINUX_IFLA_MTU 4
#define LINUX_IFLA_QDISC 6
#define LINUX_IFLA_STATS 7
#define LINUX_IFLA_TXQLEN 13
#define LINUX_IFLA_OPERSTATE 16
#define LINUX_IFLA_LINKMODE 17
#define LINUX_IFA_ADDRESS 1
#define LINUX_IFA_LOCAL 2
#define LINUX_IFA_LABEL 3
#define LINUX_IFA_CACHEINFO 6
#define LINUX_IFA_FLAGS 8
#define LINUX_IFA_F_PERMANENT 0x80
#define LINUX_RT_SCOPE_HOST 254

#endif
