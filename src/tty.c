/* The user's side of "mdk-run -t": raw mode on the user's terminal, the
 * window size passed on, bytes relayed both ways. The terminal is restored
 * on every exit path that runs code (atexit covers die()). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "mdk.h"

static struct termios saved;
static int saved_fd = -1;

static void tty_restore(void)
{
	if (saved_fd >= 0)
		tcsetattr(saved_fd, TCSAFLUSH, &saved);
	saved_fd = -1;
}

void tty_raw(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &saved) < 0)
		return;	/* not a terminal: nothing to do */
	t = saved;
	cfmakeraw(&t);
	if (tcsetattr(fd, TCSAFLUSH, &t) == 0) {
		saved_fd = fd;
		atexit(tty_restore);
	}
}

void tty_done(void) { tty_restore(); }

/* The user's window size, from whichever of stdin, stdout, stderr is a
 * terminal; -1 if none is. */
int tty_getsize(struct winsize *ws)
{
	for (int fd = 0; fd < 3; fd++)
		if (ioctl(fd, TIOCGWINSZ, ws) == 0)
			return 0;
	return -1;
}

/* ... onto the container's pty. */
void tty_winsize(int to)
{
	struct winsize ws;

	if (tty_getsize(&ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pf = { fd, POLLOUT, 0 };
				poll(&pf, 1, -1);
				continue;
			}
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Move what is readable on FROM to TO: >0 moved, 0 EOF (or EIO: the pty's
 * other side is closed), -1 nothing now. */
int tty_pump(int from, int to)
{
	char buf[16384];
	ssize_t k = read(from, buf, sizeof(buf));

	if (k < 0)
		return errno == EIO ? 0 : -1;
	if (k == 0)
		return 0;
	if (write_all(to, buf, (size_t)k) < 0)
		return 0;
	return 1;
}
