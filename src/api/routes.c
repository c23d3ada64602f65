/* routes.c: the control API's route table and request-body checks (pure). */
#include "api/routes.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

const struct api_route api_routes[] = {
	{"GET", API_PREFIX "vmm.ping", OP_PING, -1, "the monitor's version and pid"},
	{"PUT", API_PREFIX "vmm.shutdown", OP_VMM_SHUTDOWN, VMA_VMM_SHUTDOWN,
	 "stop the VM and end the monitor"},
	{"GET", API_PREFIX "vm.info", OP_INFO, VMA_INFO,
	 "state, configuration and memory size of the VM"},
	{"GET", API_PREFIX "vm.counters", OP_COUNTERS, VMA_COUNTERS, "per-device counters"},
	{"PUT", API_PREFIX "vm.pause", OP_PAUSE, VMA_PAUSE, "stop every vCPU at a safe point"},
	{"PUT", API_PREFIX "vm.resume", OP_RESUME, VMA_RESUME, "continue a paused VM"},
	{"PUT", API_PREFIX "vm.power-button", OP_POWER_BUTTON, VMA_POWER_BUTTON,
	 "press the ACPI power button: the guest shuts itself down"},
	{"PUT", API_PREFIX "vm.reboot", OP_REBOOT, VMA_REBOOT, "reset the VM and boot it again"},
	{"PUT", API_PREFIX "vm.shutdown", OP_SHUTDOWN, VMA_SHUTDOWN,
	 "stop the VM now; the monitor exits with status 0"},
	{"GET", "/metrics", OP_METRICS, -1, "counters in Prometheus' text format"},
};
const unsigned api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);

const struct api_route *api_route_find(const char *method, const char *path, int *status,
				       char *allow, size_t allow_len)
{
	size_t used = 0;

	if (allow_len)
		allow[0] = '\0';
	for (unsigned i = 0; i < api_nroutes; i++) {
		if (strcmp(api_routes[i].path, path))
			continue;
		if (!strcmp(api_routes[i].method, method))
			return &api_routes[i];
		if (used < allow_len) {
			int n = snprintf(allow + used, allow_len - used, "%s%s", used ? ", " : "",
					 api_routes[i].method);
			used += n > 0 ? (size_t)n : 0;
		}
	}
	*status = allow_len && allow[0] ? 405 : 404;
	return NULL;
}

int api_parse_body(const char *buf, size_t len, struct json_object **out, struct err *e)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error jerr;
	size_t i = 0;

	*out = NULL;
	while (i < len && isspace((unsigned char)buf[i]))
		i++;
	if (i == len)
		return 0;
	if (buf[i] != '{')
		return errf(e, -EINVAL, "request body must be a JSON object");
	if (memchr(buf, '\0', len))
		return errf(e, -EINVAL, "request body is not valid JSON: it contains a NUL byte");
	tok = json_tokener_new();
	if (!tok)
		return errf(e, -ENOMEM, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT); /* no trailing commas or garbage */
	o = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!o && jerr == json_tokener_continue)
		jerr = json_tokener_error_parse_eof;
	if (o && json_tokener_get_parse_end(tok) < len) {
		/* anything after the value must be white space */
		for (i = json_tokener_get_parse_end(tok); i < len; i++)
			if (!isspace((unsigned char)buf[i]))
				break;
		if (i < len) {
			json_object_put(o);
			o = NULL;
			jerr = json_tokener_error_parse_unexpected;
		}
	}
	json_tokener_free(tok);
	if (!o)
		return errf(e, -EINVAL, "request body is not valid JSON: %s",
			    json_tokener_error_desc(jerr));
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return errf(e, -EINVAL, "request body must be a JSON object");
	}
	*out = o;
	return 0;
}

int api_verdict_status(enum vm_verdict v, const struct api_route *r, enum vm_state s,
		       struct err *e)
{
	if (v != VMV_DENY)
		return 0;
	errf(e, -EBUSY, "%s %s is not possible while the VM is %s", r->method, r->path,
	     vm_state_name(s));
	return 409;
}
