/* mdk-cgroup: list and remove the cgroups of containers, for garbage
 * collectors (m-docker prune) and for cleaning up after a killed mdk-run.
 *
 * usage: mdk-cgroup ls | mdk-cgroup prune | mdk-cgroup rm [-f] ID...
 *
 * Container cgroups live at PARENT/ID in each hierarchy (PARENT is
 * $MDK_CGROUP_PARENT, default m-docker). ls prints "ID running|empty" per
 * container cgroup; prune removes those no mdk-run holds and no task is in,
 * printing each (safe while containers start and run: mdk-run holds an
 * flock on its cgroup from its mkdir on); rm kills what runs in ID's
 * cgroup and removes it -- but not while ID's mdk-run lives (-f: even then). Removal is rmdir with a bounded retry, never rm -rf.
 *
 * Exit codes: 0 ok, 1 failed, 2 usage error, 3 rm refused: running. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mdk.h"

const char cgroup_usage[] =
	"usage: mdk-cgroup ls | prune | rm [-f] ID...\n"
	"Container cgroups are PARENT/ID in every hierarchy ($MDK_CGROUP_PARENT,\n"
	"default m-docker).\n"
	"  ls         print 'ID running' or 'ID empty' for each\n"
	"  prune      remove (and print) those of dead containers; safe while others run\n"
	"  rm [-f] ID...  kill what runs in ID's cgroup and remove it; refused while\n"
	"             ID's mdk-run lives, unless -f\n"
	"Exit codes: 0 ok, 1 failed, 2 usage error, 3 rm refused: the container runs.\n";

static void print_one(const char *id, bool populated, void *arg)
{
	(void)arg;
	printf("%s %s\n", id, populated ? "running" : "empty");
}

static void print_pruned(const char *id, bool used, void *arg)
{
	(void)arg;
	if (!used)
		printf("%s\n", id);
}

int cgroup_main(int argc, char **argv)
{
	int failed = 0;

	if (argc < 2)
		usage_die("expected ls, prune or rm");
	if (!strcmp(argv[1], "ls") || !strcmp(argv[1], "prune")) {
		if (argc != 2)
			usage_die("%s takes no arguments", argv[1]);
		bool prune = argv[1][0] == 'p';
		if (cgroup_list(prune, prune ? print_pruned : print_one, NULL) < 0)
			die_errno("%s cgroups under %s", argv[1], cgroup_parent());
		return 0;
	}
	if (strcmp(argv[1], "rm"))
		usage_die("unknown command '%s'", argv[1]);
	int first = 2;
	bool force = argc > 2 && !strcmp(argv[2], "-f");
	if (force)
		first++;
	if (argc <= first)
		usage_die("rm needs an ID");
	for (int i = first; i < argc; i++)
		if (!valid_name(argv[i]))
			usage_die("invalid container ID '%s'", argv[i]);
	for (int i = first; i < argc; i++) {
		if (!force && cgroup_locked(argv[i])) {
			warn("container '%s' is running (its mdk-run holds the cgroup); not removed", argv[i]);
			failed = failed ? failed : 3;
			continue;
		}
		if (cgroup_destroy(argv[i]) < 0) {
			warn_errno("remove cgroup %s/%s", cgroup_parent(), argv[i]);
			failed = 1;
		}
	}
	return failed;
}
