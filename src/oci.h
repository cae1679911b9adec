/* mdk-oci's parts in src/: config.json read and checked whole (ocispec.c),
 * and the container's process from create's fork to its exec (ociinit.c).
 * applets/oci.c has the commands and the state. */
#ifndef MDK_OCI_H
#define MDK_OCI_H

#include <jansson.h>
#include <sched.h>
#include <sys/resource.h>

#include "mdk.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define OCI_VERSION "1.1.0"
#define NCAPSETS 5
enum { H_PRESTART, H_CREATE_RUNTIME, H_CREATE_CONTAINER, H_START_CONTAINER, H_POSTSTART, H_POSTSTOP, NHOOKS };
extern const char *const hook_names[NHOOKS];

struct ns_type { const char *name, *file; int flag; };
/* ns_types' order: the user namespace first (joined before the others). */
enum { NS_USER, NS_PID, NS_NET, NS_IPC, NS_UTS, NS_MNT, NS_CGROUP, NS_TIME, NNS };
extern const struct ns_type ns_types[NNS];

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
	const char *id;
	char created[40];	/* RFC 3339, set by create */
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
	bool no_pivot;		/* create --no-pivot: MS_MOVE and chroot */
	int preserve_fds;	/* create --preserve-fds N: 3..3+N-1 reach the process */
};

extern const char *oci_where;		/* the file being read, for messages */
extern bool oci_systemd_cgroup;		/* --systemd-cgroup: slice:prefix:name */

/* ocispec.c: read BUNDLE/config.json and check all of it; dies (nothing
 * done yet) on the first problem, naming the field. STORED >= 0: the copy
 * create kept in the state directory STORED instead (the spec's rule: the
 * bundle's may have changed since, or be gone). */
void oci_parse_spec(struct spec *s, const char *bundle, const char *id, int stored);
void oci_parse_process(json_t *p, struct proc *out);
void oci_parse_resources(struct spec *s, json_t *r);
void oci_fence_devices(struct spec *s, struct proc *p);
void oci_mount_option_names(json_t *a);

/* ociinit.c: the container's process, and what mdk-oci exec shares. Its
 * failures go to create over SOCK as one line (oci_child_fail, FAIL). */
_Noreturn void oci_child_fail(int sock, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define FAIL(...) oci_child_fail(sock, __VA_ARGS__)
void oci_wait_go(int sock);
int oci_hooks_run(const struct spec *s, int kind, const char *state);
char *oci_state_json(const char *id, const char *status, pid_t pid, const char *bundle, const char *rootfs,
		     const char *created, json_t *annotations, unsigned flags);
char *oci_spec_state(const struct spec *s, const char *status, pid_t pid);	/* for hooks */
_Noreturn void oci_container_main(struct spec *s, int sock, int nsfd[NNS]);
char *oci_find_command(int sock, const struct proc *p);
int oci_cwd_open(int sock, const char *cwd);
void oci_confine(int sock, const struct proc *p, void *filter, bool *late);
void oci_console_setup(int sock, const struct proc *p, bool console);

#endif
