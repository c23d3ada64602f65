#!/usr/bin/env python3
"""bench/monitor-bench.py: thinvisor against QEMU's microvm machine, same kernel, initrd, memory
and vCPUs, interleaved, in the same machine (run it where /dev/kvm boots Linux: inside the nested
machine here, through bench/run-monitor-bench.sh).

Measures, per repetition and monitor:
  boot    seconds from the monitor's start to the guest init's first line
          ("thinvisor-guest: init started") on the serial console;
  start   thinvisor only: seconds from its start to vCPU 0's first KVM_RUN (its --stats line
          "first KVM_RUN at CLOCK_MONOTONIC T s"); boot minus start is the guest's part, the
          boot a monitor that took no time to start would have;
  rss     the monitor's RSS minus the guest RAM it touched, in MiB, sampled while the guest idles
          in userspace. Guest RAM touched = Rss of the mapping that backs guest memory (the
          one mapping of exactly --memory bytes in either monitor).
Before the measured repetitions each monitor boots once, unmeasured: in a freshly booted
nested machine the first guest boots ~2 s faster than every later one (seen in both monitors),
which would favour whichever monitor goes first.
Prints a markdown table of medians and ratios (thinvisor / QEMU)."""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time


def guest_ram_rss_kb(pid, mem_bytes):
    """Rss of the guest-RAM mapping and total Rss of pid, in KiB."""
    ram = 0
    cur_size = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5 and ":" not in parts[0]:
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                cur_size = hi - lo
            elif parts[0] == "Rss:" and cur_size == mem_bytes:
                ram += int(parts[1])
    with open(f"/proc/{pid}/status") as f:
        total = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return ram, total


def run_once(cmd, console, mem_bytes, timeout):
    """Start cmd, wait for init's first line, sample RSS, wait for the exit."""
    with open(console, "wb") as out:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    boot = None
    rss = None
    while p.poll() is None and time.monotonic() - t0 < timeout:
        with open(console, "rb") as f:
            data = f.read()
        if boot is None and b"thinvisor-guest: init started" in data:
            boot = time.monotonic() - t0
        if boot is not None and rss is None and b"tv-idle" in data:
            ram, total = guest_ram_rss_kb(p.pid, mem_bytes)
            rss = (total - ram) / 1024.0
        time.sleep(0.02)
    try:
        p.wait(timeout=max(1, timeout - (time.monotonic() - t0)))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        print(f"# {cmd[0]}: timed out after {timeout:.0f} s; console in {console}", file=sys.stderr)
        return None
    if boot is None or rss is None:
        print(f"# {cmd[0]}: no init line or no sample (exit {p.returncode}); see {console}",
              file=sys.stderr)
        return None
    start = None
    with open(console, "rb") as f:
        m = re.search(rb"first KVM_RUN at CLOCK_MONOTONIC ([0-9.]+) s", f.read())
    if m:
        start = float(m.group(1)) - t0
    return boot, rss, start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--thinvisor", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--mem", type=int, default=256, help="MiB")
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--logs", default="/tmp")
    ap.add_argument("--timeout", type=float, default=150)
    ap.add_argument("--warmup", type=int, default=1, help="unmeasured boots of each monitor first")
    ap.add_argument("--disk", help="a raw image both monitors get as a virtio disk "
                    "(thinvisor: --disk, QEMU microvm: virtio-blk-device)")
    ap.add_argument("--net", action="store_true", help="both monitors get a user-mode virtio "
                    "NIC (thinvisor: --net user, QEMU microvm: -netdev user, virtio-net-device)")
    a = ap.parse_args()
    mem_bytes = a.mem << 20
    # The guest prints tv-idle, then idles 3 s (the RSS sample), then powers off.
    cmdline = 'console=ttyS0 panic=-1 quiet tvtest="echo tv-idle; sleep 3"'
    monitors = {
        "thinvisor": [a.thinvisor, "run", "--stats", "--kernel", a.kernel, "--initrd", a.initrd,
                      "--memory", f"{a.mem}M", "--cpus", str(a.cpus), "--console", "stdio",
                      "--cmdline", cmdline],
        "qemu-microvm": ["qemu-system-x86_64", "-M", "microvm", "-enable-kvm", "-cpu", "host",
                         "-m", str(a.mem), "-smp", str(a.cpus), "-nodefaults", "-no-user-config",
                         "-display", "none", "-no-reboot", "-serial", "stdio",
                         "-kernel", a.kernel, "-initrd", a.initrd, "-append", cmdline],
    }
    if a.disk:
        monitors["thinvisor"] += ["--disk", f"path={a.disk},format=raw"]
        monitors["qemu-microvm"] += ["-drive", f"file={a.disk},if=none,id=d0,format=raw",
                                     "-device", "virtio-blk-device,drive=d0"]
    if a.net:
        monitors["thinvisor"] += ["--net", "user"]
        monitors["qemu-microvm"] += ["-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0"]
    res = {m: {"boot": [], "rss": [], "start": [], "guest": []} for m in monitors}
    failed = {m: 0 for m in monitors}
    for rep in range(a.warmup):
        for name, cmd in monitors.items():
            r = run_once(cmd, os.path.join(a.logs, f"bench-{name}-warmup{rep}.console"), mem_bytes,
                         a.timeout)
            print(f"# warm-up {rep} {name} (not counted): "
                  f"{'boot-to-init %.2f s' % r[0] if r else 'failed'}", file=sys.stderr, flush=True)
    for rep in range(a.reps):
        for name, cmd in monitors.items():  # interleaved
            r = run_once(cmd, os.path.join(a.logs, f"bench-{name}-{rep}.console"), mem_bytes,
                         a.timeout)
            if r is None:
                failed[name] += 1
                continue
            boot, rss, start = r
            res[name]["boot"].append(boot)
            res[name]["rss"].append(rss)
            if start is not None:
                res[name]["start"].append(start)
                res[name]["guest"].append(boot - start)
            print(f"# rep {rep} {name}: boot-to-init {boot:.2f} s, overhead RSS {rss:.1f} MiB",
                  file=sys.stderr, flush=True)
    med = {m: {k: statistics.median(v) for k, v in r.items() if v} for m, r in res.items()}
    t, q = med["thinvisor"], med["qemu-microvm"]
    disk = (", a virtio disk" if a.disk else "") + (", a user-mode virtio NIC" if a.net else "")
    # the core monitor's goal (issue 2) without devices; with a disk and a NIC, issue 10's
    boot_goal = "<= 0.6" if a.disk or a.net else "<= 0.70"
    print(f"| measure ({a.reps} reps, median; {a.cpus} vCPU, {a.mem} MiB{disk}) | thinvisor | QEMU microvm | ratio | goal |")
    print("|---|---|---|---|---|")
    print(f"| boot to init's first line (s) | {t['boot']:.2f} | {q['boot']:.2f} | {t['boot'] / q['boot']:.2f} | {boot_goal} |")
    if "start" in t:
        print(f"| thinvisor's start-up: its start to the first KVM_RUN (s) | {t['start']:.2f} | | | |")
        print(f"| boot minus that start-up: the guest's part (s) | {t['guest']:.2f} | {q['boot']:.2f} | {t['guest'] / q['boot']:.2f} | |")
    print(f"| monitor RSS minus guest RAM touched (MiB) | {t['rss']:.1f} | {q['rss']:.1f} | {t['rss'] / q['rss']:.2f} | < 5 MiB and < 0.25 |")
    print(f"\nwarm-up: {a.warmup} unmeasured boot(s) of each monitor before the repetitions")
    print(f"failed runs (timed out or no init line, left out of the medians): "
          f"thinvisor {failed['thinvisor']}, qemu {failed['qemu-microvm']}")
    print(f"all boot times: thinvisor {['%.2f' % x for x in res['thinvisor']['boot']]}, "
          f"qemu {['%.2f' % x for x in res['qemu-microvm']['boot']]}")
    print(f"thinvisor start-ups: {['%.2f' % x for x in res['thinvisor']['start']]}")
    print(f"all RSS overheads (MiB): thinvisor {['%.1f' % x for x in res['thinvisor']['rss']]}, "
          f"qemu {['%.1f' % x for x in res['qemu-microvm']['rss']]}")
    thp = "/sys/kernel/mm/transparent_hugepage/"
    try:
        knobs = {k: open(thp + k).read().split("[")[1].split("]")[0] for k in ("enabled", "shmem_enabled")}
        print(f"transparent huge pages where this ran: anonymous memory (both monitors' guest RAM) "
              f"{knobs['enabled']}, shared memory {knobs['shmem_enabled']}")
    except (OSError, IndexError):
        pass


if __name__ == "__main__":
    main()
