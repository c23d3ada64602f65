/* config_json.c: the effective configuration as vm.info shows it (Cloud Hypervisor's
 * VmConfig layout where both have a setting). */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "vm/vm.h"

char *api_config_json(const struct vm *vm);

char *api_config_json(const struct vm *vm)
{
	const struct vm_config *c = &vm->cfg;
	struct json_object *o = json_object_new_object(), *p = json_object_new_object();
	struct json_object *cpus = json_object_new_object(), *mem = json_object_new_object();
	char *s;

	json_object_object_add(p, "kernel", json_object_new_string(c->kernel ? c->kernel : ""));
	if (c->initrd)
		json_object_object_add(p, "initramfs", json_object_new_string(c->initrd));
	if (c->cmdline)
		json_object_object_add(p, "cmdline", json_object_new_string(c->cmdline));
	json_object_object_add(o, "payload", p);
	json_object_object_add(cpus, "boot_vcpus", json_object_new_int64(c->ncpus));
	json_object_object_add(cpus, "max_vcpus", json_object_new_int64(c->ncpus));
	json_object_object_add(o, "cpus", cpus);
	json_object_object_add(mem, "size", json_object_new_int64((int64_t)c->mem_size));
	json_object_object_add(o, "memory", mem);
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}
