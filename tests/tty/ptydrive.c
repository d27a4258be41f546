/* ptydrive: an expect-style driver that runs a command on a new pseudo-terminal, types into it
 * and waits for what it prints, for the interactive-shell tests (tests/tty/run.sh).
 *
 *   ptydrive [-v] [-o TRANSCRIPT] [-t MS] [-T MS] [-s ROWSxCOLS] SCRIPT -- CMD [ARG...]
 *
 * CMD runs as the session leader of a new pty (forkpty), with the pty as its controlling terminal
 * and stdin/stdout/stderr. SCRIPT ("-" for stdin) has one step per line; blank lines and lines
 * starting with '#' are skipped; TEXT runs to the end of the line and takes the escapes \n \r
 * \t \e \\ \s (a space) and \xHH:
 *   send TEXT        write TEXT to the terminal (what the user types: \x03 is ^C)
 *   expect[:MS] TEXT wait until TEXT appears in the output not yet matched, at most MS
 *                    milliseconds (default -t); the output up to the end of the match is consumed
 *   sleep MS         wait, reading the output meanwhile
 *   capture NAME START END  save the output between the next START and the END after it
 *                    (both consumed) to TRANSCRIPT.NAME (needs -o), within the default timeout
 *   exit[:MS] STATUS wait until CMD ends: its exit status, or 128+N when killed by signal N,
 *                    must be STATUS
 * -T bounds the whole run (default 20000 ms). Whatever happens, CMD's terminal is hung up at
 * the end and CMD (its process group) killed if it is still there.
 * Exit status: 0 if every step passed, 1 if one failed (the step, what was expected and the
 * tail of the output are printed on stderr), 2 on a usage or system error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#define MAX_OUT (1 << 20)

static int g_master = -1;
static pid_t g_child = -1;
static int g_status = -1; /* shell-style, once the child is reaped */
static bool g_eof;	  /* the master read EOF/EIO: every slave fd is closed */
static bool g_verbose;
static const char *g_transcript;
static long long g_run_deadline;

/* Everything the command printed; [g_mark, g_len) is not yet matched. */
static char g_out[MAX_OUT];
static size_t g_len, g_mark;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ptydrive: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* Reaps the child if it has exited; returns true once it has. */
static bool child_reaped(void)
{
	int ws;

	if (g_status >= 0)
		return true;
	if (waitpid(g_child, &ws, WNOHANG) != g_child)
		return false;
	g_status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return true;
}

/* Reads what is there, waiting at most until deadline (ms, monotonic) for something to come.
 * Returns false when nothing more can come (EOF and the child reaped). */
static bool pump(long long deadline)
{
	long long left = deadline - now_ms();
	struct pollfd pfd = {.fd = g_master, .events = POLLIN};

	if (g_eof) {
		/* Nothing more to read: only the child's exit is left to wait for. */
		if (child_reaped())
			return false;
		if (left > 0)
			usleep(left > 10 ? 10000 : (useconds_t)left * 1000);
		return true;
	}
	if (left < 0)
		left = 0;
	/* Wake up every 50 ms to notice the child's exit while a grandchild holds the pty. */
	int r = poll(&pfd, 1, left > 50 ? 50 : (int)left);
	if (r < 0 && errno != EINTR)
		die("poll: %s", strerror(errno));
	if (r > 0) {
		if (g_len == MAX_OUT) { /* keep the unmatched tail */
			size_t keep = MAX_OUT / 2;
			memmove(g_out, g_out + g_len - keep, keep);
			g_mark = g_mark > g_len - keep ? g_mark - (g_len - keep) : 0;
			g_len = keep;
		}
		ssize_t n = read(g_master, g_out + g_len, MAX_OUT - g_len);
		if (n > 0) {
			if (g_transcript) {
				FILE *f = fopen(g_transcript, "a");
				if (f) {
					fwrite(g_out + g_len, 1, (size_t)n, f);
					fclose(f);
				}
			}
			g_len += (size_t)n;
		} else if (n == 0 || errno == EIO) {
			g_eof = true;
		} else if (errno != EINTR && errno != EAGAIN) {
			die("read: %s", strerror(errno));
		}
	}
	child_reaped();
	return true;
}

/* Prints s[0..n) with the non-printing bytes escaped. */
static void print_escaped(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n')
			fputs("\\n\n", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c == '\\')
			fputs("\\\\", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

/* Decodes the escapes of TEXT in place; returns its length. */
static size_t unescape(char *s, int lineno)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r != '\\') {
			*w++ = *r;
			continue;
		}
		switch (*++r) {
		case 'n':
			*w++ = '\n';
			break;
		case 'r':
			*w++ = '\r';
			break;
		case 't':
			*w++ = '\t';
			break;
		case 'e':
			*w++ = '\033';
			break;
		case 's':
			*w++ = ' ';
			break;
		case '\\':
			*w++ = '\\';
			break;
		case 'x': {
			char hex[3] = {0};
			if (!r[1] || !r[2])
				die("script line %d: bad \\x escape", lineno);
			hex[0] = r[1];
			hex[1] = r[2];
			char *end;
			long v = strtol(hex, &end, 16);
			if (*end)
				die("script line %d: bad \\x escape", lineno);
			*w++ = (char)v;
			r += 2;
			break;
		}
		default:
			die("script line %d: unknown escape \\%c", lineno, *r ? *r : '0');
		}
	}
	*w = 0;
	return (size_t)(w - s);
}

/* The step failed: says why, with the output not yet matched (its tail). */
static int step_failed(int lineno, const char *line, const char *why)
{
	size_t from = g_len - g_mark > 600 ? g_len - 600 : g_mark;

	fprintf(stderr, "ptydrive: script line %d: %s: %s\n", lineno, line, why);
	if (g_status >= 0)
		fprintf(stderr, "ptydrive: the command has exited with status %d\n", g_status);
	fprintf(stderr, "ptydrive: unmatched output%s:\n", from > g_mark ? " (tail)" : "");
	print_escaped(stderr, g_out + from, g_len - from);
	fputs("\n", stderr);
	return 1;
}

/* Waits for the n bytes at pat after the mark, until deadline; on success sets *at to where
 * they start. Returns false on timeout or when the command can print nothing more. */
static bool wait_for(const char *pat, size_t n, long long deadline, size_t *at)
{
	for (;;) {
		char *p = memmem(g_out + g_mark, g_len - g_mark, pat, n);
		if (p) {
			*at = (size_t)(p - g_out);
			return true;
		}
		if (now_ms() >= deadline || !pump(deadline))
			return false;
	}
}

static long long step_deadline(long ms)
{
	long long d = now_ms() + ms;
	return d < g_run_deadline ? d : g_run_deadline;
}

/* Parses "word[:MS]": returns MS, or dflt without one. */
static long parse_ms(const char *suffix, long dflt, int lineno)
{
	char *end;
	long v;

	if (!*suffix)
		return dflt;
	if (*suffix != ':')
		die("script line %d: unknown step", lineno);
	v = strtol(suffix + 1, &end, 10);
	if (*end || v < 0)
		die("script line %d: bad timeout", lineno);
	return v;
}

static int run_step(char *line, int lineno, long dflt_ms)
{
	char orig[4096];
	char *arg = strchr(line, ' ');
	size_t n;

	snprintf(orig, sizeof(orig), "%s", line);
	if (arg)
		*arg++ = 0;
	else
		arg = line + strlen(line);
	if (g_verbose)
		fprintf(stderr, "[%lld] %s\n", now_ms() % 100000, orig);

	if (!strcmp(line, "send")) {
		n = unescape(arg, lineno);
		for (size_t off = 0; off < n;) {
			ssize_t w = write(g_master, arg + off, n - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return step_failed(lineno, orig, strerror(errno));
			off += (size_t)w;
		}
		return 0;
	}
	if (!strcmp(line, "sleep")) {
		long long d = step_deadline(atol(arg));
		while (now_ms() < d && pump(d))
			;
		if (now_ms() < d)
			usleep((useconds_t)(d - now_ms()) * 1000);
		return 0;
	}
	if (!strncmp(line, "expect", 6)) {
		size_t at;
		long ms = parse_ms(line + 6, dflt_ms, lineno);
		long long start = now_ms();
		n = unescape(arg, lineno);
		if (!n)
			die("script line %d: nothing to expect", lineno);
		if (!wait_for(arg, n, step_deadline(ms), &at))
			return step_failed(lineno, orig,
					   g_status >= 0 && g_eof ? "the command ended first"
								  : "timed out");
		if (g_verbose)
			fprintf(stderr, "[%lld]   matched after %lld ms\n", now_ms() % 100000,
				now_ms() - start);
		g_mark = at + n;
		return 0;
	}
	if (!strcmp(line, "capture")) {
		char *start = arg, *end = strchr(arg, ' '), *name;
		size_t a, b, sn, en;
		long long d = step_deadline(dflt_ms);
		if (!end || !g_transcript)
			die("script line %d: capture NAME START END (and -o)", lineno);
		*end++ = 0;
		name = start;
		start = end;
		end = strchr(start, ' ');
		if (!end)
			die("script line %d: capture NAME START END", lineno);
		*end++ = 0;
		sn = unescape(start, lineno);
		en = unescape(end, lineno);
		if (!wait_for(start, sn, d, &a))
			return step_failed(lineno, orig, "start not seen");
		g_mark = a + sn;
		if (!wait_for(end, en, d, &b))
			return step_failed(lineno, orig, "end not seen");
		g_mark = b + en;
		char path[4096];
		snprintf(path, sizeof(path), "%s.%s", g_transcript, name);
		FILE *f = fopen(path, "w");
		if (!f)
			die("%s: %s", path, strerror(errno));
		fwrite(g_out + a + sn, 1, b - (a + sn), f);
		fclose(f);
		return 0;
	}
	if (!strncmp(line, "exit", 4)) {
		long ms = parse_ms(line + 4, dflt_ms, lineno);
		long long d = step_deadline(ms);
		char *end;
		long want = strtol(arg, &end, 10);
		if (!*arg || *end)
			die("script line %d: exit STATUS", lineno);
		while (!child_reaped() && now_ms() < d)
			pump(d);
		if (!child_reaped())
			return step_failed(lineno, orig, "the command did not exit in time");
		if (g_status != want) {
			char why[64];
			snprintf(why, sizeof(why), "exit status %d", g_status);
			return step_failed(lineno, orig, why);
		}
		return 0;
	}
	die("script line %d: unknown step %s", lineno, line);
	return 2;
}

/* Ends the command if it is still there: hang-up first (as closing a terminal window does),
 * then SIGKILL to its process group. */
static void finish_child(void)
{
	long long d;

	if (child_reaped())
		return;
	close(g_master);
	g_master = -1;
	d = now_ms() + 2000;
	while (!child_reaped() && now_ms() < d)
		usleep(10000);
	if (!child_reaped()) {
		kill(-g_child, SIGKILL);
		kill(g_child, SIGKILL);
		waitpid(g_child, NULL, 0);
	}
}

static void usage(void)
{
	fputs("usage: ptydrive [-v] [-o TRANSCRIPT] [-t MS] [-T MS] [-s ROWSxCOLS] SCRIPT -- CMD "
	      "[ARG...]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	long dflt_ms = 5000, total_ms = 20000;
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	int opt;

	while ((opt = getopt(argc, argv, "+vo:t:T:s:")) != -1) {
		switch (opt) {
		case 'v':
			g_verbose = true;
			break;
		case 'o':
			g_transcript = optarg;
			break;
		case 't':
			dflt_ms = atol(optarg);
			break;
		case 'T':
			total_ms = atol(optarg);
			break;
		case 's':
			if (sscanf(optarg, "%hux%hu", &ws.ws_row, &ws.ws_col) != 2)
				usage();
			break;
		default:
			usage();
		}
	}
	if (argc - optind < 3 || strcmp(argv[optind + 1], "--"))
		usage();
	const char *script = argv[optind];
	char **cmd = argv + optind + 2;
	FILE *sf = strcmp(script, "-") ? fopen(script, "r") : stdin;
	if (!sf)
		die("%s: %s", script, strerror(errno));
	if (g_transcript) {
		FILE *f = fopen(g_transcript, "w");
		if (!f)
			die("%s: %s", g_transcript, strerror(errno));
		fclose(f);
	}

	signal(SIGPIPE, SIG_IGN);
	g_child = forkpty(&g_master, NULL, NULL, &ws);
	if (g_child < 0)
		die("forkpty: %s", strerror(errno));
	if (g_child == 0) {
		signal(SIGPIPE, SIG_DFL);
		execvp(cmd[0], cmd);
		fprintf(stderr, "ptydrive: exec %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	fcntl(g_master, F_SETFD, FD_CLOEXEC);
	g_run_deadline = now_ms() + total_ms;

	char line[4096];
	int lineno = 0, rc = 0;
	while (!rc && fgets(line, sizeof(line), sf)) {
		lineno++;
		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		rc = run_step(line, lineno, dflt_ms);
		if (!rc && now_ms() >= g_run_deadline) {
			fprintf(stderr, "ptydrive: the whole run took more than %ld ms\n",
				total_ms);
			rc = 1;
		}
	}
	finish_child();
	return rc;
}
