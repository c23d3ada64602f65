/* counters.c: the per-VM registry of device counter sets. */
#include "vm/counters.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm.h"

int vm_counters_register(struct vm *vm, const char *id, const char *kind,
			 const char *const *names, const atomic_ullong *values, unsigned n)
{
	struct counter_set *s;
	size_t len = id ? strlen(id) : 0;

	if (!len || len >= COUNTER_ID_MAX || !n || !names || !values)
		return -EINVAL;
	for (unsigned i = 0; i < vm->ncounter_sets; i++)
		if (!strcmp(vm->counter_sets[i].id, id))
			return -EEXIST;
	s = realloc(vm->counter_sets, (vm->ncounter_sets + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	vm->counter_sets = s;
	s = &s[vm->ncounter_sets++];
	memcpy(s->id, id, len + 1);
	s->kind = kind;
	s->names = names;
	s->values = values;
	s->n = n;
	return 0;
}

void vm_counters_free(struct vm *vm)
{
	free(vm->counter_sets);
	vm->counter_sets = NULL;
	vm->ncounter_sets = 0;
}
