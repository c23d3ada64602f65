#!/usr/bin/env bash
# bench/vhdx-bench.sh: `thinvisor img bench` against `qemu-img bench -f vhdx` on the same VHDX
# images and host, interleaved (every rep runs every row with both tools, the order alternating),
# REPS reps (default 3), medians and ratios; plus VHDX over raw through thinvisor alone.
# Images: fixed and dynamic VHDX with every block allocated (the same data as a raw file), a
# fresh empty dynamic VHDX for the writes that allocate, and a differencing child (thinvisor
# only: QEMU cannot open differencing VHDX). Prints a markdown table.
# Usage: bench/vhdx-bench.sh [REPS]   (env: O=build dir, SIZE_MB)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
TV=${TV:-$TOP/$O/thinvisor}
REPS=${1:-3}
SIZE_MB=${SIZE_MB:-256}
SEQ_COUNT=$((SIZE_MB * 2))	 # 1 MiB requests: the image twice over
RND_COUNT=${RND_COUNT:-50000}	 # 4 KiB reads
WR_COUNT=${WR_COUNT:-5000}	 # 4 KiB writes
STRIDE=1052672			 # 1028 KiB: a scattered pattern both tools can replay
W=$(mktemp -d /var/tmp/tv-vhdx-bench-XXXXXX)
trap 'rm -rf "$W"' EXIT

[ -x "$TV" ] || { echo "build $TV first (make O=$O)" >&2; exit 1; }
command -v qemu-img >/dev/null || { echo "qemu-img (qemu-utils) is needed" >&2; exit 1; }

head -c $((SIZE_MB << 20)) /dev/urandom >"$W/src.raw"
"$TV" img convert -f raw -O raw "$W/src.raw" "$W/disk.raw" >/dev/null
rm "$W/src.raw"
"$TV" img convert -f raw -O vhdx -o subformat=fixed "$W/disk.raw" "$W/fixed.vhdx" >/dev/null
"$TV" img convert -f raw -O vhdx "$W/disk.raw" "$W/dynamic.vhdx" >/dev/null
head -c $((SIZE_MB << 19)) /dev/urandom >"$W/half"

declare -A ARGS=(
	[seq-read]="-s 1M -c $SEQ_COUNT"
	[seq-write]="-w -s 1M -c $SEQ_COUNT"
	[rnd-read]="-s 4k -S $STRIDE -c $RND_COUNT"
	[rnd-write]="-w -s 4k -S $STRIDE -c $WR_COUNT"
)
WORKLOADS=(seq-read seq-write rnd-read rnd-write)

# image_path NAME: the file to run on (fresh ones for "new" and "child")
image_path() {
	case $1 in
	new)
		rm -f "$W/new.vhdx"
		"$TV" img create -f vhdx "$W/new.vhdx" ${SIZE_MB}M >/dev/null
		echo "$W/new.vhdx" ;;
	child)
		rm -f "$W/child.avhdx"
		"$TV" img create -f vhdx -b "$W/dynamic.vhdx" "$W/child.avhdx" >/dev/null
		"$TV" img write "$W/child.avhdx" 0 "$W/half" >/dev/null # half from each layer
		echo "$W/child.avhdx" ;;
	raw) echo "$W/disk.raw" ;;
	*) echo "$W/$1.vhdx" ;;
	esac
}

declare -A T C # wall seconds (the tool's own timing) and CPU seconds (user + system, all threads)
run() { # run TOOL IMAGE WORKLOAD
	local tool=$1 img=$2 wl=$3 f fmt=vhdx out TIMEFORMAT='CPU %U %S'
	f=$(image_path "$img")
	[ "$img" = raw ] && fmt=raw
	sync -f "$f"
	if [ "$tool" = thinvisor ]; then
		out=$({ time "$TV" img bench -f "$fmt" ${ARGS[$wl]} "$f"; } 2>&1)
	elif [ "$tool" = qemu-img ]; then
		out=$({ time qemu-img bench -f "$fmt" ${ARGS[$wl]} "$f"; } 2>&1)
	else # qemu-img one request at a time, as thinvisor img bench
		out=$({ time qemu-img bench -d 1 -f "$fmt" ${ARGS[$wl]} "$f"; } 2>&1)
	fi
	T[$tool,$img,$wl]+="$(sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p' <<<"$out") "
	C[$tool,$img,$wl]+="$(awk '/^CPU [0-9]/ {print $2 + $3}' <<<"$out") "
}

rows() { # the (image, workload) rows each tool runs
	for wl in "${WORKLOADS[@]}"; do
		for img in fixed dynamic; do echo "$img $wl"; done
		case $wl in *write) echo "new $wl" ;; esac
	done
}
for ((rep = 1; rep <= REPS; rep++)); do
	while read -r img wl; do
		tools=(thinvisor qemu-img qemu-d1)
		((rep % 2)) || tools=(qemu-d1 qemu-img thinvisor)
		for tool in "${tools[@]}"; do run $tool $img $wl; done
	done < <(rows)
	for wl in "${WORKLOADS[@]}"; do
		for img in raw child; do run thinvisor $img $wl; done
	done
	echo "rep $rep/$REPS done" >&2
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rate() { # rate WORKLOAD SECONDS: MiB/s for sequential, IOPS for 4 KiB
	local c
	case $1 in seq-*) c=$SEQ_COUNT ;; rnd-write) c=$WR_COUNT ;; *) c=$RND_COUNT ;; esac
	awk -v s="$2" -v c="$c" 'BEGIN {printf "%.0f", c / s}'
}
unit() { case $1 in seq-*) echo "MiB/s" ;; *) echo "IOPS" ;; esac; }
label() { case $1 in new) echo "dynamic, empty (allocating)" ;; child) echo "differencing (half in the child)" ;; *) echo "$1" ;; esac; }

echo "| workload | image | thinvisor | qemu-img | thinvisor / qemu-img | qemu-img -d 1 | thinvisor / qemu-img -d 1 | CPU qemu-img / thinvisor | raw (thinvisor) | VHDX / raw | CPU raw / VHDX |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for wl in "${WORKLOADS[@]}"; do
	r=$(rate $wl "$(median "${T[thinvisor,raw,$wl]}")") rc=$(median "${C[thinvisor,raw,$wl]}")
	for img in fixed dynamic new child; do
		[ -n "${T[thinvisor,$img,$wl]:-}" ] || continue
		a=$(rate $wl "$(median "${T[thinvisor,$img,$wl]}")") ac=$(median "${C[thinvisor,$img,$wl]}")
		if [ -n "${T[qemu-img,$img,$wl]:-}" ]; then
			b=$(rate $wl "$(median "${T[qemu-img,$img,$wl]}")")
			ratio=$(awk -v a=$a -v b=$b 'BEGIN {printf "%.2f", a / b}')
			cr=$(awk -v a=$ac -v b="$(median "${C[qemu-img,$img,$wl]}")" 'BEGIN {printf "%.2f", b / a}')
			d=$(rate $wl "$(median "${T[qemu-d1,$img,$wl]}")")
			dr=$(awk -v a=$a -v b=$d 'BEGIN {printf "%.2f", a / b}')
		else
			b="(cannot open)" ratio="-" cr="-" d="-" dr="-"
		fi
		vr=$(awk -v a=$a -v b=$r 'BEGIN {printf "%.2f", a / b}')
		vc=$(awk -v a=$ac -v b=$rc 'BEGIN {printf "%.2f", b / a}')
		[ $img = new ] && vr="-" vc="-"
		echo "| $wl ($(unit $wl)) | $(label $img) | $a | $b | $ratio | $d | $dr | $cr | $r | $vr | $vc |"
	done
done
echo
echo "$REPS reps interleaved, medians; ${SIZE_MB} MiB images in the page cache ($(df -T "$W" | awk 'NR==2 {print $2}') under $W)."
echo "Sequential: 1 MiB requests, $SEQ_COUNT of them; 4 KiB: $RND_COUNT reads / $WR_COUNT writes at a $((STRIDE / 1024)) KiB stride."
echo "qemu-img bench: its defaults (queue depth 64, aio=threads, cache=writeback), and with -d 1 (one"
echo "request at a time, like thinvisor img bench: synchronous pread/pwrite). VHDX / raw: the"
echo "allocated images only."
echo "CPU columns: user + system seconds of the whole process (all threads), as ratios where"
echo "above 1 means thinvisor's VHDX costs less; they hold still when other load blurs the rates."
