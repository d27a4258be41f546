/* pipe_atomic.c: PIPE_BUF atomicity: concurrent writers of PIPE_BUF-sized messages never
 * interleave within a message, and each writer's messages arrive in order. */
#include "sc.h"

#include <limits.h>

enum { WRITERS = 4, MSGS = 150 };

int main(void)
{
	int p[2];

	CHECK_OK(pipe(p));
	pid_t pids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = sc_fork();
		if (pids[w] == 0) {
			static char msg[PIPE_BUF];
			close(p[0]);
			for (int i = 0; i < MSGS; i++) {
				/* Header: writer and sequence; body: the writer's letter. */
				memset(msg, 'a' + w, sizeof(msg));
				snprintf(msg, 16, "%d:%06d:", w, i);
				if (write(p[1], msg, sizeof(msg)) != (ssize_t)sizeof(msg))
					_exit(1);
			}
			_exit(0);
		}
	}
	close(p[1]);
	static char buf[PIPE_BUF];
	int next[WRITERS] = { 0 };
	int total = 0;
	for (;;) {
		/* Read exactly one message (reads may return less: keep going). */
		size_t got = 0;
		while (got < sizeof(buf)) {
			ssize_t r = read(p[0], buf + got, sizeof(buf) - got);
			CHECK(r >= 0, "read");
			if (r == 0)
				break;
			got += (size_t)r;
		}
		if (got == 0)
			break;
		CHECK(got == sizeof(buf), "a truncated message at the end: %zu bytes", got);
		int w = buf[0] - '0', seq = atoi(buf + 2);
		CHECK(w >= 0 && w < WRITERS && buf[1] == ':', "message header");
		size_t hdr = strlen(buf) + 1;
		for (size_t i = hdr; i < sizeof(buf); i++)
			CHECK(buf[i] == 'a' + w, "message %d of writer %d interleaved at byte %zu", seq,
			      w, i);
		CHECK(seq == next[w], "writer %d: message %d, want %d", w, seq, next[w]);
		next[w]++;
		total++;
	}
	for (int w = 0; w < WRITERS; w++)
		expect_exit(pids[w], 0);
	CHECK(total == WRITERS * MSGS, "all messages: %d", total);
	close(p[0]);
	ok("%d writers x %d messages of PIPE_BUF bytes: none interleaved, each writer in order",
	   WRITERS, MSGS);
	return 0;
}
