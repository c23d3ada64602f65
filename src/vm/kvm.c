#include "vm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
#define CAP(c) {c, #c}
	CAP(KVM_CAP_USER_MEMORY),  CAP(KVM_CAP_IRQCHIP),  CAP(KVM_CAP_PIT2),
	CAP(KVM_CAP_SET_TSS_ADDR), CAP(KVM_CAP_EXT_CPUID), CAP(KVM_CAP_IMMEDIATE_EXIT),
	CAP(KVM_CAP_IOEVENTFD),    CAP(KVM_CAP_IRQFD),     CAP(KVM_CAP_MP_STATE),
	CAP(KVM_CAP_IRQ_ROUTING),  CAP(KVM_CAP_SYNC_MMU),
#undef CAP
};

int kvm_open_checked(const char *path, struct err *e)
{
	char missing[ERR_MSG_MAX] = "";
	size_t used = 0;
	int fd, ver, ret;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			return errf(e, ret, "cannot open %s: no such device (KVM is not available on "
					    "this host: no kvm module, or no VT-x/AMD-V)", path);
		if (ret == -EACCES || ret == -EPERM)
			return errf(e, ret, "cannot open %s: permission denied (run as root or join "
					    "the group that owns it)", path);
		return errf(e, ret, "cannot open %s: %s", path, strerror(-ret));
	}
	ver = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		ret = errf(e, -ENOTSUP, "%s speaks KVM API version %d, thinvisor needs %d", path,
			   ver, KVM_API_VERSION);
		goto close_fd;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, required_caps[i].cap) > 0)
			continue;
		used += (size_t)snprintf(missing + used, sizeof(missing) - used, "%s%s",
					 used ? ", " : "", required_caps[i].name);
		if (used >= sizeof(missing))
			break;
	}
	if (used) {
		ret = errf(e, -ENOTSUP, "KVM lacks capabilities thinvisor needs: %s", missing);
		goto close_fd;
	}
	return fd;

close_fd:
	close(fd);
	return ret;
}

int kvm_max_vcpus(int kvm_fd)
{
	int n = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);

	if (n <= 0)
		n = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	return n > 0 ? n : 4;
}
