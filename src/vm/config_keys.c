/* config_keys.c: the tables of every configuration key, and how each value is read and shown. */
#include "vm/config_keys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "x86/platform.h"

#define MIN_MEMORY (16ULL << 20)
#define FIELD(obj, k, type) ((type *)((char *)(obj) + (k)->off))
#define CFIELD(obj, k, type) ((const type *)((const char *)(obj) + (k)->off))

static const char *const bool_true[] = {"on", "true", "yes", "1", NULL};
static const char *const bool_false[] = {"off", "false", "no", "0", NULL};

static int word_index(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

static int expect_names(const char *const *names, struct err *e)
{
	char buf[128] = "";
	size_t n = 0;

	for (int i = 0; names[i]; i++)
		n += (size_t)snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0, "%s%s",
				      i == 0 ? "" : names[i + 1] ? ", " : " or ", names[i]);
	return errf(e, -EINVAL, "expected %s", buf);
}

/* --- custom values ------------------------------------------------------------------------ */

static uint64_t host_ram(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

	return pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : UINT64_MAX;
}

static int parse_memory(void *obj, const char *v, struct err *e)
{
	uint64_t sz;

	if (parse_size(v, &sz))
		return errf(e, -EINVAL, "expected a size like 512M or 2G");
	if (sz < MIN_MEMORY)
		return errf(e, -EINVAL, "at least 16M is needed");
	if (sz & ((1 << 20) - 1))
		return errf(e, -EINVAL, "must be a whole number of MiB");
	if (sz > host_ram())
		return errf(e, -EINVAL, "more than this host's %llu MiB of RAM",
			    (unsigned long long)(host_ram() >> 20));
	((struct vm_config *)obj)->mem_size = sz;
	return 0;
}

static json_object *render_memory(const void *obj)
{
	return json_object_new_int64((int64_t)((const struct vm_config *)obj)->mem_size);
}

static int parse_console(void *obj, const char *v, struct err *e)
{
	static const char *const kinds[] = {"stdio", "file=PATH", "none", "virtio", NULL};
	struct vm_config *c = obj;
	int i = word_index(kinds, v);

	if (!strncmp(v, "file=", 5) && v[5]) {
		free(c->console_path);
		if (!(c->console_path = strdup(v + 5)))
			return -ENOMEM;
		c->console = CONSOLE_FILE;
		return 0;
	}
	if (i < 0 || i == CONSOLE_FILE)
		return expect_names(kinds, e);
	c->console = (enum console_kind)i;
	return 0;
}

static json_object *render_console(const void *obj)
{
	static const char *const kinds[] = {"stdio", "file", "none", "virtio"};
	const struct vm_config *c = obj;
	char buf[4096];

	if (c->console != CONSOLE_FILE)
		return json_object_new_string(kinds[c->console]);
	snprintf(buf, sizeof(buf), "file=%s", c->console_path);
	return json_object_new_string(buf);
}

static int parse_firmware(void *obj, const char *v, struct err *e)
{
	struct vm_config *c = obj;

	free(c->firmware_path);
	c->firmware_path = NULL;
	c->firmware = FIRMWARE_BIOS;
	if (!strcmp(v, "direct"))
		c->firmware = FIRMWARE_DIRECT;
	else if (!*v)
		return errf(e, -EINVAL, "expected direct, bios or the path of a BIOS image");
	else if (strcmp(v, "bios") && !(c->firmware_path = strdup(v)))
		return -ENOMEM;
	return 0;
}

static json_object *render_firmware(const void *obj)
{
	const struct vm_config *c = obj;

	if (c->firmware == FIRMWARE_DIRECT)
		return json_object_new_string("direct");
	return json_object_new_string(c->firmware_path ? c->firmware_path : "bios");
}

static const char *const boot_names[] = {"none", "disk", "cd", NULL};

static int parse_boot(void *obj, const char *v, struct err *e)
{
	struct vm_config *c = obj;
	enum boot_device order[VM_MAX_BOOT] = {BOOT_NONE};
	char buf[64], *save = NULL, *tok;
	unsigned n = 0;

	if (!strncmp(v, "order=", 6))
		v += 6;
	if (strlen(v) >= sizeof(buf) || !*v)
		return errf(e, -EINVAL, "expected a list like cd,disk");
	strcpy(buf, v);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int i = word_index(boot_names, tok);

		if (i <= BOOT_NONE)
			return errf(e, -EINVAL, "unknown boot device '%s': expected disk or cd", tok);
		for (unsigned j = 0; j < n; j++)
			if (order[j] == (enum boot_device)i)
				return errf(e, -EINVAL, "'%s' is named twice", tok);
		order[n++] = (enum boot_device)i; /* at most 2 distinct names < VM_MAX_BOOT */
	}
	memcpy(c->boot_order, order, sizeof(order));
	return 0;
}

static json_object *render_boot(const void *obj)
{
	const struct vm_config *c = obj;
	char buf[64] = "";

	for (unsigned i = 0; i < VM_MAX_BOOT && c->boot_order[i] != BOOT_NONE; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "," : "",
			 boot_names[c->boot_order[i]]);
	return buf[0] ? json_object_new_string(buf) : NULL;
}

static int parse_name(void *obj, const char *v, struct err *e)
{
	struct vm_config *c = obj;
	size_t n = strlen(v);

	if (n == 0 || n > VM_NAME_MAX || v[0] == '.' || v[0] == '-' ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		return errf(e, -EINVAL, "a name is 1 to %d letters, digits, '.', '_' or '-', not "
			    "starting with '.' or '-'", VM_NAME_MAX);
	free(c->name);
	return (c->name = strdup(v)) ? 0 : -ENOMEM;
}

static int parse_event_monitor(void *obj, const char *v, struct err *e)
{
	struct vm_config *c = obj;
	char *end;

	if (!strncmp(v, "fd=", 3)) {
		errno = 0;
		long fd = strtol(v + 3, &end, 10);
		if (errno || *end || end == v + 3 || fd < 0 || fd > INT_MAX)
			return errf(e, -EINVAL, "fd= needs a file descriptor number");
	} else if (strncmp(v, "path=", 5) || !v[5])
		return errf(e, -EINVAL, "expected path=FILE or fd=N");
	free(c->event_monitor);
	return (c->event_monitor = strdup(v)) ? 0 : -ENOMEM;
}

int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	int n = 0;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3],
				      &b[4], &b[5], &n) != 6 || n != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return (mac[0] & 1) ? -EINVAL : 0; /* multicast bit */
}

static int parse_mac_key(void *obj, const char *v, struct err *e)
{
	struct net_config *n = obj;

	if (parse_mac(v, n->mac))
		return errf(e, -EINVAL, "expected a unicast MAC address like 52:54:00:12:34:56");
	n->mac_set = true;
	return 0;
}

static json_object *render_mac(const void *obj)
{
	const struct net_config *n = obj;
	char buf[18];

	if (!n->mac_set)
		return NULL;
	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1],
		 n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
	return json_object_new_string(buf);
}

static int parse_tap(void *obj, const char *v, struct err *e)
{
	struct net_config *n = obj;

	if (!*v || strlen(v) >= 16 || strchr(v, '/'))
		return errf(e, -EINVAL, "expected a network interface name (at most 15 bytes)");
	free(n->ifname);
	if (!(n->ifname = strdup(v)))
		return -ENOMEM;
	n->kind = NET_TAP;
	return 0;
}

static json_object *render_tap(const void *obj)
{
	const struct net_config *n = obj;

	return n->kind == NET_TAP && n->ifname ? json_object_new_string(n->ifname) : NULL;
}

/* "ADDR:PORT" or ":PORT" or "PORT" (host side) into addr/port. */
static int parse_endpoint(const char *s, size_t len, uint32_t *addr, uint16_t *port)
{
	char buf[64], *colon, *end;
	struct in_addr a;
	unsigned long p;

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = 0;
	colon = strrchr(buf, ':');
	*addr = 0;
	if (colon) {
		*colon = 0;
		if (buf[0]) {
			if (inet_pton(AF_INET, buf, &a) != 1)
				return -EINVAL;
			*addr = ntohl(a.s_addr);
		}
	}
	s = colon ? colon + 1 : buf;
	errno = 0;
	p = strtoul(s, &end, 10);
	if (errno || *end || end == s || p == 0 || p > 65535)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

static int parse_hostfwd(void *obj, const char *v, struct err *e)
{
	struct net_config *n = obj;
	struct net_hostfwd f = {0};
	const char *dash;

	if (n->nhostfwd == NET_MAX_HOSTFWD)
		return errf(e, -EINVAL, "at most %d port forwards", NET_MAX_HOSTFWD);
	if (!strncmp(v, "tcp:", 4))
		v += 4;
	else if (!strncmp(v, "udp:", 4)) {
		f.udp = true;
		v += 4;
	}
	dash = strchr(v, '-');
	if (!dash || parse_endpoint(v, (size_t)(dash - v), &f.host_addr, &f.host_port) ||
	    parse_endpoint(dash + 1, strlen(dash + 1), &f.guest_addr, &f.guest_port))
		return errf(e, -EINVAL, "expected [tcp:|udp:][HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT");
	n->hostfwd[n->nhostfwd++] = f;
	return 0;
}

static void put_endpoint(char *buf, size_t len, uint32_t addr, uint16_t port)
{
	struct in_addr a = {.s_addr = htonl(addr)};
	char ip[INET_ADDRSTRLEN] = "";

	if (addr)
		inet_ntop(AF_INET, &a, ip, sizeof(ip));
	snprintf(buf, len, "%s:%u", ip, port);
}

static json_object *render_hostfwd(const void *obj)
{
	const struct net_config *n = obj;
	json_object *a;
	char h[32], g[32], buf[80];

	if (!n->nhostfwd)
		return NULL;
	a = json_object_new_array();
	for (unsigned i = 0; a && i < n->nhostfwd; i++) {
		const struct net_hostfwd *f = &n->hostfwd[i];

		put_endpoint(h, sizeof(h), f->host_addr, f->host_port);
		put_endpoint(g, sizeof(g), f->guest_addr, f->guest_port);
		snprintf(buf, sizeof(buf), "%s:%s-%s", f->udp ? "udp" : "tcp", h, g);
		json_object_array_add(a, json_object_new_string(buf));
	}
	return a;
}

static int parse_format(void *obj, const char *v, struct err *e)
{
	static const char *const fmts[] = {"raw", "vhd", "vhdx", NULL};
	struct disk_config *d = obj;

	if (word_index(fmts, v) < 0)
		return expect_names(fmts, e);
	free(d->format);
	return (d->format = strdup(v)) ? 0 : -ENOMEM;
}

static json_object *render_format(const void *obj)
{
	const struct disk_config *d = obj;

	return d->format ? json_object_new_string(d->format) : NULL;
}

static int parse_serial(void *obj, const char *v, struct err *e)
{
	struct disk_config *d = obj;
	size_t n = strlen(v);

	if (n > DISK_SERIAL_MAX)
		return errf(e, -EINVAL, "at most %d characters", DISK_SERIAL_MAX);
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return errf(e, -EINVAL, "printable ASCII only");
	free(d->serial);
	return (d->serial = strdup(v)) ? 0 : -ENOMEM;
}

static int parse_index(void *obj, const char *v, struct err *e)
{
	struct disk_config *d = obj;

	if (strlen(v) != 1 || v[0] < '0' || v[0] > '3')
		return errf(e, -EINVAL, "expected 0 to 3 (primary master, primary slave, "
			    "secondary master, secondary slave)");
	d->index = v[0] - '0';
	return 0;
}

static json_object *render_index(const void *obj)
{
	const struct disk_config *d = obj;

	return d->iface == DISK_IF_IDE && d->index >= 0 ? json_object_new_int(d->index) : NULL;
}

/* --- the tables --------------------------------------------------------------------------- */

static const char *const reboot_names[] = {"exit", "restart", NULL};
static const char *const transport_names[] = {"pci", "mmio", NULL};
static const char *const cache_names[] = {"writeback", "none", NULL};
static const char *const if_names[] = {"virtio", "ide", NULL};
static const char *const media_names[] = {"disk", "cdrom", NULL};
static const char *const net_names[] = {"user", "tap", NULL};

#define VO(f) offsetof(struct vm_config, f)
#define DO(f) offsetof(struct disk_config, f)
#define NO(f) offsetof(struct net_config, f)

const struct key disk_keys[] = {
	{.flag = "path", .json = "path", .type = K_STR, .off = DO(path)},
	{.flag = "format", .json = "format", .type = K_FUNC, .parse = parse_format,
	 .render = render_format},
	{.flag = "readonly", .json = "readonly", .type = K_BOOL, .off = DO(readonly)},
	{.flag = "cache", .json = "cache", .type = K_ENUM, .off = DO(cache), .names = cache_names},
	{.flag = "serial", .json = "serial", .type = K_FUNC, .off = DO(serial),
	 .parse = parse_serial},
	{.flag = "queues", .json = "num_queues", .type = K_UINT, .off = DO(queues), .min = 1,
	 .max = 16},
	{.flag = "if", .json = "interface", .type = K_ENUM, .off = DO(iface), .names = if_names},
	{.flag = "media", .json = "media", .type = K_ENUM, .off = DO(media), .names = media_names},
	{.flag = "index", .json = "index", .type = K_FUNC, .parse = parse_index,
	 .render = render_index},
	{0},
};

const struct key net_keys[] = {
	{.flag = "mode", .json = "mode", .type = K_ENUM, .off = NO(kind), .names = net_names},
	{.flag = "tap", .json = "tap", .type = K_FUNC, .parse = parse_tap, .render = render_tap},
	{.flag = "mac", .json = "mac", .type = K_FUNC, .parse = parse_mac_key, .render = render_mac},
	{.flag = "queues", .json = "num_queues", .type = K_UINT, .off = NO(queues), .min = 1,
	 .max = 8},
	{.flag = "hostfwd", .json = "hostfwd", .type = K_FUNC, .multi = true,
	 .parse = parse_hostfwd, .render = render_hostfwd},
	{0},
};

const struct key vm_keys[] = {
	{.flag = "kernel", .json = "payload.kernel", .type = K_STR, .off = VO(kernel)},
	{.flag = "initrd", .json = "payload.initramfs", .type = K_STR, .off = VO(initrd)},
	{.flag = "cmdline", .json = "payload.cmdline", .type = K_STR, .off = VO(cmdline)},
	{.flag = "firmware", .json = "payload.firmware", .type = K_FUNC, .parse = parse_firmware,
	 .render = render_firmware},
	{.flag = "boot", .json = "boot.order", .type = K_FUNC, .parse = parse_boot,
	 .render = render_boot},
	{.flag = "memory", .json = "memory.size", .type = K_FUNC, .parse = parse_memory,
	 .render = render_memory},
	{.flag = "cpus", .json = "cpus.boot_vcpus", .type = K_UINT, .off = VO(ncpus), .min = 1,
	 .max = PLAT_MAX_CPUS},
	{.flag = "console", .json = "console", .type = K_FUNC, .parse = parse_console,
	 .render = render_console},
	{.flag = "on-reboot", .json = "on_reboot", .type = K_ENUM, .off = VO(on_reboot),
	 .names = reboot_names},
	{.flag = "transport", .json = "transport", .type = K_ENUM, .off = VO(transport),
	 .names = transport_names},
	{.flag = "rng", .json = "rng", .type = K_FLAG, .off = VO(rng)},
	{.flag = "disk", .json = "disks", .type = K_LIST, .off = VO(disks), .sub = disk_keys,
	 .count_off = VO(ndisks), .elem_size = sizeof(struct disk_config), .cap = VM_MAX_DISKS},
	{.flag = "net", .json = "net", .type = K_LIST, .off = VO(nets), .sub = net_keys,
	 .count_off = VO(nnets), .elem_size = sizeof(struct net_config), .cap = VM_MAX_NETS},
	{.flag = "name", .json = "name", .type = K_FUNC, .off = VO(name), .parse = parse_name},
	{.flag = "api-socket", .json = "api_socket", .type = K_STR, .off = VO(api_socket)},
	{.flag = "event-monitor", .json = "event_monitor", .type = K_FUNC,
	 .off = VO(event_monitor), .parse = parse_event_monitor},
	{.flag = "testdev", .json = "testdev", .type = K_FLAG, .off = VO(testdev)},
	{.flag = "stats", .json = "stats", .type = K_FLAG, .off = VO(stats)},
	{0},
};

/* --- reading and showing values ----------------------------------------------------------- */

int key_parse(const struct key *k, void *obj, const char *v, struct err *e)
{
	unsigned long u;
	char *end;
	int i;

	switch (k->type) {
	case K_STR:
		if (!*v)
			return errf(e, -EINVAL, "must not be empty");
		free(*FIELD(obj, k, char *));
		return (*FIELD(obj, k, char *) = strdup(v)) ? 0 : -ENOMEM;
	case K_BOOL:
	case K_FLAG:
		if (word_index(bool_true, v) >= 0)
			*FIELD(obj, k, bool) = true;
		else if (word_index(bool_false, v) >= 0)
			*FIELD(obj, k, bool) = false;
		else
			return errf(e, -EINVAL, "expected on or off");
		return 0;
	case K_UINT:
		errno = 0;
		u = strtoul(v, &end, 10);
		if (errno || *end || end == v || v[0] == '-' || u < k->min || u > k->max)
			return errf(e, -EINVAL, "must be between %u and %u", k->min, k->max);
		*FIELD(obj, k, unsigned) = (unsigned)u;
		return 0;
	case K_ENUM:
		if ((i = word_index(k->names, v)) < 0)
			return expect_names(k->names, e);
		*FIELD(obj, k, int) = i;
		return 0;
	case K_FUNC:
		return k->parse(obj, v, e);
	case K_LIST:
		break;
	}
	return errf(e, -EINVAL, "not a single value");
}

json_object *key_render(const struct key *k, const void *obj)
{
	const char *s;

	switch (k->type) {
	case K_STR:
		s = *CFIELD(obj, k, char *);
		return s ? json_object_new_string(s) : NULL;
	case K_BOOL:
	case K_FLAG:
		return json_object_new_boolean(*CFIELD(obj, k, bool));
	case K_UINT:
		return *CFIELD(obj, k, unsigned) ? json_object_new_int64(*CFIELD(obj, k, unsigned))
						 : NULL;
	case K_ENUM:
		return json_object_new_string(k->names[*CFIELD(obj, k, int)]);
	case K_FUNC:
		if (k->render)
			return k->render(obj);
		s = *CFIELD(obj, k, char *); /* a validated string field */
		return s ? json_object_new_string(s) : NULL;
	case K_LIST:
		break;
	}
	return NULL;
}

void disk_config_defaults(struct disk_config *d)
{
	memset(d, 0, sizeof(*d));
	d->index = -1;
}

void net_config_defaults(struct net_config *n)
{
	memset(n, 0, sizeof(*n));
}

void disk_config_free(struct disk_config *d)
{
	free(d->path);
	free(d->format);
	free(d->serial);
	disk_config_defaults(d);
}

void net_config_free(struct net_config *n)
{
	free(n->ifname);
	net_config_defaults(n);
}

int spec_apply(const struct key *lk, void *obj, const char *spec, struct err *e)
{
	char *copy = strdup(spec), *save = NULL, *tok;
	struct err inner = {""};
	int ret = 0;
	bool first = true;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		const char *name = tok, *val;
		const struct key *k;

		if (eq) {
			*eq = 0;
			val = eq + 1;
		} else if (first) { /* the shorthand: a disk's path, a NIC's mode */
			name = lk->sub[0].flag;
			val = tok;
		} else {
			ret = errf(e, -EINVAL, "'%s' needs a value (%s=...)", tok, tok);
			goto out;
		}
		first = false;
		for (k = lk->sub; k->flag && strcmp(k->flag, name); k++)
			;
		if (!k->flag) {
			ret = errf(e, -EINVAL, "unknown key '%s'", name);
			goto out;
		}
		if ((ret = key_parse(k, obj, val, &inner))) {
			errf(e, ret, "%s: %s", name, inner.msg);
			goto out;
		}
	}
out:
	free(copy);
	return ret;
}
