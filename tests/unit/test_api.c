/* test_api.c: the control API's pure parts: route table (and docs/openapi.json listing the same
 * paths and methods), request bodies, the lifecycle state machine, the event monitor's lines,
 * and claiming the API socket (live, stale, clashing). */
/* cmocka.h needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api/events.h"
#include "api/routes.h"
#include "api/sock.h"
#include "vm/lifecycle.h"

static void test_routes_found(void **st)
{
	char allow[32];
	int status = 0;

	for (unsigned i = 0; i < api_nroutes; i++) {
		const struct api_route *r = api_route_find(api_routes[i].method, api_routes[i].path,
							   &status, allow, sizeof(allow));
		assert_ptr_equal(r, &api_routes[i]);
	}
	assert_int_equal(api_route_find("GET", "/api/v1/vm.info", &status, allow, 32)->op,
			 OP_INFO);
	assert_int_equal(api_route_find("PUT", "/api/v1/vm.pause", &status, allow, 32)->action,
			 VMA_PAUSE);
}

static void test_routes_404_405(void **st)
{
	char allow[32];
	int status = 0;

	assert_null(api_route_find("GET", "/api/v1/vm.pause", &status, allow, sizeof(allow)));
	assert_int_equal(status, 405);
	assert_string_equal(allow, "PUT");
	assert_null(api_route_find("DELETE", "/api/v1/vm.info", &status, allow, sizeof(allow)));
	assert_int_equal(status, 405);
	assert_string_equal(allow, "GET");
	status = 0;
	assert_null(api_route_find("GET", "/api/v1/vm.nope", &status, allow, sizeof(allow)));
	assert_int_equal(status, 404);
	assert_string_equal(allow, "");
	assert_null(api_route_find("GET", "/api/v1/vm.info/", &status, allow, sizeof(allow)));
	assert_int_equal(status, 404);
	assert_null(api_route_find("GET", "/API/V1/VM.INFO", &status, allow, sizeof(allow)));
	assert_int_equal(status, 404);
	assert_null(api_route_find("GET", "", &status, allow, sizeof(allow)));
	assert_int_equal(status, 404);
	/* every route is under /api/v1/ but Prometheus' customary /metrics */
	for (unsigned i = 0; i < api_nroutes; i++)
		assert_true(!strncmp(api_routes[i].path, API_PREFIX, strlen(API_PREFIX)) ||
			    !strcmp(api_routes[i].path, "/metrics"));
}

/* docs/openapi.json lists exactly the table's paths and methods. */
static void test_openapi_in_step(void **st)
{
	const char *top = getenv("TOP");
	char path[512];
	struct json_object *doc, *paths;
	unsigned n = 0;

	snprintf(path, sizeof(path), "%s/docs/openapi.json", top ? top : ".");
	doc = json_object_from_file(path);
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "paths", &paths));
	json_object_object_foreach(paths, p, methods) {
		json_object_object_foreach(methods, m, op) {
			char up[8] = "";
			int status;
			char allow[32];

			(void)op;
			for (unsigned i = 0; m[i] && i < sizeof(up) - 1; i++)
				up[i] = (char)(m[i] - 'a' + 'A');
			if (!api_route_find(up, p, &status, allow, sizeof(allow)))
				fail_msg("openapi.json has %s %s, the route table does not", up, p);
			n++;
		}
	}
	for (unsigned i = 0; i < api_nroutes; i++) {
		struct json_object *m, *op;
		char low[8] = "";

		for (unsigned j = 0; api_routes[i].method[j] && j < sizeof(low) - 1; j++)
			low[j] = (char)(api_routes[i].method[j] - 'A' + 'a');
		if (!json_object_object_get_ex(paths, api_routes[i].path, &m) ||
		    !json_object_object_get_ex(m, low, &op))
			fail_msg("the route table has %s %s, openapi.json does not",
				 api_routes[i].method, api_routes[i].path);
	}
	assert_int_equal(n, api_nroutes);
	json_object_put(doc);
}

static void body_ok(const char *s, bool object)
{
	struct json_object *o = (void *)1;
	struct err e = {""};

	assert_int_equal(api_parse_body(s, strlen(s), &o, &e), 0);
	if (object) {
		assert_non_null(o);
		assert_true(json_object_is_type(o, json_type_object));
	} else {
		assert_null(o);
	}
	json_object_put(o);
}

static void body_bad(const char *s, size_t len, const char *msg)
{
	struct json_object *o = (void *)1;
	struct err e = {""};

	assert_int_equal(api_parse_body(s, len, &o, &e), -EINVAL);
	assert_null(o);
	assert_string_equal(e.msg, msg);
}

static void test_bodies(void **st)
{
	body_ok("", false);
	body_ok(" \r\n\t", false);
	body_ok("{}", true);
	body_ok("  {\"a\": [1, 2, {\"b\": null}]}\n", true);
	body_bad("garbage", 7, "request body must be a JSON object");
	body_bad("[1]", 3, "request body must be a JSON object");
	body_bad("42", 2, "request body must be a JSON object");
	body_bad("{", 1, "request body is not valid JSON: unexpected end of data");
	body_bad("{\"a\":1} x", 9, "request body is not valid JSON: unexpected character");
	body_bad("{\"a\":1}{}", 9, "request body is not valid JSON: unexpected character");
	body_bad("{\"a\":\0}", 7, "request body is not valid JSON: it contains a NUL byte");
}

/* The state machine, cell by cell. */
static void test_state_machine(void **st)
{
	static const struct {
		enum vm_state s;
		enum vm_action a;
		enum vm_verdict v;
	} cells[] = {
		{VMS_RUNNING, VMA_PAUSE, VMV_DO},          {VMS_RUNNING, VMA_RESUME, VMV_NOOP},
		{VMS_RUNNING, VMA_POWER_BUTTON, VMV_DO},   {VMS_RUNNING, VMA_REBOOT, VMV_DO},
		{VMS_RUNNING, VMA_SHUTDOWN, VMV_DO},       {VMS_RUNNING, VMA_VMM_SHUTDOWN, VMV_DO},
		{VMS_RUNNING, VMA_INFO, VMV_DO},           {VMS_RUNNING, VMA_COUNTERS, VMV_DO},
		{VMS_PAUSED, VMA_PAUSE, VMV_NOOP},         {VMS_PAUSED, VMA_RESUME, VMV_DO},
		{VMS_PAUSED, VMA_POWER_BUTTON, VMV_DENY},  {VMS_PAUSED, VMA_REBOOT, VMV_DO},
		{VMS_PAUSED, VMA_SHUTDOWN, VMV_DO},        {VMS_PAUSED, VMA_VMM_SHUTDOWN, VMV_DO},
		{VMS_PAUSED, VMA_INFO, VMV_DO},            {VMS_PAUSED, VMA_COUNTERS, VMV_DO},
		{VMS_SHUTDOWN, VMA_PAUSE, VMV_DENY},       {VMS_SHUTDOWN, VMA_RESUME, VMV_DENY},
		{VMS_SHUTDOWN, VMA_POWER_BUTTON, VMV_DENY}, {VMS_SHUTDOWN, VMA_REBOOT, VMV_DENY},
		{VMS_SHUTDOWN, VMA_SHUTDOWN, VMV_DENY},    {VMS_SHUTDOWN, VMA_VMM_SHUTDOWN, VMV_NOOP},
		{VMS_SHUTDOWN, VMA_INFO, VMV_DO},          {VMS_SHUTDOWN, VMA_COUNTERS, VMV_DO},
	};

	assert_int_equal(sizeof(cells) / sizeof(cells[0]), VMS_COUNT * VMA_COUNT);
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++)
		if (vm_action_verdict(cells[i].s, cells[i].a) != cells[i].v)
			fail_msg("state %s action %d: verdict %d, wanted %d",
				 vm_state_name(cells[i].s), cells[i].a,
				 vm_action_verdict(cells[i].s, cells[i].a), cells[i].v);
	assert_int_equal(vm_action_verdict(VMS_COUNT, VMA_INFO), VMV_DENY);
	assert_int_equal(vm_action_verdict(VMS_RUNNING, VMA_COUNT), VMV_DENY);
	assert_string_equal(vm_state_name(VMS_RUNNING), "Running");
	assert_string_equal(vm_state_name(VMS_PAUSED), "Paused");
	assert_string_equal(vm_state_name(VMS_SHUTDOWN), "Shutdown");
}

static void test_verdict_status(void **st)
{
	char allow[8];
	int status;
	const struct api_route *r = api_route_find("PUT", "/api/v1/vm.power-button", &status,
						   allow, sizeof(allow));
	struct err e = {""};

	assert_int_equal(api_verdict_status(VMV_DO, r, VMS_PAUSED, &e), 0);
	assert_int_equal(api_verdict_status(VMV_NOOP, r, VMS_PAUSED, &e), 0);
	assert_int_equal(api_verdict_status(VMV_DENY, r, VMS_PAUSED, &e), 409);
	assert_string_equal(e.msg,
			    "PUT /api/v1/vm.power-button is not possible while the VM is Paused");
}

static void test_event_spec(void **st)
{
	const char *path;
	int fd;
	struct err e = {""};

	assert_int_equal(events_parse_spec("path=/tmp/x", &path, &fd, &e), 0);
	assert_string_equal(path, "/tmp/x");
	assert_int_equal(fd, -1);
	assert_int_equal(events_parse_spec("fd=3", &path, &fd, &e), 0);
	assert_null(path);
	assert_int_equal(fd, 3);
	for (const char *const *s = (const char *const[]){"path=", "fd=", "fd=x", "fd=-1",
							  "file=/x", "", "fd=3x", NULL};
	     *s; s++) {
		assert_int_equal(events_parse_spec(*s, &path, &fd, &e), -EINVAL);
		char want[100];
		snprintf(want, sizeof(want),
			 "invalid --event-monitor '%s': expected path=FILE or fd=N", *s);
		assert_string_equal(e.msg, want);
	}
}

static void test_event_lines(void **st)
{
	char dir[] = "/tmp/tv-test-api.XXXXXX", path[64], spec[80], buf[1024];
	struct events *ev;
	struct err e = {""};
	FILE *f;
	int n = 0;
	static const char *const want[] = {"booted", "paused", "resumed", "shutdown"};

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ev", dir);
	snprintf(spec, sizeof(spec), "path=%s", path);
	assert_int_equal(events_open(&ev, spec, &e), 0);
	for (int i = 0; i < 3; i++)
		events_emit(ev, want[i], NULL);
	events_emit(ev, want[3], "{\"status\":0}");
	events_close(ev);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f)) {
		struct json_object *o = json_tokener_parse(buf), *v, *ts, *x;

		assert_non_null(o);
		assert_true(n < 4);
		assert_true(json_object_object_get_ex(o, "event", &v));
		assert_string_equal(json_object_get_string(v), want[n]);
		assert_true(json_object_object_get_ex(o, "source", &v));
		assert_string_equal(json_object_get_string(v), "vm");
		assert_true(json_object_object_get_ex(o, "timestamp", &ts));
		assert_true(json_object_object_get_ex(ts, "secs", &x));
		assert_true(json_object_object_get_ex(ts, "nanos", &x));
		assert_true(json_object_get_int64(x) < 1000000000);
		assert_true(json_object_object_get_ex(o, "properties", &v));
		if (n == 3) {
			assert_true(json_object_object_get_ex(v, "status", &x));
			assert_int_equal(json_object_get_int(x), 0);
		} else {
			assert_null(v);
		}
		json_object_put(o);
		n++;
	}
	fclose(f);
	assert_int_equal(n, 4);
	/* a descriptor that is not open */
	assert_int_equal(events_open(&ev, "fd=999", &e), -EBADF);
	assert_string_equal(e.msg, "invalid --event-monitor 'fd=999': descriptor 999 is not open");
	snprintf(spec, sizeof(spec), "path=%s/no/such/dir/ev", dir);
	assert_int_equal(events_open(&ev, spec, &e), -ENOENT);
	unlink(path);
	rmdir(dir);
}

static void test_names(void **st)
{
	assert_true(api_name_ok("vm-1"));
	assert_true(api_name_ok("web_01.prod"));
	assert_false(api_name_ok(""));
	assert_false(api_name_ok(".hidden"));
	assert_false(api_name_ok("a/b"));
	assert_false(api_name_ok("a b"));
	assert_false(api_name_ok("x\n"));
	assert_true(api_name_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_false(api_name_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

/* A socket file whose server is gone, as a crashed monitor leaves it. */
static void make_stale(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(a.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	close(fd);
}

static void test_socket_claim(void **st)
{
	char dir[] = "/tmp/tv-test-api.XXXXXX", path[64], want[200];
	struct api_sock a, b;
	struct err e = {""};
	struct stat sb;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.sock", dir);
	assert_int_equal(api_sock_claim(&a, "t", path, &e), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* a second monitor with the same socket: refused while the first lives */
	assert_int_equal(api_sock_claim(&b, "t", path, &e), -EADDRINUSE);
	snprintf(want, sizeof(want),
		 "the name 't' is in use by a running monitor (API socket %s)", path);
	assert_string_equal(e.msg, want);
	assert_int_equal(b.fd, -1);
	api_sock_release(&a);
	assert_int_equal(stat(path, &sb), -1);
	assert_int_equal(errno, ENOENT);
	snprintf(want, sizeof(want), "%s.lock", path);
	assert_int_equal(stat(want, &sb), -1);
	api_sock_release(&a); /* twice is harmless */
	/* a stale socket is replaced */
	make_stale(path);
	assert_int_equal(api_sock_claim(&a, "t", path, &e), 0);
	api_sock_release(&a);
	/* something else in the way is not removed */
	close(open(path, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(api_sock_claim(&a, "t", path, &e), -EEXIST);
	snprintf(want, sizeof(want),
		 "cannot create the API socket %s: a file that is no socket is in the way", path);
	assert_string_equal(e.msg, want);
	assert_int_equal(stat(path, &sb), 0);
	unlink(path);
	rmdir(dir);
}

static void test_default_path(void **st)
{
	char buf[108];
	struct err e = {""};

	if (geteuid() == 0) {
		assert_int_equal(api_sock_default_path("web", buf, sizeof(buf), &e), 0);
		assert_string_equal(buf, "/run/thinvisor/web.sock");
	} else {
		setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
		assert_int_equal(api_sock_default_path("web", buf, sizeof(buf), &e), 0);
		assert_string_equal(buf, "/run/user/1000/thinvisor/web.sock");
		unsetenv("XDG_RUNTIME_DIR");
		assert_int_equal(api_sock_default_path("web", buf, sizeof(buf), &e), -ENOENT);
	}
	assert_int_equal(api_sock_default_path("a/b", buf, sizeof(buf), &e), -EINVAL);
	assert_string_equal(e.msg, "invalid VM name 'a/b': 1-64 letters, digits, '.', '_' or "
				   "'-', not starting with '.'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_found),   cmocka_unit_test(test_routes_404_405),
		cmocka_unit_test(test_openapi_in_step), cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_state_machine),  cmocka_unit_test(test_verdict_status),
		cmocka_unit_test(test_event_spec),     cmocka_unit_test(test_event_lines),
		cmocka_unit_test(test_names),          cmocka_unit_test(test_socket_claim),
		cmocka_unit_test(test_default_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
