/* config.c: a VM's configuration from flags, a JSON file or the API, through one key table
 * (config_keys.c), and checked once (vm_config_validate). */
#include "vm/config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/file.h"
#include "vm/config_keys.h"

#define CONFIG_FILE_MAX (1u << 20)
#define IDE_POSITIONS 4

void vm_config_defaults(struct vm_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mem_size = 256ULL << 20;
	c->ncpus = 1;
	c->console = CONSOLE_STDIO;
	c->on_reboot = REBOOT_EXIT;
	for (unsigned i = 0; i < VM_MAX_DISKS; i++)
		disk_config_defaults(&c->disks[i]);
}

static void lists_clear(struct vm_config *c, const struct key *lk)
{
	if (lk->sub == disk_keys)
		for (unsigned i = 0; i < c->ndisks; i++)
			disk_config_free(&c->disks[i]);
	else
		for (unsigned i = 0; i < c->nnets; i++)
			net_config_free(&c->nets[i]);
	*(unsigned *)((char *)c + lk->count_off) = 0;
}

void vm_config_free(struct vm_config *c)
{
	char **strs[] = {&c->kernel,	    &c->initrd, &c->cmdline,    &c->firmware_path,
			 &c->console_path, &c->name,   &c->api_socket, &c->event_monitor};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(*strs[i]);
	for (const struct key *k = vm_keys; k->flag; k++)
		if (k->type == K_LIST)
			lists_clear(c, k);
	vm_config_defaults(c);
}

/* A new element at the end of list lk, with its defaults; NULL when the list is full. */
static void *list_append(struct vm_config *c, const struct key *lk)
{
	unsigned *n = (unsigned *)((char *)c + lk->count_off);
	void *el;

	if (*n == lk->cap)
		return NULL;
	el = (char *)c + lk->off + (*n)++ * lk->elem_size;
	if (lk->sub == disk_keys)
		disk_config_defaults(el);
	else
		net_config_defaults(el);
	return el;
}

/* --- JSON ---------------------------------------------------------------------------------- */

/* Apply one JSON value to key k of obj; path names it in messages. */
static int apply_json(const struct key *k, void *obj, json_object *v, const char *path,
		      const char *where, struct err *e);

static int apply_scalar(const struct key *k, void *obj, json_object *v, const char *path,
			const char *where, struct err *e)
{
	enum json_type t = json_object_get_type(v);
	struct err inner = {""};
	char num[32];
	const char *s;
	int ret;

	if (k->type == K_BOOL || k->type == K_FLAG) {
		if (t != json_type_boolean)
			return errf(e, -EINVAL, "%s: %s: expected true or false", where, path);
		s = json_object_get_boolean(v) ? "on" : "off";
	} else if (t == json_type_int && (k->type == K_UINT || k->type == K_FUNC)) {
		if (json_object_get_int64(v) < 0)
			return errf(e, -EINVAL, "%s: %s: must not be negative", where, path);
		snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(v));
		s = num;
	} else if (t == json_type_string && k->type != K_UINT) {
		s = json_object_get_string(v);
	} else {
		return errf(e, -EINVAL, "%s: %s: expected %s", where, path,
			    k->type == K_UINT ? "a number" : "a string");
	}
	if ((ret = key_parse(k, obj, s, &inner)))
		return errf(e, ret, "%s: %s: %s", where, path, inner.msg);
	return 0;
}

static int apply_list(const struct key *lk, struct vm_config *c, json_object *v,
		      const char *path, const char *where, struct err *e)
{
	char sub[128];
	int ret;

	if (!json_object_is_type(v, json_type_array))
		return errf(e, -EINVAL, "%s: %s: expected an array", where, path);
	lists_clear(c, lk);
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *el = json_object_array_get_idx(v, i);
		void *obj = list_append(c, lk);

		if (!obj)
			return errf(e, -EINVAL, "%s: %s: at most %u entries", where, path, lk->cap);
		if (!json_object_is_type(el, json_type_object))
			return errf(e, -EINVAL, "%s: %s[%zu]: expected an object", where, path, i);
		json_object_object_foreach(el, name, val) {
			const struct key *k;

			snprintf(sub, sizeof(sub), "%s[%zu].%s", path, i, name);
			for (k = lk->sub; k->json && strcmp(k->json, name); k++)
				;
			if (!k->json)
				return errf(e, -EINVAL, "%s: %s: unknown key", where, sub);
			if ((ret = apply_json(k, obj, val, sub, where, e)))
				return ret;
		}
	}
	return 0;
}

static int apply_json(const struct key *k, void *obj, json_object *v, const char *path,
		      const char *where, struct err *e)
{
	int ret;

	if (k->type == K_LIST)
		return apply_list(k, obj, v, path, where, e);
	if (!k->multi || !json_object_is_type(v, json_type_array))
		return apply_scalar(k, obj, v, path, where, e);
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		char sub[128];

		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if ((ret = apply_scalar(k, obj, json_object_array_get_idx(v, i), sub, where, e)))
			return ret;
	}
	return 0;
}

/* Apply the members of object o, whose dotted path is prefix ("" at the top). */
static int apply_object(struct vm_config *c, json_object *o, const char *prefix,
			const char *where, struct err *e)
{
	char path[128];
	int ret;

	json_object_object_foreach(o, name, val) {
		const struct key *k;
		size_t n;

		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", name);
		n = strlen(path);
		for (k = vm_keys; k->flag && !(k->json && !strcmp(k->json, path)); k++)
			;
		if (k->flag) {
			ret = apply_json(k, c, val, path, where, e);
		} else {
			for (k = vm_keys; k->flag; k++)
				if (k->json && !strncmp(k->json, path, n) && k->json[n] == '.')
					break;
			if (!k->flag)
				return errf(e, -EINVAL, "%s: %s: unknown key", where, path);
			if (!json_object_is_type(val, json_type_object))
				return errf(e, -EINVAL, "%s: %s: expected an object", where, path);
			ret = apply_object(c, val, path, where, e);
		}
		if (ret)
			return ret;
	}
	return 0;
}

int vm_config_from_json(struct vm_config *c, const char *text, const char *where, struct err *e)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *root;
	int ret;

	if (!tok)
		return errf(e, -ENOMEM, "out of memory");
	root = json_tokener_parse_ex(tok, text, (int)strlen(text));
	if (!root || tok->char_offset < (int)strlen(text)) {
		enum json_tokener_error je = json_tokener_get_error(tok);

		ret = errf(e, -EINVAL, "%s: not valid JSON at byte %d: %s", where,
			   (int)tok->char_offset,
			   je == json_tokener_success ? "text after the end"
			   : je == json_tokener_continue ? "unexpected end"
						       : json_tokener_error_desc(je));
	} else if (!json_object_is_type(root, json_type_object)) {
		ret = errf(e, -EINVAL, "%s: expected a JSON object at the top", where);
	} else {
		ret = apply_object(c, root, "", where, e);
	}
	json_object_put(root);
	json_tokener_free(tok);
	return ret;
}

int vm_config_load_file(struct vm_config *c, const char *path, struct err *e)
{
	uint8_t *buf;
	size_t len;
	int ret = file_read_all(path, "configuration file", CONFIG_FILE_MAX, &buf, &len, e);

	if (ret)
		return ret;
	if (memchr(buf, 0, len)) {
		ret = errf(e, -EINVAL, "%s: not a text file (it holds a NUL byte)", path);
	} else {
		char *text = realloc(buf, len + 1);

		if (!text) {
			free(buf);
			return errf(e, -ENOMEM, "out of memory");
		}
		buf = (uint8_t *)text;
		text[len] = 0;
		ret = vm_config_from_json(c, text, path, e);
	}
	free(buf);
	return ret;
}

static void set_path(json_object *root, const char *path, json_object *v)
{
	char buf[128], *dot, *name = buf;

	snprintf(buf, sizeof(buf), "%s", path);
	while ((dot = strchr(name, '.'))) {
		json_object *next;

		*dot = 0;
		if (!json_object_object_get_ex(root, name, &next)) {
			next = json_object_new_object();
			json_object_object_add(root, name, next);
		}
		root = next;
		name = dot + 1;
	}
	json_object_object_add(root, name, v);
}

static json_object *render_list(const struct key *lk, const struct vm_config *c)
{
	unsigned n = *(const unsigned *)((const char *)c + lk->count_off);
	json_object *a = json_object_new_array();

	for (unsigned i = 0; a && i < n; i++) {
		const void *obj = (const char *)c + lk->off + i * lk->elem_size;
		json_object *o = json_object_new_object();

		for (const struct key *k = lk->sub; k->json; k++) {
			json_object *v = key_render(k, obj);

			if (v)
				json_object_object_add(o, k->json, v);
		}
		json_object_array_add(a, o);
	}
	return a;
}

char *vm_config_to_json(const struct vm_config *c, bool pretty)
{
	json_object *root = json_object_new_object();
	char *out;

	if (!root)
		return NULL;
	for (const struct key *k = vm_keys; k->flag; k++) {
		json_object *v = k->type == K_LIST ? render_list(k, c) : key_render(k, c);

		if (v)
			set_path(root, k->json, v);
	}
	out = strdup(json_object_to_json_string_ext(
		root, (pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN) |
			      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return out;
}

/* --- flags --------------------------------------------------------------------------------- */

static const char *config_arg(int argc, char **argv)
{
	const char *path = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			path = argv[++i];
		else if (!strncmp(argv[i], "--config=", 9))
			path = argv[i] + 9;
	}
	return path;
}

int vm_config_from_args(struct vm_config *c, int argc, char **argv, bool *print_config,
			struct err *e)
{
	enum { OPT_CONFIG = 1000, OPT_PRINT, OPT_KEY };
	struct option opts[64];
	bool list_seen[64] = {false};
	struct err inner = {""};
	const char *cfg_file = config_arg(argc, argv);
	unsigned n = 0;
	int o, idx, ret;

	*print_config = false;
	if (cfg_file && (ret = vm_config_load_file(c, cfg_file, e)))
		return ret;
	for (const struct key *k = vm_keys; k->flag; k++, n++)
		opts[n] = (struct option){k->flag, k->type == K_FLAG ? no_argument : required_argument,
					  NULL, OPT_KEY};
	opts[n++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
	opts[n++] = (struct option){"print-config", no_argument, NULL, OPT_PRINT};
	opts[n] = (struct option){NULL, 0, NULL, 0};
	opterr = 0;
	optind = 1;
	while ((o = getopt_long(argc, argv, "+", opts, &idx)) != -1) {
		const struct key *k;

		if (o == OPT_CONFIG)
			continue;
		if (o == OPT_PRINT) {
			*print_config = true;
			continue;
		}
		if (o != OPT_KEY) {
			if (optopt)
				return errf(e, -EINVAL, "option '-%c' is unknown or lacks its argument "
					    "(see `thinvisor help run`)", optopt);
			return errf(e, -EINVAL, "option '%s' is unknown or lacks its argument (see "
				    "`thinvisor help run`)", argv[optind - 1]);
		}
		k = &vm_keys[idx];
		if (k->type == K_FLAG) {
			*(bool *)((char *)c + k->off) = true;
			continue;
		}
		if (k->type == K_LIST) {
			void *el;

			if (!list_seen[idx]) /* flags replace the file's list */
				lists_clear(c, k);
			list_seen[idx] = true;
			if (!(el = list_append(c, k)))
				return errf(e, -EINVAL, "invalid --%s '%s': at most %u may be given",
					    k->flag, optarg, k->cap);
			ret = spec_apply(k, el, optarg, &inner);
		} else {
			ret = key_parse(k, c, optarg, &inner);
		}
		if (ret)
			return errf(e, ret, "invalid --%s '%s': %s", k->flag, optarg, inner.msg);
	}
	if (optind < argc)
		return errf(e, -EINVAL, "unexpected argument '%s' (see `thinvisor help run`)",
			    argv[optind]);
	return 0;
}

/* --- cross-field checks ------------------------------------------------------------------- */

static int validate_disks(struct vm_config *c, struct err *e)
{
	int taken[IDE_POSITIONS] = {-1, -1, -1, -1};
	static const char *const where[] = {"primary master", "primary slave", "secondary master",
					    "secondary slave"};

	for (unsigned i = 0; i < c->ndisks; i++) {
		struct disk_config *d = &c->disks[i];

		if (!d->path)
			return errf(e, -EINVAL, "disk %u: no path= given", i + 1);
		if (d->media == DISK_MEDIA_CDROM) {
			if (d->iface != DISK_IF_IDE)
				return errf(e, -EINVAL, "disk '%s': media=cdrom needs if=ide",
					    d->path);
			d->readonly = true;
		}
		if (d->iface != DISK_IF_IDE) {
			if (d->index >= 0)
				return errf(e, -EINVAL, "disk '%s': index= is for if=ide disks",
					    d->path);
			continue;
		}
		if (d->index < 0)
			continue;
		if (taken[d->index] >= 0)
			return errf(e, -EINVAL, "disks '%s' and '%s' both take IDE position %d (%s)",
				    c->disks[taken[d->index]].path, d->path, d->index,
				    where[d->index]);
		taken[d->index] = (int)i;
	}
	for (unsigned i = 0; i < c->ndisks; i++) { /* the rest in order, into free positions */
		struct disk_config *d = &c->disks[i];
		int p = 0;

		if (d->iface != DISK_IF_IDE || d->index >= 0)
			continue;
		while (p < IDE_POSITIONS && taken[p] >= 0)
			p++;
		if (p == IDE_POSITIONS)
			return errf(e, -EINVAL, "disk '%s': the IDE controller has only 4 positions",
				    d->path);
		taken[p] = (int)i;
		d->index = p;
	}
	return 0;
}

int vm_config_validate(struct vm_config *c, struct err *e)
{
	int ret;

	if (c->firmware == FIRMWARE_DIRECT && !c->kernel)
		return errf(e, -EINVAL, "no kernel given (--kernel PATH, or --firmware bios to "
			    "boot from a disk)");
	if (c->firmware == FIRMWARE_BIOS && (c->kernel || c->initrd))
		return errf(e, -EINVAL, "--kernel and --initrd are for direct boot; with "
			    "--firmware bios the guest boots from its disks");
	if (c->firmware == FIRMWARE_DIRECT && c->boot_order[0] != BOOT_NONE)
		return errf(e, -EINVAL, "--boot is for --firmware bios");
	if (!c->cmdline && c->firmware == FIRMWARE_DIRECT &&
	    !(c->cmdline = strdup(DEFAULT_CMDLINE)))
		return errf(e, -ENOMEM, "out of memory");
	if ((ret = validate_disks(c, e)))
		return ret;
	for (unsigned i = 0; i < c->nnets; i++) {
		struct net_config *n = &c->nets[i];

		if (n->kind == NET_TAP && !n->ifname)
			return errf(e, -EINVAL, "net %u: a tap NIC needs tap=IFNAME", i + 1);
		if (n->kind == NET_USER && n->queues > 1)
			return errf(e, -EINVAL, "net %u: user-mode networking has one queue pair "
				    "(queues=%u is for tap)", i + 1, n->queues);
		if (n->kind == NET_TAP && n->nhostfwd)
			return errf(e, -EINVAL, "net %u: hostfwd= is for user-mode networking "
				    "(--net user)", i + 1);
	}
	return 0;
}

const char *vm_config_name(const struct vm_config *c, char *buf)
{
	if (c->name)
		return c->name;
	snprintf(buf, VM_NAME_MAX + 1, "vm-%d", (int)getpid());
	return buf;
}
