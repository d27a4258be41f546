/* uname_test.c: uname fields (sysname and machine printed; release and nodename only checked). */
#include "check.h"

#include <ctype.h>
#include <sys/utsname.h>

int main(void)
{
	struct utsname u;

	memset(&u, 0x7f, sizeof(u));
	CHECK_OK(uname(&u));
	/* Every field is NUL-terminated within its 65 bytes. */
	const char *fields[] = { u.sysname, u.nodename, u.release, u.version, u.machine, u.domainname };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		CHECK(memchr(fields[i], 0, sizeof(u.sysname)) != NULL, "field %zu not terminated", i);
	CHECK(strcmp(u.sysname, "Linux") == 0, "sysname '%s'", u.sysname);
	CHECK(strcmp(u.machine, "x86_64") == 0, "machine '%s'", u.machine);
	/* release looks like "N.N...": glibc parses it for its minimum kernel check. */
	CHECK(isdigit((unsigned char)u.release[0]) && strchr(u.release, '.') != NULL, "release '%s'",
	      u.release);
	CHECK(u.nodename[0] != 0, "empty nodename");
	CHECK(u.version[0] != 0, "empty version");
	printf("sysname %s\nmachine %s\n", u.sysname, u.machine);
	printf("uname_test: done\n");
	return 0;
}
