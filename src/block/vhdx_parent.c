/* vhdx_parent.c: finding and checking a differencing VHDX's parent from its locator. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "block/vhdx.h"

#define MAX_CHAIN 64

/* A Windows path as a path here: backslashes become slashes; "C:" and "\\?\Volume{..}"
 * prefixes are dropped (the rest is taken from the root). */
static void map_path(const char *in, char *out, size_t size)
{
	const char *p = in;

	if (!strncmp(p, "\\\\?\\", 4) && strchr(p, '}'))
		p = strchr(p, '}') + 1;
	else if (((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z') && p[1] == ':')
		p += 2;
	snprintf(out, size, "%s", p);
	for (char *q = out; *q; q++)
		if (*q == '\\')
			*q = '/';
}

/* dir + "/" + rel (rel relative, "./" dropped); an absolute rel as is. */
static void join(const char *dir, const char *rel, char *out, size_t size)
{
	while (rel[0] == '.' && rel[1] == '/')
		rel += 2;
	if (rel[0] == '/' || !strcmp(dir, "."))
		snprintf(out, size, "%s", rel);
	else
		snprintf(out, size, "%s/%s", dir, rel);
}

/* Open cand as the parent and check it: 0 with v->parent set, else -errno with why in e. */
static int try_parent(struct block_dev *bd, struct vhdx *v, const char *cand,
		      const struct block_open_opts *o, struct err *e)
{
	const char *want = vhdx_locator_get(v->loc, "parent_linkage");
	const char *want2 = vhdx_locator_get(v->loc, "parent_linkage2");
	struct block_chain link;
	struct block_info *pi;
	struct block_dev *p;
	struct stat st, self;
	vhdx_guid w, w2, got;
	char gs[40];
	int depth = 0, ret;

	if (stat(cand, &st))
		return errf(e, -errno, "%s", strerror(errno));
	if (fstat(bd->fd, &self))
		return errf(e, -errno, "%s", strerror(errno));
	link = (struct block_chain){self.st_dev, self.st_ino, o->chain};
	for (const struct block_chain *c = &link; c; c = c->next, depth++)
		if (c->dev == st.st_dev && c->ino == st.st_ino)
			return errf(e, -ELOOP, "the differencing chain loops back to it");
	if (depth > MAX_CHAIN)
		return errf(e, -ELOOP, "the differencing chain is deeper than %d", MAX_CHAIN);
	ret = block_open(cand, NULL, &(struct block_open_opts){.io = &bd->io, .chain = &link}, &p,
			 e);
	if (ret) {
		/* e says "PATH: why" (or deeper); keep it as the reason */
		return ret;
	}
	if (p->ops != &block_vhdx_ops) {
		block_close(p);
		return errf(e, -EINVAL, "not a VHDX (%s)", p->ops->name);
	}
	pi = malloc(sizeof(*pi));
	if (!pi) {
		block_close(p);
		return errf(e, -ENOMEM, "out of memory");
	}
	block_get_info(p, pi);
	ret = vhdx_guid_parse(pi->data_write_guid, &got);
	free(pi);
	vhdx_guid_str(&got, gs);
	if (ret || ((vhdx_guid_parse(want, &w) || !vhdx_guid_eq(&w, &got)) &&
		    (!want2 || vhdx_guid_parse(want2, &w2) || !vhdx_guid_eq(&w2, &got)))) {
		block_close(p);
		return errf(e, -EINVAL, "its DataWriteGuid %s does not match parent_linkage %s", gs,
			    want);
	}
	v->parent = p;
	snprintf(v->parent_path, sizeof(v->parent_path), "%s", cand);
	return 0;
}

int vhdx_open_parent(struct block_dev *bd, struct vhdx *v, const struct block_open_opts *o,
		     struct err *e)
{
	static const char *const keys[] = {"relative_path", "absolute_win32_path", "volume_path"};
	const char *linkage = vhdx_locator_get(v->loc, "parent_linkage");
	char *dup = strdup(bd->path), *cand = malloc(2 * VHDX_PATH_MAX), *mapped = malloc(VHDX_PATH_MAX);
	char *msg = calloc(1, ERR_MSG_MAX * 4);
	vhdx_guid g;
	int ret = -ENOENT, tried = 0;

	if (!dup || !cand || !mapped || !msg) {
		ret = errf(e, -ENOMEM, "%s: out of memory", bd->path);
		goto out;
	}
	if (!linkage || vhdx_guid_parse(linkage, &g)) {
		ret = errf(e, -EINVAL, "%s: the parent locator has no valid parent_linkage", bd->path);
		goto out;
	}
	for (size_t k = 0; k <= sizeof(keys) / sizeof(keys[0]); k++) {
		const char *val = k < 3 ? vhdx_locator_get(v->loc, keys[k]) : NULL;
		struct err le;
		int r;

		if (k == 3) { /* last: the parent's file name beside the child */
			const char *base = NULL;

			for (size_t j = 0; j < 3 && !base; j++)
				base = vhdx_locator_get(v->loc, keys[j]);
			if (!base)
				break;
			map_path(base, mapped, VHDX_PATH_MAX);
			base = strrchr(mapped, '/') ? strrchr(mapped, '/') + 1 : mapped;
			memmove(mapped, base, strlen(base) + 1);
		} else if (!val) {
			continue;
		} else {
			map_path(val, mapped, VHDX_PATH_MAX);
		}
		if (k == 0 || k == 3)
			join(dirname(strcpy(dup, bd->path)), mapped, cand, 2 * VHDX_PATH_MAX);
		else
			snprintf(cand, 2 * VHDX_PATH_MAX, "%s", mapped);
		if (strstr(msg, cand) && k == 3)
			continue; /* tried already under its own name */
		r = try_parent(bd, v, cand, o, &le);
		if (!r) {
			ret = 0;
			goto out;
		}
		if (tried == 0 || (ret == -ENOENT && r != -ENOENT))
			ret = r;
		snprintf(msg + strlen(msg), ERR_MSG_MAX * 4 - strlen(msg), "%s%s %s (%s)",
			 tried ? "; " : "", k < 3 ? keys[k] : "beside it:", cand, le.msg);
		tried++;
	}
	if (!tried)
		ret = errf(e, -ENOENT, "%s: the parent locator names no path", bd->path);
	else
		errf(e, ret, "%s: cannot open parent: %s", bd->path, msg);
out:
	free(dup), free(cand), free(mapped), free(msg);
	return ret;
}
