/* piix3.h: the PC's PIIX3 south bridge functions (ISA bridge, IDE). */
#ifndef TV_PIIX3_H
#define TV_PIIX3_H

#include <stdbool.h>

#include "vm/config.h"

/* Whether the configuration has the PC chipset: --firmware bios, or an IDE disk. */
bool piix3_wanted(const struct vm_config *c);

#endif
