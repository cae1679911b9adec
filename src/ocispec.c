/* config.json, read and checked whole before anything is done (mdk-oci
 * create; exec and the hooks of start and delete read it again). */
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
#include "oci.h"

const char *const hook_names[NHOOKS] = { "prestart", "createRuntime", "createContainer",
					 "startContainer", "poststart", "poststop" };
const struct ns_type ns_types[NNS] = {
	[NS_USER] = { "user", "user", CLONE_NEWUSER },	    [NS_PID] = { "pid", "pid", CLONE_NEWPID },
	[NS_NET] = { "network", "net", CLONE_NEWNET },	    [NS_IPC] = { "ipc", "ipc", CLONE_NEWIPC },
	[NS_UTS] = { "uts", "uts", CLONE_NEWUTS },	    [NS_MNT] = { "mount", "mnt", CLONE_NEWNS },
	[NS_CGROUP] = { "cgroup", "cgroup", CLONE_NEWCGROUP }, [NS_TIME] = { "time", "time", CLONE_NEWTIME },
};
bool oci_systemd_cgroup;

/* --- config.json: everything checked before anything is done ------------------- */

const char *oci_where = "config.json";

_Noreturn static void bad(const char *field, const char *what)
{
	die("%s: %s: %s", oci_where, field, what);
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
		die("%s: %s: want a whole number from %lld to %lld", oci_where, field, min, max);
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
			warn("%s: %s: unknown capability '%s' ignored", oci_where, field, json_string_value(v));
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

void oci_parse_process(json_t *p, struct proc *out)
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
			die("%s: process.env: '%s' is not KEY=VALUE", oci_where, *e);
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
		warn("%s: process.user.username is for Windows: ignored", oci_where);
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
			die("%s: process.rlimits: unknown type '%s'", oci_where, t ? t : "");
		/* JSON numbers past 2^63 (RLIM_INFINITY) come as -1 from jansson. */
		json_t *sv = json_object_get(v, "soft"), *hv = json_object_get(v, "hard");
		if (!json_is_integer(sv) || !json_is_integer(hv))
			die("%s: process.rlimits: %s: want soft and hard numbers", oci_where, t);
		soft = json_integer_value(sv);
		hard = json_integer_value(hv);
		out->rl[out->nrl].res = rlimits[k].res;
		out->rl[out->nrl].lim.rlim_cur = (rlim_t)soft;
		out->rl[out->nrl].lim.rlim_max = (rlim_t)hard;
		if (out->rl[out->nrl].lim.rlim_cur > out->rl[out->nrl].lim.rlim_max)
			die("%s: process.rlimits: %s: soft %lld above hard %lld", oci_where, t, soft, hard);
		if (out->nrl < RLIM_NLIMITS - 1)
			out->nrl++;
	}
	out->nnp = jbool(p, "noNewPrivileges", "process.noNewPrivileges");
	if ((out->oom_given = jint(p, "oomScoreAdj", "process.oomScoreAdj", -1000, 1000, &n)))
		out->oom = (int)n;
	if (jstr(p, "apparmorProfile", "process.apparmorProfile") && *jstr(p, "apparmorProfile", ""))
		warn("%s: process.apparmorProfile: no AppArmor here: ignored", oci_where);
	if (jstr(p, "selinuxLabel", "process.selinuxLabel") && *jstr(p, "selinuxLabel", ""))
		warn("%s: process.selinuxLabel: no SELinux here: ignored", oci_where);
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
		die("%s: mounts: destination '%.40s...' is too long", oci_where, out->dst);
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
			     oci_where, out->dst);
			done = true;
		}
		if (done)
			continue;
		/* Anything else is the filesystem's own option (mode=755, size=...). */
		if (strchr(o, '\n') || dlen + strlen(o) + 2 > 4096)
			die("%s: mount on '%s': option '%.40s' is too long or holds a newline", oci_where, out->dst, o);
		dlen += (size_t)sprintf(out->data + dlen, "%s%s", dlen ? "," : "", o);
	}
	if (!out->type && !out->bind)
		die("%s: mount on '%s': no type (and no bind option)", oci_where, out->dst);
	if (!out->src && out->bind)
		die("%s: mount on '%s': a bind mount needs a source", oci_where, out->dst);
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
			memset(k, 0, sizeof(*k));
			long long t = 0;
			k->path = jstr(v, "path", field);
			if (!k->path || k->path[0] != '/')
				die("%s: %s[%zu].path: want an absolute path", oci_where, field, i);
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

/* linux.resources.blockIO, as the v1 blkio files (cgroup.c maps them to
 * v2's io.weight and io.max). */
static void parse_blockio(struct spec *s, json_t *b)
{
	static const struct { const char *key, *file; } lists[] = {
		{ "weightDevice", "blkio.weight_device" },
		{ "throttleReadBpsDevice", "blkio.throttle.read_bps_device" },
		{ "throttleWriteBpsDevice", "blkio.throttle.write_bps_device" },
		{ "throttleReadIOPSDevice", "blkio.throttle.read_iops_device" },
		{ "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device" },
	};
	const char **kv;
	size_t k = 0, n = 1;
	long long w;

	if (!b)
		return;
	for (size_t i = 0; i < sizeof(lists) / sizeof(*lists); i++)
		n += json_array_size(jarr(b, lists[i].key, "linux.resources.blockIO"));
	kv = xmalloc(2 * n * sizeof(*kv));
	if (jint(b, "weight", "linux.resources.blockIO.weight", 10, 1000, &w)) {
		kv[k++] = "blkio.weight";
		kv[k++] = xasprintf("%lld", w);
	}
	for (size_t i = 0; i < sizeof(lists) / sizeof(*lists); i++) {
		json_t *v;
		size_t j;
		json_array_foreach(jarr(b, lists[i].key, "linux.resources.blockIO"), j, v) {
			long long maj, min, x;
			const char *what = i ? "rate" : "weight";
			if (!jint(v, "major", lists[i].key, 0, 4095, &maj) || !jint(v, "minor", lists[i].key, 0, 1 << 20, &min) ||
			    !jint(v, what, lists[i].key, i ? 0 : 10, i ? INT64_MAX : 1000, &x))
				die("%s: linux.resources.blockIO.%s: want major, minor and %s", oci_where, lists[i].key, what);
			kv[k++] = lists[i].file;
			kv[k++] = xasprintf("%lld:%lld %lld", maj, min, x);
		}
	}
	s->lim.blkio = kv;
	s->lim.nblkio = k / 2;
}

void oci_parse_resources(struct spec *s, json_t *r)
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
	parse_blockio(s, jobj(r, "blockIO", "linux.resources.blockIO"));
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
				die("%s: linux.resources.unified: '%s': want a cgroup file name and a string", oci_where, k);
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
	if (oci_systemd_cgroup && strchr(p, ':')) {
		char slice[256], prefix[128], name[128];
		size_t k = 0;
		if (sscanf(p, "%255[^:]:%127[^:]:%127s", slice, prefix, name) != 3 &&
		    (sscanf(p, ":%127[^:]:%127s", prefix, name) != 2 || !strcpy(slice, "system.slice")))
			die("%s: cgroupsPath '%s': want slice:prefix:name with --systemd-cgroup", oci_where, p);
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
			die("%s: cgroupsPath '%s': want a plain path below the cgroup root", oci_where, p);
		c += len + (c[len] == '/');
	}
	if (!*out)
		die("%s: cgroupsPath '%s': the cgroup root is no container's", oci_where, p);
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
			die("%s: linux.namespaces: unknown type '%s'", oci_where, t ? t : "");
		if ((s->newns & ns_types[k].flag) || s->nspath[k])
			die("%s: linux.namespaces: '%s' twice", oci_where, t);
		if (path && *path)
			s->nspath[k] = path;
		else
			s->newns |= ns_types[k].flag;
	}
	s->uidmap = id_map(jarr(l, "uidMappings", "linux.uidMappings"), "linux.uidMappings");
	s->gidmap = id_map(jarr(l, "gidMappings", "linux.gidMappings"), "linux.gidMappings");
	if ((s->uidmap || s->gidmap) && !(s->newns & CLONE_NEWUSER))
		die("%s: linux.uidMappings, gidMappings: only with a new user namespace", oci_where);
	if ((s->newns & CLONE_NEWUSER) && (!s->uidmap || !s->gidmap))
		die("%s: a new user namespace needs linux.uidMappings and gidMappings", oci_where);
	parse_cgroups_path(s, jstr(l, "cgroupsPath", "linux.cgroupsPath"), id);
	oci_parse_resources(s, jobj(l, "resources", "linux.resources"));
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
			die("%s: linux.sysctl: '%s': want a string", oci_where, k);
		if (!*k || k[0] == '.' || strstr(k, "..") || strchr(k, '/') || !sysctl_namespaced(s, k))
			die("%s: linux.sysctl: '%s' is not in a namespace of the container's: it would change the host",
			    oci_where, k);
		s->sysctl[s->nsysctl++] = k;
		s->sysctl[s->nsysctl++] = json_string_value(v);
	}
	const char *prop = jstr(l, "rootfsPropagation", "linux.rootfsPropagation");
	for (i = 0; prop && *prop && i < sizeof(mount_props) / sizeof(*mount_props); i++)
		if (!strcmp(prop, mount_props[i].name))
			s->rootprop = mount_props[i].prop;
	if (prop && *prop && !s->rootprop)
		die("%s: linux.rootfsPropagation: unknown '%s'", oci_where, prop);
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
		/* podman's modes carry the type bits (S_IFCHR | 0600): what the
		 * type says goes. */
		jint(v, "fileMode", "linux.devices[].fileMode", 0, 0177777, &mode);
		mode &= 07777;
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
void oci_fence_devices(struct spec *s, struct proc *p)
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
void oci_parse_spec(struct spec *s, const char *bundle, const char *id, int stored)
{
	char *text, path[PATH_MAX];
	size_t len;
	json_error_t je;
	int fd;

	memset(s, 0, sizeof(*s));
	s->id = id;
	if (stored >= 0)
		s->bundle = xasprintf("%s", bundle);
	else if (!(s->bundle = realpath(bundle, NULL)))
		die_errno("bundle '%s'", bundle);
	snprintf(path, sizeof(path), "%s/config.json", stored >= 0 ? "the state's" : s->bundle);
	if ((fd = stored >= 0 ? openat(stored, "config.json", O_RDONLY | O_CLOEXEC) :
				open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		die_errno("open '%s'", path);
	if (read_fd_max(fd, 4 << 20, &text, &len) < 0)
		die(errno == EFBIG ? "'%s': larger than 4 MiB" : "read '%s': %s", path, strerror(errno));
	close(fd);
	if (!(s->json = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) || !json_is_object(s->json))
		die("%s: line %d: %s", path, je.line, s->json ? "not a JSON object" : je.text);
	free(text);
	const char *ver = jstr(s->json, "ociVersion", "ociVersion");
	if (!ver || strncmp(ver, "1.", 2))
		die("%s: ociVersion '%s': want 1.x", oci_where, ver ? ver : "");
	json_t *root = jobj(s->json, "root", "root");
	const char *rp = jstr(root, "path", "root.path");
	if (!rp || !*rp)
		bad("root.path", "missing");
	snprintf(path, sizeof(path), "%s%s%s", rp[0] == '/' ? "" : s->bundle, rp[0] == '/' ? "" : "/", rp);
	struct stat st;
	if (stored >= 0)
		s->rootfs = xasprintf("%s", path);	/* as create found it; maybe gone */
	else if (!(s->rootfs = realpath(path, NULL)))
		die_errno("root.path '%s'", path);
	else if (stat(s->rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
		die("root.path '%s': not a directory", s->rootfs);
	s->readonly = jbool(root, "readonly", "root.readonly");
	oci_parse_process(jobj(s->json, "process", "process"), &s->p);
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
	/* (With a UTS namespace joined -- a pod's -- the hostname is the
	 * pod's already: not set again, as runc does.) */
	if (s->hostname && *s->hostname && !(s->newns & CLONE_NEWUTS) && !s->nspath[NS_UTS])
		bad("hostname", "set without a UTS namespace of the container's");
	if (!(s->newns & CLONE_NEWNS))
		bad("linux.namespaces", "a container needs a mount namespace of its own");
	oci_fence_devices(s, &s->p);
}

/* The mount options config.json may use, for features. */
void oci_mount_option_names(json_t *a)
{
	for (size_t i = 0; i < sizeof(mount_flags) / sizeof(*mount_flags); i++)
		json_array_append_new(a, json_string(mount_flags[i].name));
	for (size_t i = 0; i < sizeof(mount_props) / sizeof(*mount_props); i++)
		json_array_append_new(a, json_string(mount_props[i].name));
	json_array_append_new(a, json_string("bind"));
	json_array_append_new(a, json_string("rbind"));
}
