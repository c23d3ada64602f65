/* img.h: `thinvisor img` (create, info, check, convert, commit, compare, bench). */
#ifndef TV_IMG_H
#define TV_IMG_H

/* Entry point for `thinvisor img ARGS...`; argv[0] is "img". Returns the exit status. */
int cmd_img(int argc, char **argv);

/* Print `thinvisor help img` text to stdout. */
void help_img(void);

#endif
