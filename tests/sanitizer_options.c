/* Linked into build/asan/mdk only (./build.sh asan): the sanitizers'
 * defaults, so that every run of the binary -- from the tests, m-docker or
 * a shell, whatever its environment -- stops at the first error and fails
 * loudly. $ASAN_OPTIONS and $UBSAN_OPTIONS still add to or override them
 * (tests/run.sh adds log_path, so a report fails the test that caused it). */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
	/* abort: a report is death by SIGABRT, never an exit status an
	 * applet also uses. No leak check: each applet is one short process
	 * that leaves what it allocated once to exit (as busybox and toybox
	 * do), and LeakSanitizer cannot even run where mdk ends -- chrooted
	 * into a layer without /proc (mdk-unpack), or after its PID
	 * namespace's init is gone, when no task can be cloned (mdk-run).
	 * Leaks that matter, in code called again and again, are the fuzz
	 * targets' to find: libFuzzer checks every input. */
	return "halt_on_error=1:abort_on_error=1:disable_coredump=1:detect_stack_use_after_return=1:"
	       "strict_string_checks=1:check_initialization_order=1:detect_leaks=0";
}

const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:abort_on_error=1:print_stacktrace=1";
}
