/* kvm.h: opening /dev/kvm and checking what the monitor relies on. */
#ifndef TV_KVM_H
#define TV_KVM_H

#include "util/err.h"

/* Open path (normally "/dev/kvm"), check the API version and every capability thinvisor
 * needs. Returns the fd, or -errno with a one-line message naming the problem: no device,
 * no permission, wrong API version, or the list of missing capabilities. */
int kvm_open_checked(const char *path, struct err *e) __attribute__((warn_unused_result));

/* The most vCPUs this KVM allows in one VM (KVM_CAP_MAX_VCPUS, else KVM_CAP_NR_VCPUS). */
int kvm_max_vcpus(int kvm_fd);

#endif
