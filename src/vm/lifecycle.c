/* lifecycle.c: pausing and resuming every vCPU at a safe point, with kvmclock frozen while
 * paused. The event loop asks (lifecycle_pause/resume); each vCPU thread parks itself in
 * lifecycle_park_point, so no exit is ever half handled. */
#include "vm/lifecycle.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <time.h>

#include "util/log.h"
#include "vm/coalesced.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

#define PAUSE_TIMEOUT_S 5

void lifecycle_init(struct vm *vm)
{
	struct vm_lifecycle *L = &vm->life;
	pthread_condattr_t ca;

	pthread_mutex_init(&L->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&L->cond, &ca);
	pthread_condattr_destroy(&ca);
	L->pause_req = false;
	L->parked = 0;
	atomic_store(&L->paused, false);
	atomic_store(&L->restart, false);
	L->clock_saved = false;
}

void lifecycle_destroy(struct vm *vm)
{
	pthread_cond_destroy(&vm->life.cond);
	pthread_mutex_destroy(&vm->life.lock);
}

enum vm_state vm_state_now(struct vm *vm)
{
	if (atomic_load(&vm->stopping))
		return VMS_SHUTDOWN;
	return atomic_load(&vm->life.paused) ? VMS_PAUSED : VMS_RUNNING;
}

void lifecycle_wake(struct vm *vm)
{
	pthread_mutex_lock(&vm->life.lock);
	pthread_cond_broadcast(&vm->life.cond);
	pthread_mutex_unlock(&vm->life.lock);
}

void lifecycle_park_point(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct vm_lifecycle *L = &vm->life;

	pthread_mutex_lock(&L->lock);
	if (!L->pause_req) {
		pthread_mutex_unlock(&L->lock);
		return;
	}
	pthread_mutex_unlock(&L->lock);
	coalesced_flush(vm); /* the guest's queued writes reach the devices before the pause */
	pthread_mutex_lock(&L->lock);
	L->parked++;
	pthread_cond_broadcast(&L->cond);
	while (L->pause_req && !atomic_load(&vm->stopping))
		pthread_cond_wait(&L->cond, &L->lock);
	L->parked--;
	pthread_cond_broadcast(&L->cond);
	pthread_mutex_unlock(&L->lock);
}

/* Tell the guest's kvmclock it was stopped (its watchdogs then do not report a lockup).
 * EINVAL means the guest has not enabled kvmclock: nothing to tell. */
static void kvmclock_ctrl_all(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ncpus_created; i++)
		if (ioctl(vm->vcpus[i].fd, KVM_KVMCLOCK_CTRL, 0) < 0 && errno != EINVAL)
			log_warn("KVM_KVMCLOCK_CTRL on vCPU %u: %m", i);
}

/* Release parked vCPUs (with the lock held). */
static void release_locked(struct vm_lifecycle *L)
{
	L->pause_req = false;
	atomic_store(&L->paused, false);
	pthread_cond_broadcast(&L->cond);
}

int lifecycle_pause(struct vm *vm)
{
	struct vm_lifecycle *L = &vm->life;
	struct timespec until;
	int ret = 0;

	if (atomic_load(&L->paused))
		return 0;
	if (atomic_load(&vm->stopping))
		return -ESHUTDOWN;
	pthread_mutex_lock(&L->lock);
	L->pause_req = true;
	pthread_mutex_unlock(&L->lock);
	for (unsigned i = 0; i < vm->ncpus_created; i++)
		vcpu_kick(&vm->vcpus[i]);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += PAUSE_TIMEOUT_S;
	pthread_mutex_lock(&L->lock);
	while (L->parked < vm->ncpus_created && !atomic_load(&vm->stopping) && !ret)
		ret = -pthread_cond_timedwait(&L->cond, &L->lock, &until);
	if (atomic_load(&vm->stopping))
		ret = -ESHUTDOWN;
	if (ret) {
		release_locked(L);
		pthread_mutex_unlock(&L->lock);
		return ret;
	}
	/* Every vCPU is parked: freeze the guest's clock. */
	L->clock = (struct kvm_clock_data){0};
	L->clock_saved = ioctl(vm->vm_fd, KVM_GET_CLOCK, &L->clock) == 0;
	if (!L->clock_saved)
		log_warn("KVM_GET_CLOCK: %m (the guest's clock will jump on resume)");
	atomic_store(&L->paused, true);
	pthread_mutex_unlock(&L->lock);
	return 0;
}

int lifecycle_resume(struct vm *vm)
{
	struct vm_lifecycle *L = &vm->life;

	pthread_mutex_lock(&L->lock);
	if (!atomic_load(&L->paused)) {
		pthread_mutex_unlock(&L->lock);
		return 0;
	}
	if (L->clock_saved) {
		struct kvm_clock_data c = {.clock = L->clock.clock}; /* no KVM_CLOCK_REALTIME */

		if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &c) < 0)
			log_warn("KVM_SET_CLOCK: %m (the guest's clock jumps by the pause)");
	}
	kvmclock_ctrl_all(vm);
	release_locked(L);
	pthread_mutex_unlock(&L->lock);
	return 0;
}
