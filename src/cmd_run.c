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

#define DEFAULT_CMDLINE "console=ttyS0 panic=-1"
#define MIN_MEMORY (16ULL << 20)

void help_run(void)
{
	printf("usage: thinvisor run --kernel PATH [options]\n"
	       "\n"
	       "Boot a virtual machine. The kernel may be a Linux bzImage (64- or 32-bit), an ELF\n"
	       "with a PVH entry note (e.g. vmlinux) or a Multiboot v1 kernel; the type is probed.\n"
	       "\n"
	       "  --kernel PATH         guest kernel (required)\n"
	       "  --initrd PATH         initial ramdisk\n"
	       "  --cmdline STR         kernel command line (default \"" DEFAULT_CMDLINE "\")\n"
	       "  --memory SIZE         guest RAM, e.g. 512M, 4G (default 256M, at least 16M)\n"
	       "  --cpus N              vCPUs, 1 to %d or KVM's limit (default 1)\n"
	       "  --console KIND        stdio (default; raw terminal, Ctrl-A x quits),\n"
	       "                        file=PATH (guest output to PATH), none\n"
	       "  --on-reboot ACTION    exit (default: exit status 2) or restart\n"
	       "  --testdev             attach the test device used by the project's test guests\n"
	       "  --stats               print exit counters on stderr when the VM stops\n"
	       "\n"
	       "Exit status: 0 guest powered off; 1 bad configuration or start-up failure;\n"
	       "2 guest rebooted (--on-reboot exit); 3 triple fault; 4 KVM internal error,\n"
	       "emulation failure or failed VM entry; 5 monitor failure while running;\n"
	       "130 stopped by Ctrl-A x or a signal. Fatal stops print the reason and the vCPU\n"
	       "registers on stderr.\n",
	       PLAT_MAX_CPUS);
}

static int parse_console(const char *arg, struct vm_config *c)
{
	if (!strcmp(arg, "stdio"))
		c->console = CONSOLE_STDIO;
	else if (!strcmp(arg, "none"))
		c->console = CONSOLE_NONE;
	else if (!strncmp(arg, "file=", 5) && arg[5]) {
		c->console = CONSOLE_FILE;
		c->console_path = arg + 5;
	} else
		return -EINVAL;
	return 0;
}

static uint64_t host_ram(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

	return pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : UINT64_MAX;
}

/* Fill c from argv. Returns 0, or 1 after printing one error line. */
static int parse_args(int argc, char **argv, struct vm_config *c)
{
	static const struct option opts[] = {
		{"kernel", required_argument, NULL, 'k'}, {"initrd", required_argument, NULL, 'i'},
		{"cmdline", required_argument, NULL, 'c'}, {"memory", required_argument, NULL, 'm'},
		{"cpus", required_argument, NULL, 'n'},   {"console", required_argument, NULL, 'C'},
		{"on-reboot", required_argument, NULL, 'r'}, {"testdev", no_argument, NULL, 'T'},
		{"stats", no_argument, NULL, 'S'},        {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *mem_arg = NULL;
	char *end;
	long n;
	int o;

	vm_config_defaults(c);
	opterr = 0;
	optind = 1;
	while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (o) {
		case 'k': c->kernel = optarg; break;
		case 'i': c->initrd = optarg; break;
		case 'c': c->cmdline = optarg; break;
		case 'm':
			mem_arg = optarg;
			if (parse_size(optarg, &c->mem_size)) {
				log_err("invalid --memory '%s': expected a size like 512M or 2G", optarg);
				return 1;
			}
			break;
		case 'n':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 || n > PLAT_MAX_CPUS) {
				log_err("invalid --cpus '%s': must be between 1 and %d", optarg,
					PLAT_MAX_CPUS);
				return 1;
			}
			c->ncpus = (unsigned)n;
			break;
		case 'C':
			if (parse_console(optarg, c)) {
				log_err("invalid --console '%s': expected stdio, file=PATH or none",
					optarg);
				return 1;
			}
			break;
		case 'r':
			if (!strcmp(optarg, "exit"))
				c->on_reboot = REBOOT_EXIT;
			else if (!strcmp(optarg, "restart"))
				c->on_reboot = REBOOT_RESTART;
			else {
				log_err("invalid --on-reboot '%s': expected exit or restart", optarg);
				return 1;
			}
			break;
		case 'T': c->testdev = true; break;
		case 'S': c->stats = true; break;
		case 'h': help_run(); exit(0);
		default:
			if (optopt)
				log_err("option '-%c' is unknown or lacks its argument (see `thinvisor "
					"help run`)", optopt);
			else
				log_err("option '%s' is unknown or lacks its argument (see `thinvisor "
					"help run`)", argv[optind - 1]);
			return 1;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s' (see `thinvisor help run`)", argv[optind]);
		return 1;
	}
	if (!c->kernel) {
		log_err("no kernel given (--kernel PATH)");
		return 1;
	}
	if (c->mem_size < MIN_MEMORY) {
		log_err("invalid --memory '%s': at least 16M is needed", mem_arg);
		return 1;
	}
	if (c->mem_size & ((1 << 20) - 1)) {
		log_err("invalid --memory '%s': must be a whole number of MiB", mem_arg);
		return 1;
	}
	if (c->mem_size > host_ram()) {
		log_err("--memory %s is more than this host's %llu MiB of RAM", mem_arg,
			(unsigned long long)(host_ram() >> 20));
		return 1;
	}
	if (!c->cmdline)
		c->cmdline = DEFAULT_CMDLINE;
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct vm_config cfg;
	struct err e = {""};
	struct mgmt mgmt;
	char name[32];
	struct vm *vm;
	bool restart = false;
	int status;

	if (parse_args(argc, argv, &cfg))
		return 1;
	snprintf(name, sizeof(name), "vm-%d", (int)getpid());
	if (mgmt_open(&mgmt, name, NULL))
		return 1;
	vm = malloc(sizeof(*vm));
	if (!vm) {
		log_err("out of memory");
		mgmt_close(&mgmt, 1);
		return 1;
	}
	for (;;) {
		if (vm_create(vm, &cfg, &e)) {
			log_err("%s", e.msg);
			vm_destroy(vm);
			status = 1;
			break;
		}
		if (mgmt_attach(&mgmt, vm, NULL, restart)) {
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
	return status;
}
