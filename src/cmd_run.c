#include <stdio.h>
#include "cmds.h"
int cmd_run(int argc, char **argv) { fprintf(stderr, "thinvisor: run: not built yet\n"); return 1; }
void help_run(void) {}
