#!/usr/bin/env python3
"""Test helper: run a command on a pseudo-terminal like a user at a terminal.

usage: ptyrun.py ROWS COLS TIMEOUT STEP... -- CMD [ARG]...
STEP is "expect:TEXT" (wait until TEXT has been output), "send:TEXT" (type
TEXT; \\n, \\x03 escapes allowed), "winch:ROWS:COLS" (resize the terminal, as a
window manager does) or "sleep:SECONDS". Prints everything the command
wrote; exits with the command's exit status (128+N if killed by signal N),
or 99 if an expectation timed out.
"""
import fcntl, os, pty, select, signal, struct, sys, termios, time

def main():
    rows, cols, timeout = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    i = sys.argv.index("--")
    steps, cmd = sys.argv[4:i], sys.argv[i + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.execvp(cmd[0], cmd)
    out = b""

    def pump(deadline):
        nonlocal out
        while True:
            left = deadline - time.time()
            if left <= 0:
                return False
            r, _, _ = select.select([fd], [], [], min(left, 0.05))
            if not r:
                return True
            try:
                data = os.read(fd, 4096)
            except OSError:
                return None
            if not data:
                return None
            out += data

    for step in steps:
        kind, _, arg = step.partition(":")
        arg = arg.encode().decode("unicode_escape").encode("latin-1")
        if kind == "expect":
            deadline = time.time() + timeout
            while arg not in out:
                alive = pump(min(deadline, time.time() + 0.1))
                if arg in out:
                    break   # (its last output, read with the end)
                if alive is None or time.time() > deadline:
                    sys.stdout.buffer.write(out)
                    print("\nptyrun.py: timed out waiting for %r" % arg, file=sys.stderr)
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    sys.exit(99)
        elif kind == "send":
            os.write(fd, arg)
        elif kind == "winch":
            r, c = arg.split(b":")
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", int(r), int(c), 0, 0))
            os.kill(pid, signal.SIGWINCH)
        elif kind == "sleep":
            pump(time.time() + float(arg))
    deadline = time.time() + timeout
    while pump(deadline):
        pass
    _, st = os.waitpid(pid, 0)
    sys.stdout.buffer.write(out)
    sys.exit(os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st))

main()
