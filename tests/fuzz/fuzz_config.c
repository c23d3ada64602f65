/* fuzz_config.c: a configuration file, a --disk spec and a --net spec from fuzz input. The
 * first byte picks which; a parsed configuration must render to JSON that reads back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const flags[] = {"--disk", "--net", "--boot", "--console"};
	struct vm_config c, back;
	struct err e;
	bool print;
	char *text, *json;

	if (size < 1 || size > 65536)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	vm_config_defaults(&c);
	if (data[0] & 1) {
		char *argv[] = {"run", "--kernel", "k", (char *)flags[(data[0] >> 1) & 3], text, NULL};

		vm_config_from_args(&c, 5, argv, &print, &e);
	} else {
		vm_config_from_json(&c, text, "fuzz", &e);
	}
	if (vm_config_validate(&c, &e) == 0 && (json = vm_config_to_json(&c, false))) {
		vm_config_defaults(&back);
		if (vm_config_from_json(&back, json, "rendered", &e))
			abort(); /* what we write must read back */
		vm_config_free(&back);
		free(json);
	}
	vm_config_free(&c);
	free(text);
	return 0;
}
