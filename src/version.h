/* version.h: thinvisor's version (thinvisor --version, vmm.ping). */
#ifndef TV_VERSION_H
#define TV_VERSION_H

#define THINVISOR_VERSION "0.1.0"

#endif
