/* The pid file of a running container: what mdk-run --pid-file writes once
 * the command runs, and what mdk-exec reads to enter that container as its
 * command was confined. The one owner of its format:
 *
 *   pid=N            mdk-run, the container's monitor
 *   start=N          its start time (/proc/PID/stat field 22)
 *   init=N           the container's PID 1, as the host sees it
 *   exec=1           what follows is there (mdk-exec refuses a record without)
 *   privileged=0|1   all capabilities, no seccomp filter
 *   nnp=0|1          no-new-privileges
 *   caps=HEX         the capabilities root keeps (--cap-add, --cap-drop)
 *   seccomp=default|none|profile
 *   profile=TEXT     the JSON profile's text (seccomp=profile): mdk-exec
 *                    compiles what the container got, not a file that may
 *                    have changed since (or that sits on a volume it writes)
 *   user=SPEC        mdk-run's -u, if any
 *   workdir=DIR      mdk-run's -w, if any
 *   env=K=V          the command's environment, one line each (HOME aside:
 *                    it follows the user)
 *
 * Values escape '\' as "\\" and a newline as "\n"; nothing else. The file is
 * root's, 0600 (write_file_atomic): -e values may be secrets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdk.h"

static void put_escaped(FILE *f, const char *key, const char *v, size_t n)
{
	fprintf(f, "%s=", key);
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\\')
			fputs("\\\\", f);
		else if (v[i] == '\n')
			fputs("\\n", f);
		else
			fputc(v[i], f);
	}
	fputc('\n', f);
}

char *pidfile_format(const struct pidfile *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		die_errno("open_memstream");
	fprintf(f, "pid=%d\nstart=%llu\ninit=%d\nexec=1\nprivileged=%d\nnnp=%d\nseccomp=%s\n", (int)p->pid,
		p->start, (int)p->init, p->privileged, p->nnp,
		!p->seccomp ? "none" : p->profile ? "profile" : "default");
	fprintf(f, "caps=%llx\n", (unsigned long long)p->caps);
	if (p->seccomp && p->profile)
		put_escaped(f, "profile", p->profile, p->profile_len);
	if (p->user)
		put_escaped(f, "user", p->user, strlen(p->user));
	if (p->workdir)
		put_escaped(f, "workdir", p->workdir, strlen(p->workdir));
	for (size_t i = 0; i < p->nenv; i++)
		put_escaped(f, "env", p->env[i], strlen(p->env[i]));
	if (fclose(f) != 0)
		die_errno("format the pid file");
	return buf;
}

/* Undo put_escaped in place; the length in *N. -1 for a bad escape. */
static int unescape(char *s, size_t *n)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r != '\\') {
			*w++ = *r;
			continue;
		}
		if (r[1] == '\\')
			*w++ = '\\';
		else if (r[1] == 'n')
			*w++ = '\n';
		else
			return -1;
		r++;
	}
	*w = 0;
	*n = (size_t)(w - s);
	return 0;
}

static int flag(const char *v, bool *out)
{
	if (strcmp(v, "0") && strcmp(v, "1"))
		return -1;
	*out = v[0] == '1';
	return 0;
}

int pidfile_parse(char *text, struct pidfile *p)
{
	uint64_t v;
	bool have[3] = { false };
	char *seccomp = NULL;

	memset(p, 0, sizeof(*p));
	for (char *line = text, *next; line && *line; line = next) {
		char *val = strchr(line, '=');
		size_t n;
		if ((next = strchr(line, '\n')))
			*next++ = 0;
		if (!val)
			return errno = EINVAL, -1;
		*val++ = 0;
		if (!strcmp(line, "pid") || !strcmp(line, "init")) {
			if (parse_uint(val, 1, INT32_MAX, &v) < 0)
				return errno = EINVAL, -1;
			*(line[0] == 'p' ? &p->pid : &p->init) = (pid_t)v;
			have[line[0] == 'p' ? 0 : 1] = true;
		} else if (!strcmp(line, "start")) {
			if (parse_uint(val, 0, UINT64_MAX, &v) < 0)
				return errno = EINVAL, -1;
			p->start = v;
			have[2] = true;
		} else if (!strcmp(line, "exec")) {
			p->exec = !strcmp(val, "1");
		} else if (!strcmp(line, "privileged") || !strcmp(line, "nnp")) {
			if (flag(val, line[0] == 'p' ? &p->privileged : &p->nnp) < 0)
				return errno = EINVAL, -1;
		} else if (!strcmp(line, "seccomp")) {
			seccomp = val;
		} else if (!strcmp(line, "caps")) {
			char *end;
			errno = 0;
			p->caps = strtoull(val, &end, 16);
			if (errno || !*val || *end)
				return errno = EINVAL, -1;
			p->has_caps = true;
		} else if (!strcmp(line, "profile") || !strcmp(line, "user") || !strcmp(line, "workdir")) {
			if (unescape(val, &n) < 0)
				return errno = EINVAL, -1;
			if (line[0] == 'p')
				p->profile = val, p->profile_len = n;
			else
				*(line[0] == 'u' ? &p->user : &p->workdir) = val;
		} else if (!strcmp(line, "env")) {
			if (unescape(val, &n) < 0 || !strchr(val, '=') || strlen(val) != n)
				return errno = EINVAL, -1;
			p->env = realloc(p->env, (p->nenv + 1) * sizeof(*p->env));
			if (!p->env)
				die_errno("realloc");
			p->env[p->nenv++] = val;
		} else if (p->exec) {
			/* Fail closed: a key we do not know may be a confinement
			 * we would not apply. */
			return errno = EINVAL, -1;
		}
	}
	if (!have[0] || !have[1] || !have[2])
		return errno = EINVAL, -1;
	if (p->exec) {
		if (!seccomp || (strcmp(seccomp, "none") && strcmp(seccomp, "default") && strcmp(seccomp, "profile")) ||
		    (!strcmp(seccomp, "profile") != !!p->profile))
			return errno = EINVAL, -1;
		p->seccomp = strcmp(seccomp, "none") != 0;
	}
	return 0;
}
