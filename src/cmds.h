/* cmds.h: the subcommands of the thinvisor binary (table in main.c). */
#ifndef TV_CMDS_H
#define TV_CMDS_H

/* `thinvisor run ...`: boot a VM; returns the process exit status (README.md). */
int cmd_run(int argc, char **argv);

/* Usage text of `run` on stdout. */
void help_run(void);

/* `thinvisor ls`: the user's running VMs, one line each. Returns the exit status. */
int cmd_ls(int argc, char **argv);
void help_ls(void);

/* `thinvisor ctl NAME ACTION`: one control-API request. Returns the exit status. */
int cmd_ctl(int argc, char **argv);
void help_ctl(void);

/* `thinvisor import MACHINE.vmc [-o FILE] [--dry-run]`: a .vmc as a configuration file. */
int cmd_import(int argc, char **argv);
void help_import(void);

#endif
