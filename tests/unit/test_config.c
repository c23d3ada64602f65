/* test_config.c: the configuration key table: flags, JSON files, validation, round trips. */
/* cmocka.h needs these first, in this order */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/config.h"

/* Parse the flags in argv (a NULL-terminated list after "run") over the defaults and validate.
 * Returns the error message, "" when both succeeded. */
static const char *run_args(struct vm_config *c, const char *const *args)
{
	static struct err e;
	char *argv[64] = {"run"};
	bool print;
	int argc = 1;

	while (args[argc - 1])
		argv[argc] = (char *)args[argc - 1], argc++;
	e.msg[0] = 0;
	vm_config_defaults(c);
	if (vm_config_from_args(c, argc, argv, &print, &e) == 0)
		vm_config_validate(c, &e);
	return e.msg;
}

static const char *run_json(struct vm_config *c, const char *text)
{
	static struct err e;

	e.msg[0] = 0;
	vm_config_defaults(c);
	if (vm_config_from_json(c, text, "vm.json", &e) == 0)
		vm_config_validate(c, &e);
	return e.msg;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_flags_fill_every_field(void **st)
{
	struct vm_config c;

	assert_string_equal(run_args(&c, ARGS("--kernel", "k", "--initrd", "i", "--memory", "1G",
					      "--cpus", "3", "--disk", "a.vhd,format=vhd,serial=S1,queues=2",
					      "--disk", "path=b.iso,if=ide,media=cdrom", "--net",
					      "user,hostfwd=tcp:8080-:80,hostfwd=udp:127.0.0.1:53-10.0.2.15:53",
					      "--net", "tap=tap0,mac=52:54:00:aa:bb:cc,queues=2",
					      "--transport", "mmio", "--rng", "--console", "virtio",
					      "--name", "web-1", "--event-monitor", "path=/tmp/ev")),
			    "");
	assert_string_equal(c.kernel, "k");
	assert_string_equal(c.cmdline, DEFAULT_CMDLINE);
	assert_int_equal(c.mem_size, 1ULL << 30);
	assert_int_equal(c.ncpus, 3);
	assert_int_equal(c.ndisks, 2);
	assert_string_equal(c.disks[0].path, "a.vhd");
	assert_string_equal(c.disks[0].format, "vhd");
	assert_string_equal(c.disks[0].serial, "S1");
	assert_int_equal(c.disks[0].queues, 2);
	assert_int_equal(c.disks[1].iface, DISK_IF_IDE);
	assert_int_equal(c.disks[1].media, DISK_MEDIA_CDROM);
	assert_true(c.disks[1].readonly);  /* a CD is read-only */
	assert_int_equal(c.disks[1].index, 0); /* the first free IDE position */
	assert_int_equal(c.nnets, 2);
	assert_int_equal(c.nets[0].kind, NET_USER);
	assert_int_equal(c.nets[0].nhostfwd, 2);
	assert_int_equal(c.nets[0].hostfwd[0].host_port, 8080);
	assert_int_equal(c.nets[0].hostfwd[0].guest_port, 80);
	assert_true(c.nets[0].hostfwd[1].udp);
	assert_int_equal(c.nets[0].hostfwd[1].host_addr, 0x7f000001);
	assert_int_equal(c.nets[0].hostfwd[1].guest_addr, 0x0a00020f);
	assert_int_equal(c.nets[1].kind, NET_TAP);
	assert_string_equal(c.nets[1].ifname, "tap0");
	assert_true(c.nets[1].mac_set);
	assert_int_equal(c.nets[1].mac[5], 0xcc);
	assert_int_equal(c.transport, TRANSPORT_MMIO);
	assert_true(c.rng);
	assert_int_equal(c.console, CONSOLE_VIRTIO);
	assert_string_equal(c.name, "web-1");
	vm_config_free(&c);
}

/* Flags -> JSON -> a second config -> the same JSON. */
static void test_round_trip(void **st)
{
	struct vm_config a, b;
	char *ja, *jb;

	assert_string_equal(run_args(&a, ARGS("--firmware", "bios", "--boot", "order=cd,disk",
					      "--disk", "path=w.vhd,if=ide,index=1,readonly=on,cache=none",
					      "--net", "user,hostfwd=tcp::2222-:22", "--memory",
					      "64M", "--console", "file=/tmp/log", "--on-reboot",
					      "restart", "--stats")),
			    "");
	ja = vm_config_to_json(&a, false);
	assert_non_null(ja);
	assert_string_equal(run_json(&b, ja), "");
	jb = vm_config_to_json(&b, false);
	assert_string_equal(ja, jb);
	assert_int_equal(b.boot_order[0], BOOT_CD);
	assert_int_equal(b.boot_order[1], BOOT_DISK);
	assert_int_equal(b.disks[0].index, 1);
	assert_int_equal(b.disks[0].cache, DISK_CACHE_NONE);
	assert_string_equal(b.console_path, "/tmp/log");
	free(ja);
	free(jb);
	vm_config_free(&a);
	vm_config_free(&b);
}

static void test_json_file_layout(void **st)
{
	struct vm_config c;

	assert_string_equal(run_json(&c, "{\"payload\":{\"kernel\":\"/k\",\"cmdline\":\"quiet\"},"
					 "\"cpus\":{\"boot_vcpus\":2},\"memory\":{\"size\":\"512M\"},"
					 "\"disks\":[{\"path\":\"d.raw\",\"readonly\":true}],"
					 "\"net\":[{\"tap\":\"t0\",\"num_queues\":2}]}"),
			    "");
	assert_string_equal(c.kernel, "/k");
	assert_string_equal(c.cmdline, "quiet");
	assert_int_equal(c.ncpus, 2);
	assert_int_equal(c.mem_size, 512ULL << 20);
	assert_true(c.disks[0].readonly);
	assert_int_equal(c.nets[0].kind, NET_TAP);
	vm_config_free(&c);
	assert_string_equal(run_json(&c, "{\"payload\":{\"kernel\":\"/k\"},\"memory\":{\"size\":"
					 "33554432}}"), "");
	assert_int_equal(c.mem_size, 32ULL << 20);
	vm_config_free(&c);
}

struct bad { const char *in, *msg; };

static void test_json_errors_name_the_path(void **st)
{
	static const struct bad cases[] = {
		{"{\"payload\":{\"kernel\":\"k\"},\"memroy\":{}}", "vm.json: memroy: unknown key"},
		{"{\"payload\":{\"kernel\":\"k\",\"kernl\":\"x\"}}", "vm.json: payload.kernl: unknown key"},
		{"{\"payload\":{\"kernel\":5}}", "vm.json: payload.kernel: expected a string"},
		{"{\"payload\":\"k\"}", "vm.json: payload: expected an object"},
		{"{\"payload\":{\"kernel\":\"k\"},\"cpus\":{\"boot_vcpus\":\"2\"}}",
		 "vm.json: cpus.boot_vcpus: expected a number"},
		{"{\"payload\":{\"kernel\":\"k\"},\"cpus\":{\"boot_vcpus\":0}}",
		 "vm.json: cpus.boot_vcpus: must be between 1 and 254"},
		{"{\"payload\":{\"kernel\":\"k\"},\"memory\":{\"size\":-1}}",
		 "vm.json: memory.size: must not be negative"},
		{"{\"payload\":{\"kernel\":\"k\"},\"memory\":{\"size\":\"8M\"}}",
		 "vm.json: memory.size: at least 16M is needed"},
		{"{\"payload\":{\"kernel\":\"k\"},\"disks\":{}}", "vm.json: disks: expected an array"},
		{"{\"payload\":{\"kernel\":\"k\"},\"disks\":[{\"path\":\"a\",\"readonly\":\"yes\"}]}",
		 "vm.json: disks[0].readonly: expected true or false"},
		{"{\"payload\":{\"kernel\":\"k\"},\"disks\":[{\"path\":\"a\"},{\"path\":\"b\",\"cache\":\"x\"}]}",
		 "vm.json: disks[1].cache: expected writeback or none"},
		{"{\"payload\":{\"kernel\":\"k\"},\"disks\":[{\"paht\":\"a\"}]}",
		 "vm.json: disks[0].paht: unknown key"},
		{"{\"payload\":{\"kernel\":\"k\"},\"net\":[{\"mac\":\"01:00:00:00:00:01\"}]}",
		 "vm.json: net[0].mac: expected a unicast MAC address like 52:54:00:12:34:56"},
		{"{\"payload\":{\"kernel\":\"k\"},\"net\":[{\"hostfwd\":[\"tcp:1-:2\",\"x\"]}]}",
		 "vm.json: net[0].hostfwd[1]: expected [tcp:|udp:][HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT"},
		{"{\"payload\":{\"kernel\":\"k\"}", "vm.json: not valid JSON at byte 25: unexpected end"},
		{"[1]", "vm.json: expected a JSON object at the top"},
		{"{}", "no kernel given (--kernel PATH, or --firmware bios to boot from a disk)"},
	};
	struct vm_config c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(run_json(&c, cases[i].in), cases[i].msg);
		vm_config_free(&c);
	}
}

static void test_flag_errors(void **st)
{
	const struct {
		const char *const *args;
		const char *msg;
	} cases[] = {
		{ARGS("--kernel", "k", "--cpus", "0"), "invalid --cpus '0': must be between 1 and 254"},
		{ARGS("--kernel", "k", "--memory", "0"), "invalid --memory '0': at least 16M is needed"},
		{ARGS("--kernel", "k", "--memory", "100000G"), NULL},
		{ARGS("--kernel", "k", "--disk", "a,bogus=1"), "invalid --disk 'a,bogus=1': unknown key 'bogus'"},
		{ARGS("--kernel", "k", "--disk", "a,readonly"),
		 "invalid --disk 'a,readonly': 'readonly' needs a value (readonly=...)"},
		{ARGS("--kernel", "k", "--disk", "a,if=scsi"),
		 "invalid --disk 'a,if=scsi': if: expected virtio or ide"},
		{ARGS("--kernel", "k", "--disk", "a,serial=123456789012345678901"),
		 "invalid --disk 'a,serial=123456789012345678901': serial: at most 20 characters"},
		{ARGS("--kernel", "k", "--disk", "a,media=cdrom"), "disk 'a': media=cdrom needs if=ide"},
		{ARGS("--kernel", "k", "--disk", "a,index=1"), "disk 'a': index= is for if=ide disks"},
		{ARGS("--kernel", "k", "--disk", "a,if=ide,index=1", "--disk", "b,if=ide,index=1"),
		 "disks 'a' and 'b' both take IDE position 1 (primary slave)"},
		{ARGS("--kernel", "k", "--disk", "a,if=ide", "--disk", "b,if=ide", "--disk", "c,if=ide",
		      "--disk", "d,if=ide", "--disk", "e,if=ide"),
		 "disk 'e': the IDE controller has only 4 positions"},
		{ARGS("--kernel", "k", "--disk", "format=raw"), "disk 1: no path= given"},
		{ARGS("--kernel", "k", "--net", "tap"), "net 1: a tap NIC needs tap=IFNAME"},
		{ARGS("--kernel", "k", "--net", "tap=t0,hostfwd=tcp:1-:2"),
		 "net 1: hostfwd= is for user-mode networking (--net user)"},
		{ARGS("--kernel", "k", "--net", "user,queues=2"),
		 "net 1: user-mode networking has one queue pair (queues=2 is for tap)"},
		{ARGS("--kernel", "k", "--net", "bridge"), "invalid --net 'bridge': mode: expected user or tap"},
		{ARGS("--kernel", "k", "--console", "tty"),
		 "invalid --console 'tty': expected stdio, file=PATH, none or virtio"},
		{ARGS("--kernel", "k", "--boot", "order=floppy"),
		 "invalid --boot 'order=floppy': unknown boot device 'floppy': expected disk or cd"},
		{ARGS("--kernel", "k", "--boot", "order=cd"), "--boot is for --firmware bios"},
		{ARGS("--firmware", "bios", "--kernel", "k"),
		 "--kernel and --initrd are for direct boot; with --firmware bios the guest boots from its disks"},
		{ARGS("--kernel", "k", "--name", "../x"),
		 "invalid --name '../x': a name is 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'"},
		{ARGS("--kernel", "k", "--event-monitor", "/tmp/x"),
		 "invalid --event-monitor '/tmp/x': expected path=FILE or fd=N"},
		{ARGS("--kernel", "k", "--bogus"),
		 "option '--bogus' is unknown or lacks its argument (see `thinvisor help run`)"},
		{ARGS("--kernel", "k", "extra"), "unexpected argument 'extra' (see `thinvisor help run`)"},
		{ARGS("--config", "/nonexistent/vm.json"),
		 "cannot open configuration file '/nonexistent/vm.json': No such file or directory"},
	};
	struct vm_config c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *m = run_args(&c, cases[i].args);

		if (cases[i].msg)
			assert_string_equal(m, cases[i].msg);
		else
			assert_non_null(strstr(m, "invalid --memory '100000G': more than this host's "));
		vm_config_free(&c);
	}
}

static void test_flags_override_file(void **st)
{
	char path[] = "/tmp/test_config_XXXXXX";
	int fd = mkstemp(path);
	const char *text = "{\"payload\":{\"kernel\":\"/file-k\"},\"cpus\":{\"boot_vcpus\":2},"
			   "\"disks\":[{\"path\":\"f1\"},{\"path\":\"f2\"}],\"name\":\"from-file\"}";
	struct vm_config c;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	/* --config may come after the flags: it is read first */
	assert_string_equal(run_args(&c, ARGS("--cpus", "4", "--disk", "flag-disk", "--config", path)),
			    "");
	assert_string_equal(c.kernel, "/file-k");
	assert_int_equal(c.ncpus, 4);
	assert_int_equal(c.ndisks, 1); /* --disk replaces the file's list */
	assert_string_equal(c.disks[0].path, "flag-disk");
	assert_string_equal(c.name, "from-file");
	vm_config_free(&c);
	assert_string_equal(run_args(&c, ARGS("--config", path)), "");
	assert_int_equal(c.ndisks, 2);
	vm_config_free(&c);
	unlink(path);
}

static void test_default_name(void **st)
{
	struct vm_config c;
	char buf[VM_NAME_MAX + 1], want[32];

	vm_config_defaults(&c);
	snprintf(want, sizeof(want), "vm-%d", (int)getpid());
	assert_string_equal(vm_config_name(&c, buf), want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_fill_every_field),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_json_file_layout),
		cmocka_unit_test(test_json_errors_name_the_path),
		cmocka_unit_test(test_flag_errors),
		cmocka_unit_test(test_flags_override_file),
		cmocka_unit_test(test_default_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
