/* vmc.c: the .vmc reader (vmc.h), with libxml2 (opened with dlopen: `thinvisor run` does not
 * map it). */
#include "import/vmc.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "util/dynlib.h"

/* The libxml2 calls made here, resolved by load_xml (util/dynlib.h); process-wide like the
 * dynamic linker's own tables. */
static struct {
	__typeof__(&xmlReadMemory) read_memory;
	__typeof__(&xmlGetLastError) last_error;
	__typeof__(&xmlDocGetRootElement) root;
	__typeof__(&xmlNodeGetContent) content;
	__typeof__(&xmlGetProp) prop;
	__typeof__(&xmlFreeDoc) free_doc;
	xmlFreeFunc *free_fn; /* libxml2's xmlFree variable */
} lx;

static int load_xml(struct err *e)
{
	static const struct dynsym syms[] = {
		DYNSYM(&lx, read_memory, xmlReadMemory), DYNSYM(&lx, last_error, xmlGetLastError),
		DYNSYM(&lx, root, xmlDocGetRootElement), DYNSYM(&lx, content, xmlNodeGetContent),
		DYNSYM(&lx, prop, xmlGetProp),		 DYNSYM(&lx, free_doc, xmlFreeDoc),
		DYNSYM(&lx, free_fn, xmlFree),
	};

	return dynlib_load("libxml2.so.2", "libxml2", "reading .vmc files", syms,
			   sizeof(syms) / sizeof(syms[0]), e);
}

static void xfree(void *p)
{
	(*lx.free_fn)(p);
}

static bool is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

/* The first element child of n called name, or NULL. */
static xmlNode *child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (is(c, name))
			return c;
	return NULL;
}

/* Follow a slash-separated path of element names from n. */
static xmlNode *path(const xmlNode *n, const char *p)
{
	char buf[128], *save = NULL;
	xmlNode *cur = (xmlNode *)n;

	snprintf(buf, sizeof(buf), "%s", p);
	for (char *t = strtok_r(buf, "/", &save); t && cur; t = strtok_r(NULL, "/", &save))
		cur = child(cur, t);
	return cur;
}

/* The trimmed text of n as a new string; NULL when n is absent or empty. */
static char *text(const xmlNode *n)
{
	xmlChar *t = n ? lx.content(n) : NULL;
	char *s, *b, *end;

	if (!t)
		return NULL;
	for (b = (char *)t; isspace((unsigned char)*b); b++)
		;
	end = b + strlen(b);
	while (end > b && isspace((unsigned char)end[-1]))
		end--;
	s = end > b ? strndup(b, (size_t)(end - b)) : NULL;
	xfree(t);
	return s;
}

static int attr_int(const xmlNode *n, const char *name, int dflt)
{
	xmlChar *a = lx.prop(n, (const xmlChar *)name);
	int v = dflt;

	if (a) {
		char *end;
		long l = strtol((const char *)a, &end, 10);

		if (end != (char *)a && !*end && l >= 0 && l < 1000)
			v = (int)l;
		xfree(a);
	}
	return v;
}

static bool boolean(const xmlNode *n)
{
	char *t = text(n);
	bool v = t && !strcmp(t, "true");

	free(t);
	return v;
}

static void warn(struct vmc *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct vmc *v, const char *fmt, ...)
{
	va_list ap;

	if (v->nwarn == VMC_MAX_WARN)
		return;
	va_start(ap, fmt);
	vsnprintf(v->warn[v->nwarn++], VMC_WARN_LEN, fmt, ap);
	va_end(ap);
}

static int parse_disks(const xmlNode *root, const char *name, struct vmc *v, struct err *e)
{
	xmlNode *ide = path(root, "hardware/pci_bus/ide_adapter");

	for (xmlNode *c = ide ? ide->children : NULL; c; c = c->next) {
		int ch = attr_int(c, "id", -1);

		if (!is(c, "ide_controller"))
			continue;
		for (xmlNode *l = c->children; l; l = l->next) {
			int unit = attr_int(l, "id", -1), type;
			char *t;
			struct vmc_disk *d;

			if (!is(l, "location"))
				continue;
			t = text(child(l, "drive_type"));
			type = t ? atoi(t) : 0;
			free(t);
			if (type == 0)
				continue; /* an empty position */
			if (ch < 0 || ch > 1 || unit < 0 || unit > 1)
				return errf(e, -EINVAL, "%s: IDE location %d:%d does not exist (0:0 to "
					    "1:1)", name, ch, unit);
			if (type != 1 && type != 2)
				return errf(e, -EINVAL, "%s: IDE location %d:%d: drive_type %d is "
					    "neither 1 (disk) nor 2 (CD)", name, ch, unit, type);
			d = &v->disks[v->ndisks];
			d->channel = ch;
			d->unit = unit;
			d->cdrom = type == 2;
			d->absolute = text(path(l, "pathname/absolute"));
			d->relative = text(path(l, "pathname/relative"));
			if (d->cdrom && !d->absolute && !d->relative) {
				warn(v, "IDE %d:%d: CD drive with no image (the host's drive or empty): "
				     "left out", ch, unit);
				free(d->absolute);
				free(d->relative);
				memset(d, 0, sizeof(*d));
				continue;
			}
			v->ndisks++;
		}
	}
	return 0;
}

static void parse_nics(const xmlNode *root, struct vmc *v)
{
	xmlNode *eth = path(root, "hardware/pci_bus/ethernet_adapter");

	for (xmlNode *c = eth ? eth->children : NULL; c && v->nnics < VMC_MAX_NICS; c = c->next) {
		struct vmc_nic *n = &v->nics[v->nnics];
		char *mac;

		if (!is(c, "ethernet_controller"))
			continue;
		n->id = attr_int(c, "id", (int)v->nnics);
		n->network = text(path(c, "virtual_network/name"));
		mac = text(child(c, "ethernet_card_address"));
		if (mac && strlen(mac) == 12) {
			n->mac_set = true;
			for (int i = 0; i < 6; i++) {
				unsigned b;

				if (sscanf(mac + 2 * i, "%2x", &b) != 1)
					n->mac_set = false;
				n->mac[i] = (uint8_t)b;
			}
		}
		free(mac);
		v->nnics++;
	}
}

/* Whether n names a host file or port below it: a non-empty pathname or port_name. */
static bool connected(const xmlNode *n)
{
	for (xmlNode *c = n->children; c; c = c->next) {
		char *t;
		bool yes;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!is(c, "absolute") && !is(c, "relative") && !is(c, "port_name")) {
			if (connected(c))
				return true;
			continue;
		}
		t = text(c);
		yes = t && strcasecmp(t, "none") && strcasecmp(t, "disconnected");
		free(t);
		if (yes)
			return true;
	}
	return false;
}

/* Element children of the node at p in root whose names are not in known (NULL-terminated),
 * and (if need_connection) that name a host file or port: one warning each. */
static void warn_unknown(const xmlNode *root, const char *p, const char *const *known,
			 bool need_connection, struct vmc *v)
{
	const xmlNode *at = path(root, p);

	for (xmlNode *c = at ? at->children : NULL; c; c = c->next) {
		bool k = false;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		for (unsigned i = 0; known[i]; i++)
			k |= is(c, known[i]);
		if (!k && (!need_connection || connected(c)))
			warn(v, "%s/%s: not imported (thinvisor has no such device or setting)", p,
			     (const char *)c->name);
	}
}

/* What thinvisor does not carry over: one line each. */
static void parse_rest(const xmlNode *root, struct vmc *v)
{
	static const char *const hw[] = {"bios", "memory", "pci_bus", "standard", "super_io",
					 NULL};
	static const char *const pci[] = {"ide_adapter", "ethernet_adapter", "scsi_adapter",
					  NULL};
	static const char *const sio_known[] = {"serial_port", NULL};
	static const char *const none[] = {NULL};

	xmlNode *sio = path(root, "hardware/super_io"), *scsi;

	for (xmlNode *c = sio ? sio->children : NULL; c; c = c->next) {
		char *port;

		if (!is(c, "serial_port"))
			continue;
		port = text(child(c, "port_name"));
		if (attr_int(c, "id", 0) == 0)
			warn(v, "serial port 1 (%s on the host): the guest's COM1 is thinvisor's "
			     "console (--console)", port ? port : "none");
		else
			warn(v, "serial port %d (%s on the host): not imported (thinvisor has one "
			     "serial port, COM1)", attr_int(c, "id", 0) + 1, port ? port : "none");
		free(port);
	}
	scsi = path(root, "hardware/pci_bus/scsi_adapter");
	for (xmlNode *c = scsi ? scsi->children : NULL; c; c = c->next)
		if (is(c, "scsi_controller"))
			warn(v, "SCSI controller %d: not imported (thinvisor has no SCSI "
			     "adapter; attach its disks with if=ide)", attr_int(c, "id", 0));
	warn_unknown(root, "hardware", hw, false, v);
	warn_unknown(root, "hardware/pci_bus", pci, false, v);
	warn_unknown(root, "hardware/super_io", sio_known, true, v); /* floppy, parallel port */
	warn_unknown(root, "settings/shared_folders", none, false, v);
}

int vmc_parse(const uint8_t *buf, size_t len, const char *name, struct vmc *v, struct err *e)
{
	xmlDoc *doc;
	xmlNode *root;
	char *ram;
	int ret = 0;

	memset(v, 0, sizeof(*v));
	if (len < 2 || !((buf[0] == 0xff && buf[1] == 0xfe) || (buf[0] == 0xfe && buf[1] == 0xff)))
		return errf(e, -EINVAL, "%s: not a .vmc file (no UTF-16 byte-order mark: .vmc files "
			    "are UTF-16 XML)", name);
	if (len > 16u << 20)
		return errf(e, -EINVAL, "%s: larger than 16 MiB, not a .vmc file", name);
	ret = load_xml(e);
	if (ret)
		return ret;
	doc = lx.read_memory((const char *)buf, (int)len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *x = lx.last_error();

		return errf(e, -EINVAL, "%s: not well-formed XML (line %d)", name, x ? x->line : 0);
	}
	root = lx.root(doc);
	if (!is(root, "preferences")) {
		ret = errf(e, -EINVAL, "%s: the root element is <%s>, not <preferences>", name,
			   root ? (const char *)root->name : "");
		goto free_doc;
	}
	ram = text(path(root, "hardware/memory/ram_size"));
	if (!ram) {
		ret = errf(e, -EINVAL, "%s: no memory size (hardware/memory/ram_size)", name);
		goto free_doc;
	} else {
		char *end;
		unsigned long long mb = strtoull(ram, &end, 10);

		if (end == ram || *end || !mb || mb > (1ULL << 22))
			ret = errf(e, -EINVAL, "%s: ram_size '%s' is not a number of MB", name, ram);
		v->ram_mb = mb;
		free(ram);
		if (ret)
			goto free_doc;
	}
	ret = parse_disks(root, name, v, e);
	if (ret)
		goto free_doc;
	parse_nics(root, v);
	v->undo = boolean(path(root, "settings/undo_drives/enabled"));
	parse_rest(root, v);
free_doc:
	lx.free_doc(doc);
	if (ret)
		vmc_free(v);
	return ret;
}

void vmc_free(struct vmc *v)
{
	for (unsigned i = 0; i < VMC_MAX_DISKS; i++) {
		free(v->disks[i].absolute);
		free(v->disks[i].relative);
		v->disks[i].absolute = v->disks[i].relative = NULL;
	}
	for (unsigned i = 0; i < VMC_MAX_NICS; i++) {
		free(v->nics[i].network);
		v->nics[i].network = NULL;
	}
}

char *vmc_host_path(const char *win, const char *dir, const char *drive_root)
{
	const char *p = win;
	char *s, *out = NULL;
	bool abs = false;
	size_t n;

	if (isalpha((unsigned char)p[0]) && p[1] == ':') {
		abs = true;
		p += 2;
	} else if (p[0] == '\\' || p[0] == '/') {
		abs = true;
	}
	s = strdup(p);
	if (!s)
		return NULL;
	for (char *c = s; *c; c++)
		if (*c == '\\')
			*c = '/';
	p = s;
	if (!abs)
		while (p[0] == '.' && p[1] == '/')
			p += 2;
	if (abs) {
		const char *root = drive_root ? drive_root : "";

		n = strlen(root) + strlen(p) + 2;
		out = malloc(n);
		if (out)
			snprintf(out, n, "%s%s%s", root, p[0] == '/' ? "" : "/", p);
	} else {
		n = strlen(dir) + strlen(p) + 2;
		out = malloc(n);
		if (out)
			snprintf(out, n, "%s/%s", dir, p);
	}
	free(s);
	return out;
}
