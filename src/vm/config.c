#include "vm/config.h"

#include <string.h>

void vm_config_defaults(struct vm_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mem_size = 256ULL << 20;
	c->ncpus = 1;
	c->console = CONSOLE_STDIO;
	c->on_reboot = REBOOT_EXIT;
}
