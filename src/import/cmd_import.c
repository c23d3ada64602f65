/* cmd_import.c: `thinvisor import MACHINE.vmc [-o vm.json] [--dry-run] [--drive-root DIR]`:
 * a Virtual PC / Virtual Server machine as a thinvisor configuration file (the format of
 * --config, written by vm_config_to_json): BIOS boot, its memory, its IDE disks and CDs at their
 * positions, its NICs' MACs, undo disks as new differencing children. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/vhd.h"
#include "cmds.h"
#include "import/vmc.h"
#include "util/file.h"
#include "util/log.h"
#include "vm/config.h"

struct import_opts {
	const char *vmc, *out, *drive_root;
	bool dry_run;
};

void help_import(void)
{
	printf("usage: thinvisor import MACHINE.vmc [-o vm.json] [--dry-run] [--drive-root DIR]\n"
	       "\n"
	       "Turn a Virtual PC / Virtual Server machine (.vmc) into a thinvisor configuration\n"
	       "file for `thinvisor run --config`: BIOS boot, the machine's memory, its IDE disks\n"
	       "and CD images at the same channel and position, its network adapters' MACs.\n"
	       "A disk is looked for at its relative path next to the .vmc first, then at its\n"
	       "absolute path with backslashes as slashes and the drive letter replaced by\n"
	       "--drive-root (default: dropped, C:\\VMs\\a.vhd is /VMs/a.vhd). With undo disks on\n"
	       "in the .vmc, each disk gets a new differencing VHD (NAME-undo-C-U.vhd beside the\n"
	       "output) that the configuration uses, so the original stays untouched. What the\n"
	       "machine has that thinvisor does not do is listed, one warning line each.\n"
	       "\n"
	       "  -o FILE        write the configuration to FILE (default: standard output)\n"
	       "  --dry-run      print the configuration and what would be created; write nothing\n"
	       "  --drive-root DIR  what a Windows drive letter stands for\n");
}

/* The first existing file among the .vmc's relative and absolute paths; else NULL with every
 * tried path in e. */
static char *find_disk(const struct vmc_disk *d, const char *dir, const struct import_opts *o,
		       const char *name, struct err *e)
{
	char *cand[2] = {NULL, NULL}, *found = NULL, tried[600] = "";
	size_t used = 0;

	if (d->relative)
		cand[0] = vmc_host_path(d->relative, dir, NULL);
	if (d->absolute)
		cand[1] = vmc_host_path(d->absolute, dir, o->drive_root);
	for (int i = 0; i < 2 && !found; i++) {
		if (!cand[i])
			continue;
		if (access(cand[i], R_OK) == 0) {
			found = cand[i];
			cand[i] = NULL;
		} else {
			used += (size_t)snprintf(tried + used, sizeof(tried) - used, "%s'%s'",
						 used ? ", " : "", cand[i]);
			if (used >= sizeof(tried))
				used = sizeof(tried) - 1;
		}
	}
	if (!found)
		errf(e, -ENOENT, "%s: IDE %d:%d: %s not found (tried %s)", name, d->channel, d->unit,
		     d->cdrom ? "CD image" : "disk", used ? tried : "no path given");
	free(cand[0]);
	free(cand[1]);
	return found;
}

/* The undo child of disk d: a new differencing VHD over parent in outdir. */
static char *undo_child(const char *parent, const char *outdir, const char *vmname,
			const struct vmc_disk *d, bool dry_run, struct err *e)
{
	struct vhd_create_opts vo = {.type = VHD_TYPE_DIFF, .parent = parent};
	char *path = NULL, *dir = realpath(outdir, NULL);
	int n = dir ? asprintf(&path, "%s/%s-undo-%d-%d.vhd", dir, vmname, d->channel, d->unit) : -1;

	free(dir);
	if (n < 0) {
		errf(e, -ENOENT, "output directory '%s' does not exist", outdir);
		return NULL;
	}
	if (dry_run) {
		printf("# would create %s (differencing, parent %s)\n", path, parent);
		return path;
	}
	if (vhd_create(path, &vo, e)) {
		free(path);
		return NULL;
	}
	fprintf(stderr, "thinvisor import: created undo disk %s over %s\n", path, parent);
	return path;
}

static char *absolute(const char *p)
{
	char *r = realpath(p, NULL);

	return r ? r : strdup(p);
}

/* The configuration for v; disks resolved (and undo children made). */
static int build(const struct vmc *v, const struct import_opts *o, const char *name,
		 struct vm_config *c, struct err *e)
{
	char *vmc_copy = strdup(o->vmc), *out_copy = o->out ? strdup(o->out) : NULL;
	char *dir = vmc_copy ? dirname(vmc_copy) : ".";
	char *outdir = out_copy ? dirname(out_copy) : dir;
	char *base = strdup(o->vmc), *dot;
	int ret = 0;

	if (!vmc_copy || !base || (o->out && !out_copy)) {
		ret = errf(e, -ENOMEM, "out of memory");
		goto out;
	}
	memmove(base, basename(base), strlen(basename(base)) + 1);
	if ((dot = strrchr(base, '.')))
		*dot = 0;
	c->firmware = FIRMWARE_BIOS;
	c->mem_size = v->ram_mb << 20;
	c->name = strdup(base);
	for (unsigned i = 0; i < v->ndisks && !ret; i++) {
		const struct vmc_disk *d = &v->disks[i];
		struct disk_config *dc = &c->disks[c->ndisks];
		char *p = find_disk(d, dir, o, name, e), *abs;

		if (!p) {
			ret = -ENOENT;
			break;
		}
		abs = absolute(p);
		free(p);
		dc->iface = DISK_IF_IDE;
		dc->index = d->channel * 2 + d->unit;
		dc->media = d->cdrom ? DISK_MEDIA_CDROM : DISK_MEDIA_DISK;
		dc->readonly = d->cdrom;
		if (v->undo && !d->cdrom) {
			dc->path = undo_child(abs, outdir, base, d, o->dry_run, e);
			free(abs);
			if (!dc->path)
				ret = -EIO;
		} else {
			dc->path = abs;
		}
		c->ndisks++;
	}
	for (unsigned i = 0; i < v->nnics && !ret && c->nnets < VM_MAX_NETS; i++) {
		struct net_config *n = &c->nets[c->nnets++];

		n->kind = NET_USER;
		n->mac_set = v->nics[i].mac_set;
		memcpy(n->mac, v->nics[i].mac, 6);
		fprintf(stderr, "thinvisor import: network adapter %d: MAC "
			"%02x:%02x:%02x:%02x:%02x:%02x was on virtual network '%s'; imported as "
			"user-mode networking (--net user)\n", v->nics[i].id, n->mac[0], n->mac[1],
			n->mac[2], n->mac[3], n->mac[4], n->mac[5],
			v->nics[i].network ? v->nics[i].network : "none");
	}
out:
	free(vmc_copy);
	free(out_copy);
	free(base);
	return ret;
}

static int write_out(const char *path, const char *json, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t len = strlen(json);
	int ret = 0;

	if (fd < 0)
		return errf(e, -errno, "cannot create '%s': %s", path, strerror(errno));
	if (write(fd, json, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		ret = errf(e, -EIO, "cannot write '%s': %s", path, strerror(errno));
	if (close(fd) && !ret)
		ret = errf(e, -errno, "cannot write '%s': %s", path, strerror(errno));
	return ret;
}

static int parse_args(int argc, char **argv, struct import_opts *o)
{
	static const struct option opts[] = {
		{"dry-run", no_argument, NULL, 'n'}, {"drive-root", required_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': o->dry_run = true; break;
		case 'd': o->drive_root = optarg; break;
		case 'o': o->out = optarg; break;
		case 'h': help_import(); return 0;
		default: return -1;
		}
	}
	if (optind != argc - 1) {
		log_err("import: give one .vmc file (see thinvisor help import)");
		return -1;
	}
	o->vmc = argv[optind];
	return 1;
}

int cmd_import(int argc, char **argv)
{
	struct import_opts o;
	struct vm_config c;
	struct vmc v;
	struct err e = {""};
	uint8_t *buf = NULL;
	size_t len;
	char *json = NULL;
	int ret = parse_args(argc, argv, &o);

	if (ret <= 0)
		return ret ? 1 : 0;
	vm_config_defaults(&c);
	ret = file_read_all(o.vmc, ".vmc file", 16u << 20, &buf, &len, &e);
	if (!ret)
		ret = vmc_parse(buf, len, o.vmc, &v, &e);
	free(buf);
	if (ret)
		goto fail;
	for (unsigned i = 0; i < v.nwarn; i++)
		fprintf(stderr, "thinvisor import: warning: %s\n", v.warn[i]);
	ret = build(&v, &o, o.vmc, &c, &e);
	vmc_free(&v);
	if (!ret)
		ret = vm_config_validate(&c, &e);
	if (ret)
		goto fail;
	json = vm_config_to_json(&c, true);
	if (!json) {
		errf(&e, -ENOMEM, "out of memory");
		goto fail;
	}
	if (o.dry_run || !o.out)
		printf("%s\n", json);
	else if ((ret = write_out(o.out, json, &e)))
		goto fail;
	free(json);
	vm_config_free(&c);
	return 0;
fail:
	log_err("%s", e.msg);
	free(json);
	vm_config_free(&c);
	return 1;
}
