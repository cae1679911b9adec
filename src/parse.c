/* Strict parsers: the whole string must be a number, nothing silently
 * truncated, wrapped or defaulted. */
#include <errno.h>
#include <string.h>

#include "mdk.h"

/* Decimal digits only: no sign, no spaces, no hex, no empty string. All the
 * digits are consumed even past an overflow (*over), so that the caller
 * tells junk after a huge number (EINVAL) from a huge number (ERANGE). */
static int parse_digits(const char **sp, uint64_t *out, bool *over)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return errno = EINVAL, -1;
	*over = false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			*over = true;
		else
			v = v * 10 + (uint64_t)(*s - '0');
	}
	*sp = s;
	*out = v;
	return 0;
}

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	bool over;

	if (!s || parse_digits(&s, &v, &over) < 0)
		return -1;
	if (*s)
		return errno = EINVAL, -1;
	if (over || v < min || v > max)
		return errno = ERANGE, -1;
	*out = v;
	return 0;
}

/* Sizes as docker takes them: a number with an optional b/k/m/g/t suffix
 * (either case, powers of 1024), optionally followed by "b" ("64mb"). */
int parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "bkmgt";
	const char *u;
	uint64_t v;
	unsigned shift = 0;
	bool over;

	if (!s || parse_digits(&s, &v, &over) < 0)
		return -1;
	if (*s) {
		char c = (char)(*s | 0x20);
		if (!(u = strchr(units, c)) || !c)
			return errno = EINVAL, -1;
		shift = 10 * (unsigned)(u - units);
		s++;
		if (shift && (*s | 0x20) == 'b')
			s++;
		if (*s)
			return errno = EINVAL, -1;
	}
	if (over || (shift && v > (UINT64_MAX >> shift)))
		return errno = ERANGE, -1;
	*out = v << shift;
	return 0;
}

/* Names become path components and overlay options, so only a strict
 * allowlist passes: no "/", "..", ",", ":", "\", spaces or control chars. */
bool valid_name(const char *s)
{
	size_t n;

	if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return false;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-");
	return !s[n] && n <= MDK_NAME_MAX;
}

/* 4.26MB, as docker writes sizes: 3 significant digits, units of 1000. */
void human_size(uint64_t n, char *out, size_t len)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 999.5 && u < 6) {
		v /= 1000;
		u++;
	}
	snprintf(out, len, "%.3g%s", v, unit[u]);
}

/* 3 minutes, About an hour, 2 weeks: docker's words for a duration. */
void human_duration(time_t secs, char *out, size_t n)
{
	long s = (long)(secs < 0 ? 0 : secs);

	if (s < 1)
		snprintf(out, n, "Less than a second");
	else if (s == 1)
		snprintf(out, n, "1 second");
	else if (s < 60)
		snprintf(out, n, "%ld seconds", s);
	else if (s < 120)
		snprintf(out, n, "About a minute");
	else if (s < 3600)
		snprintf(out, n, "%ld minutes", s / 60);
	else if (s < 7200)
		snprintf(out, n, "About an hour");
	else if (s < 48 * 3600)
		snprintf(out, n, "%ld hours", s / 3600);
	else if (s < 14 * 86400)
		snprintf(out, n, "%ld days", s / 86400);
	else if (s < 60 * 86400)
		snprintf(out, n, "%ld weeks", s / (7 * 86400));
	else if (s < 2 * 365 * 86400)
		snprintf(out, n, "%ld months", s / (30 * 86400));
	else
		snprintf(out, n, "%ld years", s / (365 * 86400));
}

/* A signal as kill(1) and docker take it: a number, or a name with or
 * without SIG (TERM, SIGTERM, RTMIN+3); -1 with EINVAL for anything else. */
int parse_signal(const char *s)
{
	static const char *const names[] = {
		[SIGHUP] = "HUP", [SIGINT] = "INT", [SIGQUIT] = "QUIT", [SIGILL] = "ILL",
		[SIGTRAP] = "TRAP", [SIGABRT] = "ABRT", [SIGBUS] = "BUS", [SIGFPE] = "FPE",
		[SIGKILL] = "KILL", [SIGUSR1] = "USR1", [SIGSEGV] = "SEGV", [SIGUSR2] = "USR2",
		[SIGPIPE] = "PIPE", [SIGALRM] = "ALRM", [SIGTERM] = "TERM", [SIGSTKFLT] = "STKFLT",
		[SIGCHLD] = "CHLD", [SIGCONT] = "CONT", [SIGSTOP] = "STOP", [SIGTSTP] = "TSTP",
		[SIGTTIN] = "TTIN", [SIGTTOU] = "TTOU", [SIGURG] = "URG", [SIGXCPU] = "XCPU",
		[SIGXFSZ] = "XFSZ", [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF", [SIGWINCH] = "WINCH",
		[SIGIO] = "IO", [SIGPWR] = "PWR", [SIGSYS] = "SYS",
	};
	char up[16];
	uint64_t n;

	if (parse_uint(s, 1, (uint64_t)SIGRTMAX, &n) == 0)
		return (int)n;
	/* term, sigterm: as docker, any case. */
	for (n = 0; s[n] && n < sizeof(up) - 1; n++)
		up[n] = (char)(s[n] >= 'a' && s[n] <= 'z' ? s[n] - 'a' + 'A' : s[n]);
	if (s[n])
		return errno = EINVAL, -1;
	up[n] = 0;
	s = up;
	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 1; i < sizeof(names) / sizeof(*names); i++)
		if (names[i] && !strcmp(s, names[i]))
			return (int)i;
	if (!strncmp(s, "RTMIN", 5) || !strncmp(s, "RTMAX", 5)) {
		bool min = s[4] == 'N';
		if (!s[5])
			return min ? SIGRTMIN : SIGRTMAX;
		if ((s[5] == '+' && min) || (s[5] == '-' && !min))
			if (parse_uint(s + 6, 1, (uint64_t)(SIGRTMAX - SIGRTMIN), &n) == 0)
				return min ? SIGRTMIN + (int)n : SIGRTMAX - (int)n;
	}
	return errno = EINVAL, -1;
}
