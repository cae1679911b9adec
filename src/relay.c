/* A container's standard streams, relayed between the caller and the
 * container (mdk-run, mdk-exec): a pty master both ways with -t, else pipes
 * for those of the caller's fds the container must not hold; signals passed
 * on meanwhile. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mdk.h"

/* Is our standard fd FD one the container must not hold itself? A pipe
 * or socket is only a stream (and /dev/null nothing); anything else -- a
 * terminal, a host file, a device -- can be reopened through
 * /proc/self/fd/FD for more than it was opened for (read a file given
 * for writing, truncate it, push keystrokes): relayed through a pipe, as
 * docker relays every stream. */
bool needs_relay(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return false;
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
		return false;
	return !(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
}

int wait_status(pid_t pid, int flags)
{
	int st;
	pid_t p;

	while ((p = waitpid(pid, &st, flags)) < 0 && errno == EINTR)
		;
	if (p <= 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Pass what the container wrote on out[I] on; 0 at its end. */
static int relay_pump(struct relay *io, int i)
{
	char buf[LOG_READ];
	ssize_t k;

	if (!io->log)
		return tty_pump(io->out[i], 1 + i);
	if ((k = read(io->out[i], buf, sizeof(buf))) < 0 && errno != EIO)
		return -1;
	if (log_write(io->log, i, buf, k > 0 ? (size_t)k : 0) < 0 && !io->log_failed) {
		/* Once: the container goes on, its output is lost meanwhile. */
		warn_errno("write log '%s'", io->log->path);
		io->log_failed = true;
	}
	return k > 0;
}

static void relay_close_out(struct relay *io, int i)
{
	if (io->pty && io->in == io->out[i])
		io->in = -1;
	close(io->out[i]);
	io->out[i] = -1;
}

/* Pass signals on to PID (mdk-run: the container's PID 1; mdk-exec: its
 * command) and relay its terminal or pipes until PID exits and its output
 * is drained; return its status. Input waits in
 * a buffer while the container does not read: mdk-run never blocks, so
 * signals always get through. */
int supervise(struct relay *io, bool in_open, pid_t init, int sfd)
{
	char in[16384], last = '\n';
	size_t inlen = 0, inoff = 0;
	int eofs = 0;
	/* PID 1 may be gone already: its SIGCHLD was read while starting. */
	int status = wait_status(init, WNOHANG);

	in_open = in_open && io->in >= 0;
	for (int i = 0; i < 2; i++)
		if (io->out[i] >= 0)
			fcntl(io->out[i], F_SETFL, fcntl(io->out[i], F_GETFL) | O_NONBLOCK);
	if (io->in >= 0)
		fcntl(io->in, F_SETFL, fcntl(io->in, F_GETFL) | O_NONBLOCK);
	if (io->pty) {
		tty_raw(STDIN_FILENO);
		tty_winsize(io->out[0]);
	}
	while (status < 0 || io->out[0] >= 0 || io->out[1] >= 0) {
		struct pollfd p[5] = { { sfd, POLLIN, 0 },
				       { io->out[0], POLLIN, 0 },
				       { io->out[1], POLLIN, 0 },
				       { inlen || eofs ? io->in : -1, POLLOUT, 0 },
				       { in_open && !inlen ? STDIN_FILENO : -1, POLLIN, 0 } };
		if (status >= 0) {
			/* PID 1 is gone: drain what the pty or pipes still hold. */
			for (int i = 0; i < 2; i++) {
				struct pollfd o = { io->out[i], POLLIN, 0 };
				if (o.fd >= 0 && (poll(&o, 1, 100) <= 0 || relay_pump(io, i) <= 0))
					relay_close_out(io, i);
			}
			continue;
		}
		if (poll(p, 5, -1) < 0)
			continue;
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD)
					status = wait_status(init, WNOHANG);
				else if (si.ssi_signo == SIGWINCH && io->pty && io->out[0] >= 0)
					tty_winsize(io->out[0]);
				else
					kill(init, (int)si.ssi_signo);
			}
		}
		for (int i = 0; i < 2; i++)
			if (p[1 + i].revents & (POLLIN | POLLHUP | POLLERR) && relay_pump(io, i) == 0)
				relay_close_out(io, i);
		if (io->in < 0) {
			in_open = false;
			inlen = 0, eofs = 0;
			continue;
		}
		if (p[4].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t k = read(STDIN_FILENO, in, sizeof(in));
			if (k > 0) {
				inlen = (size_t)k, inoff = 0;
				last = in[k - 1];
			} else if (k == 0 || errno != EAGAIN) {
				/* End of input: on a pty the terminal's EOF character, as
				 * a user's Ctrl-D; twice after a partial line (the first
				 * only ends the line). A pipe is closed. */
				in_open = false;
				eofs = last == '\n' ? 1 : 2;
			}
		}
		if (inlen && p[3].revents & (POLLOUT | POLLERR | POLLHUP)) {
			ssize_t k = write(io->in, in + inoff, inlen);
			if (k > 0)
				inoff += (size_t)k, inlen -= (size_t)k;
			else if (k < 0 && errno != EAGAIN && !io->pty)
				inlen = 0, in_open = false, eofs = 1;	/* the reader is gone */
		} else if (!inlen && eofs && !io->pty) {
			close(io->in);
			io->in = -1;
		} else if (eofs && p[3].revents & POLLOUT && write(io->in, "\004", 1) == 1) {
			eofs--;
		}
	}
	if (io->in >= 0 && !io->pty)
		close(io->in);
	tty_done();
	return status;
}

