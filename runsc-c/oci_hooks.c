/* config.json hooks, run on the host as runc runs them: each hook's path with its args and env,
 * the container's state JSON on stdin, killed after its timeout. prestart and createRuntime
 * run when create has the sandbox up (a failure fails create), poststart after start and
 * poststop after delete (a failure there is reported and the rest go on). createContainer and
 * startContainer would run inside the container's namespaces, which are the Sentry's own:
 * refused at create. */
#define _GNU_SOURCE
#include "runsc-c/oci.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static const char *const host_hooks[] = {"prestart", "createRuntime", "poststart", "poststop",
					 NULL};

/* hook[key] as a NULL-terminated vector (borrowed strings), or def when absent. */
static const char **strv(json_object *hook, const char *key, const char *def)
{
	json_object *a;
	size_t n = 0;

	if (json_object_object_get_ex(hook, key, &a))
		n = json_object_array_length(a);
	const char **v = calloc(n + 2, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = json_object_get_string(json_object_array_get_idx(a, i));
	if (n == 0 && def)
		v[0] = def;
	return v;
}

int oci_hooks_check(json_object *hooks)
{
	json_object_object_foreach(hooks, kind, list)
	{
		bool ok = false;
		for (const char *const *k = host_hooks; *k; k++)
			ok |= strcmp(*k, kind) == 0;
		if (!ok)
			return oci_error("config.json: hooks.%s: not supported (%s)", kind,
					 strcmp(kind, "createContainer") == 0 ||
						 strcmp(kind, "startContainer") == 0
					     ? "it would run in the container's namespaces, which "
					       "are the Sentry's"
					     : "unknown hook"),
			       -1;
		if (!json_object_is_type(list, json_type_array))
			return oci_error("config.json: hooks.%s: expected an array", kind), -1;
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			json_object *h = json_object_array_get_idx(list, i), *v;
			if (!json_object_is_type(h, json_type_object) ||
			    !json_object_object_get_ex(h, "path", &v) ||
			    !json_object_is_type(v, json_type_string) ||
			    json_object_get_string(v)[0] != '/')
				return oci_error("config.json: hooks.%s[%zu].path: an absolute path is "
						 "required",
						 kind, i),
				       -1;
			json_object_object_foreach(h, key, val)
			{
				if (strcmp(key, "path") == 0)
					continue;
				if (strcmp(key, "timeout") == 0) {
					if (json_object_is_type(val, json_type_int) &&
					    json_object_get_int64(val) > 0)
						continue;
				} else if (strcmp(key, "args") == 0 || strcmp(key, "env") == 0) {
					bool strings = json_object_is_type(val, json_type_array);
					for (size_t k = 0; strings && k < json_object_array_length(val);
					     k++)
						strings = json_object_is_type(
						    json_object_array_get_idx(val, k), json_type_string);
					if (strings)
						continue;
				}
				return oci_error("config.json: hooks.%s[%zu].%s: not valid here", kind,
						 i, key),
				       -1;
			}
		}
	}
	return 0;
}

/* Run one hook; 0 or -1 with the reason in why. */
static int run_hook(json_object *h, const char *state, char *why, size_t n)
{
	json_object *v;
	const char *path = json_object_get_string(json_object_object_get_ex(h, "path", &v) ? v : NULL);
	int64_t timeout = json_object_object_get_ex(h, "timeout", &v) ? json_object_get_int64(v) : 0;
	const char **args = strv(h, "args", path), **env = strv(h, "env", NULL);
	int in[2], st;
	pid_t pid;

	if (!args || !env || pipe2(in, O_CLOEXEC) < 0) {
		snprintf(why, n, "%s", strerror(errno ? errno : ENOMEM));
		free(args);
		free(env);
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		signal(SIGPIPE, SIG_DFL);
		execve(path, (char *const *)args, (char *const *)env);
		_exit(127);
	}
	close(in[0]);
	free(args);
	free(env);
	if (pid < 0) {
		close(in[1]);
		return snprintf(why, n, "fork: %s", strerror(errno)), -1;
	}
	signal(SIGPIPE, SIG_IGN); /* a hook that does not read its stdin */
	ssize_t w = write(in[1], state, strlen(state));
	(void)w;
	close(in[1]);
	struct timespec ts = {0, 10 * 1000 * 1000};
	for (int64_t waited = 0;; waited += 10) {
		pid_t r = waitpid(pid, &st, timeout ? WNOHANG : 0);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return snprintf(why, n, "waitpid: %s", strerror(errno)), -1;
		if (timeout && waited >= timeout * 1000) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return snprintf(why, n, "timed out after %llds", (long long)timeout), -1;
		}
		if (r == 0)
			nanosleep(&ts, NULL);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		snprintf(why, n, "exit status %d", WEXITSTATUS(st));
	else
		snprintf(why, n, "killed by signal %d", WTERMSIG(st));
	return -1;
}

int oci_hooks_run(json_object *hooks, const char *kind, json_object *state, bool fatal)
{
	json_object *list;
	char why[256];

	if (!hooks || !json_object_object_get_ex(hooks, kind, &list))
		return 0;
	const char *text = json_object_to_json_string_ext(state, OCI_JSON_PLAIN);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *h = json_object_array_get_idx(list, i), *p;
		if (run_hook(h, text, why, sizeof(why)) == 0)
			continue;
		json_object_object_get_ex(h, "path", &p);
		oci_error("%s hook %s[%zu] %s: %s", fatal ? "failed:" : "warning:", kind, i,
			  json_object_get_string(p), why);
		if (fatal)
			return -1;
	}
	return 0;
}
