/* A default seccomp filter for containers, after docker's: refuse (EPERM)
 * the syscalls that reach kernel state no namespace isolates, or that
 * widen the kernel's attack surface for no container's benefit. Most of
 * docker's list also needs a capability we drop anyway; those stay here as
 * a second wall. --privileged runs without it. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "mdk.h"

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
		  CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME)

static const unsigned denied64[] = {
	/* Keyrings are not namespaced: a container's root would share the
	 * host root's keys. */
	SYS_add_key, SYS_keyctl, SYS_request_key,
	/* Kernel attack surface no container needs by default. */
	SYS_bpf, SYS_perf_event_open, SYS_userfaultfd, SYS_io_uring_setup,
	SYS_io_uring_enter, SYS_io_uring_register, SYS_lookup_dcookie,
	/* Host-wide state (also behind capabilities we drop). */
	SYS_kexec_load, SYS_kexec_file_load, SYS_init_module, SYS_finit_module,
	SYS_delete_module, SYS_reboot, SYS_swapon, SYS_swapoff, SYS_acct, SYS_syslog,
	SYS_settimeofday, SYS_clock_settime, SYS_clock_adjtime, SYS_adjtimex,
	SYS_quotactl, SYS_open_by_handle_at, SYS_iopl, SYS_ioperm,
	SYS_mount, SYS_umount2, SYS_pivot_root, SYS_setns, SYS_fsopen, SYS_fsconfig,
	SYS_fsmount, SYS_fspick, SYS_move_mount, SYS_open_tree, SYS_mount_setattr,
};

/* The same for 32-bit x86 programs (asm/unistd_32.h numbers: musl's
 * headers only know x86_64's). */
static const unsigned denied32[] = {
	286, 288, 287,				/* add_key keyctl request_key */
	357, 336, 374, 425, 426, 427, 253,	/* bpf perf_event_open userfaultfd io_uring_* lookup_dcookie */
	283, 128, 350, 129, 88, 87, 115, 51, 103,	/* kexec_load *_module reboot swap* acct syslog */
	79, 264, 343, 124, 404, 405, 131, 342,	/* time setters quotactl open_by_handle_at */
	110, 101, 166, 113,			/* iopl ioperm vm86 vm86old */
	21, 22, 52, 217, 346, 430, 431, 432, 433, 429, 428, 442,	/* mount family, setns */
};

#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define ERRNO(e) RET(SECCOMP_RET_ERRNO | (e))
#define JEQ(k, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))

struct prog { struct sock_filter f[256]; size_t n; };

static void emit(struct prog *p, struct sock_filter s)
{
	if (p->n == sizeof(p->f) / sizeof(*p->f))
		die("seccomp: the filter outgrew its buffer");
	p->f[p->n++] = s;
}

/* One architecture's rules: DENIED refused; socket(AF_VSOCK) refused, as
 * docker does (vsock reaches the hypervisor and ignores network
 * namespaces); clone3 ENOSYS (libcs then fall back to clone, whose flags
 * BPF can see); no namespace flags on clone or unshare (a user namespace
 * would hand back every capability we dropped, against the kernel's
 * less-trodden paths); the rest allowed. */
static void arch_rules(struct prog *p, const unsigned *denied, size_t n, unsigned nr_socket,
		       unsigned nr_clone3, unsigned nr_clone, unsigned nr_unshare)
{
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
	for (size_t i = 0; i < n; i++) {
		emit(p, (struct sock_filter)JEQ(denied[i], 0, 1));
		emit(p, (struct sock_filter)ERRNO(EPERM));
	}
	/* The family is an int: the low word of args[0] is all the kernel uses. */
	emit(p, (struct sock_filter)JEQ(nr_socket, 0, 4));
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])));
	emit(p, (struct sock_filter)JEQ(AF_VSOCK, 0, 1));
	emit(p, (struct sock_filter)ERRNO(EPERM));
	emit(p, (struct sock_filter)RET(SECCOMP_RET_ALLOW));
	emit(p, (struct sock_filter)JEQ(nr_clone3, 0, 1));
	emit(p, (struct sock_filter)ERRNO(ENOSYS));
	emit(p, (struct sock_filter)JEQ(nr_clone, 1, 0));
	emit(p, (struct sock_filter)JEQ(nr_unshare, 0, 3));
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NS_FLAGS, 0, 1));
	emit(p, (struct sock_filter)ERRNO(EPERM));
	emit(p, (struct sock_filter)RET(SECCOMP_RET_ALLOW));
}

int seccomp_default(void)
{
	struct prog p = { .n = 0 };
	size_t at;

	emit(&p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
	/* x86_64; its x32 numbers (bit 30) are refused, not checked twice. */
	at = p.n;
	emit(&p, (struct sock_filter)JEQ(AUDIT_ARCH_X86_64, 0, 0));
	emit(&p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
	emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1));
	emit(&p, (struct sock_filter)ERRNO(ENOSYS));
	arch_rules(&p, denied64, sizeof(denied64) / sizeof(*denied64), SYS_socket, SYS_clone3,
		   SYS_clone, SYS_unshare);
	p.f[at].jf = (unsigned char)(p.n - at - 1);
	/* i386, as docker allows it too. */
	at = p.n;
	emit(&p, (struct sock_filter)JEQ(AUDIT_ARCH_I386, 0, 0));
	/* (i386's socketcall passes the family in memory, out of BPF's
	 * sight: only its direct socket syscall, 359, is checked.) */
	arch_rules(&p, denied32, sizeof(denied32) / sizeof(*denied32), 359, 435, 120, 310);
	p.f[at].jf = (unsigned char)(p.n - at - 1);
	emit(&p, (struct sock_filter)ERRNO(ENOSYS));	/* any other architecture */

	struct sock_fprog prog = { .len = (unsigned short)p.n, .filter = p.f };
	/* No PR_SET_NO_NEW_PRIVS: installed while we still hold CAP_SYS_ADMIN,
	 * so setuid binaries in the image keep working, as under docker. */
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}
