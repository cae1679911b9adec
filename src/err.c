/* The diagnostic family: one line per message, one write(2) per line, so
 * messages from concurrent processes never interleave mid-line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mdk.h"

int err_log_fd = -1;
bool err_log_json;

void time_rfc3339(char *buf, size_t n)
{
	struct timespec t;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &t);
	gmtime_r(&t.tv_sec, &tm);
	size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + k, n - k, ".%09ldZ", t.tv_nsec);
}

/* The copy for --log (mdk-oci): the line as is, or a JSON object with
 * level, msg and time (what runc's callers parse). */
static void log_copy(const char *level, const char *msg, size_t n)
{
	char ts[40];

	if (!err_log_json) {
		if (write(err_log_fd, msg, n) < 0)
			return;
		return;
	}
	time_rfc3339(ts, sizeof(ts));
	json_t *o = json_pack("{s:s, s:s%, s:s}", "level", level, "msg", msg, n - 1, "time", ts);
	char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (line) {
		size_t len = strlen(line);
		line[len] = '\n';	/* over the NUL: one write */
		if (write(err_log_fd, line, len + 1) < 0)
			len = 0;
		free(line);
	}
	json_decref(o);
}

const char *applet_name = "mdk";
/* The command whose --help usage_die names (applet_name unless $MDK_HELP). */
static const char *help_name;
int die_status = 1;
int usage_status = 2;

/* A front end (m-docker) speaks for its applets: MDK_PROG names it in
 * every message, MDK_HELP the command whose --help a usage error names. */
void err_front_end(void)
{
	const char *p = getenv("MDK_PROG"), *h = getenv("MDK_HELP");

	if (p && *p)
		applet_name = p;
	if (h && *h)
		help_name = h;
}

static void vmsg(const char *level, int err, const char *fmt, va_list ap)
{
	char buf[1024];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "%s: ", applet_name), head = n;

	if (n < sizeof(buf))
		n += (size_t)vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	if (err && n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, ": %s", strerror(err));
	if (n >= sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (err_log_fd >= 0)
		log_copy(level, buf + head, n - head);
	/* Best effort: there is nowhere to report a failed write to stderr. */
	if (write(STDERR_FILENO, buf, n) < 0)
		return;
}

void warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("warning", 0, fmt, ap);
	va_end(ap);
}

void warn_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vmsg("warning", err, fmt, ap);
	va_end(ap);
	errno = err;
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("error", 0, fmt, ap);
	va_end(ap);
	exit(die_status);
}

void die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vmsg("error", err, fmt, ap);
	va_end(ap);
	exit(die_status);
}

void usage_die(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	warn("%s (see '%s --help')", buf, help_name ? help_name : applet_name);
	exit(usage_status);
}
