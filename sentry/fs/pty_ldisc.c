/* The line discipline of the Sentry's pseudo-terminals, after Linux's n_tty: input processing
 * (ISTRIP, IGNCR/ICRNL/INLCR, IXON's start/stop characters), ISIG characters, canonical line
 * editing (ERASE, KILL, WERASE, LNEXT, REPRINT, EOF, EOL), echo (ECHO, ECHOE, ECHOK, ECHOKE,
 * ECHONL, ECHOCTL) and output processing (OPOST: ONLCR, OCRNL, ONOCR, ONLRET, OLCUC). Every
 * function runs with pty->lock held (pty.h). Not emulated: flow control actually stopping
 * output, TAB3 expansion, ECHOPRT, IUCLC, PARMRK and break handling. */
#include "sentry/fs/pty.h"

#include <ctype.h>
#include <string.h>

#include "common/util.h"

static void qput(struct pty_queue *q, char c) { q->buf[q->wr++ % PTY_BUF] = c; }

void pty_ldisc_init(struct pty *p)
{
	static const uint8_t cc[19] = {
	    [T_VINTR] = 003,  [T_VQUIT] = 034,	  [T_VERASE] = 0177,  [T_VKILL] = 025,
	    [T_VEOF] = 004,   [T_VMIN] = 1,	  [T_VSTART] = 021,   [T_VSTOP] = 023,
	    [T_VSUSP] = 032,  [T_VREPRINT] = 022, [T_VDISCARD] = 017, [T_VWERASE] = 027,
	    [T_VLNEXT] = 026,
	};

	memset(&p->tio, 0, sizeof(p->tio));
	p->tio.c_iflag = T_ICRNL | T_IXON;
	p->tio.c_oflag = T_OPOST | T_ONLCR;
	p->tio.c_cflag = T_B38400 | T_CS8 | T_CREAD;
	p->tio.c_lflag =
	    T_ISIG | T_ICANON | T_ECHO | T_ECHOE | T_ECHOK | T_ECHOCTL | T_ECHOKE | T_IEXTEN;
	memcpy(p->tio.c_cc, cc, sizeof(cc));
}

static bool L(const struct pty *p, uint32_t f) { return p->tio.c_lflag & f; }
static bool I(const struct pty *p, uint32_t f) { return p->tio.c_iflag & f; }
static bool O(const struct pty *p, uint32_t f) { return p->tio.c_oflag & f; }

/* Is c the (enabled) special character cc[i]? NUL disables one, as _POSIX_VDISABLE. */
static bool is(const struct pty *p, unsigned char c, int i)
{
	return p->tio.c_cc[i] && c == p->tio.c_cc[i];
}

/* ---- output ---- */

/* Put c into out with output processing (do_output_char). false: no room. */
static bool out_char(struct pty *p, unsigned char c)
{
	struct pty_queue *q = &p->out;

	if (!O(p, T_OPOST)) {
		if (!pty_queue_room(q))
			return false;
		qput(q, (char)c);
		return true;
	}
	switch (c) {
	case '\n':
		if (O(p, T_ONLCR)) {
			if (pty_queue_room(q) < 2)
				return false;
			qput(q, '\r');
			p->column = 0;
		} else if (O(p, T_ONLRET)) {
			p->column = 0;
		}
		break;
	case '\r':
		if (O(p, T_ONOCR) && p->column == 0)
			return true;
		if (O(p, T_OCRNL)) {
			c = '\n';
			if (O(p, T_ONLRET))
				p->column = 0;
			break;
		}
		p->column = 0;
		break;
	case '\t':
		p->column = (p->column | 7) + 1;
		break;
	case '\b':
		if (p->column > 0)
			p->column--;
		break;
	default:
		if (O(p, T_OLCUC))
			c = (unsigned char)toupper(c);
		if (!iscntrl(c) && (c & 0xc0) != 0x80)
			p->column++;
	}
	if (!pty_queue_room(q))
		return false;
	qput(q, (char)c);
	return true;
}

size_t pty_ldisc_output(struct pty *p, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!out_char(p, (unsigned char)buf[i]))
			break;
	return i;
}

/* ---- echo (dropped when out is full, as n_tty's echo buffer overflowing) ---- */

static bool ctl_echoed(const struct pty *p, unsigned char c)
{
	return L(p, T_ECHOCTL) && (c < 0x20 || c == 0x7f) && c != '\t' && c != '\n' &&
	       !is(p, c, T_VSTART) && !is(p, c, T_VSTOP);
}

static void echo_char(struct pty *p, unsigned char c)
{
	if (ctl_echoed(p, c)) {
		if (pty_queue_room(&p->out) >= 2) {
			qput(&p->out, '^');
			qput(&p->out, (char)(c ^ 0100));
			p->column += 2;
		}
		return;
	}
	out_char(p, c);
}

static void echo_str(struct pty *p, const char *s)
{
	while (*s)
		out_char(p, (unsigned char)*s++);
}

/* The output column after echoing line[0..len) from column `start` (for erasing a tab). */
static int line_column(const struct pty *p, int start, size_t len)
{
	int col = start;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p->line[i];
		if (c == '\t')
			col = (col | 7) + 1;
		else if (ctl_echoed(p, c))
			col += 2;
		else if (!iscntrl(c) && (c & 0xc0) != 0x80)
			col++;
	}
	return col;
}

/* ---- canonical editing ---- */

/* Where the line being edited started on the screen (the column when it began). */
static int line_start_col(const struct pty *p)
{
	return p->column - (line_column(p, 0, p->line_len) - line_column(p, 0, 0));
}

/* Erase the last character of the line, echoing as ECHOE wants. */
static void erase_one(struct pty *p)
{
	size_t len = p->line_len;

	if (!len)
		return;
	/* IUTF8: a whole multibyte character */
	do
		len--;
	while (len && I(p, T_IUTF8) && ((unsigned char)p->line[len] & 0xc0) == 0x80);
	unsigned char c = (unsigned char)p->line[len];
	int start = line_start_col(p);
	if (L(p, T_ECHO) && L(p, T_ECHOE)) {
		if (c == '\t') {
			int back = line_column(p, start, p->line_len) - line_column(p, start, len);
			while (back-- > 0)
				echo_str(p, "\b");
		} else {
			int w = ctl_echoed(p, c) ? 2 : 1;
			while (w-- > 0)
				echo_str(p, "\b \b");
		}
	}
	p->line_len = len;
}

static bool word_char(unsigned char c) { return isalnum(c) || c == '_'; }

/* eraser: ERASE, WERASE or KILL character c. */
static void eraser(struct pty *p, unsigned char c)
{
	if (!p->line_len)
		return;
	if (is(p, c, T_VERASE)) {
		if (L(p, T_ECHO) && !L(p, T_ECHOE)) {
			echo_char(p, c);
			p->line_len--;
			return;
		}
		erase_one(p);
		return;
	}
	if (is(p, c, T_VKILL)) {
		if (!L(p, T_ECHO)) {
			p->line_len = 0;
			return;
		}
		if (!L(p, T_ECHOK) || !L(p, T_ECHOKE) || !L(p, T_ECHOE)) {
			p->line_len = 0;
			echo_char(p, c);
			if (L(p, T_ECHOK))
				out_char(p, '\n');
			return;
		}
		while (p->line_len)
			erase_one(p);
		return;
	}
	/* WERASE (ALTWERASE): separators, then the word before them */
	bool seen = false;
	while (p->line_len) {
		unsigned char last = (unsigned char)p->line[p->line_len - 1];
		if (word_char(last))
			seen = true;
		else if (seen)
			break;
		if (L(p, T_ECHO) && !L(p, T_ECHOE)) {
			p->line_len--;
			continue;
		}
		erase_one(p);
	}
	if (L(p, T_ECHO) && !L(p, T_ECHOE))
		echo_char(p, c);
}

/* A complete line: move it to the input queue and note where it ends. The caller has checked
 * the room. */
static void commit_line(struct pty *p)
{
	for (size_t i = 0; i < p->line_len; i++)
		qput(&p->in, p->line[i]);
	p->line_len = 0;
	if (p->nends < PTY_LINE_ENDS)
		p->ends[(p->end0 + p->nends++) % PTY_LINE_ENDS] = p->in.wr;
}

/* isig: signal the foreground group; unless NOFLSH, what is queued both ways is dropped. */
static void isig(struct pty *p, int sig, unsigned char c)
{
	if (!L(p, T_NOFLSH))
		pty_ldisc_flush(p, true, true);
	if (L(p, T_ECHO))
		echo_char(p, c);
	p->pending_sigs |= 1 << sig;
}

/* Put c where the slave will read it: the line (canonical) or the queue. false: no room. */
static bool put_char(struct pty *p, unsigned char c)
{
	if (L(p, T_ICANON)) {
		if (p->line_len < PTY_LINE - 1)
			p->line[p->line_len++] = (char)c;
		return true; /* a full line drops what does not fit */
	}
	if (!pty_queue_room(&p->in))
		return false;
	qput(&p->in, (char)c);
	return true;
}

/* n_tty_receive_char_special for one character. false: no room, not taken. */
static bool input_char(struct pty *p, unsigned char c)
{
	bool canon = L(p, T_ICANON);

	if (I(p, T_ISTRIP))
		c &= 0x7f;
	if (p->lnext) {
		if (canon && pty_queue_room(&p->in) < p->line_len + 2)
			return false;
		p->lnext = false;
		if (L(p, T_ECHO)) {
			if (ctl_echoed(p, c))
				echo_str(p, "\b\b"); /* over the "^" LNEXT echoed */
			echo_char(p, c);
		}
		return put_char(p, c);
	}
	if (I(p, T_IXON) && (is(p, c, T_VSTART) || is(p, c, T_VSTOP)))
		return true; /* flow control: taken, output is never actually held */
	if (L(p, T_ISIG)) {
		int sig = is(p, c, T_VINTR)   ? LINUX_SIGINT
			  : is(p, c, T_VQUIT) ? LINUX_SIGQUIT
			  : is(p, c, T_VSUSP) ? LINUX_SIGTSTP
					      : 0;
		if (sig) {
			isig(p, sig, c);
			return true;
		}
	}
	if (c == '\r') {
		if (I(p, T_IGNCR))
			return true;
		if (I(p, T_ICRNL))
			c = '\n';
	} else if (c == '\n' && I(p, T_INLCR)) {
		c = '\r';
	}
	if (canon) {
		if (is(p, c, T_VERASE) || is(p, c, T_VKILL) ||
		    (is(p, c, T_VWERASE) && L(p, T_IEXTEN))) {
			eraser(p, c);
			return true;
		}
		if (is(p, c, T_VLNEXT) && L(p, T_IEXTEN)) {
			p->lnext = true;
			if (L(p, T_ECHO) && L(p, T_ECHOCTL))
				echo_str(p, "^\b");
			return true;
		}
		if (is(p, c, T_VREPRINT) && L(p, T_ECHO) && L(p, T_IEXTEN)) {
			echo_char(p, c);
			out_char(p, '\n');
			for (size_t i = 0; i < p->line_len; i++)
				echo_char(p, (unsigned char)p->line[i]);
			return true;
		}
		bool nl = c == '\n', eof = is(p, c, T_VEOF);
		bool eol = is(p, c, T_VEOL) || (is(p, c, T_VEOL2) && L(p, T_IEXTEN));
		if (nl || eof || eol) {
			/* the whole line must fit the input queue (else the master waits) */
			if (pty_queue_room(&p->in) < p->line_len + 1 || p->nends >= PTY_LINE_ENDS)
				return false;
			if (nl && (L(p, T_ECHO) || L(p, T_ECHONL)))
				out_char(p, '\n');
			else if (eol && L(p, T_ECHO))
				echo_char(p, c);
			if (!eof)
				p->line[p->line_len++] = (char)c;
			commit_line(p);
			p->column = 0;
			return true;
		}
	}
	if (!canon && !pty_queue_room(&p->in))
		return false;
	if (L(p, T_ECHO))
		echo_char(p, c);
	return put_char(p, c);
}

size_t pty_ldisc_input(struct pty *p, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!input_char(p, (unsigned char)buf[i]))
			break;
	return i;
}

/* ---- reading ---- */

size_t pty_ldisc_readable(struct pty *p, bool *eof)
{
	*eof = false;
	if (!L(p, T_ICANON))
		return pty_queue_len(&p->in);
	if (!p->nends)
		return 0;
	size_t n = (size_t)(p->ends[p->end0] - p->in.rd);
	*eof = n == 0;
	return n;
}

void pty_ldisc_take(struct pty *p, char *buf, size_t n, bool eof)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = p->in.buf[(p->in.rd + i) % PTY_BUF];
	p->in.rd += n;
	/* one line consumed: its end goes (an empty VEOF line's only when taken as eof) */
	if (p->nends && p->ends[p->end0] == p->in.rd && (eof || n)) {
		p->end0 = (p->end0 + 1) % PTY_LINE_ENDS;
		p->nends--;
	}
	if (!L(p, T_ICANON)) {
		/* raw reads ignore line ends: drop the ones read past */
		while (p->nends && p->ends[p->end0] <= p->in.rd) {
			p->end0 = (p->end0 + 1) % PTY_LINE_ENDS;
			p->nends--;
		}
	}
}

void pty_ldisc_termios_changed(struct pty *p, const struct linux_termios *old)
{
	bool was = old->c_lflag & T_ICANON, now = L(p, T_ICANON);

	if (was == now)
		return;
	p->nends = 0;
	p->end0 = 0;
	if (was) {
		/* to raw: the line being edited becomes readable */
		size_t n = MIN(p->line_len, pty_queue_room(&p->in));
		for (size_t i = 0; i < n; i++)
			qput(&p->in, p->line[i]);
		p->line_len = 0;
	} else if (pty_queue_len(&p->in)) {
		/* to canonical: what is queued reads as one line */
		p->ends[0] = p->in.wr;
		p->nends = 1;
	}
}

void pty_ldisc_flush(struct pty *p, bool input, bool output)
{
	if (input) {
		p->in.rd = p->in.wr;
		p->nends = 0;
		p->end0 = 0;
		p->line_len = 0;
		p->lnext = false;
	}
	if (output)
		p->out.rd = p->out.wr;
}
