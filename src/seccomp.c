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
#include <sys/syscall.h>

#include "mdk.h"

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
		  CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME)

static const int denied[] = {
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

#define NDENIED (sizeof(denied) / sizeof(*denied))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define ERRNO(e) RET(SECCOMP_RET_ERRNO | (e))

int seccomp_default(void)
{
	struct sock_filter f[NDENIED * 2 + 24];
	size_t n = 0;

	/* Only x86_64 syscalls: refuse the x32 and i386 entry points, whose
	 * numbers differ and would slip past the list. */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)ERRNO(ENOSYS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1);
	f[n++] = (struct sock_filter)ERRNO(ENOSYS);
	for (size_t i = 0; i < NDENIED; i++) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied[i], 0, 1);
		f[n++] = (struct sock_filter)ERRNO(EPERM);
	}
	/* clone3 passes its flags in memory, out of BPF's reach: ENOSYS makes
	 * libcs fall back to clone, whose flags we can see. */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
	f[n++] = (struct sock_filter)ERRNO(ENOSYS);
	/* No new namespaces: a user namespace would hand back every capability
	 * we dropped, against the kernel's less-trodden paths. */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 1, 0);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_unshare, 0, 3);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NS_FLAGS, 0, 1);
	f[n++] = (struct sock_filter)ERRNO(EPERM);
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);

	struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };
	/* No PR_SET_NO_NEW_PRIVS: installed while we still hold CAP_SYS_ADMIN,
	 * so setuid binaries in the image keep working, as under docker. */
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}
