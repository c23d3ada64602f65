/* cmds.h: the subcommands of the thinvisor binary (table in main.c). */
#ifndef TV_CMDS_H
#define TV_CMDS_H

/* `thinvisor run ...`: boot a VM; returns the process exit status (README.md). */
int cmd_run(int argc, char **argv);

/* Usage text of `run` on stdout. */
void help_run(void);

#endif
