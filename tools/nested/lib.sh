# tools/nested/lib.sh: helpers shared by tools/nested-run and tools/mkinitramfs (bash).

# nr_pick_kernel: set NR_KERNEL and NR_KVER to the newest /boot/vmlinuz-VER whose modules
# (/lib/modules/VER/modules.dep) are installed; NR_KERNEL may be preset to a vmlinuz path.
# Returns 1 with NR_WHY set when there is none.
nr_pick_kernel() {
	local k v
	if [ -n "${NR_KERNEL:-}" ]; then
		[ -r "$NR_KERNEL" ] || { NR_WHY="kernel $NR_KERNEL not readable"; return 1; }
		NR_KVER=${NR_KVER:-$(basename "$NR_KERNEL" | sed 's/^vmlinuz-//')}
		[ -r "/lib/modules/$NR_KVER/modules.dep" ] ||
			{ NR_WHY="no modules for $NR_KVER in /lib/modules (set NR_KVER)"; return 1; }
		return 0
	fi
	for k in $(ls /boot/vmlinuz-* 2>/dev/null | sort -rV); do
		v=${k#/boot/vmlinuz-}
		[ -r "$k" ] && [ -r "/lib/modules/$v/modules.dep" ] || continue
		NR_KERNEL=$k NR_KVER=$v
		return 0
	done
	if ls /boot/vmlinuz-* >/dev/null 2>&1; then
		NR_WHY="no modules under /lib/modules for $(ls /boot/vmlinuz-* | tr '\n' ' ')(install linux-image-amd64)"
	else
		NR_WHY="no kernel /boot/vmlinuz-* (install linux-image-amd64)"
	fi
	return 1
}

# nr_resolve_modules MODDIR NAME...: print, in load order (dependencies first), the paths
# relative to MODDIR of the modules NAME... and everything they depend on, from
# MODDIR/modules.dep. A name that is built into the kernel prints "#builtin NAME", one that
# does not exist "#missing NAME".
nr_resolve_modules() {
	local dir=$1
	shift
	awk -v want="$*" -v builtin="$dir/modules.builtin" '
	function base(p) { sub(/.*\//, "", p); sub(/\.ko(\.(xz|zst|gz))?$/, "", p); gsub(/-/, "_", p); return p }
	function res(n,   k, a, i) {
		if (n in seen) return
		seen[n] = 1
		if (!(n in P)) { print ((n in B) ? "#builtin " : "#missing ") n; return }
		k = split(D[n], a, " ")
		for (i = k; i >= 1; i--) res(a[i])
		print P[n]
	}
	{
		p = $1; sub(/:$/, "", p); n = base(p); P[n] = p; D[n] = ""
		for (i = 2; i <= NF; i++) D[n] = D[n] " " base($i)
	}
	END {
		while ((getline l < builtin) > 0) B[base(l)] = 1
		k = split(want, W, " ")
		for (i = 1; i <= k; i++) { w = W[i]; gsub(/-/, "_", w); res(w) }
	}' "$dir/modules.dep"
}

# nr_copy_module SRC DEST: copy a module, decompressing .ko.xz / .ko.zst / .ko.gz.
nr_copy_module() {
	case "$1" in
	*.ko.xz) xz -dc "$1" >"$2" ;;
	*.ko.zst) zstd -qdc "$1" >"$2" ;;
	*.ko.gz) gzip -dc "$1" >"$2" ;;
	*) cp "$1" "$2" ;;
	esac
}

# nr_busybox: print the path of a statically linked busybox, or return 1.
nr_busybox() {
	local b
	for b in /bin/busybox /usr/bin/busybox; do
		[ -x "$b" ] || continue
		# a dynamically linked busybox names its ELF interpreter
		grep -qaE '/lib(64)?/ld-(linux|musl)' "$b" && continue
		echo "$b"
		return 0
	done
	return 1
}

# nr_applet_links BUSYBOX DIR: a symlink DIR/APPLET -> busybox for each applet of BUSYBOX.
nr_applet_links() {
	local a apps
	apps=$("$1" --list 2>/dev/null || busybox --list) || return 1
	apps=$(grep -vx busybox <<<"$apps")
	if command -v perl >/dev/null; then
		perl -e 'chdir shift or die; for (@ARGV) { symlink "busybox", $_ or die "$_: $!" }' "$2" $apps
	else
		for a in $apps; do ln -s busybox "$2/$a" || return 1; done
	fi
}

# nr_cpio ROOTDIR OUT: pack ROOTDIR as a deterministic newc cpio archive (uncompressed).
nr_cpio() {
	(cd "$1" && find . -mindepth 1 -exec touch -h -d @0 {} + &&
		find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) >"$2"
}

# nr_extract_vmlinux BZIMAGE OUT: write the uncompressed ELF kernel inside BZIMAGE to OUT (as
# the kernel's scripts/extract-vmlinux does). QEMU boots such an ELF through PVH, which skips the
# decompressor (seconds under TCG). Returns 1 if it finds none.
nr_extract_vmlinux() {
	local magic cmd off
	for magic in xz gzip zstd; do
		case $magic in
		xz) off=$(grep -abo $'\xfd7zXZ\x00' "$1" | head -n1 | cut -d: -f1) cmd="xz -dc" ;;
		gzip) off=$(grep -abo $'\x1f\x8b\x08' "$1" | head -n1 | cut -d: -f1) cmd="gzip -dc" ;;
		zstd) off=$(grep -abo $'\x28\xb5\x2f\xfd' "$1" | head -n1 | cut -d: -f1) cmd="zstd -qdc" ;;
		esac
		[ -n "$off" ] || continue
		tail -c +$((off + 1)) "$1" | $cmd >"$2" 2>/dev/null
		[ "$(head -c 4 "$2" 2>/dev/null)" = $'\x7fELF' ] && return 0
	done
	rm -f "$2"
	return 1
}

# nr_quote STRING: print STRING single-quoted for any POSIX shell.
nr_quote() {
	local q="'\\''"
	printf "'%s'" "${1//\'/$q}"
}
