/* config_keys.h: the key tables behind config.h (private to src/vm/config*.c and its tests).
 * A key names a field of one struct (vm_config, disk_config or net_config) by offset, its flag
 * spelling and its JSON name, and how a value is read from text and rendered back. */
#ifndef TV_CONFIG_KEYS_H
#define TV_CONFIG_KEYS_H

#include <json-c/json.h>
#include <stddef.h>

#include "vm/config.h"

enum key_type {
	K_STR,   /* char *, strdup'd */
	K_BOOL,  /* bool: on/off, true/false, yes/no, 1/0; JSON true/false */
	K_FLAG,  /* bool set by a flag without argument; JSON true/false */
	K_UINT,  /* unsigned within [min, max]; JSON integer */
	K_ENUM,  /* int-sized enum, by name from names[]; JSON string */
	K_FUNC,  /* parse()/render() of its own; JSON string (or array of strings if multi) */
	K_LIST,  /* a list of sub-structs (disks, net); JSON array of objects */
};

struct key {
	const char *flag;   /* flag name, or the key inside a --disk/--net spec; NULL: JSON only */
	const char *json;   /* dotted JSON path; NULL: flag only */
	enum key_type type;
	size_t off;         /* offset of the field */
	const char *const *names; /* K_ENUM: names indexed by value, NULL-terminated */
	unsigned min, max;  /* K_UINT */
	bool multi;         /* K_FUNC: repeatable in a spec; a JSON array of strings */
	/* K_FUNC: read text into the struct at obj; 0, or -EINVAL with the reason in e */
	int (*parse)(void *obj, const char *val, struct err *e);
	/* K_FUNC: the value as JSON (NULL: leave the key out); for multi keys, an array.
	 * Without render, the field at off is a string shown as it is. */
	json_object *(*render)(const void *obj);
	/* K_LIST: its sub-keys, the count field's offset, element size and capacity */
	const struct key *sub;
	size_t count_off, elem_size;
	unsigned cap;
};

extern const struct key vm_keys[];   /* NULL-flag-and-json terminated */
extern const struct key disk_keys[];
extern const struct key net_keys[];

/* Read text val into the field key k names in obj (K_STR replaces and frees the old string).
 * Returns 0, or -EINVAL with the reason (not the key's name) in e. */
int key_parse(const struct key *k, void *obj, const char *val, struct err *e);

/* The field's value as JSON, or NULL for an unset string. */
json_object *key_render(const struct key *k, const void *obj);

/* Set the defaults of a disk or a NIC; free its strings and set the defaults again. */
void disk_config_defaults(struct disk_config *d);
void net_config_defaults(struct net_config *n);
void disk_config_free(struct disk_config *d);
void net_config_free(struct net_config *n);

/* Apply a --disk/--net style spec "k=v,k=v" (a bare first word is the list's shorthand: a
 * disk's path, a NIC's mode) to obj. 0 or -EINVAL with "KEY: why" in e. */
int spec_apply(const struct key *list_key, void *obj, const char *spec, struct err *e);

#endif
