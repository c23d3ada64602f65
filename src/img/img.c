/* img.c: placeholder until the VHD work lands (issue 3). */
#include <stdio.h>

#include "img/img.h"

int cmd_img(int argc, char **argv)
{
	fprintf(stderr, "thinvisor: img: not built yet\n");
	return 1;
}

void help_img(void)
{
	printf("usage: thinvisor img ...\n");
}
