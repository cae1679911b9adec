/* libFuzzer target: a docker/OCI JSON seccomp profile as mdk-run
 * --security-opt seccomp=FILE compiles it (src/seccomp.c), for a
 * container with docker's default capabilities. A profile is the host
 * user's, but mdk-oci takes it from a bundle: parsed defensively. */
#include <stdint.h>
#include <stdlib.h>

#include "mdk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *filter;
	char err[512];

	if (size > 1 << 20)
		return 0;
	if (seccomp_compile((const char *)data, size, caps_default(), &filter, err, sizeof(err)) == 0)
		seccomp_filter_free(filter);
	return 0;
}
