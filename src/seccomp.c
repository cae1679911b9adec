/* Container seccomp filters, compiled by libseccomp.
 *
 * The default is docker's policy, written here as an allowlist: the
 * syscalls ordinary programs make are allowed, the ones that reach kernel
 * state no namespace isolates (keyrings, mounts, modules, clocks, ...) fail
 * with EPERM, and everything else -- including any syscall a later kernel
 * adds -- fails with ENOSYS, which libcs take as "fall back". It covers
 * x86_64, i386 and x32 programs alike. --privileged runs without it.
 *
 * A profile in docker's JSON form (also the OCI runtime spec's linux.seccomp)
 * can replace it: seccomp_compile() takes its text. */
#include <errno.h>
#include <jansson.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "mdk.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
		  CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME)

#ifdef MDK_SECCOMP_GEN
/* Allowed without conditions (names unknown to an architecture are skipped
 * for it: _llseek is i386's, for instance). */
static const char *const allowed[] = {
	/* files and directories */
	"access", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range",
	"creat", "dup", "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
	"fallocate", "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl",
	"fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fremovexattr", "fsetxattr",
	"fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
	"ftruncate64", "futimesat", "getcwd", "getdents", "getdents64", "getxattr", "lchown",
	"lchown32", "lgetxattr", "link", "linkat", "listxattr", "llistxattr", "lremovexattr",
	"lseek", "_llseek", "lsetxattr", "lstat", "lstat64", "mkdir", "mkdirat", "mknod",
	"mknodat", "newfstatat", "open", "openat", "openat2", "pread64", "preadv", "preadv2",
	"pwrite64", "pwritev", "pwritev2", "read", "readahead", "readdir", "readlink",
	"readlinkat", "readv", "removexattr", "rename", "renameat", "renameat2", "rmdir",
	"sendfile", "sendfile64", "setxattr", "splice", "stat", "stat64", "statfs", "statfs64",
	"statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "tee", "truncate",
	"truncate64", "umask", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64",
	"utimes", "write", "writev", "name_to_handle_at",
	/* polling, events, notifications */
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
	"epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "fanotify_mark",
	"inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "poll", "ppoll",
	"ppoll_time64", "pselect6", "pselect6_time64", "select", "_newselect", "signalfd",
	"signalfd4", "timerfd", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
	"timerfd_settime", "timerfd_settime64", "io_cancel", "io_destroy", "io_getevents",
	"io_setup", "io_submit", "ioctl",
	/* memory */
	"brk", "madvise", "membarrier", "memfd_create", "mincore", "mlock", "mlock2", "mlockall",
	"mmap", "mmap2", "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap",
	"remap_file_pages", "pkey_alloc", "pkey_free", "pkey_mprotect", "get_mempolicy",
	"set_mempolicy", "mbind",
	/* processes, threads, signals */
	"capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "vfork",
	"futex", "futex_time64", "get_robust_list", "set_robust_list", "get_thread_area",
	"set_thread_area", "set_tid_address", "getcpu", "getegid", "getegid32", "geteuid",
	"geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpgid",
	"getpgrp", "getpid", "getppid", "getpriority", "getresgid", "getresgid32", "getresuid",
	"getresuid32", "getrlimit", "ugetrlimit", "getrusage", "getsid", "gettid", "getuid",
	"getuid32", "ioprio_get", "ioprio_set", "kill", "tkill", "tgkill", "pause", "prctl",
	"prlimit64", "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_open",
	"pidfd_send_signal", "pidfd_getfd", "process_mrelease", "restart_syscall", "rseq",
	"rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
	"rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
	"sigaction", "sigaltstack", "signal", "sigpending", "sigprocmask", "sigreturn",
	"sigsuspend", "sched_get_priority_max", "sched_get_priority_min", "sched_getaffinity",
	"sched_getattr", "sched_getparam", "sched_getscheduler", "sched_rr_get_interval",
	"sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr", "sched_setparam",
	"sched_setscheduler", "sched_yield", "seccomp", "setfsgid", "setfsgid32", "setfsuid",
	"setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
	"setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
	"setresuid32", "setreuid", "setreuid32", "setrlimit", "setsid", "setuid", "setuid32",
	"wait4", "waitid", "waitpid", "landlock_add_rule", "landlock_create_ruleset",
	"landlock_restrict_self", "chroot",
	/* time (reading it; setting it is host-wide) */
	"alarm", "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
	"clock_nanosleep", "clock_nanosleep_time64", "gettimeofday", "nanosleep", "time",
	"timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
	"timer_settime", "timer_settime64", "times",
	/* System V and POSIX IPC: the container has its own IPC namespace */
	"ipc", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop", "semtimedop",
	"semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget", "mq_getsetattr", "mq_notify",
	"mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
	"mq_timedsend_time64", "mq_unlink",
	/* network (socket itself is filtered below) */
	"accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt",
	"listen", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "send",
	"sendmmsg", "sendmsg", "sendto", "setsockopt", "shutdown", "socketpair",
	/* system information */
	"getrandom", "sysinfo", "uname", "pipe", "pipe2", "syscall",
	/* x86 */
	"arch_prctl", "modify_ldt",
};

/* Refused with EPERM: kernel state no namespace isolates, or kernel attack
 * surface no container needs. Most also need a capability we drop: a
 * second wall. */
static const char *const refused[] = {
	/* keyrings are not namespaced: a container's root would share the host root's */
	"add_key", "keyctl", "request_key",
	/* kernel attack surface */
	"bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "lookup_dcookie", "fanotify_init", "kcmp", "process_madvise",
	"vmsplice", "move_pages", "migrate_pages", "io_pgetevents",
	/* host-wide state */
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"query_module", "create_module", "reboot", "swapon", "swapoff", "acct", "syslog",
	"settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime",
	"clock_adjtime64", "adjtimex", "quotactl", "quotactl_fd", "open_by_handle_at", "iopl",
	"ioperm", "vm86", "vm86old", "vhangup", "sethostname", "setdomainname", "nfsservctl",
	"bdflush", "uselib", "ustat", "sysfs", "_sysctl", "pciconfig_iobase", "pciconfig_read",
	"pciconfig_write", "nice",
	/* mounts and namespaces */
	"mount", "umount", "umount2", "pivot_root", "setns", "fsopen", "fsconfig", "fsmount",
	"fspick", "move_mount", "open_tree", "mount_setattr",
};

#endif

/* --- errors ------------------------------------------------------------------- */

struct ctx {
	scmp_filter_ctx f;
	uint32_t arch;		/* f's one architecture, for exact rules; 0: native */
	bool lenient;		/* a profile's duplicate rules are fine */
	uint64_t caps;
	char *err;
	size_t errlen;
};

/* What seccomp_compile() makes: one filter, or three (x86_64 and x32;
 * i386; i386's socket(2) by family); the default comes compiled (bpf). */
#define NFILTER 3
struct filter {
	scmp_filter_ctx f[NFILTER];
	const struct sock_fprog *bpf;
};

#ifndef MDK_SECCOMP_GEN
/* The default, compiled by libseccomp when mdk was built (build.sh runs
 * this file's generator): compiling it at each start would cost more than
 * the rest of the start together. */
#include "seccomp_default.h"
#endif

__attribute__((format(printf, 2, 3))) static int fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* libseccomp returns -errno. A rule for one foreign architecture is exact,
 * but for the calls i386 makes two ways: a socket or System V IPC call by
 * its own number (Linux 4.3, 5.1) or through socketcall/ipc, whose
 * arguments are in memory the filter cannot read. libseccomp names those by
 * pseudo-numbers and, for a rule without conditions, adds both ways; a rule
 * with conditions would lose them on the second way, so it is left out
 * (i386's socket(2) by family: compile_default). */
static int rule(struct ctx *c, uint32_t action, const char *name, unsigned n,
		const struct scmp_arg_cmp *args)
{
	/* Numbers are the native architecture's (negative for a syscall it
	 * lacks): libseccomp translates them by name. */
	int nr = seccomp_syscall_resolve_name(name), e;
	int anr = c->arch ? seccomp_syscall_resolve_name_arch(c->arch, name) : 0;
	bool muxed = (anr <= __PNR_socket && anr >= __PNR_sendmmsg) ||
		     (anr <= __PNR_semop && anr >= __PNR_shmctl);

	if (nr == __NR_SCMP_ERROR || (anr < 0 && !muxed) || (muxed && n))
		return 0;	/* not on this architecture: nothing to filter */
	e = c->arch && !muxed ? seccomp_rule_add_exact_array(c->f, action, nr, n, args) :
				seccomp_rule_add_array(c->f, action, nr, n, args);
	if (e < 0 && !(e == -EEXIST && c->lenient))
		return fail(c, "rule for %s: %s", name, strerror(-e));
	return 0;
}

#ifdef MDK_SECCOMP_GEN
/* A condition on the first argument. */
static struct scmp_arg_cmp arg0(enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
	return (struct scmp_arg_cmp){ 0, op, a, b };
}

/* --- the default ------------------------------------------------------------- */

static int default_rules(struct ctx *c)
{
	struct scmp_arg_cmp a;
	size_t i;

	for (i = 0; i < sizeof(allowed) / sizeof(*allowed); i++)
		if (rule(c, SCMP_ACT_ALLOW, allowed[i], 0, NULL) < 0)
			return -1;
	for (i = 0; i < sizeof(refused) / sizeof(*refused); i++)
		if (rule(c, SCMP_ACT_ERRNO(EPERM), refused[i], 0, NULL) < 0)
			return -1;
	/* clone and unshare without namespace flags: a user namespace would
	 * hand back every capability we dropped. clone3 hides its flags in
	 * memory BPF cannot read: ENOSYS (the default) makes libcs use clone. */
	a = arg0(SCMP_CMP_MASKED_EQ, NS_FLAGS, 0);
	if (rule(c, SCMP_ACT_ALLOW, "clone", 1, &a) < 0 || rule(c, SCMP_ACT_ALLOW, "unshare", 1, &a) < 0)
		return -1;
	for (unsigned bit = 0; bit < 32; bit++) {
		if (!(NS_FLAGS & (1u << bit)))
			continue;
		a = arg0(SCMP_CMP_MASKED_EQ, 1u << bit, 1u << bit);
		if (rule(c, SCMP_ACT_ERRNO(EPERM), "clone", 1, &a) < 0 ||
		    rule(c, SCMP_ACT_ERRNO(EPERM), "unshare", 1, &a) < 0)
			return -1;
	}
	/* personality: Linux, 32-bit uname and UNAME26 only, and the query
	 * (docker's set); READ_IMPLIES_EXEC and friends are not. */
	static const unsigned pers[] = { 0, 8, 0x20000, 0x20008, 0xffffffff };
	for (i = 0; i < 5; i++) {
		a = arg0(SCMP_CMP_EQ, pers[i], 0);
		if (rule(c, SCMP_ACT_ALLOW, "personality", 1, &a) < 0)
			return -1;
	}
	/* vsock ignores network namespaces: it reaches the host's hypervisor
	 * sockets. The kernel reads the family as an int: only the low 32
	 * bits count (0x1_00000028 is AF_VSOCK too). Every other family is
	 * allowed by value: a mask cannot say "not equal". */
	a = arg0(SCMP_CMP_MASKED_EQ, 0xffffffff, AF_VSOCK);
	if (rule(c, SCMP_ACT_ERRNO(EPERM), "socket", 1, &a) < 0)
		return -1;
	for (unsigned fam = 0; fam < 64; fam++) {
		a = arg0(SCMP_CMP_MASKED_EQ, 0xffffffff, fam);
		if (fam != AF_VSOCK && rule(c, SCMP_ACT_ALLOW, "socket", 1, &a) < 0)
			return -1;
	}
	/* i386: socket(2) and socketcall(SOCKET) pass here, the family is
	 * checked by the filter after (compile_default); the other socket
	 * calls pass both ways (by the names above). */
	if (c->arch == SCMP_ARCH_X86 && rule(c, SCMP_ACT_ALLOW, "socket", 0, NULL) < 0)
		return -1;
	return 0;
}

/* A context whose other architectures' syscalls pass: another filter
 * decides them. */
static scmp_filter_ctx context(uint32_t dflt, uint32_t only_arch)
{
	scmp_filter_ctx f = seccomp_init(dflt);

	if (f && only_arch && (seccomp_arch_remove(f, seccomp_arch_native()) < 0 ||
			       seccomp_arch_add(f, only_arch) < 0)) {
		seccomp_release(f);
		return NULL;
	}
	if (f && seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW) < 0) {
		seccomp_release(f);
		return NULL;
	}
	return f;
}

/* On x86_64 two filters: x86_64 and x32 (whose numbers only differ by a
 * bit), and i386 with exact rules. Anywhere else, the native one. */
static int compile_default(struct ctx *c, struct filter *out)
{
	bool x86 = seccomp_arch_native() == SCMP_ARCH_X86_64;

	c->f = out->f[0] = context(SCMP_ACT_ERRNO(ENOSYS), 0);
	/* A binary tree of syscall numbers: fewer instructions per syscall. */
	if (c->f)
		seccomp_attr_set(c->f, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (!c->f || (x86 && seccomp_arch_add(c->f, SCMP_ARCH_X32) < 0))
		return fail(c, "seccomp context: %s", strerror(ENOMEM));
	if (!x86)
		return seccomp_attr_set(c->f, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0 ?
			       fail(c, "seccomp attribute") : default_rules(c);
	if (default_rules(c) < 0)
		return -1;
	c->f = out->f[1] = context(SCMP_ACT_ERRNO(ENOSYS), SCMP_ARCH_X86);
	c->arch = SCMP_ARCH_X86;
	if (!c->f)
		return fail(c, "seccomp context: %s", strerror(ENOMEM));
	seccomp_attr_set(c->f, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (default_rules(c) < 0)
		return -1;
	/* i386's socket(2) by family, in a filter of its own (the kernel takes
	 * the strictest answer of all): vsock refused, and socketcall's SOCKET
	 * too, whose family the filter cannot see (libseccomp adds that way
	 * for the rule; in the filter above it would contradict the allowed
	 * families). */
	struct scmp_arg_cmp a = arg0(SCMP_CMP_MASKED_EQ, 0xffffffff, AF_VSOCK);
	int e;
	c->f = out->f[2] = context(SCMP_ACT_ALLOW, SCMP_ARCH_X86);
	if (!c->f)
		return fail(c, "seccomp context: %s", strerror(ENOMEM));
	e = seccomp_rule_add_array(c->f, SCMP_ACT_ERRNO(EPERM), seccomp_syscall_resolve_name("socket"), 1, &a);
	if (e < 0)
		return fail(c, "rule for i386's socket: %s", strerror(-e));
	return 0;
}

#else

/* --- docker / OCI JSON profiles ----------------------------------------------- */

static const char *const cap_names[] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
	"SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN",
	"NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE",
	"SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
	"MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ",
	"PERFMON", "BPF", "CHECKPOINT_RESTORE",
};

/* "CAP_SYS_ADMIN" (or "SYS_ADMIN", any case) -> its number, -1 if unknown. */
int cap_from_name(const char *name)
{
	if (!strncasecmp(name, "CAP_", 4))
		name += 4;
	for (size_t i = 0; i < sizeof(cap_names) / sizeof(*cap_names); i++)
		if (!strcasecmp(name, cap_names[i]))
			return (int)i;
	return -1;
}

/* Docker names architectures as Go does. */
static const char *goarch(void)
{
	switch (seccomp_arch_native()) {
	case SCMP_ARCH_X86_64: return "amd64";
	case SCMP_ARCH_X86: return "386";
	case SCMP_ARCH_AARCH64: return "arm64";
	case SCMP_ARCH_ARM: return "arm";
	case SCMP_ARCH_PPC64LE: return "ppc64le";
	case SCMP_ARCH_S390X: return "s390x";
	case SCMP_ARCH_RISCV64: return "riscv64";
	default: return "";
	}
}

/* OBJ's action (key AKEY) with its errno (key EKEY, default DFLT_ERRNO). */
static int action_of(struct ctx *c, const char *where, json_t *obj, const char *akey,
		     const char *ekey, uint32_t *out)
{
	const char *a = json_string_value(json_object_get(obj, akey));
	json_t *ret = json_object_get(obj, ekey);
	long long e = ret ? json_integer_value(ret) : EPERM;

	if (!a)
		return fail(c, "%s: no %s", where, akey);
	if (ret && (!json_is_integer(ret) || e < 0 || e > 4095))
		return fail(c, "%s: %s must be a number from 0 to 4095", where, ekey);
	if (!strcmp(a, "SCMP_ACT_ALLOW"))
		*out = SCMP_ACT_ALLOW;
	else if (!strcmp(a, "SCMP_ACT_ERRNO"))
		*out = SCMP_ACT_ERRNO((uint32_t)e);
	else if (!strcmp(a, "SCMP_ACT_KILL") || !strcmp(a, "SCMP_ACT_KILL_THREAD"))
		*out = SCMP_ACT_KILL;
	else if (!strcmp(a, "SCMP_ACT_KILL_PROCESS"))
		*out = SCMP_ACT_KILL_PROCESS;
	else if (!strcmp(a, "SCMP_ACT_TRAP"))
		*out = SCMP_ACT_TRAP;
	else if (!strcmp(a, "SCMP_ACT_TRACE"))
		*out = SCMP_ACT_TRACE((uint32_t)e);
	else if (!strcmp(a, "SCMP_ACT_LOG"))
		*out = SCMP_ACT_LOG;
	else
		return fail(c, "%s: unsupported action '%s'", where, a);
	return 0;
}

static int arch_of(const char *name, uint32_t *out)
{
	static const struct { const char *name; uint32_t arch; } tab[] = {
		{ "SCMP_ARCH_X86", SCMP_ARCH_X86 }, { "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 },
		{ "SCMP_ARCH_X32", SCMP_ARCH_X32 }, { "SCMP_ARCH_ARM", SCMP_ARCH_ARM },
		{ "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 }, { "SCMP_ARCH_MIPS", SCMP_ARCH_MIPS },
		{ "SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64 }, { "SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32 },
		{ "SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL }, { "SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64 },
		{ "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32 }, { "SCMP_ARCH_PPC", SCMP_ARCH_PPC },
		{ "SCMP_ARCH_PPC64", SCMP_ARCH_PPC64 }, { "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
		{ "SCMP_ARCH_S390", SCMP_ARCH_S390 }, { "SCMP_ARCH_S390X", SCMP_ARCH_S390X },
		{ "SCMP_ARCH_PARISC", SCMP_ARCH_PARISC }, { "SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64 },
		{ "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(*tab); i++)
		if (!strcmp(name, tab[i].name)) {
			*out = tab[i].arch;
			return 0;
		}
	return -1;
}

/* An architecture the host cannot run is left out (docker does the same). */
static int add_arch_named(struct ctx *c, const char *where, json_t *name)
{
	uint32_t arch;
	int e;

	if (!json_is_string(name) || arch_of(json_string_value(name), &arch) < 0)
		return fail(c, "%s: unknown architecture", where);
	e = seccomp_arch_add(c->f, arch);
	if (e < 0 && e != -EEXIST && e != -EINVAL && e != -EDOM)
		return fail(c, "%s: add architecture %s: %s", where, json_string_value(name), strerror(-e));
	return 0;
}

static int architectures(struct ctx *c, json_t *prof)
{
	json_t *list = json_object_get(prof, "architectures"), *map = json_object_get(prof, "archMap"), *v;
	size_t i;

	if (list && !json_is_array(list))
		return fail(c, "architectures: not a list");
	json_array_foreach(list, i, v)
		if (add_arch_named(c, "architectures", v) < 0)
			return -1;
	if (map && !json_is_array(map))
		return fail(c, "archMap: not a list");
	/* archMap: the native architecture's entry brings its sub-architectures. */
	json_array_foreach(map, i, v) {
		uint32_t arch;
		json_t *sub = json_object_get(v, "subArchitectures"), *s;
		size_t j;

		if (!json_is_string(json_object_get(v, "architecture")) ||
		    arch_of(json_string_value(json_object_get(v, "architecture")), &arch) < 0)
			return fail(c, "archMap[%zu]: unknown architecture", i);
		if (arch != seccomp_arch_native())
			continue;
		json_array_foreach(sub, j, s)
			if (add_arch_named(c, "archMap", s) < 0)
				return -1;
	}
	return 0;
}

static bool kernel_at_least(const char *version)
{
	unsigned a = 0, b = 0, x = 0, y = 0;
	struct utsname u;

	uname(&u);
	sscanf(u.release, "%u.%u", &a, &b);
	sscanf(version, "%u.%u", &x, &y);
	return a > x || (a == x && b >= y);
}

static bool holds(struct ctx *c, json_t *name)
{
	int cap = json_is_string(name) ? cap_from_name(json_string_value(name)) : -1;

	return cap >= 0 && c->caps & 1ULL << cap;
}

static bool arch_listed(json_t *arches)
{
	json_t *v;
	size_t i;

	json_array_foreach(arches, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), goarch()))
			return true;
	return false;
}

/* A rule's includes (all caps held, the host's arch listed, the kernel at
 * least minKernel) and excludes (none of that), as docker reads them. */
static bool wanted(struct ctx *c, json_t *call)
{
	json_t *in = json_object_get(call, "includes"), *ex = json_object_get(call, "excludes"), *v;
	const char *k;
	size_t i;

	json_array_foreach(json_object_get(in, "caps"), i, v)
		if (!holds(c, v))
			return false;
	if (json_array_size(json_object_get(in, "arches")) && !arch_listed(json_object_get(in, "arches")))
		return false;
	if ((k = json_string_value(json_object_get(in, "minKernel"))) && !kernel_at_least(k))
		return false;
	json_array_foreach(json_object_get(ex, "caps"), i, v)
		if (holds(c, v))
			return false;
	if (arch_listed(json_object_get(ex, "arches")))
		return false;
	return !((k = json_string_value(json_object_get(ex, "minKernel"))) && kernel_at_least(k));
}

static int args_of(struct ctx *c, const char *where, json_t *args, struct scmp_arg_cmp *out, unsigned *n)
{
	static const struct { const char *name; enum scmp_compare op; } ops[] = {
		{ "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
		{ "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
		{ "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
		{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
	};
	json_t *v;
	size_t i;

	*n = 0;
	if (args && !json_is_array(args) && !json_is_null(args))
		return fail(c, "%s: args is not a list", where);
	if (json_array_size(args) > 6)
		return fail(c, "%s: more than 6 args", where);
	json_array_foreach(args, i, v) {
		json_t *idx = json_object_get(v, "index"), *val = json_object_get(v, "value"),
		       *two = json_object_get(v, "valueTwo");
		const char *op = json_string_value(json_object_get(v, "op"));
		size_t k;

		if (!json_is_integer(idx) || json_integer_value(idx) < 0 || json_integer_value(idx) > 5)
			return fail(c, "%s: args[%zu].index must be 0 to 5", where, i);
		if (!json_is_integer(val) || (two && !json_is_integer(two)))
			return fail(c, "%s: args[%zu]: value must be a number", where, i);
		for (k = 0; op && k < sizeof(ops) / sizeof(*ops); k++)
			if (!strcmp(op, ops[k].name))
				break;
		if (!op || k == sizeof(ops) / sizeof(*ops))
			return fail(c, "%s: args[%zu]: unknown op '%s'", where, i, op ? op : "");
		/* JSON numbers above 2^63 arrive negative from jansson: the
		 * same 64 bits. */
		out[i] = (struct scmp_arg_cmp){ (unsigned)json_integer_value(idx), ops[k].op,
						(scmp_datum_t)json_integer_value(val),
						(scmp_datum_t)json_integer_value(two) };
		(*n)++;
	}
	return 0;
}

/* The calls mdk makes after the filter is in place, to drop privileges and
 * start the command: a profile may refuse them (the start then fails), not
 * fake their success -- ERRNO with errno 0 would leave the container root
 * with every capability. */
static bool runtime_call(const char *name)
{
	static const char *const calls[] = {
		"capset", "prctl", "setgroups", "setgroups32", "setgid", "setgid32", "setuid",
		"setuid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setregid",
		"setregid32", "setreuid", "setreuid32", "setfsgid", "setfsgid32", "setfsuid",
		"setfsuid32", "fchdir", "chdir", "close", "close_range", "execve", "execveat",
	};
	for (size_t i = 0; i < sizeof(calls) / sizeof(*calls); i++)
		if (!strcmp(name, calls[i]))
			return true;
	return false;
}

static int named_rule(struct ctx *c, const char *where, uint32_t act, const char *name, unsigned n,
		      const struct scmp_arg_cmp *args)
{
	if (act == SCMP_ACT_ERRNO(0) && runtime_call(name))
		return fail(c, "%s: errno 0 for %s would fake the success of a call mdk makes to drop privileges",
			    where, name);
	return rule(c, act, name, n, args);
}

static int compile_json(struct ctx *c, const char *text, size_t len, struct filter *out)
{
	json_error_t je;
	json_t *prof = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *calls, *call, *v;
	uint32_t dflt;
	size_t i, j;
	int ret = -1;

	if (!prof)
		return fail(c, "line %d: %s", je.line, je.text);
	if (!json_is_object(prof)) {
		fail(c, "not a JSON object");
		goto out;
	}
	if (action_of(c, "profile", prof, "defaultAction", "defaultErrnoRet", &dflt) < 0)
		goto out;
	if (dflt == SCMP_ACT_ERRNO(0)) {
		fail(c, "profile: a default of errno 0 would fake the success of every call");
		goto out;
	}
	c->f = out->f[0] = seccomp_init(dflt);
	if (!c->f) {
		fail(c, "seccomp_init failed");
		goto out;
	}
	if (architectures(c, prof) < 0)
		goto out;
	json_array_foreach(json_object_get(prof, "flags"), i, v) {
		const char *f = json_string_value(v);
		int e = 0;
		if (f && !strcmp(f, "SECCOMP_FILTER_FLAG_LOG"))
			e = seccomp_attr_set(c->f, SCMP_FLTATR_CTL_LOG, 1);
		else if (f && !strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
			e = seccomp_attr_set(c->f, SCMP_FLTATR_CTL_SSB, 1);
		else if (!f || strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC")) {
			fail(c, "flags[%zu]: unsupported flag", i);
			goto out;
		}
		if (e < 0) {
			fail(c, "flag %s: %s", f, strerror(-e));
			goto out;
		}
	}
	if (json_object_get(prof, "listenerPath")) {
		fail(c, "listenerPath: seccomp notification is not supported");
		goto out;
	}
	calls = json_object_get(prof, "syscalls");
	if (calls && !json_is_array(calls)) {
		fail(c, "syscalls: not a list");
		goto out;
	}
	json_array_foreach(calls, i, call) {
		char where[32];
		struct scmp_arg_cmp args[6];
		unsigned nargs;
		uint32_t act;
		json_t *names = json_object_get(call, "names"), *name;

		snprintf(where, sizeof(where), "syscalls[%zu]", i);
		if (!json_is_object(call)) {
			fail(c, "%s: not an object", where);
			goto out;
		}
		if (!wanted(c, call))
			continue;
		if (action_of(c, where, call, "action", "errnoRet", &act) < 0 ||
		    args_of(c, where, json_object_get(call, "args"), args, &nargs) < 0)
			goto out;
		if (act == dflt)
			continue;	/* libseccomp refuses rules that change nothing */
		/* "name" is the older form of "names". */
		name = json_object_get(call, "name");
		if (!json_is_array(names) && !json_is_string(name)) {
			fail(c, "%s: no names", where);
			goto out;
		}
		if (json_is_string(name) && named_rule(c, where, act, json_string_value(name), nargs, args) < 0)
			goto out;
		json_array_foreach(names, j, name) {
			if (!json_is_string(name)) {
				fail(c, "%s: names[%zu] is not a string", where, j);
				goto out;
			}
			if (named_rule(c, where, act, json_string_value(name), nargs, args) < 0)
				goto out;
		}
	}
	ret = 0;
out:
	json_decref(prof);
	return ret;
}

#endif

/* --- interface ------------------------------------------------------------------ */

int seccomp_compile(const char *profile, size_t len, uint64_t caps, void **out, char *err, size_t n)
{
	struct ctx c = { .caps = caps, .err = err, .errlen = n, .lenient = true };
	struct filter *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return fail(&c, "%s", strerror(ENOMEM));
#ifndef MDK_SECCOMP_GEN
	if (!profile) {
		f->bpf = seccomp_default_bpf;
		*out = f;
		return 0;
	}
	r = compile_json(&c, profile, len, f);
#else
	c.lenient = false;	/* a conflict in our own rules is a bug */
	r = compile_default(&c, f);
#endif
	/* No PR_SET_NO_NEW_PRIVS here: the filter is installed while we still
	 * hold CAP_SYS_ADMIN, so setuid binaries in the image keep working, as
	 * under docker. */
	for (int i = 0; i < NFILTER && r == 0; i++)
		if (f->f[i] && seccomp_attr_set(f->f[i], SCMP_FLTATR_CTL_NNP, 0) < 0)
			r = fail(&c, "seccomp attribute");
	if (r < 0) {
		seccomp_filter_free(f);
		return -1;
	}
	*out = f;
	return 0;
}

void seccomp_filter_free(void *filter)
{
	struct filter *f = filter;

	for (int i = 0; f && i < NFILTER; i++)
		if (f->f[i])
			seccomp_release(f->f[i]);
	free(f);
}

int seccomp_install(void *filter)
{
	struct filter *f = filter;

	for (int i = 0; f->bpf && f->bpf[i].len; i++)
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &f->bpf[i]) < 0)
			return -1;
	for (int i = 0; i < NFILTER; i++) {
		int e = f->f[i] ? seccomp_load(f->f[i]) : 0;
		if (e < 0) {
			errno = -e;
			return -1;
		}
	}
	return 0;
}

#ifdef MDK_SECCOMP_GEN
/* build.sh: write the default filters as C (seccomp_default.h). */
#include <sys/mman.h>

int main(void)
{
	struct filter *f;
	char err[512];
	int n = 0;

	if (seccomp_compile(NULL, 0, 0, (void **)&f, err, sizeof(err)) < 0) {
		fprintf(stderr, "seccomp-gen: %s\n", err);
		return 1;
	}
	printf("/* Generated by build.sh from src/seccomp.c's default rules. */\n");
	for (int i = 0; i < NFILTER && f->f[i]; i++, n++) {
		int fd = memfd_create("bpf", 0);
		struct sock_filter ins;
		if (fd < 0 || seccomp_export_bpf(f->f[i], fd) < 0 || lseek(fd, 0, SEEK_SET) < 0)
			return 1;
		printf("static const struct sock_filter default_%d[] = {\n", i);
		while (read(fd, &ins, sizeof(ins)) == sizeof(ins))
			printf("\t{ %#x, %u, %u, %#x },\n", ins.code, ins.jt, ins.jf, ins.k);
		printf("};\n");
		close(fd);
	}
	printf("static const struct sock_fprog seccomp_default_bpf[] = {\n");
	for (int i = 0; i < n; i++)
		printf("\t{ sizeof(default_%d) / sizeof(*default_%d), (struct sock_filter *)default_%d },\n",
		       i, i, i);
	printf("\t{ 0, NULL },\n};\n");
	return 0;
}
#endif
