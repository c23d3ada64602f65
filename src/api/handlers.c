/* handlers.c: what each route does (event-loop thread). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api/events.h"
#include "api/server.h"
#include "hw/acpi_pm.h"
#include "util/clock.h"
#include "version.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

/* rep = 200 with o as compact JSON (o is consumed). */
static void reply_json(struct api_reply *rep, struct json_object *o)
{
	rep->status = 200;
	rep->ctype = "application/json";
	rep->body = o ? strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) : NULL;
	json_object_put(o);
	if (!rep->body)
		api_reply_error(rep, 500, "out of memory");
}

static void do_ping(struct api *a, struct api_reply *rep)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "build_version", json_object_new_string(THINVISOR_VERSION));
	json_object_object_add(o, "version", json_object_new_string(THINVISOR_VERSION));
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "features", json_object_new_array());
	reply_json(rep, o);
}

static void do_info(struct api *a, struct api_reply *rep)
{
	struct json_object *o = json_object_new_object();
	struct json_object *cfg = json_tokener_parse(a->config_json);

	json_object_object_add(o, "config", cfg ? cfg : json_object_new_object());
	json_object_object_add(o, "state",
			       json_object_new_string(vm_state_name(vm_state_now(a->vm))));
	json_object_object_add(o, "memory_actual_size",
			       json_object_new_int64((int64_t)a->vm->cfg.mem_size));
	/* thinvisor's own, for `thinvisor ls` */
	json_object_object_add(o, "name", json_object_new_string(a->name));
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "uptime_ms",
			       json_object_new_int64((int64_t)((mono_ns() - a->p.started_ns) /
							       1000000)));
	json_object_object_add(o, "api_socket", json_object_new_string(a->socket_path));
	reply_json(rep, o);
}

static void do_counters(struct api *a, struct api_reply *rep)
{
	struct json_object *o = json_object_new_object(), *exits = json_object_new_object();
	struct vm *vm = a->vm;

	for (int i = 0; i < STAT_COUNT; i++)
		json_object_object_add(exits, vm_stat_name((enum vm_stat)i),
				       json_object_new_int64((int64_t)atomic_load_explicit(
					       &vm->stats[i], memory_order_relaxed)));
	json_object_object_add(o, "exits", exits);
	for (unsigned s = 0; s < vm->ncounter_sets; s++) {
		const struct counter_set *cs = &vm->counter_sets[s];
		struct json_object *d = json_object_new_object();

		for (unsigned i = 0; i < cs->n; i++)
			json_object_object_add(d, cs->names[i],
					       json_object_new_int64((int64_t)atomic_load_explicit(
						       &cs->values[i], memory_order_relaxed)));
		json_object_object_add(o, cs->id, d);
	}
	reply_json(rep, o);
}

static void do_metrics(struct api *a, struct api_reply *rep)
{
	rep->status = 200;
	rep->ctype = "text/plain; version=0.0.4";
	rep->body = api_metrics_text(a);
	if (!rep->body)
		api_reply_error(rep, 500, "out of memory");
}

/* The actions: the state machine has allowed them. */
static void do_action(struct api *a, const struct api_route *r, struct api_reply *rep)
{
	char msg[160];
	int ret = 0;

	rep->status = 204;
	switch (r->op) {
	case OP_PAUSE:
		ret = lifecycle_pause(a->vm);
		if (!ret)
			events_emit(a->p.events, "paused", NULL);
		break;
	case OP_RESUME:
		ret = lifecycle_resume(a->vm);
		if (!ret)
			events_emit(a->p.events, "resumed", NULL);
		break;
	case OP_POWER_BUTTON:
		ret = pm_power_button(a->vm);
		if (!ret)
			events_emit(a->p.events, "power-button", NULL);
		break;
	case OP_REBOOT:
	case OP_SHUTDOWN:
	case OP_VMM_SHUTDOWN:
		rep->stop_after = true; /* once this answer is out (server.c) */
		break;
	default:
		ret = -EINVAL;
	}
	if (ret == -ESHUTDOWN)
		api_reply_error(rep, 409, "the VM is shutting down");
	else if (ret) {
		snprintf(msg, sizeof(msg), "%s failed: %s", r->path, strerror(-ret));
		api_reply_error(rep, 500, msg);
	}
}

void api_handle(struct api *a, const struct api_route *r, struct json_object *body,
		struct api_reply *rep)
{
	struct err e = {""};

	if (r->action >= 0) {
		enum vm_state s = vm_state_now(a->vm);
		enum vm_verdict v = vm_action_verdict(s, (enum vm_action)r->action);
		int status = api_verdict_status(v, r, s, &e);

		if (status) {
			api_reply_error(rep, status, e.msg);
			return;
		}
		if (v == VMV_NOOP) {
			rep->status = 204;
			return;
		}
	}
	switch (r->op) {
	case OP_PING:
		do_ping(a, rep);
		break;
	case OP_INFO:
		do_info(a, rep);
		break;
	case OP_COUNTERS:
		do_counters(a, rep);
		break;
	case OP_METRICS:
		do_metrics(a, rep);
		break;
	default:
		do_action(a, r, rep);
	}
}
