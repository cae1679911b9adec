/* Linked into build/asan/mdk only (./build.sh asan): the sanitizers'
 * defaults, so that every run of the binary -- from the tests, m-docker or
 * a shell, whatever its environment -- stops at the first error and fails
 * loudly. $ASAN_OPTIONS and $UBSAN_OPTIONS still add to or override them
 * (tests/run.sh adds log_path, so a report fails the test that caused it). */
#include <string.h>
#include <unistd.h>

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);
int __lsan_is_turned_off(void);

const char *__asan_default_options(void)
{
	/* abort: a report is death by SIGABRT, never an exit status an
	 * applet also uses. */
	return "halt_on_error=1:abort_on_error=1:disable_coredump=1:detect_stack_use_after_return=1:"
	       "strict_string_checks=1:check_initialization_order=1:detect_leaks=1";
}

const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:abort_on_error=1:print_stacktrace=1";
}

/* LeakSanitizer checks at exit from a helper task it clones. After mdk-run's
 * unshare(CLONE_NEWPID) whose first child (the container's PID 1) is gone,
 * no task can be created any more (ENOMEM): LSan would die with "fatal
 * error". In exactly that case the check is skipped; everywhere else (every
 * other applet, and mdk-run up to the unshare) leaks are errors. */
int __lsan_is_turned_off(void)
{
	char self[64], children[64];
	ssize_t a = readlink("/proc/self/ns/pid", self, sizeof(self));
	ssize_t b = readlink("/proc/self/ns/pid_for_children", children, sizeof(children));

	return a > 0 && b > 0 && (a != b || memcmp(self, children, (size_t)a));
}
