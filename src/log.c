/* Container logs in the format kubelet reads from conmon and containerd
 * (CRI): a record a line, "TIMESTAMP STREAM TAG MESSAGE\n", TIMESTAMP in
 * RFC 3339 with nanoseconds (UTC), STREAM stdout or stderr, TAG F for the
 * end of a line and P for a part of one (what a read returned before the
 * line's end). So partial lines and the two streams survive in one file.
 *
 * Rotation keeps the newest: a record that would take the file past its
 * size cap moves it to FILE.1 (the older FILE.1 goes) and starts a new
 * FILE; the logs of a container take at most twice the cap. The writer
 * never waits for a reader: a container that writes as fast as it can is
 * limited by the disk, never by whoever follows the log. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mdk.h"

int log_open(struct ctr_log *l, const char *path, long long max)
{
	struct stat st;

	l->path = path;
	l->max = max;
	l->pending = 0;
	l->open[0] = l->open[1] = false;
	/* (O_NONBLOCK: a FIFO without a reader fails instead of hanging;
	 * nothing but a regular file is taken.) */
	l->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (l->fd < 0)
		return -1;
	if (fstat(l->fd, &st) == 0 && S_ISREG(st.st_mode)) {
		l->size = st.st_size;
		return 0;
	}
	close(l->fd);
	l->fd = -1;
	errno = EINVAL;
	return -1;
}

static int log_flush(struct ctr_log *l)
{
	size_t off = 0;

	while (off < l->pending) {
		ssize_t k = write(l->fd, l->buf + off, l->pending - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			/* (A full disk loses records, never the container.) */
			l->pending = 0;
			return -1;
		}
		off += (size_t)k;
		l->size += k;
	}
	l->pending = 0;
	return 0;
}

/* FILE -> FILE.1 (rename: a reader has either whole file), a new FILE. */
static int log_rotate(struct ctr_log *l)
{
	char old[4096];
	int fd;

	if (snprintf(old, sizeof(old), "%s.1", l->path) >= (int)sizeof(old)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (rename(l->path, old) < 0)
		return -1;
	fd = open(l->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	close(l->fd);
	l->fd = fd;
	l->size = 0;
	return 0;
}

/* Append one record: header, N bytes of message, newline. */
static int log_record(struct ctr_log *l, const char *head, size_t hlen, const char *msg, size_t n)
{
	size_t len = hlen + n + 1;
	int rc = 0;

	if (l->size + (long long)(l->pending + len) > l->max && l->size + (long long)l->pending > 0) {
		rc |= log_flush(l);
		rc |= log_rotate(l);
	}
	if (l->pending + len > sizeof(l->buf))
		rc |= log_flush(l);
	/* A message longer than the buffer is cut into P records by the
	 * caller's reads, which are never longer than LOG_READ. */
	memcpy(l->buf + l->pending, head, hlen);
	memcpy(l->buf + l->pending + hlen, msg, n);
	l->buf[l->pending + hlen + n] = '\n';
	l->pending += len;
	return rc;
}

int log_write(struct ctr_log *l, int stream, const char *p, size_t n)
{
	static const char *const name[] = { "stdout", "stderr" };
	char head[96];
	struct timespec ts;
	struct tm tm;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t h = strftime(head, sizeof(head), "%Y-%m-%dT%H:%M:%S", &tm);
	h += (size_t)snprintf(head + h, sizeof(head) - h, ".%09ldZ %s F ", ts.tv_nsec, name[stream]);
	/* n == 0: the stream's end, which ends a line left open (an empty F:
	 * the next run's output must not join it). */
	if (n == 0 && l->open[stream]) {
		rc |= log_record(l, head, h, "", 0);
		l->open[stream] = false;
	}
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;
		/* The tag: F ends a line, P is a part of one. */
		head[h - 2] = nl ? 'F' : 'P';
		rc |= log_record(l, head, h, p, k);
		k += nl != NULL;
		p += k, n -= k;
		l->open[stream] = !nl;
	}
	return rc | log_flush(l);
}

void log_close(struct ctr_log *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

/* --- reading (mdk-logs) ---------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's). */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* N decimal digits at S, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int log_parse_time(const char *s, size_t n, int64_t *sec, long *nsec)
{
	static const unsigned char mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, se, zone = 0;
	size_t i = 19;
	long ns = 0;

	/* 2026-11-30T05:21:54 */
	if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
	    s[16] != ':')
		return errno = EINVAL, -1;
	y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && (y % 4 || (y % 100 == 0 && y % 400))) || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || se < 0 || se > 60)
		return errno = EINVAL, -1;
	if (s[i] == '.') {
		long scale = 100000000;
		if (++i == n || s[i] < '0' || s[i] > '9')
			return errno = EINVAL, -1;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
			ns += (s[i] - '0') * scale;
	}
	if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
		/* UTC */
	} else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
		int zh = digits(s + i + 1, 2), zm = digits(s + i + 4, 2);
		if (zh < 0 || zh > 23 || zm < 0 || zm > 59)
			return errno = EINVAL, -1;
		zone = (s[i] == '-' ? -1 : 1) * (zh * 3600 + zm * 60);
	} else
		return errno = EINVAL, -1;
	*sec = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - zone;
	*nsec = ns;
	return 0;
}

/* "TIMESTAMP STREAM TAG MESSAGE": the message is the rest, any bytes. */
int log_parse(const char *line, size_t n, struct log_rec *r)
{
	const char *sp = memchr(line, ' ', n < 64 ? n : 64), *p;
	size_t left;

	if (!sp || log_parse_time(line, (size_t)(sp - line), &r->sec, &r->nsec) < 0)
		return errno = EINVAL, -1;
	r->ts = line;
	r->tslen = (size_t)(sp - line);
	p = sp + 1;
	left = n - (size_t)(p - line);
	if (left < 8 || (memcmp(p, "stdout ", 7) && memcmp(p, "stderr ", 7)))
		return errno = EINVAL, -1;
	r->stream = p[3] == 'e';
	p += 7, left -= 7;
	if (*p != 'F' && *p != 'P')
		return errno = EINVAL, -1;
	r->partial = *p == 'P';
	/* "... F" with no space: an empty message all the same. */
	if (left > 1 && p[1] != ' ')
		return errno = EINVAL, -1;
	r->msg = left > 1 ? p + 2 : p + 1;
	r->len = left > 1 ? left - 2 : 0;
	return 0;
}
