/* cmd_ctl.c: `thinvisor ls` and `thinvisor ctl`: clients of the control API (libcurl over
 * each monitor's Unix socket, opened with dlopen: `thinvisor run` does not map it). */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api/sock.h"
#include "cmds.h"
#include "util/dynlib.h"
#include "util/log.h"

#define CTL_TIMEOUT_MS 10000L

struct reply {
	long status;
	char *body;
	size_t len;
	char err[ERR_MSG_MAX]; /* libcurl's error buffer: at least CURL_ERROR_SIZE */
};
_Static_assert(ERR_MSG_MAX >= CURL_ERROR_SIZE, "libcurl's error buffer");

static size_t on_data(char *p, size_t sz, size_t n, void *opaque)
{
	struct reply *r = opaque;
	char *b = realloc(r->body, r->len + sz * n + 1);

	if (!b)
		return 0;
	memcpy(b + r->len, p, sz * n);
	r->len += sz * n;
	b[r->len] = '\0';
	r->body = b;
	return sz * n;
}

/* The libcurl calls made here, resolved by load_curl (util/dynlib.h); process-wide like the
 * dynamic linker's own tables. */
static struct {
	__typeof__(&curl_easy_init) init;
	CURLcode (*setopt)(CURL *, CURLoption, ...);
	CURLcode (*getinfo)(CURL *, CURLINFO, ...);
	__typeof__(&curl_easy_perform) perform;
	__typeof__(&curl_easy_strerror) strerror;
	__typeof__(&curl_easy_cleanup) cleanup;
} cu;

static int load_curl(struct err *e)
{
	static const struct dynsym syms[] = {
		DYNSYM(&cu, init, curl_easy_init),	 DYNSYM(&cu, setopt, curl_easy_setopt),
		DYNSYM(&cu, getinfo, curl_easy_getinfo), DYNSYM(&cu, perform, curl_easy_perform),
		DYNSYM(&cu, strerror, curl_easy_strerror), DYNSYM(&cu, cleanup, curl_easy_cleanup),
	};

	return dynlib_load("libcurl.so.4", "libcurl4", "thinvisor's API client", syms,
			   sizeof(syms) / sizeof(syms[0]), e);
}

/* One request to the monitor at sock. 0 with r filled (any HTTP status), or -EIO with r->err. */
static int request(const char *sock, const char *method, const char *path, long timeout_ms,
		   struct reply *r)
{
	char url[256];
	struct err e;
	CURL *c;
	CURLcode res;

	memset(r, 0, sizeof(*r));
	if (load_curl(&e)) {
		snprintf(r->err, sizeof(r->err), "%s", e.msg);
		return -EIO;
	}
	c = cu.init();
	if (!c) {
		snprintf(r->err, sizeof(r->err), "cannot start libcurl");
		return -EIO;
	}
	snprintf(url, sizeof(url), "http://localhost%s", path);
	cu.setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	cu.setopt(c, CURLOPT_URL, url);
	cu.setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "PUT")) {
		cu.setopt(c, CURLOPT_POSTFIELDS, "");
		cu.setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	}
	cu.setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	cu.setopt(c, CURLOPT_WRITEDATA, r);
	cu.setopt(c, CURLOPT_ERRORBUFFER, r->err);
	cu.setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	cu.setopt(c, CURLOPT_NOSIGNAL, 1L);
	res = cu.perform(c);
	if (res == CURLE_OK)
		cu.getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	else if (!r->err[0])
		snprintf(r->err, sizeof(r->err), "%s", cu.strerror(res));
	cu.cleanup(c);
	return res == CURLE_OK ? 0 : -EIO;
}

/* A JSON answer's field, or NULL. */
static struct json_object *field(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static void fmt_uptime(long long ms, char *buf, size_t len)
{
	long long s = ms / 1000;

	if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s / 3600 % 24);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cmd_ls(int argc, char **argv)
{
	char dir[API_SOCK_PATH_MAX], path[API_SOCK_PATH_MAX + 300];
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	if (argc > 1) {
		log_err("ls takes no arguments (see `thinvisor help ls`)");
		return 1;
	}
	if (api_sock_dir(dir, sizeof(dir))) {
		log_err("no directory of API sockets: XDG_RUNTIME_DIR is not set");
		return 1;
	}
	printf("%-20s %8s %-9s %8s %5s %9s  %s\n", "NAME", "PID", "STATE", "MEMORY", "VCPUS",
	       "UPTIME", "SOCKET");
	d = opendir(dir);
	if (!d)
		return 0; /* no directory: nothing ever ran */
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char **nn;

		if (l < 6 || strcmp(de->d_name + l - 5, ".sock") || !(nn = realloc(names, (n + 1) * sizeof(*nn))))
			continue;
		names = nn;
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct reply r;
		struct json_object *o, *cfg;
		char up[32];

		if (!names[i])
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		/* a stale socket (its monitor crashed) does not answer: not running */
		if (request(path, "GET", "/api/v1/vm.info", 2000, &r) == 0 && r.status == 200 &&
		    (o = json_tokener_parse(r.body))) {
			cfg = field(o, "config");
			fmt_uptime(json_object_get_int64(field(o, "uptime_ms")), up, sizeof(up));
			printf("%-20s %8lld %-9s %7lldM %5d %9s  %s\n",
			       json_object_get_string(field(o, "name")),
			       (long long)json_object_get_int64(field(o, "pid")),
			       json_object_get_string(field(o, "state")),
			       (long long)(json_object_get_int64(field(o, "memory_actual_size")) >> 20),
			       json_object_get_int(field(field(cfg, "cpus"), "boot_vcpus")), up, path);
			json_object_put(o);
		}
		free(r.body);
		free(names[i]);
	}
	free(names);
	return 0;
}

static const struct ctl_action {
	const char *name, *method, *path;
} ctl_actions[] = {
	{"pause", "PUT", "/api/v1/vm.pause"},
	{"resume", "PUT", "/api/v1/vm.resume"},
	{"power-button", "PUT", "/api/v1/vm.power-button"},
	{"reboot", "PUT", "/api/v1/vm.reboot"},
	{"shutdown", "PUT", "/api/v1/vm.shutdown"},
	{"info", "GET", "/api/v1/vm.info"},
	{"counters", "GET", "/api/v1/vm.counters"},
	{"ping", "GET", "/api/v1/vmm.ping"},
	{"metrics", "GET", "/metrics"},
};

int cmd_ctl(int argc, char **argv)
{
	const struct ctl_action *a = NULL;
	char sock[API_SOCK_PATH_MAX];
	struct err e = {""};
	struct reply r;
	int ret = 1;

	if (argc != 3) {
		log_err("usage: thinvisor ctl NAME|SOCKET ACTION (see `thinvisor help ctl`)");
		return 1;
	}
	for (size_t i = 0; i < sizeof(ctl_actions) / sizeof(ctl_actions[0]); i++)
		if (!strcmp(argv[2], ctl_actions[i].name))
			a = &ctl_actions[i];
	if (!a) {
		log_err("unknown action '%s' (see `thinvisor help ctl`)", argv[2]);
		return 1;
	}
	if (strchr(argv[1], '/')) {
		snprintf(sock, sizeof(sock), "%s", argv[1]);
	} else if (api_sock_default_path(argv[1], sock, sizeof(sock), &e)) {
		log_err("%s", e.msg);
		return 1;
	}
	if (request(sock, a->method, a->path, CTL_TIMEOUT_MS, &r)) {
		if (access(sock, F_OK) < 0)
			log_err("no VM called '%s' is running (no socket %s)", argv[1], sock);
		else
			log_err("no monitor answers at %s (%s)", sock, r.err);
		free(r.body);
		return 1;
	}
	if (r.status >= 200 && r.status < 300) {
		struct json_object *o = r.body && r.body[0] == '{' ? json_tokener_parse(r.body) : NULL;

		if (o)
			printf("%s\n", json_object_to_json_string_ext(
					       o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
		else if (r.body)
			fputs(r.body, stdout);
		json_object_put(o);
		ret = 0;
	} else {
		struct json_object *o = r.body ? json_tokener_parse(r.body) : NULL;
		const char *msg = json_object_get_string(field(o, "error"));

		log_err("%s: %s (HTTP %ld)", argv[2], msg ? msg : "no reason given", r.status);
		json_object_put(o);
	}
	free(r.body);
	return ret;
}

void help_ls(void)
{
	printf("usage: thinvisor ls\n"
	       "\n"
	       "List the running VMs of this user (their API sockets in /run/thinvisor for root,\n"
	       "$XDG_RUNTIME_DIR/thinvisor for others): name, monitor pid, state, memory, vCPUs,\n"
	       "uptime and socket. Sockets left by a monitor that crashed are not listed.\n");
}

void help_ctl(void)
{
	printf("usage: thinvisor ctl NAME|SOCKET ACTION\n"
	       "\n"
	       "Drive a running VM through its control API (docs/API.md). NAME finds the socket\n"
	       "where `run --name NAME` put it; a path with a '/' is the socket itself.\n"
	       "\n"
	       "  pause         stop every vCPU (the guest's clock stands still)\n"
	       "  resume        continue a paused VM\n"
	       "  power-button  press the ACPI power button: the guest shuts itself down\n"
	       "  reboot        reset the VM and boot it again\n"
	       "  shutdown      stop the VM now (the monitor exits with status 0)\n"
	       "  info          state, configuration and memory as JSON\n"
	       "  counters      per-device counters as JSON\n"
	       "  ping          the monitor's version and pid\n"
	       "  metrics       counters in Prometheus' text format\n"
	       "\n"
	       "Exit status 0 on success; 1 with one line on stderr otherwise (e.g. \"pause: the VM\n"
	       "is shutting down (HTTP 409)\").\n");
}
