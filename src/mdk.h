/* mdk: shared declarations for the applets and src/. */
#ifndef MDK_H
#define MDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

struct stat;

#define APPLET(fn, name) int fn##_main(int argc, char **argv); extern const char fn##_usage[];
#include "applets.h"
#undef APPLET

#define MDK_DEFAULT_ROOT "/var/lib/m-docker"
#define MDK_NAME_MAX 64

/* --- err.c: the one diagnostic family ---------------------------------------
 * Every message is "APPLET: text[: strerror]\n", written with one write(2). */
extern const char *applet_name;	/* "mdk-unpack", set by the dispatcher */
void err_front_end(void);		/* $MDK_PROG, $MDK_HELP: a front end speaks */
extern char **mdk_argv;		/* main()'s argv, for a re-exec */
extern int die_status;		/* exit code of die*(): 1, mdk-run sets 125 */
extern int usage_status;	/* exit code of usage_die(): 2 */
extern int err_log_fd;		/* -1, or where each message goes too (mdk-oci --log) */
extern bool err_log_json;	/* ... as {"level","msg","time"} lines */
void time_rfc3339(char *buf, size_t n);	/* now, UTC, with nanoseconds: 40 bytes do */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void usage_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- parse.c: strict parsers; return -1 with errno EINVAL/ERANGE ----------- */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int parse_size(const char *s, uint64_t *out);	/* 100, 100k, 64m, 1g, 2t (1024) */
bool valid_name(const char *s);			/* [a-z0-9][a-z0-9._-]*, <= 64 */
void human_size(uint64_t n, char *out, size_t len);	/* 4.26MB (docker's way) */
void human_duration(time_t secs, char *out, size_t n);	/* 3 minutes (docker's way) */
int parse_signal(const char *s);		/* 15, TERM, SIGTERM, RTMIN+3 */

/* --- path.c ------------------------------------------------------------------ */
/* The data root: flag, else $MDK_ROOT, else /var/lib/m-docker. */
const char *store_root(const char *flag);
/* Create ROOT and ROOT/{images,layers,rootfs} (0700) as needed and return an
 * O_PATH|O_DIRECTORY fd on ROOT; *abs gets its absolute path (malloc'd). */
int store_open(const char *root, char **abs);
int mkdir_p(const char *path, mode_t mode);	/* like mkdir -p; host paths only */
/* The one resolver for paths an image has a say in: PATH opened inside the
 * tree at ROOTFD as if it were "/" (openat2 RESOLVE_IN_ROOT, no /proc magic
 * links), O_CLOEXEC and O_NOCTTY added. */
int open_in_root(int rootfd, const char *path, int flags);
/* The same, making missing components (directories, or a file last when
 * FILE); returns an O_PATH fd on PATH. */
int mkpath_in_root(int rootfd, const char *path, bool file);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *xmalloc(size_t n);

/* --- fs.c ------------------------------------------------------------------- */
/* Delete NAME in DIRFD and everything below it, never following a symlink and
 * never entering another filesystem: a mount point below stops the walk with
 * EBUSY, nothing under it is touched. ENOENT for a missing NAME is success. */
int rm_tree_nocross(int dirfd, const char *name);
/* Read all of FD (at most MAX bytes, else EFBIG; only a regular file or a
 * pipe) into a new NUL-terminated buffer. -1 with errno. */
int read_fd_max(int fd, size_t max, char **buf, size_t *len);
int write_file_atomic(const char *path, const char *text);	/* tmp + rename */
struct out_file {
	int fd, dirfd;
	const char *name;
	char tmp[240];	/* a named temporary (no O_TMPFILE there), or "" */
	bool direct;	/* NAME itself: a device or a fifo */
};
int out_create(struct out_file *o, int dirfd, const char *name, mode_t mode);	/* fd, or -1 */
int out_publish(struct out_file *o);	/* fsync, then named: appears whole */
void out_discard(struct out_file *o);	/* what a failed one left */

/* --- mount.c ----------------------------------------------------------------- */
/* "lowerdir=L1:L2,upperdir=U,workdir=W" into BUF; -1 with EINVAL for a path
 * with ',' ':' '\' or a newline, E2BIG past a page. */
int overlay_opts(char *buf, size_t n, const char *const *lower, size_t nlower,
		 const char *upper, const char *work);
char **mounts_under(const char *path);	/* NULL-terminated, mount order */
void free_strv(char **v);
int umount_tree(const char *path, char **failed);
char *mountinfo_mountpoint(char *line);	/* field 5 of a mountinfo line, unescaped in place */
void mount_holder(const char *path, char *out, size_t n);
pid_t root_user(const char *path);	/* a process whose root is on PATH's fs */

/* --- rootfs.c: switch into a container root (mdk-pivot, mdk-run) ---------- */
struct volume {
	const char *src;	/* host path; NULL: a new tmpfs */
	const char *dst;	/* path inside the container */
	const char *opts;	/* the tmpfs's (size=, mode=, ...) */
	unsigned attr;		/* the tmpfs's MOUNT_ATTR_* */
	bool ro;		/* the bind's */
};
struct rootfs {
	const char *root;
	struct volume *volumes;
	size_t nvolumes;
	bool privileged;	/* no masked or read-only /proc, /sys paths */
	bool new_ipc;		/* in a new IPC namespace: mount /dev/mqueue */
	bool readonly;		/* the root mount read-only (--read-only) */
	const char *workdir;	/* ... made before, if not NULL */
	bool hostnet;		/* the host's network: its resolv.conf */
	/* Not NULL: /etc/hostname (this), /etc/hosts (also ETC_NAME, if not
	 * NULL), /etc/resolv.conf of the container's own, on a tmpfs. */
	const char *etc_host, *etc_name;
	bool chrooted;		/* out: no pivot_root (initramfs): MS_MOVE + chroot */
	char err[512];		/* out: the step that failed, and why */
};
/* In a new mount namespace: make mounts private, bind ROOT on itself, a
 * fresh /dev, /proc (masked unless privileged) and read-only /sys made on
 * ROOT's proc, sys and dev opened once, then the volumes (none on procfs or
 * sysfs), then pivot_root and detach the old root. -1 with R->err on
 * failure. */
int rootfs_enter(struct rootfs *r);
/* Its parts, for mdk-oci: the new mount API, flags on a mount before it is
 * attached anywhere. */
int mnt_clone(int dirfd, const char *path, uint64_t attr, bool recursive);	/* open_tree copy, MOUNT_ATTR_* set */
int mnt_attach(int tree, int dirfd, const char *path);	/* move_mount; "" for DIRFD itself */
int mnt_new(const char *type, const char *opts, unsigned attr);	/* fsopen+fsconfig+fsmount */
int open_beneath(int mnt, const char *path, int flags);	/* O_PATH, no symlink, no other mount */

/* --- proc.c: process plumbing for mdk-run and mdk-pivot -------------------- */
extern const int forwarded_signals[];	/* 0-terminated */
int exec_status(int err);		/* 127 not found, 126 not executable */
/* The child->parent channel (SOCK_SEQPACKET): a status byte and a line. */
void chan_report(int sock, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int chan_send_fd(int sock, int fd);
ssize_t chan_recv(int sock, int *status, char *buf, size_t n, int *fd);
int caps_bound_default(bool no_chroot);
int caps_set(uint64_t set);		/* effective, permitted; -1 with errno */
uint64_t caps_default(void);		/* the set a container keeps */
void caps_keep(uint64_t set);		/* ... set instead (--cap-add, --cap-drop) */
uint64_t caps_all(void);		/* every one we hold, so can give */
/* seccomp.c: compile PROFILE (docker/OCI JSON text of LEN bytes), or the
 * default when NULL, for a container with capabilities CAPS; -1 with ERR. */
int seccomp_compile(const char *profile, size_t len, uint64_t caps, void **filter, char *err,
		    size_t n);
int seccomp_install(void *filter);	/* -1 with errno */
void seccomp_filter_free(void *filter);
int cap_from_name(const char *name);	/* "CAP_SYS_ADMIN" -> 21, -1 if unknown */
/* -u SPEC from the container's /etc/passwd, /etc/group (inside ROOTFD). */
int user_resolve(int rootfd, const char *spec, uid_t *uid, gid_t *gid, char *home, size_t n, char *err,
		 size_t en);
/* KEY (a name or numeric id) in DB, a passwd/group file's text: F gets the
 * matching line's first 7 fields, pointing into DB (which it cuts up). */
bool db_find(char *db, const char *key, const char *f[7]);
/* CVE-2019-5736: re-exec this process (argv: mdk_argv) from a copy of its
 * binary that cannot be written through /proc/PID/exe: a detached read-only
 * bind mount of it, else a sealed memfd. Returns in the re-executed process,
 * or at once when the binary is out of reach already (on a read-only mount,
 * or a sealed memfd); dies (die_status) if no copy can be made. Call before
 * argv is changed. */
void exe_reexec_protected(void);
int proc_stat(pid_t pid, pid_t *ppid, unsigned long long *start);	/* stat 4, 22 */
int proc_starttime(pid_t pid, unsigned long long *start);	/* /proc/PID/stat 22 */
void close_fds_except(int keep);
/* CLONE_NEW* of the namespaces of PID that are not ours (the ones setns
 * must enter: a user namespace may not be entered twice). */
int ns_differ(pid_t pid);
void close_fds_but(int a, int b, int c);	/* -1: none */
void catch_stop_signals(void (*fn)(int));	/* INT, TERM, HUP; no SA_RESTART */
int loopback_up(void);
void sig_take_over(sigset_t *set);
int init_loop(pid_t cmd);

/* --- pidfile.c: mdk-run's --pid-file, read by mdk-exec (format in pidfile.c) */
struct pidfile {
	pid_t pid, init;		/* the monitor (mdk-run), the container's PID 1 */
	unsigned long long start;	/* the monitor's start time */
	bool exec;			/* the rest is there */
	bool privileged, nnp, seccomp;
	uint64_t caps;			/* the capabilities root keeps in there */
	bool has_caps;			/* caps= was there (older mdk-run: the default) */
	const char *profile;		/* seccomp profile text; NULL: the default */
	size_t profile_len;
	const char *user, *workdir;	/* NULL: none given */
	char **env;			/* parse: malloc'd array into the text */
	size_t nenv;
};
char *pidfile_format(const struct pidfile *p);	/* malloc'd */
int pidfile_parse(char *text, struct pidfile *p);	/* in place; -1 EINVAL */

/* --- relay.c: a container's stdio relayed (mdk-run, mdk-exec) ------------------ */
bool needs_relay(int fd);
struct ctr_log;
/* What is relayed between the user and the container: with -t the pty
 * master (both ways); else the pipes that stand for those of our standard
 * fds that must not reach it (needs_relay). */
struct relay {
	int out[2];	/* container -> our stdout, stderr (-1: none) */
	int in;		/* our stdin -> container (-1: none) */
	bool pty;	/* in == out[0] == the pty master */
	struct ctr_log *log;	/* --log: out[] go there, not to ours */
	bool log_failed;
};
int wait_status(pid_t pid, int flags);
int supervise(struct relay *io, bool in_open, pid_t pid, int sfd);

/* --- tty.c: the user's terminal for mdk-run -t --------------------------------- */
void tty_raw(int fd);
void tty_done(void);
struct winsize;
int tty_getsize(struct winsize *ws);
void tty_winsize(int to);
int tty_pump(int from, int to);

/* src/log.c: a container's log (CRI format: kubelet's), rotated past max
 * bytes into PATH.1. log_write takes what STREAM (0 stdout, 1 stderr) gave,
 * at most LOG_READ bytes at a time; 0 bytes at the stream's end. */
#define LOG_READ 16384
struct ctr_log {
	int fd;
	const char *path;
	long long size, max;
	size_t pending;
	bool open[2];	/* stdout's, stderr's last record a part (P) */
	char buf[65536];
};
int log_open(struct ctr_log *l, const char *path, long long max);
int log_write(struct ctr_log *l, int stream, const char *p, size_t n);
void log_close(struct ctr_log *l);
/* The reading side (mdk-logs): one record, LINE of N bytes without its
 * newline, into R (MSG points into LINE); -1 with EINVAL if it is not one. */
struct log_rec {
	int64_t sec;		/* the timestamp, since the epoch */
	long nsec;
	int stream;		/* 0 stdout, 1 stderr */
	bool partial;		/* P: the line goes on in the stream's next record */
	const char *msg;
	size_t len;
	const char *ts;		/* the timestamp's text, TSLEN bytes */
	size_t tslen;
};
int log_parse(const char *line, size_t n, struct log_rec *r);
/* RFC 3339 with a zone (Z or +hh:mm), 0 to 9 (or more, cut) fraction digits. */
int log_parse_time(const char *s, size_t n, int64_t *sec, long *nsec);
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

/* --- cgroup.c: container cgroups on v1, v2 and hybrid hosts ---------------- */
enum cg_mode { CG_NONE, CG_V1, CG_HYBRID, CG_V2 };
struct limits {
	uint64_t memory;		/* bytes; swap is capped to 0 on top */
	uint64_t cpu_quota, cpu_period;	/* us per period */
	uint64_t cpu_shares;		/* v1 shares; v2 weight derived */
	uint64_t pids;
	const char *cpuset;		/* "0-2,4" */
	const char *const *devices;	/* v1 device rules in order: "+c 1:3 rwm" allows, "-a" denies */
	size_t ndevices;
	const char *const *unified;	/* v2 files and values: "memory.high", "1g", ... */
	size_t nunified;
	const char *const *blkio;	/* v1 files and values ("blkio.weight", "500"; v2 maps them) */
	size_t nblkio;
};
struct cgroup {
	enum cg_mode mode;
	char path[512];			/* below each hierarchy's root */
	char *dirs[12];			/* the container's cgroup dirs */
	size_t ndirs;
	int lockfd;			/* flock'ed while the container lives */
};
enum cg_mode cgroup_mode(void);
const char *cgroup_parent(void);	/* $MDK_CGROUP_PARENT or "m-docker" */
int cgroup_create(struct cgroup *cg, const char *id, const struct limits *l, char *err, size_t n);
/* The same at PATH ("a/b/leaf", made as mkdir -p); CG_ALL: on v1, join the
 * freezer, devices and blkio hierarchies too (mdk-oci). */
#define CG_ALL 1
int cgroup_create_at(struct cgroup *cg, const char *path, const struct limits *l, unsigned flags, char *err,
		     size_t n);
int cgroup_destroy_at(const char *path);
/* Thaw the cgroup at PATH and every one below it. */
void cgroup_thaw_all_at(const char *path);
int cgroup_update_at(const char *path, const struct limits *l, char *err, size_t n);
int cgroup_freeze_at(const char *path, bool frozen);
size_t cgroup_pids_at(const char *path, int *v, size_t n);
int cgroup_attach(const struct cgroup *cg, pid_t pid, char *err, size_t n);
int cgroup_destroy(const char *id);	/* kill, then rmdir with retry */
long cgroup_oom_kills(const char *id);	/* processes the OOM killer took */
int cgroup_freeze(const char *id, bool frozen);	/* -1 ENOENT: no freezer for it */
bool cgroup_locked(const char *id);	/* held by a live mdk-run */
int cgroup_list(bool prune, void (*fn)(const char *id, bool used, void *arg), void *arg);

/* --- layer.c: archive images and their layers in ROOT/layers (layout in layer.c) */
extern const char *const image_exts[];	/* ".tar", ".tar.gz", ...; NULL-terminated */
int image_archive_open(int rootfd, const char *name, char **rel);
void layer_version(const char *name, const struct stat *st, char *out, size_t n);
int layer_current(int layersfd, const char *name, char *out, size_t n);
int lock_file(int dirfd, const char *name, int op);	/* flock'ed, waited for; -1/errno */
int layer_lock(int layersfd, const char *name, int op);	/* LOCK_EX or LOCK_SH */
int layer_publish(int layersfd, const char *name, const char *version);
int layer_clean_debris(int layersfd, const char *name);
int layer_gc(int layersfd);	/* remove unused old versions; prints them */
bool state_uses_layer(FILE *f, const char *version);	/* a "layers=" line of a state file names it */
int layer_remove(int rootfd, const char *name, char *where, size_t n);	/* rmi of an archive image */
char *archive_name(const char *path);	/* "dir/ubuntu.tar.gz" -> "ubuntu" */
void unpack_once(const char *root, int rootfd, const char *archive, const char *name);	/* applets/unpack.c */

/* --- image.c: the image store (layout and rules in image.c) --------------- */
#define MDK_IMAGE_LAYERS_MAX 128
struct image {
	char id[65];		/* config digest, hex */
	char manifest[72];	/* "sha256:..." or "" */
	char layers[MDK_IMAGE_LAYERS_MAX][65];	/* ChainIDs, bottom first */
	size_t nlayers;
};
int store_lock(int rootfd, int op);	/* flock'ed fd of ROOT/.store.lock */
int store_dir(int rootfd, const char *path);	/* made 0700 if missing; O_PATH */
bool valid_hex64(const char *s);
bool valid_digest(const char *s);		/* sha256:[0-9a-f]{64} */
int write_atomic(int dirfd, const char *name, const void *buf, size_t len);
int ref_normalize(const char *in, char *out, size_t n);
int tags_each(int rootfd, void (*fn)(const char *ref, const char *id, void *arg), void *arg);
int tags_update(int rootfd, const char *ref, const char *id, const char *all_of, bool *changed);
int image_resolve(int rootfd, const char *spec, char id[65]);
int image_write(int rootfd, const char *id, const char *manifest, char (*chains)[65], size_t n);
int image_read(int rootfd, const char *id, struct image *im);
bool image_in_use(int rootfd, const char *id, char *who, size_t n);
int store_gc(int rootfd, bool verbose);
uint64_t chain_size(int rootfd, const char *hex);
void load_clean_debris(int rootfd);
const char *image_arch(void);	/* amd64, arm64... */
char *blob_read(int rootfd, const char *hex, size_t *len);	/* blobs/sha256/HEX, or NULL */
int image_config_write(int rootfd, const char *id, FILE *f);	/* mdk-image config's lines */
int stage_make(int rootfd, const char *prefix, char *name, size_t n);	/* tmp/PREFIX-PID, locked */

/* --- archive.c ---------------------------------------------------------------
 * Extract the tar archive on FD (any compression) into the current directory.
 * The caller must have chrooted there: that is what confines the archive. */
struct extract {
	int fd;
	const char *label;	/* image name, for messages */
	int64_t total;		/* archive size, for progress */
	bool progress;		/* one updating line on stderr */
	volatile sig_atomic_t *stop;	/* set by a signal handler: give up */
	bool whiteouts;		/* an image layer: translate OCI whiteouts, make implied parents */
	const int *lowers;	/* the layers below it (directory fds), nearest first */
	size_t nlowers;
	struct wh *wh;		/* private: whiteouts collected */
	size_t nwh;
	char **implied, **explicit;	/* private: directories made for entries, named by entries */
	size_t nimplied, nexplicit;
	char *last_parent;	/* private: the last parent directory known to exist */
	uint64_t entries;	/* out: entries extracted */
	char err[512];		/* out: why it failed */
};
int extract_archive(struct extract *x);
/* Its parts, each callable alone (tests/fuzz/): */
struct archive;
struct archive_entry;
int image_reader_setup(struct archive *in);	/* the formats and filters; -1 failed */
const char *entry_bad_path(const char *p);	/* why a name or link target is refused */
void entry_filter_xattrs(struct archive_entry *e);	/* drop all but user.*, security.capability */

/* --- pack.c: the tar writer (mdk-pack, commit, save, export) ---------------- */
#define PACK_GZIP 1	/* gzip the stream */
#define PACK_LAYER 2	/* DIR is an overlay layer: whiteouts and opaque dirs as .wh. */
#define PACK_BARE 4	/* entries named NAME, not ./NAME; no entry for DIR itself */
struct pack_result {
	char digest[72];	/* "sha256:HEX" of the stream as written */
	uint64_t size;
};
/* Write DIR, which must be the cwd ("."), to FD; RES may be NULL. -1 with
 * ERR set on failure. */
int pack_tree(const char *dir, int fd, unsigned flags, struct pack_result *res, char *err, size_t errlen);
/* The same of directory DIRFD, from inside a chroot of it, in a confined child. */
int pack_confined(int dirfd, int out, unsigned flags, struct pack_result *res, char *err, size_t errlen);

#endif
