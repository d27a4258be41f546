/* Backend registry: platforms are chosen by name at run time. */
#include "platform/platform.h"

#include <string.h>

static const struct platform *const platforms[] = {
	&platform_ptrace,
	&platform_systrap,
	&platform_unotify,
};

const char *const platform_names[] = {"ptrace", "systrap", "unotify", NULL};

const struct platform *platform_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(platforms) / sizeof(platforms[0]); i++)
		if (strcmp(platforms[i]->name, name) == 0)
			return platforms[i];
	return NULL;
}
