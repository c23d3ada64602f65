/* main.c: the thinvisor binary's subcommand table. */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "img/img.h"

#include "version.h"

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	void (*help)(void);
	const char *summary;
} commands[] = {
	{"run", cmd_run, help_run, "boot a virtual machine"},
	{"img", cmd_img, help_img, "create, inspect, check and convert disk images"},
	{"ls", cmd_ls, help_ls, "list the running VMs"},
	{"ctl", cmd_ctl, help_ctl, "pause, resume, power off, reboot or inspect a running VM"},
	{"import", cmd_import, help_import, "turn a Virtual PC / Virtual Server machine (.vmc) into a config file"},
	{"help", cmd_help, NULL, "show help for a command"},
	{"version", cmd_version, NULL, "print the version"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: thinvisor COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n`thinvisor help COMMAND` for a command's options; "
		   "`thinvisor --version` for the version.\n");
}

static int cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	c = find_command(argv[1]);
	if (!c || !c->help) {
		fprintf(stderr, "thinvisor: no help for '%s'\n", argv[1]);
		return 1;
	}
	c->help();
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	printf("thinvisor %s\n", THINVISOR_VERSION);
	return 0;
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cmd_version(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(1, argv + 1);
	c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "thinvisor: unknown command '%s' (try `thinvisor help`)\n", argv[1]);
		return 1;
	}
	return c->fn(argc - 1, argv + 1);
}
