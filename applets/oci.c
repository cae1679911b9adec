/* mdk-oci: an OCI runtime with runc's command line, for the engines that
 * drive runc (podman with conmon, containerd's runc shim, CRI-O).
 *
 * usage: mdk-oci [GLOBAL OPTIONS] COMMAND [OPTIONS] ID ...
 *
 * create sets a container up from a bundle (BUNDLE/config.json) and leaves
 * its process waiting, already in its namespaces, cgroup and root, with its
 * capabilities, user and seccomp filter; start lets it exec the command.
 * The process is the user's own (no init in front of it): its PID is the
 * one reported, and whoever reaps it (conmon, the shim: a subreaper) gets
 * its status. State lives in ROOT/ID (state.json, and exec.fifo while the
 * container is created but not started).
 *
 * Exit codes: 0 ok; 1 failed (one line on stderr, and in --log); 2 usage;
 * run and exec without -d: the command's status (128+N killed by signal N). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "mdk.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

const char oci_usage[] =
	"usage: mdk-oci [GLOBAL OPTIONS] COMMAND [OPTIONS] ID\n"
	"An OCI runtime with runc's command line: podman --runtime, containerd's\n"
	"runc shim (ctr run --runc-binary) and CRI-O can drive it.\n"
	"Global options (before COMMAND; each also as --flag=value):\n"
	"  --root DIR         state directory (default /run/mdk-oci)\n"
	"  --log FILE         errors and warnings go to FILE too\n"
	"  --log-format text|json  one JSON object a line in FILE: level, msg, time\n"
	"  --systemd-cgroup   cgroupsPath is slice:prefix:name, made a cgroupfs path\n"
	"                     (SLICE/PREFIX-NAME.scope: there is no systemd here)\n"
	"  --debug            accepted (nothing more to say)\n"
	"Commands:\n"
	"  create [-b BUNDLE] [--pid-file F] [--console-socket SOCK] [--no-pivot]\n"
	"         [--no-new-keyring] [--preserve-fds N] ID\n"
	"                     set the container up; its process waits for start\n"
	"  start ID           let it exec process.args (poststart hooks after)\n"
	"  run [-b BUNDLE] [-d] [--pid-file F] [--console-socket SOCK] ID\n"
	"                     create and start; without -d wait, delete, and exit\n"
	"                     with its status\n"
	"  state ID           the state as JSON (status: created, running, paused,\n"
	"                     stopped)\n"
	"  kill [--all] ID [SIGNAL]  send SIGNAL (default TERM; a number or a name)\n"
	"  delete [--force] ID  remove a stopped (or created) container; --force\n"
	"                     kills a running one first\n"
	"  exec [-p process.json | ARGS...] [-d] [-t] [--pid-file F]\n"
	"       [--console-socket SOCK] [--cwd DIR] [-e K=V] [-u UID[:GID]] ID\n"
	"                     run another process in the container\n"
	"  ps [--format table|json] ID   the container's processes\n"
	"  pause ID, resume ID  freeze and thaw its cgroup\n"
	"  update [--resources FILE|-] [--memory N] [--pids-limit N] [--cpu-quota N]\n"
	"         [--cpu-period N] [--cpu-shares N] [--cpuset-cpus L] ID\n"
	"  list [--format table|json] [-q]   the containers under ROOT\n"
	"  spec [-b BUNDLE]   write a default config.json (rootfs: BUNDLE/rootfs)\n"
	"  features           what this runtime supports, as JSON\n"
	"  --version          the versions\n"
	"Exit codes: 0 ok; 1 failed; 2 usage error; run and exec (without -d): the\n"
	"process's status, 128+N if it was killed by signal N.\n";

#define OCI_VERSION "1.1.0"
#define NCAPSETS 5
enum { H_PRESTART, H_CREATE_RUNTIME, H_CREATE_CONTAINER, H_START_CONTAINER, H_POSTSTART, H_POSTSTOP, NHOOKS };
static const char *const hook_names[NHOOKS] = { "prestart", "createRuntime", "createContainer",
						"startContainer", "poststart", "poststop" };

static const struct { const char *name, *file; int flag; } ns_types[] = {
	{ "user", "user", CLONE_NEWUSER },   { "pid", "pid", CLONE_NEWPID },	  { "network", "net", CLONE_NEWNET },
	{ "ipc", "ipc", CLONE_NEWIPC },	     { "uts", "uts", CLONE_NEWUTS },	  { "mount", "mnt", CLONE_NEWNS },
	{ "cgroup", "cgroup", CLONE_NEWCGROUP }, { "time", "time", CLONE_NEWTIME },
};
#define NNS (sizeof(ns_types) / sizeof(*ns_types))

struct mnt {
	const char *src, *dst, *type;
	char *data;		/* the options that are not flags: the filesystem's */
	uint64_t set, clr;	/* MOUNT_ATTR_* */
	unsigned prop;		/* MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE, or 0 */
	bool bind, rec;
};

struct hook {
	const char *path;
	char **argv, **env;
	int timeout;		/* seconds, 0 none */
};

/* A process: config.json's "process", or exec's process.json. */
struct proc {
	char **args, **env;
	const char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t gids[64];
	size_t ngids;
	int umask;		/* -1: none given */
	bool terminal;
	unsigned short rows, cols;
	bool caps_given;
	uint64_t caps[NCAPSETS];	/* bounding, effective, inheritable, permitted, ambient */
	struct { int res; struct rlimit lim; } rl[RLIM_NLIMITS];
	size_t nrl;
	bool nnp, oom_given;
	int oom;
};

struct spec {
	json_t *json;
	char *bundle, *rootfs;
	bool readonly;
	struct proc p;
	const char *hostname, *domainname;
	struct mnt *mnts;
	size_t nmnts;
	struct hook *hooks[NHOOKS];
	size_t nhooks[NHOOKS];
	int newns;		/* CLONE_NEW* to unshare */
	const char *nspath[NNS];	/* namespaces to join */
	char *uidmap, *gidmap;
	char cgpath[512];
	struct limits lim;
	char *seccomp;		/* linux.seccomp as text, for seccomp_compile */
	void *filter;
	const char **masked, **ro;
	size_t nmasked, nro;
	const char **sysctl;	/* key, value, key, value... */
	size_t nsysctl;
	unsigned rootprop;	/* MS_* for "/" after the switch; 0: private */
	struct dev { const char *path; mode_t mode; dev_t rdev; uid_t uid; gid_t gid; } *devs;
	size_t ndevs;
	bool nodev;		/* the device rules kept without a controller (fence_devices) */
};

/* The options every command shares: globals, and create's. */
static const char *state_root = "/run/mdk-oci";
static bool systemd_cgroup;
static const char *console_socket, *pid_file, *bundle_dir;
static bool no_pivot, detach;
static int preserve_fds;

/* --- config.json: everything checked before anything is done ------------------- */

static const char *where = "config.json";

_Noreturn static void bad(const char *field, const char *what)
{
	die("%s: %s: %s", where, field, what);
}

static json_t *jobj(json_t *o, const char *k, const char *field)
{
	json_t *v = json_object_get(o, k);

	if (v && !json_is_object(v) && !json_is_null(v))
		bad(field, "want an object");
	return json_is_null(v) ? NULL : v;
}

static const char *jstr(json_t *o, const char *k, const char *field)
{
	json_t *v = json_object_get(o, k);

	if (v && !json_is_string(v) && !json_is_null(v))
		bad(field, "want a string");
	return v ? json_string_value(v) : NULL;
}

static bool jbool(json_t *o, const char *k, const char *field)
{
	json_t *v = json_object_get(o, k);

	if (v && !json_is_boolean(v))
		bad(field, "want true or false");
	return json_is_true(v);
}

static bool jint(json_t *o, const char *k, const char *field, long long min, long long max, long long *out)
{
	json_t *v = json_object_get(o, k);

	if (!v || json_is_null(v))
		return false;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		die("%s: %s: want a whole number from %lld to %lld", where, field, min, max);
	*out = json_integer_value(v);
	return true;
}

static json_t *jarr(json_t *o, const char *k, const char *field)
{
	json_t *v = json_object_get(o, k);

	if (v && !json_is_array(v) && !json_is_null(v))
		bad(field, "want a list");
	return json_is_null(v) ? NULL : v;
}

/* A list of strings, NULL-terminated, into the JSON's own strings. */
static char **jstrv(json_t *o, const char *k, const char *field)
{
	json_t *a = jarr(o, k, field), *v;
	char **out;
	size_t i;

	if (!a)
		return NULL;
	out = xmalloc((json_array_size(a) + 1) * sizeof(*out));
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			bad(field, "want a list of strings");
		out[i] = (char *)json_string_value(v);
	}
	out[json_array_size(a)] = NULL;
	return out;
}

static uint64_t caps_of(json_t *caps, const char *k)
{
	char field[64];
	json_t *a, *v;
	uint64_t set = 0;
	size_t i;

	snprintf(field, sizeof(field), "process.capabilities.%s", k);
	a = jarr(caps, k, field);
	json_array_foreach(a, i, v) {
		int c = json_is_string(v) ? cap_from_name(json_string_value(v)) : -1;
		if (!json_is_string(v))
			bad(field, "want a list of capability names");
		if (c < 0) {
			/* runc's way: one this kernel (or we) never heard of is skipped. */
			warn("%s: %s: unknown capability '%s' ignored", where, field, json_string_value(v));
			continue;
		}
		set |= 1ULL << c;
	}
	return set;
}

static const struct { const char *name; int res; } rlimits[] = {
	{ "RLIMIT_AS", RLIMIT_AS },	    { "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },	    { "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },   { "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },	    { "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },   { "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

static void parse_process(json_t *p, struct proc *out)
{
	json_t *user = jobj(p, "user", "process.user"), *caps = jobj(p, "capabilities", "process.capabilities");
	json_t *cs = jobj(p, "consoleSize", "process.consoleSize"), *a, *v;
	long long n;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->umask = -1;
	if (!p)
		bad("process", "missing");
	out->args = jstrv(p, "args", "process.args");
	if (!out->args || !out->args[0] || !out->args[0][0])
		bad("process.args", "want the command (a list of at least one string)");
	out->env = jstrv(p, "env", "process.env");
	for (char **e = out->env; e && *e; e++)
		if (!strchr(*e, '=') || **e == '=')
			die("%s: process.env: '%s' is not KEY=VALUE", where, *e);
	out->cwd = jstr(p, "cwd", "process.cwd");
	if (!out->cwd || out->cwd[0] != '/')
		bad("process.cwd", "want an absolute path");
	out->terminal = jbool(p, "terminal", "process.terminal");
	if (jint(cs, "height", "process.consoleSize.height", 0, 65535, &n))
		out->rows = (unsigned short)n;
	if (jint(cs, "width", "process.consoleSize.width", 0, 65535, &n))
		out->cols = (unsigned short)n;
	if (jint(user, "uid", "process.user.uid", 0, UINT32_MAX - 1, &n))
		out->uid = (uid_t)n;
	if (jint(user, "gid", "process.user.gid", 0, UINT32_MAX - 1, &n))
		out->gid = (gid_t)n;
	if (jint(user, "umask", "process.user.umask", 0, 0777, &n))
		out->umask = (int)n;
	if (jstr(user, "username", "process.user.username"))
		warn("%s: process.user.username is for Windows: ignored", where);
	a = jarr(user, "additionalGids", "process.user.additionalGids");
	if (json_array_size(a) > sizeof(out->gids) / sizeof(*out->gids))
		bad("process.user.additionalGids", "more than 64");
	json_array_foreach(a, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= UINT32_MAX)
			bad("process.user.additionalGids", "want a list of group ids");
		out->gids[out->ngids++] = (gid_t)json_integer_value(v);
	}
	if (caps) {
		static const char *const sets[NCAPSETS] = { "bounding", "effective", "inheritable", "permitted",
							     "ambient" };
		out->caps_given = true;
		for (i = 0; i < NCAPSETS; i++)
			out->caps[i] = caps_of(caps, sets[i]);
	}
	a = jarr(p, "rlimits", "process.rlimits");
	json_array_foreach(a, i, v) {
		const char *t = jstr(v, "type", "process.rlimits[].type");
		long long soft = 0, hard = 0;
		size_t k;
		for (k = 0; t && k < sizeof(rlimits) / sizeof(*rlimits); k++)
			if (!strcmp(t, rlimits[k].name))
				break;
		if (!t || k == sizeof(rlimits) / sizeof(*rlimits))
			die("%s: process.rlimits: unknown type '%s'", where, t ? t : "");
		/* JSON numbers past 2^63 (RLIM_INFINITY) come as -1 from jansson. */
		json_t *sv = json_object_get(v, "soft"), *hv = json_object_get(v, "hard");
		if (!json_is_integer(sv) || !json_is_integer(hv))
			die("%s: process.rlimits: %s: want soft and hard numbers", where, t);
		soft = json_integer_value(sv);
		hard = json_integer_value(hv);
		out->rl[out->nrl].res = rlimits[k].res;
		out->rl[out->nrl].lim.rlim_cur = (rlim_t)soft;
		out->rl[out->nrl].lim.rlim_max = (rlim_t)hard;
		if (out->rl[out->nrl].lim.rlim_cur > out->rl[out->nrl].lim.rlim_max)
			die("%s: process.rlimits: %s: soft %lld above hard %lld", where, t, soft, hard);
		if (out->nrl < RLIM_NLIMITS - 1)
			out->nrl++;
	}
	out->nnp = jbool(p, "noNewPrivileges", "process.noNewPrivileges");
	if ((out->oom_given = jint(p, "oomScoreAdj", "process.oomScoreAdj", -1000, 1000, &n)))
		out->oom = (int)n;
	if (jstr(p, "apparmorProfile", "process.apparmorProfile") && *jstr(p, "apparmorProfile", ""))
		warn("%s: process.apparmorProfile: no AppArmor here: ignored", where);
	if (jstr(p, "selinuxLabel", "process.selinuxLabel") && *jstr(p, "selinuxLabel", ""))
		warn("%s: process.selinuxLabel: no SELinux here: ignored", where);
}

static const struct { const char *name; uint64_t set, clr; } mount_flags[] = {
	{ "ro", MOUNT_ATTR_RDONLY, 0 },		{ "rw", 0, MOUNT_ATTR_RDONLY },
	{ "nosuid", MOUNT_ATTR_NOSUID, 0 },	{ "suid", 0, MOUNT_ATTR_NOSUID },
	{ "nodev", MOUNT_ATTR_NODEV, 0 },	{ "dev", 0, MOUNT_ATTR_NODEV },
	{ "noexec", MOUNT_ATTR_NOEXEC, 0 },	{ "exec", 0, MOUNT_ATTR_NOEXEC },
	{ "noatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME },
	{ "relatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
	{ "strictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME },
	{ "norelatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME },
	{ "nodiratime", MOUNT_ATTR_NODIRATIME, 0 }, { "diratime", 0, MOUNT_ATTR_NODIRATIME },
	{ "atime", 0, 0 },			{ "defaults", 0, 0 },
};
static const struct { const char *name; unsigned prop; bool rec; } mount_props[] = {
	{ "private", MS_PRIVATE, false },	  { "rprivate", MS_PRIVATE, true },
	{ "shared", MS_SHARED, false },		  { "rshared", MS_SHARED, true },
	{ "slave", MS_SLAVE, false },		  { "rslave", MS_SLAVE, true },
	{ "unbindable", MS_UNBINDABLE, false },	  { "runbindable", MS_UNBINDABLE, true },
};
/* Options of other runtimes' or engines' that say nothing to a mount here. */
static const char *const mount_ignored[] = { "z", "Z", "tmpcopyup", "notmpcopyup", "copy-symlink",
					     "nocopyup", "copyup", "remount" };

static void parse_mount(json_t *m, struct mnt *out)
{
	json_t *opts = jarr(m, "options", "mounts[].options"), *v;
	size_t i, dlen = 0;

	memset(out, 0, sizeof(*out));
	out->dst = jstr(m, "destination", "mounts[].destination");
	out->src = jstr(m, "source", "mounts[].source");
	out->type = jstr(m, "type", "mounts[].type");
	if (!out->dst || !*out->dst)
		bad("mounts[].destination", "missing");
	if (strlen(out->dst) >= PATH_MAX)
		die("%s: mounts: destination '%.40s...' is too long", where, out->dst);
	out->data = xmalloc(json_array_size(opts) ? 4096 : 1);
	out->data[0] = 0;
	out->bind = out->type && !strcmp(out->type, "bind");
	json_array_foreach(opts, i, v) {
		const char *o = json_string_value(v);
		size_t k;
		bool done = false;
		if (!o)
			bad("mounts[].options", "want a list of strings");
		if (!strcmp(o, "bind") || !strcmp(o, "rbind")) {
			out->bind = true;
			out->rec |= o[0] == 'r';
			continue;
		}
		/* rro, rnosuid...: on every mount of a recursive bind, as ours are. */
		const char *base = o[0] == 'r' && strcmp(o, "rw") && strcmp(o, "relatime") ? o + 1 : o;
		for (k = 0; !done && k < sizeof(mount_flags) / sizeof(*mount_flags); k++) {
			if (strcmp(base, mount_flags[k].name) && strcmp(o, mount_flags[k].name))
				continue;
			out->set = (out->set & ~mount_flags[k].clr) | mount_flags[k].set;
			out->clr = (out->clr | mount_flags[k].clr) & ~mount_flags[k].set;
			if (mount_flags[k].clr == MOUNT_ATTR__ATIME)
				out->clr |= MOUNT_ATTR__ATIME;
			done = true;
		}
		for (k = 0; !done && k < sizeof(mount_props) / sizeof(*mount_props); k++)
			if (!strcmp(o, mount_props[k].name))
				out->prop = mount_props[k].prop | (mount_props[k].rec ? MS_REC : 0), done = true;
		for (k = 0; !done && k < sizeof(mount_ignored) / sizeof(*mount_ignored); k++)
			done = !strcmp(o, mount_ignored[k]);
		if (!done && (!strcmp(o, "idmap") || !strcmp(o, "ridmap"))) {
			warn("%s: mount on '%s': idmapped mounts are not supported: mounted without the id mapping",
			     where, out->dst);
			done = true;
		}
		if (done)
			continue;
		/* Anything else is the filesystem's own option (mode=755, size=...). */
		if (strchr(o, '\n') || dlen + strlen(o) + 2 > 4096)
			die("%s: mount on '%s': option '%.40s' is too long or holds a newline", where, out->dst, o);
		dlen += (size_t)sprintf(out->data + dlen, "%s%s", dlen ? "," : "", o);
	}
	if (!out->type && !out->bind)
		die("%s: mount on '%s': no type (and no bind option)", where, out->dst);
	if (!out->src && out->bind)
		die("%s: mount on '%s': a bind mount needs a source", where, out->dst);
}

static void parse_hooks(struct spec *s, json_t *hooks)
{
	for (int h = 0; h < NHOOKS; h++) {
		char field[64];
		json_t *a, *v;
		size_t i;
		snprintf(field, sizeof(field), "hooks.%s", hook_names[h]);
		a = jarr(hooks, hook_names[h], field);
		s->hooks[h] = xmalloc((json_array_size(a) + 1) * sizeof(struct hook));
		json_array_foreach(a, i, v) {
			struct hook *k = &s->hooks[h][i];
			long long t = 0;
			k->path = jstr(v, "path", field);
			if (!k->path || k->path[0] != '/')
				die("%s: %s[%zu].path: want an absolute path", where, field, i);
			k->argv = jstrv(v, "args", field);
			k->env = jstrv(v, "env", field);
			if (jint(v, "timeout", field, 1, 86400, &t))
				k->timeout = (int)t;
			s->nhooks[h]++;
		}
	}
}

/* "type c 1 3 rwm"-style device rules of linux.resources.devices, as the v1
 * devices controller's lines; runc's list of what every container may use
 * follows them (a spec that denies all still gets /dev/null). */
static void parse_device_rules(struct spec *s, json_t *a)
{
	static const char *const always[] = {
		"+c *:* m", "+b *:* m", "+c 1:3 rwm", "+c 1:5 rwm", "+c 1:7 rwm", "+c 1:8 rwm",
		"+c 1:9 rwm", "+c 5:0 rwm", "+c 5:1 rwm", "+c 5:2 rwm", "+c 136:* rwm", "+c 10:200 rwm",
	};
	size_t n = json_array_size(a), k = 0, i;
	json_t *v;
	const char **rules = xmalloc((n + sizeof(always) / sizeof(*always)) * sizeof(*rules));

	json_array_foreach(a, i, v) {
		const char *type = jstr(v, "type", "linux.resources.devices[].type");
		const char *access = jstr(v, "access", "linux.resources.devices[].access");
		long long maj = -1, min = -1;
		char mj[24] = "*", mn[24] = "*";
		if (!type || !*type)
			type = "a";
		if (strlen(type) != 1 || !strchr("abc", *type))
			bad("linux.resources.devices[].type", "want a, b or c");
		if (!access || !*access)
			access = "rwm";
		if (strspn(access, "rwm") != strlen(access) || strlen(access) > 3)
			bad("linux.resources.devices[].access", "want some of r, w, m");
		if (jint(v, "major", "linux.resources.devices[].major", -1, 1 << 20, &maj) && maj >= 0)
			snprintf(mj, sizeof(mj), "%lld", maj);
		if (jint(v, "minor", "linux.resources.devices[].minor", -1, 1 << 20, &min) && min >= 0)
			snprintf(mn, sizeof(mn), "%lld", min);
		rules[k++] = *type == 'a' ? xasprintf("%ca", jbool(v, "allow", "") ? '+' : '-') :
					   xasprintf("%c%s %s:%s %s", jbool(v, "allow", "") ? '+' : '-', type, mj, mn,
						     access);
	}
	for (i = 0; n && i < sizeof(always) / sizeof(*always); i++)
		rules[k++] = always[i];
	s->lim.devices = rules;
	s->lim.ndevices = k;
}

static void parse_resources(struct spec *s, json_t *r)
{
	json_t *mem = jobj(r, "memory", "linux.resources.memory"), *cpu = jobj(r, "cpu", "linux.resources.cpu");
	json_t *pids = jobj(r, "pids", "linux.resources.pids"), *uni = jobj(r, "unified", "linux.resources.unified");
	long long n;

	if (jint(mem, "limit", "linux.resources.memory.limit", -1, INT64_MAX, &n) && n > 0)
		s->lim.memory = (uint64_t)n;
	if (jint(cpu, "quota", "linux.resources.cpu.quota", -1, INT64_MAX, &n) && n > 0) {
		s->lim.cpu_quota = (uint64_t)n;
		s->lim.cpu_period = 100000;
	}
	if (jint(cpu, "period", "linux.resources.cpu.period", 0, 1000000, &n) && n > 0)
		s->lim.cpu_period = (uint64_t)n;
	if (!s->lim.cpu_quota)
		s->lim.cpu_period = 0;
	if (jint(cpu, "shares", "linux.resources.cpu.shares", 0, INT64_MAX, &n) && n > 0)
		s->lim.cpu_shares = n < 2 ? 2 : n > 262144 ? 262144 : (uint64_t)n;
	s->lim.cpuset = jstr(cpu, "cpus", "linux.resources.cpu.cpus");
	if (s->lim.cpuset && (!*s->lim.cpuset || s->lim.cpuset[strspn(s->lim.cpuset, "0123456789,-")]))
		s->lim.cpuset = NULL;
	if (jint(pids, "limit", "linux.resources.pids.limit", INT64_MIN, INT64_MAX, &n) && n > 0)
		s->lim.pids = (uint64_t)n;
	json_t *devs = jarr(r, "devices", "linux.resources.devices");
	if (devs)
		parse_device_rules(s, devs);
	if (json_object_size(uni)) {
		const char *k;
		json_t *v;
		size_t i = 0;
		const char **kv = xmalloc(2 * json_object_size(uni) * sizeof(*kv));
		json_object_foreach(uni, k, v) {
			if (!json_is_string(v) || !*k || strchr(k, '/') || k[0] == '.')
				die("%s: linux.resources.unified: '%s': want a cgroup file name and a string", where, k);
			kv[i++] = k;
			kv[i++] = json_string_value(v);
		}
		s->lim.unified = kv;
		s->lim.nunified = i / 2;
	}
}

/* cgroupsPath: "/a/b" below each hierarchy's root (runc's cgroupfs); with
 * --systemd-cgroup, "slice:prefix:name" as systemd would lay it out; none:
 * $MDK_CGROUP_PARENT/ID. */
static void parse_cgroups_path(struct spec *s, const char *p, const char *id)
{
	char *out = s->cgpath;
	size_t n = sizeof(s->cgpath);

	if (!p || !*p) {
		snprintf(out, n, "%s/%s", cgroup_parent(), id);
		return;
	}
	if (systemd_cgroup && strchr(p, ':')) {
		char slice[256], prefix[128], name[128];
		size_t k = 0;
		if (sscanf(p, "%255[^:]:%127[^:]:%127s", slice, prefix, name) != 3 &&
		    (sscanf(p, ":%127[^:]:%127s", prefix, name) != 2 || !strcpy(slice, "system.slice")))
			die("%s: cgroupsPath '%s': want slice:prefix:name with --systemd-cgroup", where, p);
		if (!strcmp(slice, "-.slice"))
			slice[0] = 0;
		/* a-b-c.slice lives in a.slice/a-b.slice/a-b-c.slice */
		for (char *d = slice; *d; d++)
			if (*d == '-' || !strcmp(d, ".slice")) {
				k += (size_t)snprintf(out + k, n - k, "%.*s.slice/", (int)(d - slice), slice);
				if (*d != '-')
					break;
			}
		snprintf(out + k, n - k, "%s%s%s.scope", prefix, *prefix ? "-" : "", name);
	} else {
		snprintf(out, n, "%s", p + strspn(p, "/"));
	}
	for (char *c = out; *c;) {
		size_t len = strcspn(c, "/");
		if (!len || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.') ||
		    c[strspn(c, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:@/")])
			die("%s: cgroupsPath '%s': want a plain path below the cgroup root", where, p);
		c += len + (c[len] == '/');
	}
	if (!*out)
		die("%s: cgroupsPath '%s': the cgroup root is no container's", where, p);
}

/* "0 1000 65536" lines of a uid_map from linux.uidMappings. */
static char *id_map(json_t *a, const char *field)
{
	json_t *v;
	size_t i, k = 0;
	char *map;

	if (!json_array_size(a))
		return NULL;
	if (json_array_size(a) > 340)
		bad(field, "more than 340 mappings");
	map = xmalloc(json_array_size(a) * 36 + 1);
	map[0] = 0;
	json_array_foreach(a, i, v) {
		long long c, h, n;
		if (!jint(v, "containerID", field, 0, UINT32_MAX - 1, &c) || !jint(v, "hostID", field, 0, UINT32_MAX - 1, &h) ||
		    !jint(v, "size", field, 1, UINT32_MAX, &n))
			bad(field, "want containerID, hostID and size");
		k += (size_t)sprintf(map + k, "%lld %lld %lld\n", c, h, n);
	}
	return map;
}

/* The sysctls a container may set: the ones its own namespaces scope
 * (runc's rule). Another would change the host. */
static bool sysctl_namespaced(const struct spec *s, const char *k)
{
	static const char *const ipc[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
					   "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced" };
	for (size_t i = 0; i < sizeof(ipc) / sizeof(*ipc); i++)
		if (!strcmp(k, ipc[i]))
			return s->newns & CLONE_NEWIPC;
	if (!strncmp(k, "fs.mqueue.", 10))
		return s->newns & CLONE_NEWIPC;
	if (!strncmp(k, "net.", 4))
		return s->newns & CLONE_NEWNET;
	if (!strcmp(k, "kernel.hostname") || !strcmp(k, "kernel.domainname"))
		return s->newns & CLONE_NEWUTS;
	return false;
}

static void parse_linux(struct spec *s, json_t *l, const char *id)
{
	json_t *a, *v;
	size_t i;

	a = jarr(l, "namespaces", "linux.namespaces");
	json_array_foreach(a, i, v) {
		const char *t = jstr(v, "type", "linux.namespaces[].type"), *path = jstr(v, "path", "linux.namespaces[].path");
		size_t k;
		for (k = 0; t && k < NNS; k++)
			if (!strcmp(t, ns_types[k].name))
				break;
		if (!t || k == NNS)
			die("%s: linux.namespaces: unknown type '%s'", where, t ? t : "");
		if ((s->newns & ns_types[k].flag) || s->nspath[k])
			die("%s: linux.namespaces: '%s' twice", where, t);
		if (path && *path)
			s->nspath[k] = path;
		else
			s->newns |= ns_types[k].flag;
	}
	s->uidmap = id_map(jarr(l, "uidMappings", "linux.uidMappings"), "linux.uidMappings");
	s->gidmap = id_map(jarr(l, "gidMappings", "linux.gidMappings"), "linux.gidMappings");
	if ((s->uidmap || s->gidmap) && !(s->newns & CLONE_NEWUSER))
		die("%s: linux.uidMappings, gidMappings: only with a new user namespace", where);
	if ((s->newns & CLONE_NEWUSER) && (!s->uidmap || !s->gidmap))
		die("%s: a new user namespace needs linux.uidMappings and gidMappings", where);
	parse_cgroups_path(s, jstr(l, "cgroupsPath", "linux.cgroupsPath"), id);
	parse_resources(s, jobj(l, "resources", "linux.resources"));
	if ((v = jobj(l, "seccomp", "linux.seccomp")))
		s->seccomp = json_dumps(v, JSON_COMPACT);
	s->masked = (const char **)jstrv(l, "maskedPaths", "linux.maskedPaths");
	s->ro = (const char **)jstrv(l, "readonlyPaths", "linux.readonlyPaths");
	for (; s->masked && s->masked[s->nmasked]; s->nmasked++)
		;
	for (; s->ro && s->ro[s->nro]; s->nro++)
		;
	json_t *sys = jobj(l, "sysctl", "linux.sysctl");
	const char *k;
	s->sysctl = xmalloc((2 * json_object_size(sys) + 1) * sizeof(char *));
	json_object_foreach(sys, k, v) {
		if (!json_is_string(v))
			die("%s: linux.sysctl: '%s': want a string", where, k);
		if (!*k || k[0] == '.' || strstr(k, "..") || strchr(k, '/') || !sysctl_namespaced(s, k))
			die("%s: linux.sysctl: '%s' is not in a namespace of the container's: it would change the host",
			    where, k);
		s->sysctl[s->nsysctl++] = k;
		s->sysctl[s->nsysctl++] = json_string_value(v);
	}
	const char *prop = jstr(l, "rootfsPropagation", "linux.rootfsPropagation");
	for (i = 0; prop && *prop && i < sizeof(mount_props) / sizeof(*mount_props); i++)
		if (!strcmp(prop, mount_props[i].name))
			s->rootprop = mount_props[i].prop;
	if (prop && *prop && !s->rootprop)
		die("%s: linux.rootfsPropagation: unknown '%s'", where, prop);
	a = jarr(l, "devices", "linux.devices");
	s->devs = xmalloc((json_array_size(a) + 1) * sizeof(*s->devs));
	json_array_foreach(a, i, v) {
		struct dev *d = &s->devs[s->ndevs];
		const char *type = jstr(v, "type", "linux.devices[].type");
		long long maj = 0, min = 0, mode = 0666, uid = 0, gid = 0;
		d->path = jstr(v, "path", "linux.devices[].path");
		if (!d->path || strncmp(d->path, "/dev/", 5) || strstr(d->path, ".."))
			bad("linux.devices[].path", "want a path below /dev");
		if (!type || strlen(type) != 1 || !strchr("cubp", *type))
			bad("linux.devices[].type", "want c, u, b or p");
		if (*type != 'p' && (!jint(v, "major", "linux.devices[].major", 0, 4095, &maj) ||
				     !jint(v, "minor", "linux.devices[].minor", 0, 1 << 20, &min)))
			bad("linux.devices[]", "want major and minor");
		jint(v, "fileMode", "linux.devices[].fileMode", 0, 07777, &mode);
		jint(v, "uid", "linux.devices[].uid", 0, UINT32_MAX - 1, &uid);
		jint(v, "gid", "linux.devices[].gid", 0, UINT32_MAX - 1, &gid);
		d->mode = (mode_t)mode | (*type == 'b' ? S_IFBLK : *type == 'p' ? S_IFIFO : S_IFCHR);
		d->rdev = makedev((unsigned)maj, (unsigned)min);
		d->uid = (uid_t)uid;
		d->gid = (gid_t)gid;
		s->ndevs++;
	}
}

/* cgroup v2 has no devices controller, only eBPF programs, and mdk has no
 * BPF compiler of its own (libseccomp makes only seccomp's). So on v2 the
 * device rules are kept by what can be reached instead: the container may
 * not mknod (CAP_MKNOD goes), and every mount but /dev and what is below
 * it is nodev (the root's too): the nodes it can open are the ones create
 * made in /dev -- the defaults and linux.devices. */
static void fence_devices(struct spec *s, struct proc *p)
{
	if (cgroup_mode() != CG_V2 || !s->lim.ndevices)
		return;
	s->nodev = true;
	for (int i = 0; i < NCAPSETS; i++)
		p->caps[i] &= ~(1ULL << CAP_MKNOD);
	for (size_t i = 0; i < s->nmnts; i++) {
		struct mnt *m = &s->mnts[i];
		if (strcmp(m->dst, "/dev") && strncmp(m->dst, "/dev/", 5)) {
			m->set |= MOUNT_ATTR_NODEV;
			m->clr &= ~(uint64_t)MOUNT_ATTR_NODEV;
		}
	}
}

/* Read and check BUNDLE/config.json whole: a bad one fails create before
 * anything is made. */
static void parse_spec(struct spec *s, const char *bundle, const char *id)
{
	char *text, path[PATH_MAX];
	size_t len;
	json_error_t je;
	int fd;

	memset(s, 0, sizeof(*s));
	if (!(s->bundle = realpath(bundle, NULL)))
		die_errno("bundle '%s'", bundle);
	snprintf(path, sizeof(path), "%s/config.json", s->bundle);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		die_errno("open '%s'", path);
	if (read_fd_max(fd, 4 << 20, &text, &len) < 0)
		die(errno == EFBIG ? "'%s': larger than 4 MiB" : "read '%s': %s", path, strerror(errno));
	close(fd);
	if (!(s->json = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) || !json_is_object(s->json))
		die("%s: line %d: %s", path, je.line, s->json ? "not a JSON object" : je.text);
	free(text);
	const char *ver = jstr(s->json, "ociVersion", "ociVersion");
	if (!ver || strncmp(ver, "1.", 2))
		die("%s: ociVersion '%s': want 1.x", where, ver ? ver : "");
	json_t *root = jobj(s->json, "root", "root");
	const char *rp = jstr(root, "path", "root.path");
	if (!rp || !*rp)
		bad("root.path", "missing");
	snprintf(path, sizeof(path), "%s%s%s", rp[0] == '/' ? "" : s->bundle, rp[0] == '/' ? "" : "/", rp);
	if (!(s->rootfs = realpath(path, NULL)))
		die_errno("root.path '%s'", path);
	struct stat st;
	if (stat(s->rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
		die("root.path '%s': not a directory", s->rootfs);
	s->readonly = jbool(root, "readonly", "root.readonly");
	parse_process(jobj(s->json, "process", "process"), &s->p);
	s->hostname = jstr(s->json, "hostname", "hostname");
	s->domainname = jstr(s->json, "domainname", "domainname");
	if ((s->hostname && strlen(s->hostname) > 64) || (s->domainname && strlen(s->domainname) > 64))
		bad("hostname", "longer than 64");
	json_t *m = jarr(s->json, "mounts", "mounts"), *v;
	size_t i;
	s->mnts = xmalloc((json_array_size(m) + 1) * sizeof(*s->mnts));
	json_array_foreach(m, i, v) {
		struct mnt *mt = &s->mnts[s->nmnts++];
		parse_mount(v, mt);
		/* A relative source is the bundle's (runc runs in it). */
		if (mt->bind && mt->src[0] != '/')
			mt->src = xasprintf("%s/%s", s->bundle, mt->src);
	}
	parse_hooks(s, jobj(s->json, "hooks", "hooks"));
	parse_linux(s, jobj(s->json, "linux", "linux"), id);
	if (s->hostname && *s->hostname && !(s->newns & CLONE_NEWUTS))
		bad("hostname", "set without a new UTS namespace");
	if (!(s->newns & CLONE_NEWNS))
		bad("linux.namespaces", "a container needs a mount namespace of its own");
	fence_devices(s, &s->p);
}

/* --- state -------------------------------------------------------------------------- */

/* ROOT/ID/state.json: what create learned, for the other commands. */
struct state {
	json_t *json;
	const char *id, *bundle, *rootfs, *created, *cgpath;
	pid_t pid;
	unsigned long long start;	/* of PID: a recycled PID has another */
	char status[16];
	int dirfd;			/* ROOT/ID */
};

static void valid_id(const char *id)
{
	if (!*id || strlen(id) > 1024 || id[0] == '.' || id[strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+@:")])
		die("invalid container id '%s' (want letters, digits and ._-+@:)", id);
}

static int root_open(bool make)
{
	int fd;

	if (make && mkdir_p(state_root, 0700) < 0)
		die_errno("state directory '%s'", state_root);
	if ((fd = open(state_root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 && (make || errno != ENOENT))
		die_errno("state directory '%s'", state_root);
	return fd;
}

/* Frozen by pause? v2 says it in cgroup.events, v1 in freezer.state. */
static bool frozen(const char *cgpath)
{
	char *f = cgroup_mode() == CG_V2 ? xasprintf("/sys/fs/cgroup/%s/cgroup.events", cgpath) :
					   xasprintf("/sys/fs/cgroup/freezer/%s/freezer.state", cgpath);
	char buf[256] = "";
	int fd = open(f, O_RDONLY | O_CLOEXEC);
	ssize_t k = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	free(f);
	if (k > 0)
		buf[k] = 0;
	return strstr(buf, "frozen 1") || !strncmp(buf, "FROZEN", 6);
}

static void state_status(struct state *st)
{
	unsigned long long t;
	struct stat sb;

	if (st->pid <= 0 || proc_starttime(st->pid, &t) < 0 || t != st->start)
		snprintf(st->status, sizeof(st->status), "stopped");
	else if (fstatat(st->dirfd, "exec.fifo", &sb, 0) == 0)
		snprintf(st->status, sizeof(st->status), "created");
	else if (frozen(st->cgpath))
		snprintf(st->status, sizeof(st->status), "paused");
	else
		snprintf(st->status, sizeof(st->status), "running");
}

/* Container ID's state; dies if there is none (exit 1, runc's words). */
static int state_load(const char *id, struct state *st)
{
	json_error_t je;
	char *text;
	size_t len;
	int rootfd, fd;

	valid_id(id);
	memset(st, 0, sizeof(*st));
	if ((rootfd = root_open(false)) < 0 || (st->dirfd = openat(rootfd, id, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			die("container '%s' does not exist", id);
		die_errno("open state of '%s'", id);
	}
	close(rootfd);
	if ((fd = openat(st->dirfd, "state.json", O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			die("container '%s' does not exist (still being created, or half removed)", id);
		die_errno("open state of '%s'", id);
	}
	if (read_fd_max(fd, 4 << 20, &text, &len) < 0)
		die_errno("read state of '%s'", id);
	close(fd);
	if (!(st->json = json_loadb(text, len, 0, &je)) || !json_is_object(st->json))
		die("state of '%s': %s", id, st->json ? "not an object" : je.text);
	free(text);
	st->id = id;
	st->bundle = json_string_value(json_object_get(st->json, "bundle"));
	st->rootfs = json_string_value(json_object_get(st->json, "rootfs"));
	st->created = json_string_value(json_object_get(st->json, "created"));
	st->cgpath = json_string_value(json_object_get(st->json, "cgroupsPath"));
	st->pid = (pid_t)json_integer_value(json_object_get(st->json, "pid"));
	st->start = (unsigned long long)json_integer_value(json_object_get(st->json, "start"));
	if (!st->bundle || !st->rootfs || !st->created || !st->cgpath)
		die("state of '%s': not one mdk-oci wrote", id);
	state_status(st);
	return 0;
}

/* The state as the runtime spec says (for state, and hooks' stdin). */
static char *state_json(const struct state *st, unsigned flags)
{
	json_t *ann = json_object_get(st->json, "annotations");
	json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "ociVersion", OCI_VERSION, "id", st->id,
			      "status", st->status, "pid", strcmp(st->status, "stopped") ? st->pid : 0, "bundle",
			      st->bundle, "rootfs", st->rootfs, "created", st->created, "owner", "");
	if (!o)
		die("state of '%s': cannot build it", st->id);
	if (json_is_object(ann))
		json_object_set(o, "annotations", ann);
	char *s = json_dumps(o, flags);
	json_decref(o);
	if (!s)
		die("state of '%s': cannot build it", st->id);
	return s;
}

static void now_rfc3339(char *buf, size_t n)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + k, n - k, ".%09ldZ", ts.tv_nsec);
}

/* --- hooks -------------------------------------------------------------------------- */

/* Run HOOK with STATE on its stdin; its status, or -1 (and a line why). */
static int hook_run(const struct hook *h, const char *state, const char *kind)
{
	char *const dflt[] = { (char *)h->path, NULL };
	int in[2], st;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(in[0], 0) < 0)
			_exit(127);
		/* A hook's output must not reach the container's stdout: conmon
		 * would log it as the container's. */
		dup2(2, 1);
		close_fds_except(-1);
		execve(h->path, h->argv ? h->argv : dflt, h->env ? h->env : (char *[]){ NULL });
		warn_errno("%s hook '%s'", kind, h->path);
		_exit(127);
	}
	close(in[0]);
	signal(SIGPIPE, SIG_IGN);
	/* A hook need not read its stdin: a short write is no error. */
	if (write(in[1], state, strlen(state)) < 0 && errno != EPIPE)
		warn_errno("%s hook '%s': write the state", kind, h->path);
	close(in[1]);
	for (int waited = 0;; waited++) {
		pid_t r = waitpid(pid, &st, h->timeout ? WNOHANG : 0);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (h->timeout && waited >= h->timeout * 100) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			warn("%s hook '%s': timed out after %d s", kind, h->path, h->timeout);
			return -1;
		}
		if (h->timeout)
			usleep(10000);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		warn("%s hook '%s' exited with status %d", kind, h->path, WEXITSTATUS(st));
	else
		warn("%s hook '%s' was killed by signal %d", kind, h->path, WTERMSIG(st));
	return -1;
}

static int hooks_run(const struct spec *s, int kind, const char *state)
{
	for (size_t i = 0; i < s->nhooks[kind]; i++)
		if (hook_run(&s->hooks[kind][i], state, hook_names[kind]) < 0)
			return -1;
	return 0;
}

/* --- in the container's process, before start ----------------------------------- */

_Noreturn static void child_fail(int sock, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn static void child_fail(int sock, const char *fmt, ...)
{
	char buf[600];
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (e && n >= 0 && (size_t)n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", strerror(e));
	chan_report(sock, 1, "%s", buf);
	_exit(1);
}
#define FAIL(...) child_fail(sock, __VA_ARGS__)

static void wait_go(int sock)
{
	char c;

	if (read(sock, &c, 1) != 1 || c != 'g')
		_exit(1);
}

static int setattr_tree(int tree, uint64_t set, uint64_t clr, unsigned prop, bool rec)
{
	struct mount_attr ma = { .attr_set = set, .attr_clr = clr, .propagation = prop };

	if (!set && !clr && !prop)
		return 0;
	return (int)syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &ma, sizeof(ma));
}

/* The container's v1 hierarchies, as /proc/self/cgroup said before the
 * cgroup namespace hid the paths: "memory:/a/b" lines. */
static char cg_lines[4096];

static void read_cgroups(void)
{
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	ssize_t k = fd < 0 ? -1 : read(fd, cg_lines, sizeof(cg_lines) - 1);

	if (fd >= 0)
		close(fd);
	cg_lines[k > 0 ? k : 0] = 0;
}

/* type "cgroup": on v2 a cgroup2 mount (the namespace's view); on v1 a
 * tmpfs with each hierarchy's container directory bound in, as runc does. */
static int cgroup_mount(int sock, const struct mnt *m, const char *cgpath)
{
	if (cgroup_mode() == CG_V2 || (m->type && !strcmp(m->type, "cgroup2")))
		return mnt_new("cgroup2", "", (unsigned)m->set);
	int tmp = mnt_new("tmpfs", "mode=755", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (tmp < 0)
		FAIL("mount tmpfs for cgroups on '%s'", m->dst);
	for (char *line = cg_lines, *next; *line; line = next) {
		char *ctl = strchr(line, ':'), *path;
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = 0;
		if (!ctl || !(path = strchr(++ctl, ':')) || path == ctl)
			continue;
		*path++ = 0;
		/* Only the container's own: not the host's tree of a hierarchy
		 * it never joined. */
		if (path[0] != '/' || strcmp(path + 1, cgpath))
			continue;
		const char *name = strncmp(ctl, "name=", 5) ? ctl : ctl + 5;
		char host[PATH_MAX];
		snprintf(host, sizeof(host), "/sys/fs/cgroup/%s%s", name, path);
		int tree = mnt_clone(AT_FDCWD, host, m->set | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
				     false);
		if (tree < 0)
			continue;	/* a hierarchy the host does not mount there */
		int dir;
		if (mkdirat(tmp, name, 0755) < 0 || (dir = open_beneath(tmp, name, O_DIRECTORY)) < 0 ||
		    mnt_attach(tree, dir, "") < 0)
			FAIL("mount cgroup hierarchy '%s' on '%s'", name, m->dst);
		close(dir);
		close(tree);
		/* cpu,cpuacct is also reached as cpu and cpuacct. */
		if (strchr(name, ','))
			for (char *c = ctl, *e; *c; c = e + (*e != 0)) {
				e = c + strcspn(c, ",");
				char one[64];
				snprintf(one, sizeof(one), "%.*s", (int)(e - c), c);
				symlinkat(name, tmp, one);
			}
	}
	if (m->set & MOUNT_ATTR_RDONLY)
		setattr_tree(tmp, MOUNT_ATTR_RDONLY, 0, 0, false);
	return tmp;
}

/* One entry of config.json's mounts: made detached, its flags set, then
 * moved onto its destination, resolved once inside the root. */
static void do_mount(int sock, int rootfd, const struct mnt *m, const char *cgpath)
{
	struct stat st = { .st_mode = S_IFDIR }, rst;
	struct statfs sfs;
	int tree, target;

	if (m->bind) {
		if ((tree = mnt_clone(AT_FDCWD, m->src, 0, m->rec)) < 0)
			FAIL("mount on '%s': bind '%s'", m->dst, m->src);
		if (fstat(tree, &st) < 0 || setattr_tree(tree, m->set, m->clr, 0, m->rec) < 0)
			FAIL("mount on '%s': set the flags of bind '%s'", m->dst, m->src);
	} else if (!strcmp(m->type, "cgroup") || !strcmp(m->type, "cgroup2")) {
		if ((tree = cgroup_mount(sock, m, cgpath)) < 0)
			FAIL("mount cgroup on '%s'", m->dst);
	} else {
		char *opts = m->src && !strchr(m->src, ',') && *m->src ?
				     xasprintf("source=%s%s%s", m->src, *m->data ? "," : "", m->data) : m->data;
		tree = mnt_new(m->type, opts, (unsigned)m->set);
		/* sysfs and mqueue without a network or IPC namespace of ours
		 * (in a user namespace): the host's, bound, as runc does. */
		if (tree < 0 && errno == EPERM && (!strcmp(m->type, "sysfs") || !strcmp(m->type, "mqueue")))
			tree = mnt_clone(AT_FDCWD, !strcmp(m->type, "sysfs") ? "/sys" : "/dev/mqueue",
					 m->set | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, true);
		if (tree < 0)
			FAIL("mount %s on '%s' (options '%s')", m->type, m->dst, m->data);
		if (opts != m->data)
			free(opts);
	}
	if ((target = mkpath_in_root(rootfd, m->dst, !S_ISDIR(st.st_mode))) < 0)
		FAIL("mount on '%s': make its target in the container", m->dst);
	if (fstat(target, &st) < 0 || fstat(rootfd, &rst) < 0 || fstatfs(target, &sfs) < 0)
		FAIL("mount on '%s': stat its target", m->dst);
	errno = 0;
	if (st.st_dev == rst.st_dev && st.st_ino == rst.st_ino)
		FAIL("mount on '%s': refusing a target that is the container's root", m->dst);
	/* A mount on /proc/... would lift a mask or hide the kernel's files
	 * (runc's rule); /proc itself is a directory of the root's. */
	if (sfs.f_type == PROC_SUPER_MAGIC)
		FAIL("mount on '%s': refusing a target in procfs", m->dst);
	if (mnt_attach(tree, target, "") < 0)
		FAIL("mount %s on '%s'", m->bind ? m->src : m->type, m->dst);
	if (m->prop && setattr_tree(tree, 0, 0, m->prop & ~(unsigned)MS_REC, m->prop & MS_REC) < 0)
		FAIL("mount on '%s': set its propagation", m->dst);
	close(target);
	close(tree);
}

/* The devices every container has (runc's list), then linux.devices, in
 * the container's /dev: made there, or in a user namespace (no mknod) the
 * host's node bound onto a file. */
static void make_devices(int sock, int rootfd, const struct spec *s)
{
	static const struct dev dflt[] = {
		{ "/dev/null", S_IFCHR | 0666, 0x103, 0, 0 },  { "/dev/zero", S_IFCHR | 0666, 0x105, 0, 0 },
		{ "/dev/full", S_IFCHR | 0666, 0x107, 0, 0 },  { "/dev/random", S_IFCHR | 0666, 0x108, 0, 0 },
		{ "/dev/urandom", S_IFCHR | 0666, 0x109, 0, 0 }, { "/dev/tty", S_IFCHR | 0666, 0x500, 0, 0 },
	};
	static const char *const links[][2] = {
		{ "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
		{ "stderr", "/proc/self/fd/2" }, { "ptmx", "pts/ptmx" },
	};
	size_t n = sizeof(dflt) / sizeof(*dflt);
	mode_t old = umask(0);
	int dev = mkpath_in_root(rootfd, "/dev", false);

	if (dev < 0)
		FAIL("make /dev in the container");
	for (size_t i = 0; i < n + s->ndevs; i++) {
		const struct dev *d = i < n ? &dflt[i] : &s->devs[i - n];
		bool again = false;
		for (size_t j = 0; i < n && j < s->ndevs; j++)
			again |= !strcmp(s->devs[j].path, d->path);
		if (again)
			continue;	/* linux.devices says how */
		const char *name = strrchr(d->path, '/') + 1;
		char *dir = strndup(d->path, (size_t)(name - d->path));
		int dfd = mkpath_in_root(rootfd, dir, false), fd;
		free(dir);
		if (dfd < 0)
			FAIL("make the directory of '%s'", d->path);
		if (mknodat(dfd, name, d->mode, d->rdev) < 0 && errno != EEXIST) {
			int tree;
			if (errno != EPERM || (fd = openat(dfd, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0)) < 0)
				FAIL("mknod '%s'", d->path);
			close(fd);
			if ((tree = mnt_clone(AT_FDCWD, d->path, 0, false)) < 0 || (fd = open_beneath(dfd, name, 0)) < 0 ||
			    mnt_attach(tree, fd, "") < 0)
				FAIL("bind the host's '%s'", d->path);
			close(fd);
			close(tree);
		} else if (fchownat(dfd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM &&
			   errno != EINVAL) {
			FAIL("chown '%s'", d->path);
		}
		close(dfd);
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(*links); i++)
		if (symlinkat(links[i][1], dev, links[i][0]) < 0 && errno != EEXIST)
			FAIL("symlink /dev/%s", links[i][0]);
	umask(old);
	close(dev);
}

/* After the switch: sysctls, read-only and masked paths, all looked up in
 * the container's own root (a symlink there leads nowhere else). */
static void finish_paths(int sock, const struct spec *s)
{
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), fd, m;
	struct stat st;

	if (root < 0)
		FAIL("open /");
	for (size_t i = 0; i < s->nsysctl; i += 2) {
		char path[512];
		snprintf(path, sizeof(path), "/proc/sys/%s", s->sysctl[i]);
		for (char *c = path + 10; *c; c++)
			*c = *c == '.' ? '/' : *c;
		if ((fd = open_in_root(root, path, O_WRONLY)) < 0 ||
		    write(fd, s->sysctl[i + 1], strlen(s->sysctl[i + 1])) < 0)
			FAIL("sysctl %s=%s", s->sysctl[i], s->sysctl[i + 1]);
		close(fd);
	}
	for (size_t i = 0; i < s->nro; i++) {
		if ((fd = open_in_root(root, s->ro[i], O_PATH | O_NOFOLLOW)) < 0) {
			if (errno == ENOENT)
				continue;
			FAIL("read-only path '%s'", s->ro[i]);
		}
		if ((m = mnt_clone(fd, "", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
				   true)) < 0 || mnt_attach(m, fd, "") < 0)
			FAIL("make '%s' read-only", s->ro[i]);
		close(m);
		close(fd);
	}
	for (size_t i = 0; i < s->nmasked; i++) {
		if ((fd = open_in_root(root, s->masked[i], O_PATH | O_NOFOLLOW)) < 0) {
			if (errno == ENOENT)
				continue;
			FAIL("mask '%s'", s->masked[i]);
		}
		if (fstat(fd, &st) < 0)
			FAIL("mask '%s'", s->masked[i]);
		if (S_ISDIR(st.st_mode))
			m = mnt_new("tmpfs", "size=0,mode=0555", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
		else
			m = mnt_clone(root, "dev/null", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, false);
		if (m < 0 || mnt_attach(m, fd, "") < 0)
			FAIL("mask '%s'", s->masked[i]);
		close(m);
		close(fd);
	}
	close(root);
}

/* process.args[0] as execvp would find it in the container (its PATH): a
 * command that is not there fails create, not start (runc's way). */
static char *find_command(int sock, const struct proc *p)
{
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	const char *cmd = p->args[0];
	struct stat st;

	for (char **e = p->env; e && *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	if (strchr(cmd, '/')) {
		if (stat(cmd, &st) < 0)
			FAIL("exec '%s'", cmd);
		return (char *)cmd;
	}
	for (const char *d = path; *d || d == path;) {
		size_t len = strcspn(d, ":");
		char *full = xasprintf("%.*s%s%s", (int)len, d, len ? "/" : "", cmd);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return full;
		free(full);
		d += len;
		if (!*d)
			break;
		d++;
	}
	errno = 0;
	FAIL("exec '%s': executable file not found in $PATH", cmd);
}

/* User, groups, capabilities, no-new-privileges, rlimits, umask: the
 * process becomes what P says. FILTER (seccomp) goes in first unless NNP
 * lets it wait until just before the exec (*LATE). */
static void confine(int sock, const struct proc *p, void *filter, bool *late)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { 0 };
	const uint64_t *c = p->caps;

	for (size_t i = 0; i < p->nrl; i++)
		if (setrlimit(p->rl[i].res, &p->rl[i].lim) < 0)
			FAIL("set rlimit %d", p->rl[i].res);
	if (p->umask >= 0)
		umask((mode_t)p->umask);
	*late = filter && p->nnp;
	if (filter && !p->nnp && seccomp_install(filter) < 0)
		FAIL("install the seccomp filter");
	for (int cap = 0; cap < 64; cap++)
		if (!(c[0] & 1ULL << cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			FAIL("drop capability %d from the bounding set", cap);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(p->ngids, p->gids) < 0 ||
	    setresgid(p->gid, p->gid, p->gid) < 0 || setresuid(p->uid, p->uid, p->uid) < 0)
		FAIL("switch to uid %u gid %u", (unsigned)p->uid, (unsigned)p->gid);
	d[0].effective = (uint32_t)c[1], d[1].effective = (uint32_t)(c[1] >> 32);
	d[0].inheritable = (uint32_t)c[2], d[1].inheritable = (uint32_t)(c[2] >> 32);
	d[0].permitted = (uint32_t)c[3], d[1].permitted = (uint32_t)(c[3] >> 32);
	if (syscall(SYS_capset, &h, d) < 0 || prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		FAIL("set capabilities");
	/* The kernel's rule: ambient only what is permitted and inheritable
	 * (runc's default spec lists more; they are skipped, as runc does). */
	for (int cap = 0; cap < 64; cap++)
		if ((c[4] & c[3] & c[2] & 1ULL << cap) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			FAIL("raise ambient capability %d", cap);
	if (p->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		FAIL("no-new-privileges");
}

/* The working directory, made if missing (as root, as runc does), then
 * entered as the process's user. */
static int cwd_open(int sock, const char *cwd)
{
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), fd;

	if (root < 0 || (fd = mkpath_in_root(root, cwd, false)) < 0)
		FAIL("working directory '%s'", cwd);
	close(root);
	return fd;
}

/* A pty from the container's devpts: the master to the caller (through
 * our parent, to the console socket), the slave our controlling terminal
 * and /dev/console. Run as the leader of a new session. */
static void console_setup(int sock, const struct proc *p, bool console)
{
	struct winsize ws = { .ws_row = p->rows, .ws_col = p->cols };
	int master, slave, root, con, tree;

	if ((master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 || unlockpt(master) < 0 ||
	    (slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		FAIL("allocate a pseudo-terminal");
	if ((ws.ws_row && ioctl(master, TIOCSWINSZ, &ws) < 0) || chan_send_fd(sock, master) < 0)
		FAIL("pass on the pseudo-terminal");
	close(master);
	if (console && (root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0 &&
	    (con = mkpath_in_root(root, "/dev/console", true)) >= 0) {
		if ((tree = mnt_clone(slave, "", 0, false)) < 0 || mnt_attach(tree, con, "") < 0)
			FAIL("bind the terminal on /dev/console");
		close(tree);
		close(con);
		close(root);
	}
	if (ioctl(slave, TIOCSCTTY, 0) < 0 || dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
		FAIL("make the pseudo-terminal the controlling terminal");
	if (slave > 2)
		close(slave);
}

/* The container's process, from the fork in create to the exec at start.
 * NSFD: the namespaces to join (opened by create; -1 for none). */
_Noreturn static void container_main(struct spec *s, int sock, int nsfd[NNS])
{
	struct proc *p = &s->p;
	bool late;
	int rootdir, rootfd, fifo, wd, st;
	char *cmd;

	/* Until create is done: its death is ours (it could not undo us).
	 * Not dumpable until the exec: a process of a PID namespace we join
	 * must not ptrace us or open our /proc files meanwhile. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_DUMPABLE, 0);
	wait_go(sock);
	read_cgroups();
	for (size_t k = 0; k < NNS; k++) {
		if (nsfd[k] < 0 || ns_types[k].flag == CLONE_NEWPID)
			continue;
		if (setns(nsfd[k], ns_types[k].flag) < 0)
			FAIL("join %s namespace '%s'", ns_types[k].name, s->nspath[k]);
		close(nsfd[k]);
	}
	if (s->newns & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			FAIL("unshare the user namespace");
		chan_report(sock, 0, "user");
		wait_go(sock);
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			FAIL("become root in the user namespace (is 0 mapped?)");
	}
	if (unshare(s->newns & ~(CLONE_NEWUSER | CLONE_NEWPID)) < 0)
		FAIL("unshare namespaces");
	/* With a user namespace of its own, the PID namespace must be its:
	 * else its /proc could not be mounted. One more fork: its child is
	 * the container's process. */
	if ((s->newns & CLONE_NEWUSER) && (s->newns & CLONE_NEWPID)) {
		pid_t pid;
		if (unshare(CLONE_NEWPID) < 0 || (pid = fork()) < 0)
			FAIL("make the PID namespace");
		if (pid > 0) {
			chan_report(sock, 0, "pid %d", (int)pid);
			_exit(0);
		}
		/* (No death signal: its parent is gone next. create's death
		 * reaches it as the channel's EOF.) */
	}
	if ((s->newns & CLONE_NEWUTS) && s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		FAIL("sethostname '%s'", s->hostname);
	if ((s->newns & CLONE_NEWUTS) && s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
		FAIL("setdomainname '%s'", s->domainname);
	if ((s->newns & CLONE_NEWNET) && loopback_up() < 0)
		FAIL("bring up the loopback interface");

	/* The root: nothing propagates to the host; a copy of the rootfs
	 * bound on itself (pivot_root wants a mount), the mounts in it. */
	unsigned prop = s->rootprop == MS_SHARED ? MS_SHARED : MS_SLAVE;
	if (mount(NULL, "/", NULL, MS_REC | (s->rootprop == MS_PRIVATE ? MS_PRIVATE : prop), NULL) < 0)
		FAIL("set the propagation of /");
	if ((rootdir = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (rootfd = mnt_clone(rootdir, "", s->nodev ? MOUNT_ATTR_NODEV : 0, true)) < 0 ||
	    mnt_attach(rootfd, rootdir, "") < 0)
		FAIL("bind the rootfs '%s' on itself", s->rootfs);
	for (size_t i = 0; i < s->nmnts; i++)
		do_mount(sock, rootfd, &s->mnts[i], s->cgpath);
	make_devices(sock, rootfd, s);
	/* prestart and createRuntime hooks run in create, in the host's
	 * namespaces; createContainer ones here, before the switch. */
	if (s->nhooks[H_PRESTART] || s->nhooks[H_CREATE_RUNTIME]) {
		chan_report(sock, 0, "hooks");
		wait_go(sock);
	}
	if (s->nhooks[H_CREATE_CONTAINER]) {
		char *state = xasprintf("{\"ociVersion\":\"" OCI_VERSION "\",\"status\":\"creating\",\"pid\":%d}",
					(int)getpid());
		if (hooks_run(s, H_CREATE_CONTAINER, state) < 0)
			FAIL("createContainer hook failed");
		free(state);
	}
	if (fchdir(rootfd) < 0)
		FAIL("chdir into '%s'", s->rootfs);
	if (no_pivot) {
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0)
			FAIL("move '%s' onto / and chroot (--no-pivot)", s->rootfs);
	} else if (syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0) {
		FAIL("pivot_root into '%s'", s->rootfs);
	}
	if (chdir("/") < 0)
		FAIL("chdir to the new /");
	close(rootfd);
	close(rootdir);
	finish_paths(sock, s);
	if (s->readonly && ((rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
			    setattr_tree(rootfd, MOUNT_ATTR_RDONLY, 0, 0, false) < 0))
		FAIL("make the root read-only");
	if (s->rootprop && s->rootprop != MS_SLAVE && mount(NULL, "/", NULL, MS_REC | s->rootprop, NULL) < 0)
		FAIL("set the propagation of the root");
	if (setsid() < 0)
		FAIL("setsid");
	if (p->terminal)
		console_setup(sock, p, true);
	cmd = find_command(sock, p);
	wd = cwd_open(sock, p->cwd);
	confine(sock, p, s->filter, &late);
	if (fchdir(wd) < 0)
		FAIL("chdir to '%s'", p->cwd);
	close(wd);
	/* Ready: create hands over the exec fifo (the one host fd we get,
	 * now that no path of the host's can be reached) and ends. */
	chan_report(sock, 0, "ready");
	if (chan_recv(sock, &st, (char[8]){ 0 }, 8, &fifo) <= 0 || fifo < 0)
		_exit(1);
	prctl(PR_SET_PDEATHSIG, 0);
	close(sock);
	/* start opens the fifo to read: then we go. Its reader sees EOF at
	 * our exec (O_CLOEXEC), or at our death. */
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fifo);
	int w = open(self, O_WRONLY | O_CLOEXEC);
	if (w < 0 || write(w, "0", 1) != 1) {
		warn_errno("open the exec fifo");
		_exit(1);
	}
	close(fifo);
	if (s->nhooks[H_START_CONTAINER]) {
		char *state = xasprintf("{\"ociVersion\":\"" OCI_VERSION "\",\"status\":\"running\",\"pid\":%d}",
					(int)getpid());
		if (hooks_run(s, H_START_CONTAINER, state) < 0)
			_exit(1);
		free(state);
	}
	/* preserve-fds: 3..3+N-1 stay; the fifo closes at the exec. */
	unsigned lo = 3 + (unsigned)preserve_fds, fw = (unsigned)w;
	if ((fw > lo && syscall(SYS_close_range, lo, fw - 1, 0U) < 0) ||
	    syscall(SYS_close_range, fw >= lo ? fw + 1 : lo, ~0U, 0U) < 0) {
		warn_errno("close fds");
		_exit(1);
	}
	if (late && seccomp_install(s->filter) < 0) {
		warn_errno("install the seccomp filter");
		_exit(1);
	}
	sigset_t none;
	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(cmd, p->args, p->env ? p->env : (char *[]){ NULL });
	int e = errno;
	warn("exec '%s': %s", p->args[0], strerror(e));
	_exit(exec_status(e));
}

/* --- create -------------------------------------------------------------------------- */

/* Hand the pty master to the console socket, as runc does (SCM_RIGHTS). */
static int console_send(const char *path, int fd)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s, r;

	if (strlen(path) >= sizeof(a.sun_path))
		return errno = ENAMETOOLONG, -1;
	strcpy(a.sun_path, path);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	r = connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 ? -1 : chan_send_fd(s, fd);
	int e = errno;
	close(s);
	errno = e;
	return r;
}

static int write_id_map(pid_t pid, const char *file, const char *map)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -1;
	r = write(fd, map, strlen(map)) == (ssize_t)strlen(map) ? 0 : -1;
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

/* Close every fd from LO up but those in KEEP. */
static void close_from(int lo, const int *keep, size_t n)
{
	int hi = lo - 1;

	for (size_t i = 0; i < n; i++)
		hi = keep[i] > hi ? keep[i] : hi;
	for (int fd = lo; fd <= hi; fd++) {
		bool k = false;
		for (size_t i = 0; i < n; i++)
			k |= keep[i] == fd;
		if (!k)
			close(fd);
	}
	syscall(SYS_close_range, (unsigned)hi + 1, ~0U, 0U);
}

struct made {
	struct spec s;
	pid_t pid;		/* the container's process */
	pid_t child;		/* our child: the same, or (user namespace) its parent */
	int dirfd;		/* ROOT/ID */
	char *state;		/* its state.json */
};

static void undo_create(struct made *c, const char *id)
{
	int rootfd = root_open(false);

	if (c->pid > 0)
		kill(c->pid, SIGKILL);
	if (c->child > 0)
		waitpid(c->child, NULL, 0);
	if (c->s.cgpath[0] && cgroup_destroy_at(c->s.cgpath) < 0)
		warn_errno("remove cgroup '%s'", c->s.cgpath);
	if (rootfd >= 0 && rm_tree_nocross(rootfd, id) < 0)
		warn_errno("remove '%s/%s'", state_root, id);
}

/* create's work: the container set up, its process waiting on the exec
 * fifo; its state written. Dies (having undone it all) on failure. */
static void create(const char *id, struct made *c)
{
	struct spec *s = &c->s;
	struct cgroup cg;
	char err[600], msg[640];
	int nsfd[NNS], sv[2], fifo, rootfd, st, fd;

	memset(c, 0, sizeof(*c));
	valid_id(id);
	parse_spec(s, bundle_dir ? bundle_dir : ".", id);
	if (s->p.terminal && !console_socket)
		die("process.terminal needs --console-socket (where the pty master goes)");
	if (s->seccomp && seccomp_compile(s->seccomp, strlen(s->seccomp), s->p.caps[0], &s->filter, err,
					  sizeof(err)) < 0)
		die("%s: linux.seccomp: %s", where, err);
	for (size_t k = 0; k < NNS; k++)
		if ((nsfd[k] = s->nspath[k] ? open(s->nspath[k], O_RDONLY | O_CLOEXEC) : -1) < 0 && s->nspath[k])
			die_errno("%s namespace '%s'", ns_types[k].name, s->nspath[k]);
	rootfd = root_open(true);
	if (mkdirat(rootfd, id, 0700) < 0)
		die(errno == EEXIST ? "container '%s' already exists" : "make '%s/%s': %s", id, state_root,
		    strerror(errno));
	s->cgpath[sizeof(s->cgpath) - 1] = 0;
	char cgpath[sizeof(s->cgpath)];
	strcpy(cgpath, s->cgpath);
	s->cgpath[0] = 0;	/* not ours until made */
	if ((c->dirfd = openat(rootfd, id, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    mkfifoat(c->dirfd, "exec.fifo", 0600) < 0 ||
	    (fifo = openat(c->dirfd, "exec.fifo", O_PATH | O_CLOEXEC)) < 0) {
		snprintf(msg, sizeof(msg), "make '%s/%s/exec.fifo': %s", state_root, id, strerror(errno));
		goto fail;
	}
	close(rootfd);
	if (cgroup_create_at(&cg, cgpath, &s->lim, CG_ALL, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "cgroup: %s", err);
		goto fail;
	}
	strcpy(s->cgpath, cgpath);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(msg, sizeof(msg), "socketpair: %s", strerror(errno));
		goto fail;
	}
	/* The next child is PID 1 of the container's PID namespace (or one
	 * of the namespace joined). */
	size_t pidk = 1;
	if ((nsfd[pidk] >= 0 && setns(nsfd[pidk], CLONE_NEWPID) < 0) ||
	    ((s->newns & CLONE_NEWPID) && !(s->newns & CLONE_NEWUSER) && unshare(CLONE_NEWPID) < 0)) {
		snprintf(msg, sizeof(msg), "PID namespace: %s", strerror(errno));
		goto fail;
	}
	if ((c->child = c->pid = fork()) < 0) {
		snprintf(msg, sizeof(msg), "fork: %s", strerror(errno));
		goto fail;
	}
	if (c->pid == 0) {
		int keep[NNS + 1];
		size_t nk = 0;
		keep[nk++] = sv[1];
		for (size_t k = 0; k < NNS; k++)
			if (nsfd[k] >= 0)
				keep[nk++] = nsfd[k];
		close_from(3 + preserve_fds, keep, nk);
		container_main(s, sv[1], nsfd);
	}
	close(sv[1]);
	for (size_t k = 0; k < NNS; k++)
		if (nsfd[k] >= 0)
			close(nsfd[k]);
	if (cgroup_attach(&cg, c->pid, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "%s", err);
		goto fail;
	}
	if (cg.lockfd >= 0)
		close(cg.lockfd);
	if (s->p.oom_given) {
		char path[64], v[16];
		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)c->pid);
		snprintf(v, sizeof(v), "%d", s->p.oom);
		if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 || write(fd, v, strlen(v)) < 0) {
			snprintf(msg, sizeof(msg), "oomScoreAdj %d: %s", s->p.oom, strerror(errno));
			goto fail;
		}
		close(fd);
	}
	char created[64];
	now_rfc3339(created, sizeof(created));
	for (char go = 'g';;) {
		if (go && write(sv[0], &go, 1) != 1) {
			snprintf(msg, sizeof(msg), "start the container's process: %s", strerror(errno));
			goto fail;
		}
		go = 0;
		ssize_t k = chan_recv(sv[0], &st, msg, sizeof(msg), &fd);
		if (k <= 0) {
			snprintf(msg, sizeof(msg), "the container's process ended during setup%s%s", k < 0 ? ": " : "",
				 k < 0 ? strerror(errno) : "");
			goto fail;
		}
		if (fd >= 0) {
			if (console_send(console_socket, fd) < 0) {
				snprintf(msg, sizeof(msg), "console socket '%s': %s", console_socket, strerror(errno));
				close(fd);
				goto fail;
			}
			close(fd);
		} else if (st) {
			goto fail;	/* MSG says why */
		} else if (!strcmp(msg, "user")) {
			if (write_id_map(c->pid, "uid_map", s->uidmap) < 0 || write_id_map(c->pid, "gid_map", s->gidmap) < 0) {
				snprintf(msg, sizeof(msg), "write the user namespace's id maps: %s", strerror(errno));
				goto fail;
			}
			go = 'g';
		} else if (!strncmp(msg, "pid ", 4)) {
			waitpid(c->child, NULL, 0);
			c->child = 0;
			c->pid = atoi(msg + 4);
		} else if (!strcmp(msg, "hooks")) {
			struct state tmp = { .json = s->json, .id = id, .bundle = s->bundle, .rootfs = s->rootfs,
					     .created = created, .pid = c->pid, .status = "creating" };
			char *state = state_json(&tmp, JSON_COMPACT);
			if (hooks_run(s, H_PRESTART, state) < 0 || hooks_run(s, H_CREATE_RUNTIME, state) < 0) {
				snprintf(msg, sizeof(msg), "a %s hook failed", s->nhooks[H_PRESTART] ? "prestart" : "createRuntime");
				free(state);
				goto fail;
			}
			free(state);
			go = 'g';
		} else if (!strcmp(msg, "ready")) {
			break;
		}
	}
	unsigned long long start;
	if (proc_starttime(c->pid, &start) < 0) {
		snprintf(msg, sizeof(msg), "the container's process is gone");
		goto fail;
	}
	json_t *ann = json_object_get(s->json, "annotations");
	json_t *o = json_pack("{s:s, s:s, s:i, s:I, s:s, s:s, s:s, s:s, s:O?}", "ociVersion", OCI_VERSION, "id", id,
			      "pid", (int)c->pid, "start", (json_int_t)start, "bundle", s->bundle, "rootfs",
			      s->rootfs, "created", created, "cgroupsPath", s->cgpath, "annotations",
			      json_is_object(ann) ? ann : NULL);
	c->state = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!c->state || write_atomic(c->dirfd, "state.json", c->state, strlen(c->state)) < 0) {
		snprintf(msg, sizeof(msg), "write '%s/%s/state.json': %s", state_root, id, strerror(errno));
		goto fail;
	}
	if (pid_file) {
		char v[16];
		snprintf(v, sizeof(v), "%d", (int)c->pid);
		if (write_file_atomic(pid_file, v) < 0) {
			snprintf(msg, sizeof(msg), "pid file '%s': %s", pid_file, strerror(errno));
			goto fail;
		}
	}
	/* The fifo; then the EOF that says the process no longer dies with us. */
	if (chan_send_fd(sv[0], fifo) < 0 || chan_recv(sv[0], &st, err, sizeof(err), &fd) != 0) {
		snprintf(msg, sizeof(msg), "hand over the exec fifo: %s", strerror(errno));
		goto fail;
	}
	close(fifo);
	close(sv[0]);
	return;
fail:
	undo_create(c, id);
	die("%s", msg);
}

/* --- the other commands ------------------------------------------------------------------ */

static int pidfd_of(const struct state *st)
{
	unsigned long long t;
	int fd = (int)syscall(SYS_pidfd_open, st->pid, 0);

	/* The PID is the container's only while its start time matches. */
	if (fd >= 0 && (proc_starttime(st->pid, &t) < 0 || t != st->start)) {
		close(fd);
		return errno = ESRCH, -1;
	}
	return fd;
}

/* Wait (up to MS milliseconds) for the process behind PIDFD to end. */
static bool wait_gone(int pidfd, int ms)
{
	struct pollfd p = { pidfd, POLLIN, 0 };
	return poll(&p, 1, ms) == 1;
}

static struct spec *spec_of(const struct state *st)
{
	static struct spec s;
	char *cwd = getcwd(NULL, 0);

	/* For the hooks only: the state's id names the cgroup it has. */
	parse_spec(&s, st->bundle, st->id);
	free(cwd);
	return &s;
}

static int cmd_start(const char *id)
{
	struct state st;
	char buf[16];
	int fifo, pidfd;

	state_load(id, &st);
	if (strcmp(st.status, "created"))
		die("container '%s' is %s, not created: cannot start it", id, st.status);
	/* Non-blocking: a process already dead must not hang us. Its open
	 * for writing returns once we are there. */
	if ((fifo = openat(st.dirfd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		die_errno("open the exec fifo of '%s'", id);
	if ((pidfd = pidfd_of(&st)) < 0)
		die("container '%s' is not running", id);
	if (unlinkat(st.dirfd, "exec.fifo", 0) < 0)
		die_errno("remove the exec fifo of '%s'", id);
	/* Its byte (it is going), then EOF (it exec'd, or died). */
	for (bool got = false;;) {
		struct pollfd p[2] = { { fifo, POLLIN, 0 }, { pidfd, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0)
			continue;
		ssize_t k = p[0].revents ? read(fifo, buf, sizeof(buf)) : 0;
		if (k > 0) {
			got = true;
			continue;
		}
		if (p[0].revents & POLLHUP && got)
			break;
		if (p[1].revents) {
			if (!got)
				die("container '%s': its process ended before it started", id);
			break;
		}
	}
	close(fifo);
	struct spec *s = spec_of(&st);
	if (s->nhooks[H_POSTSTART]) {
		state_status(&st);
		char *state = state_json(&st, JSON_COMPACT);
		if (hooks_run(s, H_POSTSTART, state) < 0) {
			kill(st.pid, SIGKILL);
			die("container '%s': a poststart hook failed: the container is killed", id);
		}
		free(state);
	}
	return 0;
}

static int cmd_state(const char *id)
{
	struct state st;

	state_load(id, &st);
	char *s = state_json(&st, JSON_INDENT(2));
	printf("%s\n", s);
	free(s);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_kill(const char *id, const char *sigs, bool all)
{
	struct state st;
	int sig = sigs ? parse_signal(sigs) : SIGTERM, pidfd;

	if (sig <= 0)
		usage_die("invalid signal '%s'", sigs);
	state_load(id, &st);
	if (!strcmp(st.status, "stopped"))
		die("container '%s' is not running", id);
	if (all) {
		int pids[4096];
		size_t n = cgroup_pids_at(st.cgpath, pids, 4096);
		for (size_t i = 0; i < n; i++)
			kill(pids[i], sig);
		return 0;
	}
	if ((pidfd = pidfd_of(&st)) < 0 || syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0) {
		if (errno == ESRCH)
			die("container '%s' is not running", id);
		die_errno("kill container '%s'", id);
	}
	return 0;
}

static int cmd_delete(const char *id, bool force)
{
	struct state st;
	int rootfd, pidfd;

	if (force) {
		/* --force on what is not there: nothing to do (runc's way). */
		valid_id(id);
		int fd = root_open(false);
		struct stat sb;
		if (fd < 0 || fstatat(fd, id, &sb, 0) < 0)
			return 0;
		close(fd);
	}
	state_load(id, &st);
	if (!strcmp(st.status, "running") || !strcmp(st.status, "paused")) {
		if (!force)
			die("container '%s' is %s: stop it first, or delete --force", id, st.status);
	}
	if (strcmp(st.status, "stopped") && (pidfd = pidfd_of(&st)) >= 0) {
		if (!strcmp(st.status, "paused"))
			cgroup_freeze_at(st.cgpath, false);
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		if (!wait_gone(pidfd, 10000))
			die("container '%s': its process did not die in 10 s", id);
		close(pidfd);
	}
	/* Whatever is left in the cgroup (no PID namespace of its own) dies
	 * with it. */
	if (cgroup_destroy_at(st.cgpath) < 0)
		die_errno("remove cgroup '%s' of '%s'", st.cgpath, id);
	struct spec *s = spec_of(&st);
	if (s->nhooks[H_POSTSTOP]) {
		snprintf(st.status, sizeof(st.status), "stopped");
		char *state = state_json(&st, JSON_COMPACT);
		if (hooks_run(s, H_POSTSTOP, state) < 0)
			warn("container '%s': a poststop hook failed", id);
		free(state);
	}
	if ((rootfd = root_open(false)) < 0 || rm_tree_nocross(rootfd, id) < 0)
		die_errno("remove '%s/%s'", state_root, id);
	return 0;
}

static int cmd_pause(const char *id, bool pause)
{
	struct state st;

	state_load(id, &st);
	if (pause ? strcmp(st.status, "running") : strcmp(st.status, "paused"))
		die("container '%s' is %s, not %s", id, st.status, pause ? "running" : "paused");
	if (cgroup_freeze_at(st.cgpath, pause) < 0)
		die_errno("%s container '%s'", pause ? "freeze" : "thaw", id);
	return 0;
}

static int cmd_ps(const char *id, bool json)
{
	struct state st;
	static int pids[65536];

	state_load(id, &st);
	size_t n = cgroup_pids_at(st.cgpath, pids, 65536);
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_integer(pids[i]));
		char *s = json_dumps(a, JSON_COMPACT);
		printf("%s\n", s);
		free(s);
		json_decref(a);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	printf("%-8s %s\n", "PID", "CMD");
	for (size_t i = 0; i < n; i++) {
		char path[64], buf[4096];
		snprintf(path, sizeof(path), "/proc/%d/cmdline", pids[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t k = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		k = k < 0 ? 0 : k;
		buf[k] = 0;
		for (ssize_t j = 0; j + 1 < k; j++)
			if (!buf[j])
				buf[j] = ' ';
		printf("%-8d %s\n", pids[i], buf);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_update(const char *id, const char *resources, struct limits *lim)
{
	struct state st;
	char err[600];

	state_load(id, &st);
	if (!strcmp(st.status, "stopped"))
		die("container '%s' is not running", id);
	if (resources) {
		static struct spec s;
		json_error_t je;
		char *text;
		size_t len;
		int fd = strcmp(resources, "-") ? open(resources, O_RDONLY | O_CLOEXEC) : 0;
		if (fd < 0 || read_fd_max(fd, 1 << 20, &text, &len) < 0)
			die_errno("resources '%s'", resources);
		json_t *r = json_loadb(text, len, 0, &je);
		if (!json_is_object(r))
			die("resources '%s': %s", resources, r ? "not a JSON object" : je.text);
		where = resources;
		parse_resources(&s, r);
		*lim = s.lim;
	}
	if (cgroup_update_at(st.cgpath, lim, err, sizeof(err)) < 0)
		die("update '%s': %s", id, err);
	return 0;
}

static int cmd_list(bool json, bool quiet)
{
	int rootfd = root_open(false);
	json_t *a = json_array();
	DIR *d = rootfd < 0 ? NULL : fdopendir(openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	struct dirent *de;

	if (!json && !quiet)
		printf("%-20s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
	while (d && (de = readdir(d))) {
		struct state st;
		if (de->d_name[0] == '.' || de->d_type != DT_DIR || faccessat(rootfd, de->d_name, F_OK, 0) < 0)
			continue;
		char *f = xasprintf("%s/state.json", de->d_name);
		bool ok = faccessat(rootfd, f, F_OK, 0) == 0;
		free(f);
		if (!ok)
			continue;
		state_load(de->d_name, &st);
		pid_t pid = strcmp(st.status, "stopped") ? st.pid : 0;
		if (quiet)
			printf("%s\n", st.id);
		else if (json)
			json_array_append_new(a, json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "id", st.id, "pid", pid,
							   "status", st.status, "bundle", st.bundle, "created",
							   st.created, "owner", "root"));
		else
			printf("%-20s %-8d %-10s %-40s %s\n", st.id, pid, st.status, st.bundle, st.created);
		close(st.dirfd);
		json_decref(st.json);
	}
	if (json) {
		char *s = json_dumps(a, JSON_COMPACT);
		printf("%s\n", s);
		free(s);
	}
	json_decref(a);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* --- exec ------------------------------------------------------------------------------ */

struct exec_opts {
	const char *process, *cwd, *user;
	char **args;
	const char *env[256];
	size_t nenv;
	uint64_t caps;		/* --cap: added to every set */
	bool tty, nnp;
};

/* The process: process.json whole, or the container's own with ARGS and
 * the options over it (runc's way). */
static void exec_process(struct exec_opts *o, struct spec *s, struct proc *p)
{
	if (o->process) {
		json_error_t je;
		char *text;
		size_t len;
		int fd = open(o->process, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read_fd_max(fd, 4 << 20, &text, &len) < 0)
			die_errno("process '%s'", o->process);
		close(fd);
		json_t *j = json_loadb(text, len, 0, &je);
		if (!json_is_object(j))
			die("process '%s': %s", o->process, j ? "not a JSON object" : je.text);
		where = o->process;
		parse_process(j, p);
		fence_devices(s, p);
		return;
	}
	*p = s->p;
	if (!o->args || !o->args[0])
		usage_die("exec: want the command (ARGS, or -p process.json)");
	p->args = o->args;
	p->terminal = o->tty;
	if (o->cwd)
		p->cwd = o->cwd;
	if (o->nnp)
		p->nnp = true;
	if (o->user) {
		unsigned long long u, g = 0;
		char *end;
		u = strtoull(o->user, &end, 10);
		if (end == o->user || (*end && (*end != ':' || !*(end + 1))) ||
		    (*end == ':' && ((g = strtoull(end + 1, &end, 10)), *end)) || u >= UINT32_MAX || g >= UINT32_MAX)
			usage_die("exec: --user '%s': want UID[:GID], numbers", o->user);
		p->uid = (uid_t)u;
		p->gid = (gid_t)g;
	}
	if (o->caps && s->nodev)
		o->caps &= ~(1ULL << CAP_MKNOD);
	for (int i = 0; i < NCAPSETS; i++)
		p->caps[i] |= o->caps;
	if (o->nenv) {
		size_t n = 0;
		for (char **e = p->env; e && *e; e++)
			n++;
		char **env = xmalloc((n + o->nenv + 1) * sizeof(*env));
		memcpy(env, p->env, n * sizeof(*env));
		memcpy(env + n, o->env, o->nenv * sizeof(*env));
		env[n + o->nenv] = NULL;
		p->env = env;
	}
}

static pid_t exec_cmd_pid;
static void exec_forward(int sig)
{
	if (exec_cmd_pid > 0)
		kill(exec_cmd_pid, sig);
}

static int cmd_exec(const char *id, struct exec_opts *o)
{
	struct state st;
	struct proc p;
	char msg[640], path[PATH_MAX];
	int sv[2], pidfd, rootfd, stt, fd;
	pid_t helper, cmd = -1;

	state_load(id, &st);
	if (strcmp(st.status, "running") && strcmp(st.status, "created"))
		die("container '%s' is %s: cannot exec in it", id, st.status);
	struct spec *s = spec_of(&st);
	exec_process(o, s, &p);
	if (p.terminal && !console_socket)
		die("exec -t needs --console-socket (where the pty master goes)");
	if (s->seccomp && seccomp_compile(s->seccomp, strlen(s->seccomp), p.caps[0], &s->filter, msg, sizeof(msg)) < 0)
		die("linux.seccomp: %s", msg);
	if ((pidfd = pidfd_of(&st)) < 0)
		die("container '%s' is not running", id);
	snprintf(path, sizeof(path), "/proc/%d/root", (int)st.pid);
	if ((rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die_errno("open the root of container '%s'", id);
	int nsflags = ns_differ(st.pid);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die_errno("socketpair");
	/* The command is the helper's child: it becomes ours when the helper
	 * ends (without -d, we wait for it). */
	if (!detach && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die_errno("prctl(PR_SET_CHILD_SUBREAPER)");
	if ((helper = fork()) < 0)
		die_errno("fork");
	if (helper == 0) {
		int sock = sv[1];
		int keep[3] = { sock, pidfd, rootfd };
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		wait_go(sock);
		/* Nothing in the container may ptrace us or open our /proc/PID
		 * files (CVE-2016-9962, CVE-2019-5736) until the exec. */
		prctl(PR_SET_DUMPABLE, 0);
		close_from(3 + preserve_fds, keep, 3);
		if (syscall(SYS_setns, pidfd, nsflags) < 0)
			FAIL("join the namespaces of container '%s'", id);
		if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
			FAIL("enter the root of container '%s'", id);
		close(pidfd);
		close(rootfd);
		pid_t c = fork();
		if (c < 0)
			FAIL("fork");
		if (c > 0) {
			chan_report(sock, 0, "pid %d", (int)c);
			_exit(0);
		}
		bool late;
		if (setsid() < 0)
			FAIL("setsid");
		if (p.terminal)
			console_setup(sock, &p, false);
		char *path = find_command(sock, &p);
		int wd = cwd_open(sock, p.cwd);
		confine(sock, &p, s->filter, &late);
		if (fchdir(wd) < 0)
			FAIL("chdir to '%s'", p.cwd);
		close(wd);
		if (late && seccomp_install(s->filter) < 0)
			FAIL("install the seccomp filter");
		sigset_t none;
		sigemptyset(&none);
		for (int sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(path, p.args, p.env ? p.env : (char *[]){ NULL });
		int e = errno;
		chan_report(sock, exec_status(e), "exec '%s': %s", p.args[0], strerror(e));
		_exit(exec_status(e));
	}
	close(sv[1]);
	close(rootfd);
	/* The helper joins the container's cgroups (each hierarchy's, as PID
	 * 1's /proc/PID/cgroup says) before it runs anything there. */
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)st.pid);
	char cgl[4096];
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t k = fd < 0 ? -1 : read(fd, cgl, sizeof(cgl) - 1);
	if (fd >= 0)
		close(fd);
	if (k < 0)
		die_errno("read '%s'", path);
	cgl[k] = 0;
	for (char *line = cgl, *next; *line; line = next) {
		char *ctl = strchr(line, ':'), *cp, file[PATH_MAX], v[16];
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = 0;
		if (!ctl || !(cp = strchr(++ctl, ':')))
			continue;
		*cp++ = 0;
		if (!*ctl && cgroup_mode() != CG_V2)
			continue;	/* hybrid: no controller on v2 */
		snprintf(file, sizeof(file), "/sys/fs/cgroup/%s%s%s/cgroup.procs", strncmp(ctl, "name=", 5) ? ctl : ctl + 5,
			 *ctl ? "" : "", cp);
		snprintf(v, sizeof(v), "%d", (int)helper);
		int cfd = open(file, O_WRONLY | O_CLOEXEC);
		if (cfd >= 0 && write(cfd, v, strlen(v)) < 0 && errno != ENOENT) {
			kill(helper, SIGKILL);
			die_errno("join cgroup '%s'", file);
		}
		if (cfd >= 0)
			close(cfd);
	}
	if (write(sv[0], "g", 1) != 1)
		die_errno("start the exec helper");
	int status = 0;
	for (;;) {
		ssize_t n = chan_recv(sv[0], &stt, msg, sizeof(msg), &fd);
		if (n == 0)
			break;
		if (n < 0)
			die_errno("read from the exec helper");
		if (fd >= 0) {
			if (console_send(console_socket, fd) < 0)
				warn_errno("console socket '%s'", console_socket);
			close(fd);
		} else if (stt) {
			warn("%s", msg);
			status = stt;
		} else if (!strncmp(msg, "pid ", 4)) {
			cmd = atoi(msg + 4);
		}
	}
	waitpid(helper, NULL, 0);
	if (status || cmd <= 0) {
		if (cmd > 0)
			waitpid(cmd, NULL, 0);
		exit(status ? 1 : 1);
	}
	if (pid_file) {
		char v[16];
		snprintf(v, sizeof(v), "%d", (int)cmd);
		if (write_file_atomic(pid_file, v) < 0)
			die_errno("pid file '%s'", pid_file);
	}
	if (detach)
		return 0;
	exec_cmd_pid = cmd;
	for (const int *sg = forwarded_signals; *sg; sg++)
		signal(*sg, exec_forward);
	for (;;) {
		int w;
		pid_t r = waitpid(-1, &w, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die_errno("wait");
		if (r == cmd)
			return WIFEXITED(w) ? WEXITSTATUS(w) : 128 + WTERMSIG(w);
	}
}

/* --- spec, features, the command line ---------------------------------------------------- */

/* runc spec's default: the data, parsed and written out by jansson. */
static const char default_spec[] =
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},"
	"\"args\":[\"sh\"],\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
	"\"TERM=xterm\"],\"cwd\":\"/\",\"capabilities\":{"
	"\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
	"\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],\"noNewPrivileges\":true},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"mdk\",\"mounts\":["
	"{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
	"{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
	"{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\",\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
	"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
	"{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
	"\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
	"\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
	"{\"type\":\"mount\"},{\"type\":\"cgroup\"}],"
	"\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\","
	"\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"
	"\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]}}";

static int dump_json(json_t *o, FILE *f)
{
	if (!o || json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 || fputc('\n', f) == EOF)
		return -1;
	return 0;
}

static int cmd_spec(void)
{
	char *path = xasprintf("%s/config.json", bundle_dir ? bundle_dir : ".");
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	FILE *f;

	if (fd < 0)
		die(errno == EEXIST ? "'%s' exists already" : "create '%s': %s", path, strerror(errno));
	if (!(f = fdopen(fd, "w")) || dump_json(json_loads(default_spec, JSON_REJECT_DUPLICATES, NULL), f) < 0 ||
	    fclose(f) == EOF)
		die_errno("write '%s'", path);
	return 0;
}

static int cmd_features(void)
{
	json_t *o = json_pack(
		"{s:s, s:s, s:[s,s,s,s,s,s], s:[], s:{s:[s,s,s,s,s,s,s,s], s:[], s:{s:b, s:b, s:b, s:b}, "
		"s:{s:b, s:[s,s,s,s,s,s,s,s], s:[s,s,s,s,s,s,s], s:[s,s]}, s:{s:b}, s:{s:b}}, s:{s:s}}",
		"ociVersionMin", "1.0.0", "ociVersionMax", OCI_VERSION, "hooks", "prestart", "createRuntime",
		"createContainer", "startContainer", "poststart", "poststop", "mountOptions", "linux", "namespaces",
		"cgroup", "ipc", "mount", "network", "pid", "user", "uts", "time", "capabilities", "cgroup", "v1",
		1, "v2", 1, "systemd", 0, "systemdUser", 0, "seccomp", "enabled", 1, "actions", "SCMP_ACT_ALLOW",
		"SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
		"SCMP_ACT_TRAP", "SCMP_ACT_TRACE", "operators", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
		"SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", "archs", "SCMP_ARCH_X86_64",
		"SCMP_ARCH_X86", "apparmor", "enabled", 0, "selinux", "enabled", 0, "annotations",
		"org.opencontainers.runc.version", "mdk");
	json_t *opts = json_object_get(o, "mountOptions"), *caps = json_object_get(json_object_get(o, "linux"), "capabilities");
	for (size_t i = 0; i < sizeof(mount_flags) / sizeof(*mount_flags); i++)
		json_array_append_new(opts, json_string(mount_flags[i].name));
	for (size_t i = 0; i < sizeof(mount_props) / sizeof(*mount_props); i++)
		json_array_append_new(opts, json_string(mount_props[i].name));
	json_array_append_new(opts, json_string("bind"));
	json_array_append_new(opts, json_string("rbind"));
	for (int c = 0; c <= CAP_LAST_CAP; c++) {
		static const char *const names[] = {
			"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
			"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
			"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
			"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
			"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
			"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
		};
		if ((size_t)c < sizeof(names) / sizeof(*names))
			json_array_append_new(caps, json_sprintf("CAP_%s", names[c]));
	}
	if (dump_json(o, stdout) < 0 || fflush(stdout) == EOF)
		die("features: cannot write them");
	return 0;
}

/* The commands' options; each command takes the ones runc's does and
 * refuses the rest. Long-only ones get values from 256 up. */
enum { O_BUNDLE = 'b', O_DETACH = 'd', O_TTY = 't', O_PROCESS = 'p', O_ENV = 'e', O_USER = 'u', O_ALL = 'a',
       O_FORCE = 'f', O_QUIET = 'q',
       O_PIDFILE = 256, O_CONSOLE, O_NOPIVOT, O_NOKEYRING, O_PRESERVE, O_FORMAT, O_CWD, O_RESOURCES, O_MEMORY,
       O_PIDS, O_QUOTA, O_PERIOD, O_SHARES, O_CPUSET, O_NNP, O_CAP, O_IGNORED_ARG, O_IGNORED };

int oci_main(int argc, char **argv)
{
	static const struct option globals[] = {
		{ "root", required_argument, NULL, 'r' },      { "log", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'F' }, { "systemd-cgroup", no_argument, NULL, 's' },
		{ "debug", no_argument, NULL, 'D' },	       { "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },	       { "rootless", required_argument, NULL, 'R' },
		{ "criu", required_argument, NULL, 'R' },      { NULL, 0, NULL, 0 },
	};
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, O_BUNDLE }, { "pid-file", required_argument, NULL, O_PIDFILE },
		{ "console-socket", required_argument, NULL, O_CONSOLE }, { "no-pivot", no_argument, NULL, O_NOPIVOT },
		{ "no-new-keyring", no_argument, NULL, O_NOKEYRING },
		{ "preserve-fds", required_argument, NULL, O_PRESERVE }, { "detach", no_argument, NULL, O_DETACH },
		{ "tty", no_argument, NULL, O_TTY },		  { "process", required_argument, NULL, O_PROCESS },
		{ "env", required_argument, NULL, O_ENV },	  { "user", required_argument, NULL, O_USER },
		{ "cwd", required_argument, NULL, O_CWD },	  { "all", no_argument, NULL, O_ALL },
		{ "force", no_argument, NULL, O_FORCE },	  { "format", required_argument, NULL, O_FORMAT },
		{ "quiet", no_argument, NULL, O_QUIET },	  { "resources", required_argument, NULL, O_RESOURCES },
		{ "memory", required_argument, NULL, O_MEMORY },  { "pids-limit", required_argument, NULL, O_PIDS },
		{ "cpu-quota", required_argument, NULL, O_QUOTA }, { "cpu-period", required_argument, NULL, O_PERIOD },
		{ "cpu-shares", required_argument, NULL, O_SHARES }, { "cpuset-cpus", required_argument, NULL, O_CPUSET },
		{ "no-new-privs", no_argument, NULL, O_NNP },	  { "cap", required_argument, NULL, O_CAP },
		{ "no-subreaper", no_argument, NULL, O_IGNORED }, { "keep", no_argument, NULL, O_IGNORED },
		{ "apparmor", required_argument, NULL, O_IGNORED_ARG }, { "label", required_argument, NULL, O_IGNORED_ARG },
		{ "process-label", required_argument, NULL, O_IGNORED_ARG },
		{ NULL, 0, NULL, 0 },
	};
	struct exec_opts xo = { 0 };
	struct limits lim = { 0 };
	const char *log = NULL, *format = NULL, *resources = NULL;
	bool json = false, all = false, force = false, quiet = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+vh", globals, NULL)) != -1) {
		switch (c) {
		case 'r': state_root = optarg; break;
		case 'l': log = optarg; break;
		case 'F':
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				usage_die("--log-format '%s': want text or json", optarg);
			err_log_json = !strcmp(optarg, "json");
			break;
		case 's': systemd_cgroup = true; break;
		case 'D': case 'R': break;
		case 'v':
			printf("mdk-oci version %s\nspec: %s\n", MDK_VERSION, OCI_VERSION);
			return 0;
		case 'h':
			fputs(oci_usage, stdout);
			return 0;
		default:
			usage_die("unknown global option '%s'", argv[optind - 1]);
		}
	}
	if (log && (err_log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
		die_errno("log '%s'", log);
	if (optind >= argc)
		usage_die("expected a command");
	const char *cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 1;
	if (!strcmp(cmd, "features"))
		return cmd_features();
	/* CVE-2019-5736: the commands whose processes enter the container run
	 * from a copy of mdk no one can write through /proc/PID/exe (a
	 * "#!/proc/self/exe" command would run us in there). argv is whole
	 * still: getopt's '+' moved nothing. */
	if (!strcmp(cmd, "create") || !strcmp(cmd, "run") || !strcmp(cmd, "exec"))
		exe_reexec_protected();
	while ((c = getopt_long(argc, argv, "+b:dtp:e:u:afq", opts, NULL)) != -1) {
		switch (c) {
		case O_BUNDLE: bundle_dir = optarg; break;
		case O_PIDFILE: pid_file = optarg; break;
		case O_CONSOLE: console_socket = optarg; break;
		case O_NOPIVOT: no_pivot = true; break;
		case O_NOKEYRING: case O_IGNORED: case O_IGNORED_ARG: break;
		case O_PRESERVE: {
			uint64_t n;
			if (parse_uint(optarg, 0, 1000, &n) < 0)
				usage_die("--preserve-fds '%s': want 0 to 1000", optarg);
			preserve_fds = (int)n;
			break;
		}
		case O_DETACH: detach = true; break;
		case O_TTY: xo.tty = true; break;
		case O_PROCESS: xo.process = optarg; break;
		case O_ENV:
			if (!strchr(optarg, '=') || *optarg == '=' || xo.nenv == 256)
				usage_die("--env '%s': want KEY=VALUE (at most 256)", optarg);
			xo.env[xo.nenv++] = optarg;
			break;
		case O_USER: xo.user = optarg; break;
		case O_CWD:
			if (optarg[0] != '/')
				usage_die("--cwd '%s': want an absolute path", optarg);
			xo.cwd = optarg;
			break;
		case O_NNP: xo.nnp = true; break;
		case O_CAP:
			if (cap_from_name(optarg) < 0)
				usage_die("--cap '%s': unknown capability", optarg);
			xo.caps |= 1ULL << cap_from_name(optarg);
			break;
		case O_ALL: all = true; break;
		case O_FORCE: force = true; break;
		case O_QUIET: quiet = true; break;
		case O_FORMAT:
			if (strcmp(optarg, "table") && strcmp(optarg, "json"))
				usage_die("--format '%s': want table or json", optarg);
			json = !strcmp(optarg, "json");
			format = optarg;
			break;
		case O_RESOURCES: resources = optarg; break;
		case O_MEMORY:
			if (parse_size(optarg, &lim.memory) < 0)
				usage_die("--memory '%s': want a size", optarg);
			break;
		case O_PIDS:
			if (parse_uint(optarg, 1, INT32_MAX, &lim.pids) < 0)
				usage_die("--pids-limit '%s': want a number", optarg);
			break;
		case O_QUOTA:
			if (parse_uint(optarg, 1000, UINT32_MAX, &lim.cpu_quota) < 0)
				usage_die("--cpu-quota '%s': want microseconds", optarg);
			break;
		case O_PERIOD:
			if (parse_uint(optarg, 1000, 1000000, &lim.cpu_period) < 0)
				usage_die("--cpu-period '%s': want microseconds", optarg);
			break;
		case O_SHARES:
			if (parse_uint(optarg, 2, 262144, &lim.cpu_shares) < 0)
				usage_die("--cpu-shares '%s': want 2 to 262144", optarg);
			break;
		case O_CPUSET: lim.cpuset = optarg; break;
		default:
			if (optopt && optopt < 256)
				usage_die("%s: unknown option '-%c'", cmd, optopt);
			usage_die("%s: unknown option '%s'", cmd, argv[optind - 1]);
		}
	}
	(void)format;
	if (lim.cpu_quota && !lim.cpu_period)
		lim.cpu_period = 100000;
	if (!strcmp(cmd, "spec"))
		return cmd_spec();
	if (!strcmp(cmd, "list"))
		return cmd_list(json, quiet);
	if (optind >= argc)
		usage_die("%s: expected a container id", cmd);
	const char *id = argv[optind++];
	int extra = argc - optind;
	if (!strcmp(cmd, "exec")) {
		xo.args = argv + optind;
		return cmd_exec(id, &xo);
	}
	if (!strcmp(cmd, "kill")) {
		if (extra > 1)
			usage_die("kill: expected ID [SIGNAL]");
		return cmd_kill(id, extra ? argv[optind] : NULL, all);
	}
	if (extra)
		usage_die("%s: unexpected argument '%s'", cmd, argv[optind]);
	if (!strcmp(cmd, "create")) {
		struct made m;
		create(id, &m);
		return 0;
	}
	if (!strcmp(cmd, "run")) {
		struct made m;
		create(id, &m);
		if (cmd_start(id) != 0)
			return 1;
		if (detach)
			return 0;
		int w;
		while (waitpid(m.child, &w, 0) < 0 && errno == EINTR)
			;
		cmd_delete(id, true);
		return WIFEXITED(w) ? WEXITSTATUS(w) : 128 + WTERMSIG(w);
	}
	if (!strcmp(cmd, "start"))
		return cmd_start(id);
	if (!strcmp(cmd, "state"))
		return cmd_state(id);
	if (!strcmp(cmd, "delete"))
		return cmd_delete(id, force);
	if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume"))
		return cmd_pause(id, cmd[0] == 'p');
	if (!strcmp(cmd, "ps"))
		return cmd_ps(id, json);
	if (!strcmp(cmd, "update"))
		return cmd_update(id, resources, &lim);
	usage_die("unknown command '%s'", cmd);
}
