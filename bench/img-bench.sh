#!/usr/bin/env bash
# bench/img-bench.sh: `thinvisor img bench` against `qemu-img bench -f vpc` on the same images
# and host, interleaved (every rep runs every row with both tools), REPS reps (default 5),
# medians and ratios; plus the cost of VHD over raw for the same workload through thinvisor.
# Prints a markdown table. Usage: bench/img-bench.sh [REPS]   (env: O=build dir, SIZE_MB)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-build}
TV=${TV:-$TOP/$O/thinvisor}
REPS=${1:-5}
SIZE_MB=${SIZE_MB:-256}
SEQ_COUNT=$((SIZE_MB * 4))	 # 1 MiB requests: the image four times over
RND_COUNT=${RND_COUNT:-100000} # 4 KiB reads
WR_COUNT=${WR_COUNT:-2000}	 # 4 KiB writes: QEMU's vpc driver manages ~1000/s here
STRIDE=1052672			# 1028 KiB: a scattered pattern both tools can replay
W=$(mktemp -d /var/tmp/tv-img-bench-XXXXXX)
trap 'rm -rf "$W"' EXIT

[ -x "$TV" ] || { echo "build $TV first (make O=$O)" >&2; exit 1; }
command -v qemu-img >/dev/null || { echo "qemu-img (qemu-utils) is needed" >&2; exit 1; }

# Images: a raw disk full of data; fixed and dynamic VHDs holding the same (every block
# allocated); a differencing child over the dynamic one is created fresh for each run.
# All three are written by thinvisor's convert (2 MiB writes) so that their page-cache state is
# alike: a raw file written in small pieces reads at a fraction of the speed on this kernel.
head -c $((SIZE_MB << 20)) /dev/urandom >"$W/src.raw"
"$TV" img convert -f raw -O raw "$W/src.raw" "$W/disk.raw" >/dev/null
rm "$W/src.raw"
# force_size: exactly SIZE_MB MiB, so that no request of qemu-img bench crosses the end (it
# fails with EIO when a wrapped request does, e.g. on CHS-rounded sizes).
"$TV" img convert -f raw -O vhd -o subformat=fixed,force_size=on "$W/disk.raw" "$W/fixed.vhd" >/dev/null
"$TV" img convert -f raw -O vhd -o subformat=dynamic,force_size=on "$W/disk.raw" "$W/dynamic.vhd" >/dev/null

# workload -> bench arguments (shared by both tools: the same requests in the same order)
declare -A ARGS=(
	[seq-read]="-s 1M -c $SEQ_COUNT"
	[seq-write]="-w -s 1M -c $SEQ_COUNT"
	[rnd-read]="-s 4k -S $STRIDE -c $RND_COUNT"
	[rnd-write]="-w -s 4k -S $STRIDE -c $WR_COUNT"
)
WORKLOADS=(seq-read seq-write rnd-read rnd-write)
IMAGES=(fixed dynamic child)

image_path() { # image_path NAME: the file to run on (a fresh child for "child")
	case $1 in
	child)
		rm -f "$W/child.vhd"
		"$TV" img create -f vhd -b dynamic.vhd "$W/child.vhd" >/dev/null
		# half the child's blocks hold data of their own, so reads come from both layers
		"$TV" img write "$W/child.vhd" 0 "$W/half" >/dev/null
		echo "$W/child.vhd"
		;;
	raw) echo "$W/disk.raw" ;;
	*) echo "$W/$1.vhd" ;;
	esac
}
head -c $((SIZE_MB << 19)) /dev/urandom >"$W/half"

# run TOOL IMAGE WORKLOAD -> prints seconds
run() {
	local tool=$1 img=$2 wl=$3 f fmt out
	f=$(image_path "$img")
	sync -f "$f" # no writeback of an earlier run in this one's timing
	fmt=vpc
	[ "$img" = raw ] && fmt=raw
	if [ "$tool" = thinvisor ]; then
		out=$("$TV" img bench -f "$fmt" ${ARGS[$wl]} "$f")
		C[$img,$wl]+="$(sed -n 's/^CPU time \([0-9.]*\) seconds.*/\1/p' <<<"$out") "
	else
		out=$(qemu-img bench -f "$fmt" ${ARGS[$wl]} "$f")
	fi
	T[$tool,$img,$wl]+="$(sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p' <<<"$out") "
}

declare -A T C # wall seconds per tool/image/workload; thinvisor's CPU seconds per image/workload
# VHD over raw: thinvisor alone, longer runs (RAW_X times the requests), raw/fixed/dynamic
# interleaved in every rep. Only the allocated images: no allocation, just the format's cost.
RAW_X=${RAW_X:-4}
declare -A R RC
raw_cost() { # raw_cost IMAGE WORKLOAD
	local f fmt=vpc out args=${ARGS[$2]}
	f=$(image_path "$1")
	[ "$1" = raw ] && fmt=raw
	sync -f "$f"
	case $2 in
	seq-*) args=${args/-c $SEQ_COUNT/-c $((SEQ_COUNT * RAW_X))} ;;
	rnd-read) args=${args/-c $RND_COUNT/-c $((RND_COUNT * RAW_X))} ;;
	rnd-write) args=${args/-c $WR_COUNT/-c $((WR_COUNT * RAW_X * 10))} ;;
	esac
	out=$("$TV" img bench -f "$fmt" $args "$f")
	R[$1,$2]+="$(sed -n 's/^Run completed in \([0-9.]*\) seconds.*/\1/p' <<<"$out") "
	RC[$1,$2]+="$(sed -n 's/^CPU time \([0-9.]*\) seconds.*/\1/p' <<<"$out") "
}
for ((rep = 1; rep <= REPS; rep++)); do
	for wl in "${WORKLOADS[@]}"; do
		for img in "${IMAGES[@]}"; do
			tools=(thinvisor qemu-img)
			((rep % 2)) || tools=(qemu-img thinvisor) # alternate who goes first
			for tool in "${tools[@]}"; do
				run $tool $img $wl
			done
		done
	done
	for wl in "${WORKLOADS[@]}"; do
		# rotate the order every rep: what runs right after a sync differs from what follows
		order=(raw fixed dynamic)
		for k in 0 1 2; do
			raw_cost ${order[$(((k + rep) % 3))]} $wl
		done
	done
	echo "rep $rep/$REPS done" >&2
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# rate WORKLOAD SECONDS: MiB/s for sequential, IOPS for 4 KiB
rate() {
	case $1 in
	seq-*) awk -v s="$2" -v c="$SEQ_COUNT" 'BEGIN {printf "%.0f", c / s}' ;;
	rnd-write) awk -v s="$2" -v c="$WR_COUNT" 'BEGIN {printf "%.0f", c / s}' ;;
	*) awk -v s="$2" -v c="$RND_COUNT" 'BEGIN {printf "%.0f", c / s}' ;;
	esac
}
unit() { case $1 in seq-*) echo "MiB/s" ;; *) echo "IOPS" ;; esac; }

echo "| workload | image | thinvisor | qemu-img | thinvisor / qemu-img |"
echo "|---|---|---:|---:|---:|"
for wl in "${WORKLOADS[@]}"; do
	for img in "${IMAGES[@]}"; do
		a=$(rate $wl "$(median "${T[thinvisor,$img,$wl]}")")
		b=$(rate $wl "$(median "${T[qemu-img,$img,$wl]}")")
		label=$img
		[ $img = child ] && label="differencing (parent below)*"
		echo "| $wl ($(unit $wl)) | $label | $a | $b | $(awk -v a=$a -v b=$b 'BEGIN {printf "%.2f", a / b}') |"
	done
done
echo
echo "VHD over raw: thinvisor alone, the same workload on the same data, every block allocated;"
echo "separate runs, $RAW_X times longer (writes $((RAW_X * 10))x). Rates by wall clock, and the CPU time"
echo "(user + system) of each run relative to raw, which other load on the host does not blur."
echo
echo "| workload | raw | fixed | dynamic | fixed / raw | dynamic / raw | CPU fixed / raw | CPU dynamic / raw |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for wl in "${WORKLOADS[@]}"; do
	mult=$RAW_X
	[ $wl = rnd-write ] && mult=$((RAW_X * 10))
	r=$(rate $wl "$(median "${R[raw,$wl]}")") fx=$(rate $wl "$(median "${R[fixed,$wl]}")")
	dy=$(rate $wl "$(median "${R[dynamic,$wl]}")")
	r=$((r * mult)) fx=$((fx * mult)) dy=$((dy * mult))
	cr=$(median "${RC[raw,$wl]}") cf=$(median "${RC[fixed,$wl]}") cd=$(median "${RC[dynamic,$wl]}")
	echo "| $wl ($(unit $wl)) | $r | $fx | $dy | $(awk -v a=$fx -v b=$r 'BEGIN {printf "%.2f", a / b}') | $(awk -v a=$dy -v b=$r 'BEGIN {printf "%.2f", a / b}') | $(awk -v a=$cf -v b=$cr 'BEGIN {printf "%.2f", a / b}') | $(awk -v a=$cd -v b=$cr 'BEGIN {printf "%.2f", a / b}') |"
done
echo
echo "$REPS reps interleaved (order rotated per rep), medians; ${SIZE_MB} MiB images in the page cache ($(df -T "$W" | awk 'NR==2 {print $2}') under $W)."
echo "Sequential: 1 MiB requests, $SEQ_COUNT of them; 4 KiB: $RND_COUNT reads / $WR_COUNT writes at a $((STRIDE / 1024)) KiB stride"
echo "(qemu-img bench has no random mode; both tools replay the same scattered offsets)."
echo "qemu-img bench runs with its defaults (queue depth 64, aio=threads, cache=writeback);"
echo "thinvisor img bench is synchronous pread/pwrite, one request at a time."
echo "* QEMU's vpc driver does not follow differencing VHDs to their parent (it reads the child"
echo "  alone); its numbers on that row are for the child read as a standalone dynamic disk."
