/* The sandboxed program's environment: a minimal fixed set plus what the user passes with --env. */
#include "runsc-c/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool env_entry_valid(const char *s)
{
	const char *eq = strchr(s, '=');
	return eq != NULL && eq != s;
}

void env_free(char **env)
{
	if (!env)
		return;
	for (char **p = env; *p; p++)
		free(*p);
	free(env);
}

/* Length of the key of "K=V" (s is valid). */
static size_t key_len(const char *s) { return (size_t)(strchr(s, '=') - s); }

/* Add entry (copied) to env[0..*n), replacing one with the same key. env has room for one more. */
static int env_put(char **env, size_t *n, const char *entry)
{
	size_t kl = key_len(entry);
	char *copy = strdup(entry);

	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++) {
		if (key_len(env[i]) == kl && memcmp(env[i], entry, kl) == 0) {
			free(env[i]);
			env[i] = copy;
			return 0;
		}
	}
	env[(*n)++] = copy;
	return 0;
}

/* "KEY=" + value, newly allocated. */
static char *env_join(const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);
	char *s = malloc(kl + vl + 2);

	if (!s)
		return NULL;
	memcpy(s, key, kl);
	s[kl] = '=';
	memcpy(s + kl + 1, value, vl + 1);
	return s;
}

char **sandbox_env_build(const char *host_term, const char *host_lang, char *const *extra,
			 size_t nextra)
{
	const char *term = host_term && *host_term ? host_term : "xterm";
	const char *lang = host_lang && *host_lang ? host_lang : "C.UTF-8";
	char **env;
	size_t n = 0;

	for (size_t i = 0; i < nextra; i++) {
		if (!env_entry_valid(extra[i])) {
			errno = EINVAL;
			return NULL;
		}
	}
	env = calloc(4 + nextra + 1, sizeof(*env));
	if (!env)
		goto nomem;
	if (!(env[n++] = strdup("PATH=" SANDBOX_PATH)) || !(env[n++] = strdup("HOME=/root")) ||
	    !(env[n++] = env_join("TERM", term)) || !(env[n++] = env_join("LANG", lang)))
		goto nomem;
	for (size_t i = 0; i < nextra; i++)
		if (env_put(env, &n, extra[i]) < 0)
			goto nomem;
	env[n] = NULL;
	return env;
nomem:
	env_free(env);
	errno = ENOMEM;
	return NULL;
}
