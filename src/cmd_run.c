/* cmd_run.c: `thinvisor run`: command-line parsing into struct vm_config, then the VM. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/mgmt.h"
#include "cmds.h"
#include "util/log.h"
#include "util/size.h"
#include "vm/config.h"
#include "vm/vm.h"
#include "x86/platform.h"

void help_run(void)
{
	printf("usage: thinvisor run --kernel PATH [options]\n"
	       "       thinvisor run --firmware bios --disk path=DISK,if=ide [options]\n"
	       "       thinvisor run --config vm.json [options]\n"
	       "\n"
	       "Boot a virtual machine. The kernel may be a Linux bzImage (64- or 32-bit), an ELF\n"
	       "with a PVH entry note (e.g. vmlinux) or a Multiboot v1 kernel; the type is probed.\n"
	       "\n"
	       "  --config FILE         read the configuration from a JSON file (docs/CONFIG.md);\n"
	       "                        flags given too override it (--disk/--net replace its list)\n"
	       "  --print-config        print the effective configuration as JSON and exit\n"
	       "  --kernel PATH         guest kernel (direct boot)\n"
	       "  --initrd PATH         initial ramdisk\n"
	       "  --cmdline STR         kernel command line (default \"" DEFAULT_CMDLINE "\")\n"
	       "  --firmware KIND       direct (default: boot --kernel), bios (SeaBIOS boots the\n"
	       "                        disks), or the path of a BIOS image\n"
	       "  --boot order=LIST     with --firmware bios: boot device order, e.g. cd,disk\n"
	       "  --memory SIZE         guest RAM, e.g. 512M, 4G (default 256M, at least 16M)\n"
	       "  --cpus N              vCPUs, 1 to %d or KVM's limit (default 1)\n"
	       "  --disk SPEC           a disk, repeatable: path=FILE[,format=raw|vhd|vhdx]\n"
	       "                        [,readonly=on][,cache=none|writeback][,serial=ID]\n"
	       "                        [,queues=N][,if=virtio|ide][,media=disk|cdrom][,index=0-3]\n"
	       "  --net SPEC            a NIC, repeatable: user[,hostfwd=tcp:HOSTPORT-:GUESTPORT]\n"
	       "                        or tap=IFNAME; both take [,mac=MAC][,queues=N]\n"
	       "  --transport KIND      virtio over pci (default) or mmio\n"
	       "  --rng                 a virtio entropy device\n"
	       "  --console KIND        stdio (default; raw terminal, Ctrl-A x quits),\n"
	       "                        file=PATH (guest output to PATH), virtio (the guest's hvc0\n"
	       "                        on stdio), none\n"
	       "  --name NAME           the VM's name (default vm-PID)\n"
	       "  --api-socket PATH     the control API's socket (default: by name)\n"
	       "  --event-monitor SPEC  lifecycle events as JSON lines: path=FILE or fd=N\n"
	       "  --on-reboot ACTION    exit (default: exit status 2) or restart\n"
	       "  --testdev             attach the test device used by the project's test guests\n"
	       "  --stats               print exit counters and the first KVM_RUN's time on stderr\n"
	       "                        when the VM stops\n"
	       "\n"
	       "Exit status: 0 guest powered off; 1 bad configuration or start-up failure;\n"
	       "2 guest rebooted (--on-reboot exit); 3 triple fault; 4 KVM internal error,\n"
	       "emulation failure or failed VM entry; 5 monitor failure while running;\n"
	       "130 stopped by Ctrl-A x or a signal. Fatal stops print the reason and the vCPU\n"
	       "registers on stderr.\n",
	       PLAT_MAX_CPUS);
}

/* The configuration from argv, validated. Returns 0, 1 after one error line, or -1 when it
 * was printed (--print-config) and the command is done. */
static int parse_args(int argc, char **argv, struct vm_config *c)
{
	struct err e = {""};
	bool print = false;
	char *json;

	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			help_run();
			exit(0);
		}
	vm_config_defaults(c);
	if (vm_config_from_args(c, argc, argv, &print, &e) || vm_config_validate(c, &e)) {
		log_err("%s", e.msg);
		return 1;
	}
	if (!print)
		return 0;
	json = vm_config_to_json(c, true);
	if (!json) {
		log_err("out of memory");
		return 1;
	}
	printf("%s\n", json);
	free(json);
	return -1;
}

int cmd_run(int argc, char **argv)
{
	struct vm_config cfg;
	struct err e = {""};
	struct mgmt mgmt;
	char name[VM_NAME_MAX + 1];
	struct vm *vm;
	bool restart = false;
	int status;

	status = parse_args(argc, argv, &cfg);
	if (status) {
		vm_config_free(&cfg);
		return status < 0 ? 0 : status;
	}
	if (mgmt_open(&mgmt, vm_config_name(&cfg, name), cfg.event_monitor)) {
		vm_config_free(&cfg);
		return 1;
	}
	vm = malloc(sizeof(*vm));
	if (!vm) {
		log_err("out of memory");
		mgmt_close(&mgmt, 1);
		vm_config_free(&cfg);
		return 1;
	}
	for (;;) {
		if (vm_create(vm, &cfg, &e)) {
			log_err("%s", e.msg);
			vm_destroy(vm);
			status = 1;
			break;
		}
		if (mgmt_attach(&mgmt, vm, cfg.api_socket, restart)) {
			vm_destroy(vm);
			status = 1;
			break;
		}
		status = vm_run(vm);
		if (vm->stop_detail[0])
			log_err("%s", vm->stop_detail);
		vm_destroy(vm);
		if (atomic_load(&vm->quit)) /* a signal that came while the guest rebooted */
			status = vm_exit_status(VM_STOP_QUIT, 0);
		/* vm.reboot from the API restarts whatever --on-reboot says */
		if (!(status == 2 &&
		      (cfg.on_reboot == REBOOT_RESTART || atomic_load(&vm->life.restart))))
			break;
		log_info("guest rebooted: restarting");
		cfg.console_append = true; /* one log across restarts */
		restart = true;
	}
	free(vm);
	mgmt_close(&mgmt, status);
	vm_config_free(&cfg);
	return status;
}
