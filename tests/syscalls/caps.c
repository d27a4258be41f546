/* caps.c: capget/capset and their rules, capability changes on setuid and execve, the bounding
 * and ambient sets, keepcaps, supplementary groups (setgroups/getgroups, used by permission
 * checks), sethostname/setdomainname. Starts as root, as both runs do. */
#include "sc.h"

#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/fsuid.h>
#include <sys/utsname.h>

struct caps {
	uint64_t eff, prm, inh;
};

static struct caps get_caps(pid_t pid)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, pid};
	struct __user_cap_data_struct d[2];

	CHECK_OK(syscall(SYS_capget, &h, d));
	return (struct caps){d[0].effective | (uint64_t)d[1].effective << 32,
			     d[0].permitted | (uint64_t)d[1].permitted << 32,
			     d[0].inheritable | (uint64_t)d[1].inheritable << 32};
}

static long set_caps(struct caps c)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {
	    {(uint32_t)c.eff, (uint32_t)c.prm, (uint32_t)c.inh},
	    {(uint32_t)(c.eff >> 32), (uint32_t)(c.prm >> 32), (uint32_t)(c.inh >> 32)}};

	return syscall(SYS_capset, &h, d);
}

#define BIT(c) (1ULL << (c))

/* The CapEff line of /proc/self/status, as a number. */
static uint64_t status_caps(const char *key)
{
	char buf[8192], *p;

	read_file("/proc/self/status", buf, sizeof(buf));
	p = strstr(buf, key);
	CHECK(p != NULL, "%s in status", key);
	return strtoull(p + strlen(key) + 2, NULL, 16);
}

static struct caps root;

static void test_capget(void)
{
	struct __user_cap_header_struct h = {0x12345678, 0};
	struct __user_cap_data_struct d[2];

	root = get_caps(0);
	CHECK(root.eff == root.prm && root.inh == 0, "root's sets");
	CHECK((root.eff & BIT(CAP_SETUID)) && (root.eff & BIT(CAP_SYS_ADMIN)) &&
		  (root.eff & BIT(CAP_DAC_OVERRIDE)),
	      "root's effective set %llx", (unsigned long long)root.eff);
	CHECK(status_caps("CapEff") == root.eff && status_caps("CapPrm") == root.prm,
	      "status agrees");
	ok("root holds its capabilities; /proc/self/status agrees");

	CHECK_ERR(syscall(SYS_capget, &h, d), EINVAL);
	CHECK(h.version == _LINUX_CAPABILITY_VERSION_3, "preferred version %x", h.version);
	h.version = 1;
	CHECK(syscall(SYS_capget, &h, NULL) == 0 && h.version == _LINUX_CAPABILITY_VERSION_3,
	      "version probe");
	ok("capget: unknown version -> EINVAL, the kernel's version written back");
	h.version = _LINUX_CAPABILITY_VERSION_3;
	h.pid = -1;
	CHECK_ERR(syscall(SYS_capget, &h, d), EINVAL);
	h.pid = getppid();
	CHECK_OK(syscall(SYS_capget, &h, d));
	pid_t pid = sc_fork();
	if (pid == 0)
		_exit(0);
	expect_exit(pid, 0);
	h.pid = pid;
	CHECK_ERR(syscall(SYS_capget, &h, d), ESRCH);
	h.version = _LINUX_CAPABILITY_VERSION_1;
	h.pid = 0;
	d[1].effective = 0xdead;
	CHECK_OK(syscall(SYS_capget, &h, d));
	CHECK(d[0].effective == (uint32_t)root.eff && d[1].effective == 0xdead, "v1 copies one");
	ok("capget of another process, v1");
}

static void capset_child(void)
{
	struct caps c = root;
	int fd;

	write_file("secret", "x", 0000);
	c.eff &= ~(BIT(CAP_DAC_OVERRIDE) | BIT(CAP_DAC_READ_SEARCH));
	CHECK_OK(set_caps(c));
	CHECK(get_caps(0).eff == c.eff, "effective after capset");
	CHECK_ERR(open("secret", O_RDONLY), EACCES);
	c.eff = root.eff;
	CHECK_OK(set_caps(c));
	fd = (int)CHECK_OK(open("secret", O_RDONLY));
	close(fd);
	ok("capset: dropping CAP_DAC_OVERRIDE from effective denies, raising it back allows");

	c.prm &= ~BIT(CAP_NET_RAW);
	CHECK_ERR(set_caps(c), EPERM); /* effective beyond permitted */
	c.eff &= ~BIT(CAP_NET_RAW);
	CHECK_OK(set_caps(c));
	c.prm = c.eff = root.prm;
	CHECK_ERR(set_caps(c), EPERM); /* permitted may not grow */
	c.prm = c.eff = root.prm & ~BIT(CAP_NET_RAW);
	c.inh = BIT(CAP_CHOWN);
	CHECK_OK(set_caps(c));
	CHECK(get_caps(0).inh == BIT(CAP_CHOWN), "inheritable");
	c.inh = BIT(CAP_NET_RAW); /* neither inheritable nor permitted: needs CAP_SETPCAP */
	CHECK_OK(set_caps(c));
	c.eff &= ~BIT(CAP_SETPCAP);
	c.inh = BIT(CAP_NET_RAW) | BIT(CAP_KILL);
	CHECK_OK(set_caps(c)); /* CAP_KILL is permitted */
	c.inh |= BIT(CAP_NET_ADMIN);
	c.prm &= ~BIT(CAP_NET_ADMIN);
	c.eff &= ~BIT(CAP_NET_ADMIN);
	CHECK_OK(set_caps(c));
	c.prm &= ~BIT(CAP_SYS_NICE);
	c.eff &= ~BIT(CAP_SYS_NICE);
	CHECK_OK(set_caps(c));
	c.inh |= BIT(CAP_SYS_NICE);
	CHECK_ERR(set_caps(c), EPERM); /* inheritable may not grow past permitted without SETPCAP */

	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, getppid()};
	struct __user_cap_data_struct d[2] = {{0, 0, 0}, {0, 0, 0}};
	CHECK_ERR(syscall(SYS_capset, &h, d), EPERM);
	h.version = 42;
	CHECK_ERR(syscall(SYS_capset, &h, d), EINVAL);
	ok("capset rules");

	/* a v1 capset cannot express the upper 32 capabilities: they go */
	h.version = _LINUX_CAPABILITY_VERSION_1;
	h.pid = 0;
	struct caps cur = get_caps(0);
	d[0].effective = d[0].permitted = (uint32_t)cur.prm;
	d[0].inheritable = 0;
	CHECK_OK(syscall(SYS_capset, &h, d));
	CHECK(get_caps(0).prm == (cur.prm & 0xffffffffULL), "v1 capset");
	ok("capset v1");
}

static void setuid_child(void)
{
	int fd;

	/* seteuid away from 0 clears effective; back to 0 restores it from permitted */
	CHECK_OK(seteuid(1000));
	CHECK(get_caps(0).eff == 0 && get_caps(0).prm == root.prm, "euid 1000");
	CHECK_OK(seteuid(0));
	CHECK(get_caps(0).eff == root.prm, "euid 0 again");
	ok("seteuid drops and restores the effective set");

	/* setfsuid only moves the filesystem capabilities */
	write_file("secret2", "x", 0000);
	setfsuid(1000);
	struct caps c = get_caps(0);
	CHECK(!(c.eff & BIT(CAP_DAC_OVERRIDE)) && !(c.eff & BIT(CAP_CHOWN)) &&
		  (c.eff & BIT(CAP_SETUID)),
	      "fsuid 1000: %llx", (unsigned long long)c.eff);
	CHECK_ERR(open("secret2", O_RDONLY), EACCES);
	setfsuid(0);
	CHECK(get_caps(0).eff == root.eff, "fsuid 0 again");
	fd = (int)CHECK_OK(open("secret2", O_RDONLY));
	close(fd);
	ok("setfsuid drops and raises the filesystem capabilities");

	/* keepcaps: permitted survives leaving uid 0, effective does not */
	CHECK_OK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
	CHECK_OK(setresuid(1000, 1000, 1000));
	c = get_caps(0);
	CHECK(c.prm == root.prm && c.eff == 0, "keepcaps");
	c.eff = BIT(CAP_DAC_OVERRIDE);
	CHECK_OK(set_caps(c));
	fd = (int)CHECK_OK(open("secret2", O_RDONLY));
	close(fd);
	ok("keepcaps keeps the permitted set across setresuid");
}

static void setuid_nokeep_child(void)
{
	CHECK_OK(setresuid(1000, 1000, 1000));
	struct caps c = get_caps(0);
	CHECK(c.eff == 0 && c.prm == 0 && c.inh == 0, "all gone");
	CHECK(status_caps("CapEff") == 0 && status_caps("CapPrm") == 0, "status");
	CHECK_ERR(setuid(0), EPERM);
	CHECK_ERR(set_caps(root), EPERM);
	CHECK_ERR(setgroups(0, NULL), EPERM);
	ok("leaving uid 0 drops every capability");
}

/* Re-executed as "caps exec MODE": checks the capabilities execve gave. */
static int exec_check(const char *mode)
{
	struct caps c = get_caps(0);

	if (strcmp(mode, "root") == 0) {
		CHECK(c.eff == c.prm && !(c.prm & BIT(CAP_NET_RAW)) && (c.prm & BIT(CAP_SETUID)),
		      "root after exec: %llx/%llx", (unsigned long long)c.eff,
		      (unsigned long long)c.prm);
		CHECK(prctl(PR_GET_KEEPCAPS) == 0, "keepcaps cleared by exec");
	} else if (strcmp(mode, "user") == 0) {
		CHECK(c.eff == 0 && c.prm == 0, "user after exec: %llx", (unsigned long long)c.prm);
	} else {
		CHECK(c.eff == BIT(CAP_NET_BIND_SERVICE) && c.prm == BIT(CAP_NET_BIND_SERVICE),
		      "ambient after exec: %llx/%llx", (unsigned long long)c.eff,
		      (unsigned long long)c.prm);
		CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0) == 1,
		      "still ambient");
	}
	return 0;
}

static void reexec(const char *mode)
{
	char *argv[] = {"caps", "exec", (char *)mode, NULL};

	fflush(NULL);
	execv("/proc/self/exe", argv);
	check_fail(__FILE__, __LINE__, "execv");
}

static void exec_root_child(void)
{
	CHECK(prctl(PR_CAPBSET_READ, CAP_NET_RAW, 0, 0, 0) == 1, "in the bounding set");
	CHECK_OK(prctl(PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0));
	CHECK(prctl(PR_CAPBSET_READ, CAP_NET_RAW, 0, 0, 0) == 0, "dropped");
	CHECK_ERR(prctl(PR_CAPBSET_READ, 64, 0, 0, 0), EINVAL);
	CHECK_OK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
	reexec("root");
}

static void exec_user_child(void)
{
	CHECK_OK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
	CHECK_OK(setresuid(1000, 1000, 1000));
	CHECK(get_caps(0).prm == root.prm, "kept");
	reexec("user");
}

static void exec_ambient_child(void)
{
	struct caps c = root;

	CHECK_ERR(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0), EPERM);
	c.inh = BIT(CAP_NET_BIND_SERVICE);
	CHECK_OK(set_caps(c));
	CHECK_OK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
	CHECK_OK(setresuid(1000, 1000, 1000));
	/* leaving uid 0 cleared the ambient set; raise it again as 1000 */
	CHECK_OK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0));
	CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0) == 1, "set");
	reexec("ambient");
}

static void test_exec(void)
{
	in_child(exec_root_child);
	ok("execve as root: permitted = bounding set, effective = permitted, keepcaps cleared");
	in_child(exec_user_child);
	ok("execve as a user: kept capabilities go");
	in_child(exec_ambient_child);
	ok("execve as a user keeps the ambient set");
}

static void groups_child(void)
{
	gid_t set[3] = {4242, 3, 4}, got[8];
	int fd;

	CHECK_OK(setgroups(3, set));
	CHECK(getgroups(0, NULL) == 3, "count");
	CHECK(getgroups(8, got) == 3 && got[0] == 3 && got[1] == 4 && got[2] == 4242, "sorted");
	CHECK_ERR(getgroups(1, got), EINVAL);
	CHECK_ERR(syscall(SYS_getgroups, -1, got), EINVAL);
	ok("setgroups/getgroups (sorted)");

	write_file("grpfile", "y", 0060);
	CHECK_OK(chown("grpfile", 0, 4242));
	CHECK_OK(chmod("grpfile", 0060));
	CHECK_OK(setresgid(1000, 1000, 1000));
	CHECK_OK(setresuid(1000, 1000, 1000));
	fd = (int)CHECK_OK(open("grpfile", O_RDWR));
	close(fd);
	CHECK_OK(access("grpfile", R_OK | W_OK));
	ok("a supplementary group grants group access");
	CHECK(strstr(({
		      static char b[8192];
		      read_file("/proc/self/status", b, sizeof(b));
		      b;
	      }),
		     "\nGroups:\t3 4 4242 \n") != NULL,
	      "status Groups");
	ok("/proc/self/status Groups");
}

static void nogroups_child(void)
{
	CHECK_OK(setgroups(0, NULL));
	CHECK(getgroups(0, NULL) == 0, "none");
	CHECK_OK(setresgid(1000, 1000, 1000));
	CHECK_OK(setresuid(1000, 1000, 1000));
	CHECK_ERR(open("grpfile", O_RDWR), EACCES);
	CHECK_ERR(access("grpfile", R_OK), EACCES);
}

static void test_groups(void)
{
	in_child(groups_child);
	in_child(nogroups_child);
	ok("without the group: EACCES");
}

static bool in_sandbox(void)
{
	struct utsname u;

	return uname(&u) == 0 && strstr(u.version, "runsc-c") != NULL;
}

static void uts_child(void)
{
	struct utsname u;
	char name[128];

	/* natively, a new UTS namespace keeps the host's names safe */
	if (unshare(CLONE_NEWUTS) != 0 && !in_sandbox())
		check_fail(__FILE__, __LINE__, "unshare(CLONE_NEWUTS)");
	CHECK_OK(sethostname("sc-host", 7));
	CHECK_OK(setdomainname("sc-domain", 9));
	CHECK_OK(uname(&u));
	CHECK(strcmp(u.nodename, "sc-host") == 0 && strcmp(u.domainname, "sc-domain") == 0,
	      "uname %s %s", u.nodename, u.domainname);
	CHECK_OK(gethostname(name, sizeof(name)));
	CHECK(strcmp(name, "sc-host") == 0, "gethostname");
	read_file("/proc/sys/kernel/hostname", name, sizeof(name));
	CHECK(strcmp(name, "sc-host\n") == 0, "/proc/sys/kernel/hostname: %s", name);
	ok("sethostname, setdomainname, uname");
	memset(name, 'a', sizeof(name));
	CHECK_OK(sethostname(name, 64));
	CHECK_ERR(sethostname(name, 65), EINVAL);
	CHECK_ERR(syscall(SYS_sethostname, name, -1), EINVAL);
	CHECK_ERR(syscall(SYS_sethostname, 8, 5), EFAULT);
	CHECK_OK(setresuid(1000, 1000, 1000));
	CHECK_ERR(sethostname("x", 1), EPERM);
	CHECK_ERR(setdomainname("x", 1), EPERM);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "exec") == 0)
		return exec_check(argv[2]);
	CHECK_OK(chdir(sc_tmpdir()));
	CHECK_OK(chmod(".", 0755)); /* the children that become uid 1000 work here too */
	test_capget();
	in_child(capset_child);
	in_child(setuid_child);
	in_child(setuid_nokeep_child);
	test_exec();
	test_groups();
	in_child(uts_child);
	return 0;
}
