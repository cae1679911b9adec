/* mdk-logs: print a container's log (mdk-run --log), as docker logs does.
 *
 * usage: mdk-logs [-f] [-n|--tail N|all] [-t] [--since TIME] [--until TIME]
 *                 [--pid-file PIDFILE] FILE
 *
 * Reads the CRI records of FILE.1 (the older generation, if any) then FILE
 * and writes each stream's messages to the matching fd (stdout records to
 * 1, stderr records to 2), P records joined into their line, the bytes as
 * they are. Rotation while reading loses and repeats nothing: a generation
 * is read to its end once FILE names another file (the writer is done with
 * it by then), and the next one is FILE.1 if that is not the one just read
 * (the log rotated twice meanwhile), else FILE. (Three rotations while
 * the reader is away delete a file it never opened: the writer never
 * waits for a reader, that output is gone.) A line that is no record
 * (a crash's debris) is skipped; so is one longer than REC_MAX below, which
 * mdk-run never writes.
 *
 * --tail counts lines over both files and both streams, before --since and
 * --until are applied (docker's order); it keeps only the place of the last
 * N lines (24 bytes each) and reads them again, so no line is ever held in
 * memory whole. -f waits on inotify (and a pidfd for --pid-file's process),
 * no timer: it costs nothing while the container is quiet.
 *
 * Exit codes: 0 ok, 1 failed, 2 usage error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mdk.h"

enum { OPT_SINCE = 256, OPT_UNTIL, OPT_PID_FILE };

/* Each option once: its name, argument and help line. */
#define LOGS_OPTIONS(X)                                                                            \
	X('f', "follow", no_argument,                                                                  \
	  "  -f, --follow       then print what comes, until --pid-file's process is gone\n"           \
	  "                     (and what it wrote is printed); without it, until killed\n")          \
	X('n', "tail", required_argument,                                                              \
	  "  -n, --tail N|all   only the last N lines of FILE.1 and FILE (default all)\n")              \
	X('t', "timestamps", no_argument,                                                              \
	  "  -t, --timestamps   each line after its (first record's) timestamp\n")                    \
	X(OPT_SINCE, "since", required_argument,                                                       \
	  "  --since TIME       only lines from TIME on: RFC 3339 (2026-11-30T05:21:54Z,\n"            \
	  "                     ...54.5+01:00, 2026-11-30 (local time without a zone)),\n"            \
	  "                     Unix seconds[.nanos], or a duration before now (10m, 1h30m)\n")       \
	X(OPT_UNTIL, "until", required_argument,                                                       \
	  "  --until TIME       only lines up to TIME (same forms); -f stops there\n")                 \
	X(OPT_PID_FILE, "pid-file", required_argument,                                                 \
	  "  --pid-file PIDFILE with -f: the container ends when the process in PIDFILE\n"            \
	  "                     (mdk-run --pid-file: pid=, start=) is gone\n")

#define HELP(val, name, arg, help) help
const char logs_usage[] =
	"usage: mdk-logs [-f] [-n|--tail N|all] [-t] [--since TIME] [--until TIME]\n"
	"                [--pid-file PIDFILE] FILE\n"
	"Print a container's log (mdk-run --log FILE): FILE.1 then FILE, stdout records\n"
	"to stdout, stderr records to stderr, parts (P) joined into their lines.\n"
	LOGS_OPTIONS(HELP)
	"Exit codes: 0 ok, 1 failed, 2 usage error.\n";
#undef HELP

#define REC_MAX (1 << 20)	/* the longest record read; mdk-run's are < 17 KiB */
#define OUT_BUF 65536

/* A generation of the log: FILE.1, FILE, and each FILE met after a rotation. */
struct gen {
	int fd;
	dev_t dev;
	ino_t ino;
};

/* A place in the log: generation, offset. */
struct pos {
	size_t gen;
	off_t off;
};

static struct {
	const char *path;
	char *path1;		/* FILE.1 */
	struct gen *gens;
	size_t ngens, cur;
	char *buf;
	size_t start, end;	/* buf[start, end): read, not yet taken */
	off_t off;		/* the offset of buf[start] in the current generation */
	bool discard;		/* inside an over-long line: dropped up to its newline */
	bool keep_gens;		/* --tail's first pass: every generation is read again */
} rd;

/* Per stream: its open line, and what to do with it. */
static struct stream {
	bool open;		/* the last record was a P */
	bool skip;		/* the open line is not printed */
	struct pos start;	/* --tail: where the open line began */
	bool tail_cut;		/* --tail: lines before CUT are not printed */
	struct pos cut;
} st[2];

static struct out {
	int fd;
	size_t n;
	char buf[OUT_BUF];
} outs[2];	/* (bss: the fds are set in logs_main, not in the binary's data) */

static bool timestamps, follow, gone, have_since, have_until;
static int64_t since_s, until_s;
static long since_ns, until_ns;

/* --tail: the last N lines' streams and starts, in the order they ended. */
static struct tail {
	long long n;	/* -1: all */
	struct {
		int stream;
		struct pos at;
	} *ring;
	size_t cap;
	unsigned long long count;
} tl = { .n = -1 };

/* --pid-file */
static pid_t pid;
static unsigned long long pid_start;
static int pidfd = -1, inofd = -1;

static int pos_cmp(struct pos a, struct pos b)
{
	if (a.gen != b.gen)
		return a.gen < b.gen ? -1 : 1;
	return a.off < b.off ? -1 : a.off > b.off;
}

static int ts_cmp(int64_t s1, long n1, int64_t s2, long n2)
{
	if (s1 != s2)
		return s1 < s2 ? -1 : 1;
	return n1 < n2 ? -1 : n1 > n2;
}

/* --- output: a buffer per fd, or one for both when they are the same
 * file (2>&1, a terminal): then the log's order is kept, without a
 * write at each change of stream. */

static struct out *outp[2] = { &outs[0], &outs[1] };

static void write_all(int fd, const char *p, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t k = write(fd, p + off, n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			die_errno("write to %s", fd == 1 ? "stdout" : "stderr");
		off += (size_t)k;
	}
}

static void out_flush(struct out *o)
{
	write_all(o->fd, o->buf, o->n);
	o->n = 0;
}

static void out_write(int s, const char *p, size_t n)
{
	struct out *o = outp[s];

	if (o->n + n > OUT_BUF) {
		out_flush(o);
		if (n >= OUT_BUF) {
			write_all(o->fd, p, n);
			return;
		}
	}
	memcpy(o->buf + o->n, p, n);
	o->n += n;
}

static void out_setup(void)
{
	struct stat a, b;

	if (fstat(1, &a) == 0 && fstat(2, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
	    a.st_rdev == b.st_rdev)
		outp[1] = &outs[0];
}

/* --- the records ------------------------------------------------------------ */

/* docker's -t form: RFC 3339 with 9 fraction digits, UTC; mdk-run's
 * own timestamps have it already and are copied. */
static void out_timestamp(int s, const struct log_rec *r)
{
	char b[64];
	struct tm tm;
	time_t t = (time_t)r->sec;

	if (r->tslen == 30 && r->ts[19] == '.' && r->ts[29] == 'Z') {
		out_write(s, r->ts, 31);	/* with its space */
		return;
	}
	gmtime_r(&t, &tm);
	size_t n = strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(b + n, sizeof(b) - n, ".%09ldZ ", r->nsec);
	out_write(s, b, n);
}

/* Print one record. */
static void print_rec(const struct log_rec *r, struct pos at)
{
	struct stream *s = &st[r->stream];

	if (!s->open) {
		s->skip = (s->tail_cut && pos_cmp(at, s->cut) < 0) ||
			  (have_since && ts_cmp(r->sec, r->nsec, since_s, since_ns) < 0);
		if (have_until && ts_cmp(r->sec, r->nsec, until_s, until_ns) > 0) {
			s->skip = true;
			/* docker stops following at the first line past --until. */
			if (follow)
				gone = true;
		}
		if (!s->skip && timestamps)
			out_timestamp(r->stream, r);
	}
	if (!s->skip) {
		out_write(r->stream, r->msg, r->len);
		if (!r->partial)
			out_write(r->stream, "\n", 1);
	}
	s->open = r->partial;
}

static void tail_push(int stream, struct pos at)
{
	if (tl.n == 0)
		return;
	/* The ring grows up to N (a short log never allocates N), then wraps. */
	if (tl.count == tl.cap && tl.cap < (unsigned long long)tl.n) {
		size_t cap = tl.cap ? tl.cap * 2 : 1024;
		if (cap > (unsigned long long)tl.n)
			cap = (size_t)tl.n;
		if (!(tl.ring = realloc(tl.ring, cap * sizeof(*tl.ring))))
			die("out of memory for --tail %lld", tl.n);
		tl.cap = cap;
	}
	tl.ring[tl.count % tl.cap].stream = stream;
	tl.ring[tl.count % tl.cap].at = at;
	tl.count++;
}

/* --tail's first pass: where each line starts, in the order lines end. */
static void count_rec(const struct log_rec *r, struct pos at)
{
	struct stream *s = &st[r->stream];

	if (!s->open)
		s->start = at;
	if (!r->partial)
		tail_push(r->stream, s->start);
	s->open = r->partial;
}

static bool counting;

static void take_line(const char *line, size_t n, off_t off)
{
	struct log_rec r;
	struct pos at = { rd.cur, off };

	if (log_parse(line, n, &r) < 0)
		return;	/* not a record: skipped */
	if (counting)
		count_rec(&r, at);
	else
		print_rec(&r, at);
}

/* --- reading ---------------------------------------------------------------- */

/* The next whole line of the current generation into take_line: false at
 * its end for now (a last line without its newline stays unread). */
static bool next_line(void)
{
	struct gen *g = &rd.gens[rd.cur];

	for (;;) {
		char *p = rd.buf + rd.start, *nl = memchr(p, '\n', rd.end - rd.start);
		if (nl) {
			size_t n = (size_t)(nl - p);
			off_t off = rd.off;
			rd.start += n + 1;
			rd.off += (off_t)n + 1;
			if (rd.discard) {
				rd.discard = false;
				continue;
			}
			take_line(p, n, off);
			return true;
		}
		if (rd.end - rd.start == REC_MAX) {
			rd.off += REC_MAX;
			rd.start = rd.end = 0;
			rd.discard = true;
		} else if (rd.start > 0) {
			memmove(rd.buf, rd.buf + rd.start, rd.end - rd.start);
			rd.end -= rd.start;
			rd.start = 0;
		}
		ssize_t k = read(g->fd, rd.buf + rd.end, REC_MAX - rd.end);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			die_errno("read '%s'", rd.path);
		if (k == 0)
			return false;
		rd.end += (size_t)k;
	}
}

/* The current generation's last line, though its newline never came (the
 * writer died, or we stop here). */
static void take_fragment(void)
{
	size_t n = rd.end - rd.start;
	off_t off = rd.off;

	rd.start = rd.end = 0;
	rd.off += (off_t)n;
	if (rd.discard || !n) {
		rd.discard = false;
		return;
	}
	take_line(rd.buf, n, off);
}

/* Make FD, open on a log file, the next generation and the one read. */
static void gen_push(int fd)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		die_errno("stat '%s'", rd.path);
	if (!S_ISREG(sb.st_mode))
		die("'%s' is not a regular file", rd.path);
	if (rd.ngens && !rd.keep_gens) {
		close(rd.gens[rd.cur].fd);
		rd.gens[rd.cur].fd = -1;
	}
	if (!(rd.ngens % 8) && !(rd.gens = realloc(rd.gens, (rd.ngens + 8) * sizeof(*rd.gens))))
		die("out of memory");
	rd.gens[rd.ngens] = (struct gen){ fd, sb.st_dev, sb.st_ino };
	rd.cur = rd.ngens++;
	rd.start = rd.end = 0;
	rd.off = 0;
	rd.discard = false;
}

static int open_log(const char *path)
{
	/* (O_NONBLOCK: a FIFO put there does not hang us; gen_push refuses it.) */
	return open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

/* The generation after the current one, once FILE names another file: -1
 * if there is none yet (FILE is being replaced). */
static int next_gen(void)
{
	const struct gen *g = &rd.gens[rd.cur];
	struct stat sb;
	int fd;

	/* FILE.1 is the current one (rotated once), else it came after it
	 * (the log rotated twice: the current one is gone). */
	if ((fd = open_log(rd.path1)) >= 0) {
		if (fstat(fd, &sb) == 0 && !(sb.st_dev == g->dev && sb.st_ino == g->ino))
			return fd;
		close(fd);
	}
	if ((fd = open_log(rd.path)) >= 0) {
		if (fstat(fd, &sb) == 0 && !(sb.st_dev == g->dev && sb.st_ino == g->ino))
			return fd;
		close(fd);
	}
	return -1;
}

/* Is the current generation what FILE names? */
static bool cur_is_live(void)
{
	const struct gen *g = &rd.gens[rd.cur];
	struct stat sb;

	return stat(rd.path, &sb) == 0 && sb.st_dev == g->dev && sb.st_ino == g->ino;
}

/* --- following ------------------------------------------------------------------ */

static bool pid_alive(void)
{
	unsigned long long start;

	/* Gone: no /proc/PID, a zombie, or another process with its PID. */
	return proc_starttime(pid, &start) == 0 && start == pid_start;
}

static void read_pid_file(const char *file)
{
	char *text, *line, *save = NULL;
	uint64_t v;
	size_t len;
	bool have_pid = false, have_start = false;
	int fd = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0 || read_fd_max(fd, 4096, &text, &len) < 0)
		die_errno("open '%s'", file);
	close(fd);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "pid=", 4) && parse_uint(line + 4, 1, INT32_MAX, &v) == 0)
			pid = (pid_t)v, have_pid = true;
		else if (!strncmp(line, "start=", 6) && parse_uint(line + 6, 0, UINT64_MAX, &v) == 0)
			pid_start = v, have_start = true;
	}
	free(text);
	if (!have_pid || !have_start)
		die("'%s' is no pid file (want pid=N and start=N lines, as mdk-run --pid-file writes)",
		    file);
}

/* Set up what -f waits on: inotify on FILE's directory (a write, the new
 * FILE of a rotation) and a pidfd for --pid-file's process. Either may be
 * missing (an old kernel): then a poll every 250 ms / second stands in. */
static void follow_setup(const char *pidfile)
{
	char *dir = xasprintf("%s", rd.path), *slash = strrchr(dir, '/');

	if (slash == dir)
		dir[1] = 0;
	else if (slash)
		*slash = 0;
	else
		strcpy(dir, ".");
	if ((inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) >= 0 &&
	    inotify_add_watch(inofd, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM) < 0) {
		close(inofd);
		inofd = -1;
	}
	free(dir);
	if (!pidfile)
		return;
	read_pid_file(pidfile);
	if (!pid_alive()) {
		gone = true;
		return;
	}
#ifdef SYS_pidfd_open
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	/* (Checked again: the pidfd may be of a process that took the PID.) */
	if (pidfd >= 0 && !pid_alive())
		gone = true;
#endif
}

/* Wait until the log may have changed, the process is gone or --until
 * has passed. Everything printed so far is written first. */
static void follow_wait(void)
{
	struct pollfd p[2] = { { inofd, POLLIN, 0 }, { pidfd, POLLIN, 0 } };
	int timeout = -1;
	struct timespec now;

	out_flush(outp[0]);
	out_flush(outp[1]);
	if (inofd < 0)
		timeout = 250;
	else if (pid && pidfd < 0)
		timeout = 1000;
	if (have_until) {
		clock_gettime(CLOCK_REALTIME, &now);
		if (ts_cmp(now.tv_sec, now.tv_nsec, until_s, until_ns) > 0) {
			gone = true;
			return;
		}
		int64_t ms = (until_s - now.tv_sec) * 1000 + (until_ns - now.tv_nsec) / 1000000 + 1;
		if (timeout < 0 || ms < timeout)
			timeout = ms > 3600000 ? 3600000 : (int)ms;
	}
	if (poll(p, 2, timeout) < 0 && errno != EINTR)
		die_errno("poll");
	if (p[0].revents) {
		char ev[4096];
		while (read(inofd, ev, sizeof(ev)) > 0)
			;
	}
	if (p[1].revents || (pid && pidfd < 0 && !pid_alive()))
		gone = true;
}

/* Read on from the current generation to the end of the log: with -f,
 * then on until the process is gone; a last line without its newline is
 * taken only when FRAGMENT and nothing more can come. */
static void read_log(bool wait, bool fragment)
{
	for (;;) {
		bool was_gone = gone;	/* (before the reading: all it wrote is read) */
		while (next_line())
			;
		if (cur_is_live()) {
			if (!wait || was_gone) {
				if (fragment)
					take_fragment();
				return;
			}
			follow_wait();
			continue;
		}
		/* FILE names another file: the writer is done with this one
		 * (rotated), so what is in it now is all. */
		while (next_line())
			;
		take_fragment();
		int fd = next_gen();
		if (fd >= 0) {
			gen_push(fd);
			continue;
		}
		/* No new FILE yet, or none at all. */
		if (!wait || was_gone)
			return;
		follow_wait();
	}
}

/* --tail's second pass: from CUT to END, printed. */
static void replay(struct pos from, struct pos end, bool fragment)
{
	rd.cur = from.gen;
	for (;;) {
		struct gen *g = &rd.gens[rd.cur];
		off_t off = rd.cur == from.gen ? from.off : 0;
		if (lseek(g->fd, off, SEEK_SET) < 0)
			die_errno("seek '%s'", rd.path);
		rd.start = rd.end = 0;
		rd.off = off;
		rd.discard = false;
		if (rd.cur == end.gen)
			break;
		while (next_line())
			;
		take_fragment();
		rd.cur++;
	}
	while (rd.off < end.off && next_line())
		;
	if (rd.off < end.off && fragment)
		take_fragment();
}

/* --- times ------------------------------------------------------------------------ */

/* Go's duration ("1h30m", "10m", "42s", "1.5h", "300ms"), as docker takes
 * it: -1 if S is not one. */
static int parse_duration(const char *s, int64_t *ns)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} units[] = { { "ns", 1 },	     { "us", 1000 },	       { "\xc2\xb5s", 1000 },
		      { "\xce\xbcs", 1000 }, { "ms", 1000000 },	       { "s", 1000000000 },
		      { "m", 60000000000LL }, { "h", 3600000000000LL } };
	long double total = 0;
	int sign = 1;

	if (*s == '-' || *s == '+')
		sign = *s++ == '-' ? -1 : 1;
	if (!*s)
		return -1;
	while (*s) {
		long double v = 0, scale = 1;
		const char *d = s;
		bool any = false;
		for (; *s >= '0' && *s <= '9'; s++, any = true)
			v = v * 10 + (*s - '0');
		if (*s == '.')
			for (s++; *s >= '0' && *s <= '9'; s++, any = true)
				v += (*s - '0') * (scale /= 10);
		if (!any || s == d)
			return -1;
		size_t i, best = 0, blen = 0;
		for (i = 0; i < sizeof(units) / sizeof(*units); i++) {
			size_t l = strlen(units[i].unit);
			if (!strncmp(s, units[i].unit, l) && l > blen)
				best = i, blen = l;
		}
		if (!blen)
			return -1;
		total += v * units[best].ns;
		s += blen;
	}
	if (total > 9.2e18L)
		return -1;
	*ns = sign * (int64_t)total;
	return 0;
}

/* docker's --since/--until: a duration before now, RFC 3339 (or a part:
 * a date, date and hour, ...; without a zone local time), or Unix
 * seconds[.nanos]. */
static void parse_when(const char *opt, const char *s, int64_t *sec, long *nsec)
{
	struct timespec now;
	int64_t ns;
	uint64_t v;

	clock_gettime(CLOCK_REALTIME, &now);
	if (strcmp(s, "0") && parse_duration(s, &ns) == 0) {
		int64_t t = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - ns;
		*sec = t / 1000000000;
		*nsec = t % 1000000000;
		if (*nsec < 0)
			*sec -= 1, *nsec += 1000000000;
		return;
	}
	if (strchr(s, '-') && strlen(s) < 64) {
		/* Fill the missing parts of RFC 3339: the date alone, T15, T15:04. */
		char full[96];
		size_t d = strcspn(s, "Tt"), z;
		const char *zone;
		if (d == strlen(s)) {
			/* 2026-11-30 or 2026-11-30Z / 2026-11-30+01:00 */
			z = d > 10 ? 10 : d;
			snprintf(full, sizeof(full), "%.*sT00:00:00%s", (int)z, s, s + z);
		} else {
			const char *t = s + d + 1;
			size_t tl_ = strcspn(t, "Zz+-");
			zone = t + tl_;
			const char *fill = tl_ == 2 ? ":00:00" : tl_ == 5 ? ":00" : "";
			snprintf(full, sizeof(full), "%.*s%s%s", (int)(zone - s), s, fill, zone);
		}
		z = strlen(full);
		/* No zone: local time, as docker. */
		bool local = z >= 19 && !strpbrk(full + 19, "Zz+-");
		if (local && z < sizeof(full) - 1)
			strcat(full, "Z");
		if (log_parse_time(full, strlen(full), sec, nsec) == 0) {
			if (local) {
				struct tm tm = { 0 };
				time_t t = (time_t)*sec;
				gmtime_r(&t, &tm);
				tm.tm_isdst = -1;
				*sec = (int64_t)mktime(&tm);
			}
			return;
		}
		usage_die("invalid %s '%s' (want RFC 3339 like 2026-11-30T05:21:54Z, Unix seconds, or a duration like 10m)",
			  opt, s);
	}
	/* Unix seconds[.nanos] */
	char whole[32];
	const char *dot = strchr(s, '.');
	size_t wl = dot ? (size_t)(dot - s) : strlen(s);
	long ns9 = 0;
	if (wl < sizeof(whole)) {
		snprintf(whole, sizeof(whole), "%.*s", (int)wl, s);
		bool ok = parse_uint(whole, 0, INT64_MAX / 2, &v) == 0;
		if (ok && dot) {
			long scale = 100000000;
			ok = dot[1] != 0 && strlen(dot + 1) <= 9;
			for (const char *p = dot + 1; ok && *p; p++, scale /= 10)
				if (*p < '0' || *p > '9')
					ok = false;
				else
					ns9 += (*p - '0') * scale;
		}
		if (ok) {
			*sec = (int64_t)v;
			*nsec = ns9;
			return;
		}
	}
	usage_die("invalid %s '%s' (want RFC 3339 like 2026-11-30T05:21:54Z, Unix seconds, or a duration like 10m)",
		  opt, s);
}

/* --- main --------------------------------------------------------------------------- */

int logs_main(int argc, char **argv)
{
#define LONGOPT(val, name, arg, help) { name, arg, NULL, val },
	static const struct option opts[] = { LOGS_OPTIONS(LONGOPT){ NULL, 0, NULL, 0 } };
#undef LONGOPT
	const char *pidfile = NULL;
	uint64_t v;
	int c, fd;

	outs[0].fd = 1;
	outs[1].fd = 2;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:fn:t", opts, NULL)) != -1) {
		switch (c) {
		case 'f': follow = true; break;
		case 't': timestamps = true; break;
		case 'n':
			if (!strcmp(optarg, "all"))
				tl.n = -1;
			else if (parse_uint(optarg, 0, INT64_MAX, &v) == 0)
				tl.n = (long long)v;
			else
				usage_die("invalid --tail '%s' (want a number of lines, or all)", optarg);
			break;
		case OPT_SINCE:
			parse_when("--since", optarg, &since_s, &since_ns);
			have_since = true;
			break;
		case OPT_UNTIL:
			parse_when("--until", optarg, &until_s, &until_ns);
			have_until = true;
			break;
		case OPT_PID_FILE: pidfile = optarg; break;
		case ':': usage_die("option '%s' needs a value", argv[optind - 1]);
		default: usage_die("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		usage_die("expected one FILE, got %d arguments", argc - optind);
	rd.path = argv[optind];
	rd.path1 = xasprintf("%s.1", rd.path);
	rd.buf = xmalloc(REC_MAX);
	out_setup();

	/* inotify first: no change after the reading can be missed. */
	if (follow)
		follow_setup(pidfile);
	/* Already gone: what is there is all there will be. */
	if (follow && gone)
		follow = false;
	rd.keep_gens = tl.n >= 0;
	if ((fd = open_log(rd.path1)) >= 0 || (fd = open_log(rd.path)) >= 0)
		gen_push(fd);
	else
		die_errno("open '%s'", rd.path);

	if (tl.n >= 0) {
		struct pos end;
		counting = true;
		read_log(false, !follow);
		end = (struct pos){ rd.cur, rd.off };
		/* The lines still open at the end are lines too, the last ones. */
		int first = pos_cmp(st[0].start, st[1].start) > 0;
		for (int i = first, k = 0; k < 2; i = !i, k++)
			if (st[i].open)
				tail_push(i, st[i].start);
		/* The last N lines: per stream, where its first one starts. */
		size_t kept = tl.count < tl.cap ? (size_t)tl.count : tl.cap;
		struct pos from = end;
		for (size_t i = 0; i < kept; i++) {
			size_t k = (size_t)((tl.count - kept + i) % (tl.cap ? tl.cap : 1));
			struct stream *s = &st[tl.ring[k].stream];
			if (!s->tail_cut || pos_cmp(tl.ring[k].at, s->cut) < 0)
				s->cut = tl.ring[k].at, s->tail_cut = true;
		}
		/* (The open lines at the end are lines too: the last ones.) */
		for (int i = 0; i < 2; i++) {
			/* A stream with nothing kept: every line before the end is cut. */
			if (!st[i].tail_cut)
				st[i].cut = end, st[i].tail_cut = true;
			if (pos_cmp(st[i].cut, from) < 0)
				from = st[i].cut;
			st[i].open = false;
		}
		free(tl.ring);
		counting = false;
		replay(from, end, !follow);
		rd.keep_gens = false;
		for (size_t i = 0; i < rd.cur; i++)
			if (rd.gens[i].fd >= 0)
				close(rd.gens[i].fd), rd.gens[i].fd = -1;
		/* Lines from here on are new: --tail is done with them. */
		st[0].tail_cut = st[1].tail_cut = false;
		if (follow)
			read_log(true, true);
	} else
		read_log(follow, true);
	out_flush(outp[0]);
	out_flush(outp[1]);
	return 0;
}
