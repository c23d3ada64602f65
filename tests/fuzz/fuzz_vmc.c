/* fuzz_vmc.c: Virtual PC / Virtual Server .vmc files from fuzz input (vmc_parse), and the
 * Windows path mapping of what it found. */
#include <stdint.h>
#include <stdlib.h>

#include "import/vmc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmc v;
	struct err e;

	if (vmc_parse(data, size, "fuzz.vmc", &v, &e))
		return 0;
	for (unsigned i = 0; i < v.ndisks; i++) {
		if (v.disks[i].absolute)
			free(vmc_host_path(v.disks[i].absolute, "/d", "/mnt/c"));
		if (v.disks[i].relative)
			free(vmc_host_path(v.disks[i].relative, "/d", NULL));
	}
	vmc_free(&v);
	return 0;
}
