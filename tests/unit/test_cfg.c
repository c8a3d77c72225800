/**
 * @file test_cfg.c  chorus.conf / rooms.conf parsing and validation.
 *
 * The shipped conf/ is found relative to this file (__FILE__ is the
 * absolute source path under CMake). Other cases write their own files
 * into a temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>
#include <re.h>

#include "ctrl/log.h"
#include "cfg/cfg.h"
#include "testutil.h"

enum { LOG_KEEP = 32 };

/* error and warning lines captured from cfg through the log handler */
static struct {
	char lines[LOG_KEEP][512];
	unsigned n;
} logged;

static char tmpdir[64];


static void log_capture(enum log_level level, const char *line, void *arg)
{
	(void)arg;

	if (level > LOG_LVL_WARN || logged.n >= LOG_KEEP)
		return;

	snprintf(logged.lines[logged.n++], sizeof(logged.lines[0]), "%s",
		 line);
}


/* was an error logged that contains every one of the given strings? */
static bool logged_has(const char *a, const char *b, const char *c)
{
	for (unsigned i = 0; i < logged.n; i++) {
		const char *l = logged.lines[i];

		if (strstr(l, a) && (!b || strstr(l, b)) &&
		    (!c || strstr(l, c)))
			return true;
	}

	return false;
}


static void shipped_dir(char *buf, size_t size)
{
	const char *f = __FILE__;
	const char *e = strstr(f, "tests/unit/test_cfg.c");

	assert_non_null(e);
	snprintf(buf, size, "%.*sconf", (int)(e - f), f);
}


static void write_file(const char *name, const char *text)
{
	tu_write_file(tmpdir, name, text);
}


static void write_conf(const char *chorus, const char *rooms)
{
	write_file("chorus.conf", chorus);
	write_file("rooms.conf", rooms);
}


static int setup(void **state)
{
	(void)state;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/chorus-test-cfg-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;

	memset(&logged, 0, sizeof(logged));
	log_set_handler(log_capture, NULL);

	return 0;
}


static int teardown(void **state)
{
	(void)state;

	log_set_handler(NULL, NULL);

	tu_conf_dir_remove(tmpdir);

	return 0;
}


static void test_shipped_conf_loads_with_documented_defaults(void **state)
{
	const struct cfg_room *r;
	struct cfg *cfg = NULL;
	char dir[512];
	(void)state;

	shipped_dir(dir, sizeof(dir));
	assert_int_equal(cfg_load(&cfg, dir), 0);
	assert_int_equal(logged.n, 0);

	assert_string_equal(cfg->sip_listen, "0.0.0.0:5060");
	assert_true(cfg->sip_udp);
	assert_true(cfg->sip_tcp);
	assert_false(cfg->sip_tls);
	assert_string_equal(cfg->tls_listen, "0.0.0.0:5061");
	assert_string_equal(cfg->tls_cert, "");
	assert_string_equal(cfg->public_addr, "");
	assert_string_equal(cfg->outbound_proxy, "");
	assert_int_equal(cfg->dscp_sip, 24);
	assert_int_equal(cfg->session_expires, 1800);
	assert_int_equal(cfg->answer_delay_ms, 0);

	assert_int_equal(cfg->media.rtp_port_min, 16384);
	assert_int_equal(cfg->media.rtp_port_max, 32767);
	assert_int_equal(cfg->media.workers, 0);
	assert_int_equal(cfg->media.room_srate, 48000);
	assert_int_equal(cfg->media.ptime_ms, 20);
	assert_int_equal(cfg->media.dscp_rtp, 46);
	assert_int_equal(cfg->media.rtp_timeout_ms, 30000);
	assert_int_equal(cfg->media.topk, 0);
	assert_int_equal(cfg->media.opus_complexity, 5);
	assert_int_equal(cfg->media.jb_min_ms, 20);
	assert_int_equal(cfg->media.jb_max_ms, 200);
	assert_false(cfg->media.join_tones);

	assert_int_equal(cfg->ncodecs, 4);
	assert_int_equal(cfg->codecs[0], CODEC_OPUS);
	assert_int_equal(cfg->codecs[1], CODEC_G722);
	assert_int_equal(cfg->codecs[2], CODEC_PCMU);
	assert_int_equal(cfg->codecs[3], CODEC_PCMA);
	assert_int_equal(cfg->srtp, CFG_SRTP_OFF);
	assert_int_equal(cfg->log_level, LOG_LVL_INFO);

	/* a new user can dial 1000 or any 4-digit number at once */
	r = cfg_room_find(cfg, "1000");
	assert_non_null(r);
	assert_string_equal(r->name, "Main room");
	assert_int_equal(r->max_legs, 50);
	assert_string_equal(r->pin, "");
	assert_string_equal(cfg->auto_pattern, "dddd");
	assert_int_equal(cfg->auto_max_legs, 50);
	assert_true(cfg_room_auto(cfg, "4321"));
	assert_string_equal(cfg->dir, dir);

	mem_deref(cfg);
}


static void test_empty_files_give_defaults_and_no_rooms(void **state)
{
	struct cfg *cfg = NULL;
	(void)state;

	write_conf("# nothing\n\n", "");
	assert_int_equal(cfg_load(&cfg, tmpdir), 0);

	assert_string_equal(cfg->sip_listen, "0.0.0.0:5060");
	assert_int_equal(cfg->media.room_srate, 48000);
	assert_int_equal(cfg->ncodecs, 4);
	assert_int_equal(cfg->nrooms, 0);
	/* no auto_create line: only listed rooms */
	assert_string_equal(cfg->auto_pattern, "");
	assert_false(cfg_room_auto(cfg, "1234"));

	mem_deref(cfg);
}


static void test_values_are_parsed(void **state)
{
	struct cfg *cfg = NULL;
	(void)state;

	write_conf("sip_listen [::1]:5070   # a comment\n"
		   "sip_udp no\n"
		   "public_addr 192.0.2.7\n"
		   "outbound_proxy sip:proxy.example.com;lr\n"
		   "room_srate 16000\n"
		   "codecs PCMA, g722\n"
		   "rtp_timeout 0\n"
		   "media_workers 3\n"
		   "srtp mandatory\n"
		   "log_level debug\n"
		   "join_tones yes\n"
		   "tls_cert certs/chorus.pem\n",
		   "room 5 name=\"A # not a comment\"\n");
	assert_int_equal(cfg_load(&cfg, tmpdir), 0);

	assert_string_equal(cfg->sip_listen, "[::1]:5070");
	assert_false(cfg->sip_udp);
	assert_true(cfg->sip_tcp);
	assert_string_equal(cfg->public_addr, "192.0.2.7");
	assert_string_equal(cfg->outbound_proxy, "sip:proxy.example.com;lr");
	assert_int_equal(cfg->media.room_srate, 16000);
	assert_int_equal(cfg->ncodecs, 2);
	assert_int_equal(cfg->codecs[0], CODEC_PCMA);
	assert_int_equal(cfg->codecs[1], CODEC_G722);
	assert_int_equal(cfg->media.rtp_timeout_ms, 0);
	assert_int_equal(cfg->media.workers, 3);
	assert_int_equal(cfg->srtp, CFG_SRTP_MANDATORY);
	assert_int_equal(cfg->log_level, LOG_LVL_DEBUG);
	assert_true(cfg->media.join_tones);

	/* rooms inherit the global SRTP policy */
	/* relative to the config directory */
	{
		char want[256];
		snprintf(want, sizeof(want), "%s/certs/chorus.pem", tmpdir);
		assert_string_equal(cfg->tls_cert, want);
	}

	assert_string_equal(cfg_room_find(cfg, "5")->name,
			    "A # not a comment");
	assert_int_equal(cfg_room_find(cfg, "5")->srtp, CFG_SRTP_MANDATORY);

	mem_deref(cfg);
}


static void test_missing_dir_is_enoent(void **state)
{
	struct cfg *cfg = NULL;
	(void)state;

	assert_int_equal(cfg_load(&cfg, "/nonexistent/chorus-conf"), ENOENT);
	assert_null(cfg);
	assert_true(logged_has("/nonexistent/chorus-conf/chorus.conf",
			       "cannot open", NULL));
}


struct bad_case {
	const char *text;
	const char *key;
	const char *reason;
};


/*
 * Each text alone in chorus.conf (next to a valid rooms.conf) or, with
 * @in_rooms, in rooms.conf (next to an empty chorus.conf): the load fails
 * with EINVAL and a logged line names the file, the key and the reason.
 */
static void check_bad_cases(const struct bad_case *bad, size_t n,
			    bool in_rooms)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", tmpdir,
		 in_rooms ? "rooms.conf" : "chorus.conf");

	for (size_t i = 0; i < n; i++) {
		struct cfg *cfg = NULL;
		int err;

		logged.n = 0;
		if (in_rooms)
			write_conf("", bad[i].text);
		else
			write_conf(bad[i].text, "room 1000\n");
		err = cfg_load(&cfg, tmpdir);

		if (err != EINVAL || !logged_has(path, bad[i].key,
						 bad[i].reason)) {
			print_error("case %zu '%s': err %d, logged:\n", i,
				    bad[i].text, err);
			for (unsigned j = 0; j < logged.n; j++)
				print_error("  %s", logged.lines[j]);
		}
		assert_int_equal(err, EINVAL);
		assert_null(cfg);
		assert_true(logged_has(path, bad[i].key, bad[i].reason));
	}
}


/* each bad line must fail loading with an error naming file:line and key */
static void test_bad_values_rejected_with_file_key_reason(void **state)
{
	static const struct bad_case bad[] = {
		{"rtp_port_min 70000\n",      "rtp_port_min", "out of range"},
		{"rtp_port_min 16385\n",      "rtp_port_min", "odd"},
		{"rtp_port_min 20000\nrtp_port_max 19000\n", "rtp_port_max",
		 "no RTP/RTCP pair"},
		{"room_srate 44100\n",        "room_srate", "48000 or 16000"},
		{"ptime 25\n",                "ptime", "10, 20 or 40"},
		{"ptime 30\n",                "ptime", "10, 20 or 40"},
		{"codecs opus,GSM\n",         "codecs", "unknown codec 'GSM'"},
		{"codecs opus,OPUS\n",        "codecs", "listed twice"},
		{"codecs\n",                  "codecs", "missing value"},
		{"dscp_rtp 64\n",             "dscp_rtp", "out of range"},
		{"dscp_sip -1\n",             "dscp_sip", "not a number"},
		{"sip_listen nowhere\n",      "sip_listen", "address:port"},
		{"sip_listen 0.0.0.0\n",      "sip_listen", "address:port"},
		{"tls_listen 1.2.3.4:99999\n", "tls_listen", "address:port"},
		{"public_addr example.com\n", "public_addr", "not an IP"},
		{"outbound_proxy http://x\n", "outbound_proxy", "sip: or sips:"},
		{"log_level loud\n",          "log_level", "error, warning"},
		{"srtp maybe\n",              "srtp", "off, optional"},
		{"sip_udp perhaps\n",         "sip_udp", "yes or no"},
		{"session_expires 60\n",      "session_expires", "RFC 4028"},
		{"answer_delay_ms 10001\n",   "answer_delay_ms", "out of range"},
		{"opus_complexity 11\n",      "opus_complexity", "out of range"},
		{"media_workers 12x\n",       "media_workers", "not a number"},
		{"topk 99999999999\n",        "topk", "not a number"},
		{"jb_min_ms 300\njb_max_ms 100\n", "jb_max_ms", "jb_min_ms"},
		{"sip_tls yes\ntls_cert /nonexistent/cert.pem\n", "tls_cert",
		 "cannot read"},
		{"sip_tls yes\n",             "tls_cert", "no certificate"},
		{"sip_udp no\nsip_tcp no\n",  "sip_udp", "no SIP transport"},
		{"ptime 20\nptime 20\n",      "ptime", "set twice"},
		{"rtp_prot_min 16384\n",      "rtp_prot_min", "unknown key"},
	};
	(void)state;

	check_bad_cases(bad, ARRAY_SIZE(bad), false);
}


static void test_error_names_the_line(void **state)
{
	struct cfg *cfg = NULL;
	char want[160];
	(void)state;

	write_conf("# comment\n\nsip_udp yes\nroom_srate 8000\n", "");
	assert_int_equal(cfg_load(&cfg, tmpdir), EINVAL);

	snprintf(want, sizeof(want), "%s/chorus.conf:4: room_srate:", tmpdir);
	assert_true(logged_has(want, "8000", NULL));
}


static void test_all_errors_of_both_files_are_reported(void **state)
{
	struct cfg *cfg = NULL;
	(void)state;

	write_conf("ptime 7\ntopk x\n", "room 1 max=0\n");
	assert_int_equal(cfg_load(&cfg, tmpdir), EINVAL);
	assert_int_equal(logged.n, 3);
	assert_true(logged_has("chorus.conf:1:", "ptime", NULL));
	assert_true(logged_has("chorus.conf:2:", "topk", NULL));
	assert_true(logged_has("rooms.conf:1:", "room 1 max", "out of range"));
}


static void test_rooms_parsed(void **state)
{
	const struct cfg_room *r;
	struct cfg *cfg = NULL;
	(void)state;

	write_conf("srtp optional\n",
		   "# rooms\n"
		   "room 1000 name=\"Main room\" max=10\n"
		   "room 2000 name=Board pin=2468 modpin=1357 "
		   "mod=sip:chair@example.com mod=sip:vice@example.com "
		   "srtp=off\n"
		   "room sales.team\n"
		   "default_max_legs 7\n"
		   "auto_create 9ddd\n"
		   "auto_max_legs 12\n");
	assert_int_equal(cfg_load(&cfg, tmpdir), 0);
	assert_int_equal(cfg->nrooms, 3);

	r = cfg_room_find(cfg, "1000");
	assert_non_null(r);
	assert_string_equal(r->name, "Main room");
	assert_int_equal(r->max_legs, 10);
	assert_string_equal(r->pin, "");
	assert_string_equal(r->mod_pin, "");
	assert_int_equal(r->srtp, CFG_SRTP_OPTIONAL);

	r = cfg_room_find(cfg, "2000");
	assert_non_null(r);
	assert_string_equal(r->name, "Board");
	assert_string_equal(r->pin, "2468");
	assert_string_equal(r->mod_pin, "1357");
	assert_string_equal(r->moderators,
			    "sip:chair@example.com,sip:vice@example.com");
	assert_int_equal(r->srtp, CFG_SRTP_OFF);
	/* max= omitted: default_max_legs, even though it comes later */
	assert_int_equal(r->max_legs, 7);

	r = cfg_room_find(cfg, "sales.team");
	assert_non_null(r);
	assert_string_equal(r->name, "sales.team");

	assert_null(cfg_room_find(cfg, "3000"));
	assert_string_equal(cfg->auto_pattern, "9ddd");
	assert_int_equal(cfg->auto_max_legs, 12);

	mem_deref(cfg);
}


static void test_bad_rooms_rejected(void **state)
{
	static const struct bad_case bad[] = {
		{"room 1000\nroom 1000\n",     "room", "defined twice"},
		{"room\n",                     "room", "missing room number"},
		{"room 10/0\n",                "room", "not a room number"},
		{"room 1 max=0\n",             "room 1 max", "out of range"},
		{"room 1 max=1001\n",          "room 1 max", "out of range"},
		{"room 1 pin=12ab\n",          "room 1 pin", "not all digits"},
		{"room 1 pin=1234567890123456\n", "room 1 pin", "longer than"},
		{"room 1 pin=11 modpin=11\n",  "room", "the same"},
		{"room 1 colour=red\n",        "room 1 colour", "unknown room"},
		{"room 1 name=\"open\n",       "room", "malformed"},
		{"room 1 name\n",              "room", "malformed"},
		{"room 1 mod=alice@example.com\n", "mod", "sip: or sips:"},
		{"room 1 srtp=sometimes\n",    "room 1 srtp", "off, optional"},
		{"auto_create ddxd\n",         "auto_create", "not a pattern"},
		{"auto_create dddd\nauto_create ddd\n", "auto_create",
		 "set twice"},
		{"auto_max_legs 0\n",          "auto_max_legs", "out of range"},
		{"rooom 1\n",                  "rooom", "unknown key"},
	};
	(void)state;

	check_bad_cases(bad, ARRAY_SIZE(bad), true);
}


static void test_auto_pattern_matching(void **state)
{
	struct cfg *cfg = NULL;
	(void)state;

	write_conf("", "auto_create dddd\n");
	assert_int_equal(cfg_load(&cfg, tmpdir), 0);

	assert_true(cfg_room_auto(cfg, "1234"));
	assert_true(cfg_room_auto(cfg, "0000"));
	assert_false(cfg_room_auto(cfg, "123"));
	assert_false(cfg_room_auto(cfg, "12345"));
	assert_false(cfg_room_auto(cfg, "12a4"));
	assert_false(cfg_room_auto(cfg, ""));
	assert_false(cfg_room_auto(cfg, NULL));
	mem_deref(cfg);

	write_conf("", "auto_create 9dd1\n");
	assert_int_equal(cfg_load(&cfg, tmpdir), 0);
	assert_true(cfg_room_auto(cfg, "9001"));
	assert_true(cfg_room_auto(cfg, "9991"));
	assert_false(cfg_room_auto(cfg, "8001"));
	assert_false(cfg_room_auto(cfg, "9002"));
	mem_deref(cfg);

	write_conf("", "auto_create off\n");
	assert_int_equal(cfg_load(&cfg, tmpdir), 0);
	assert_false(cfg_room_auto(cfg, "1234"));
	mem_deref(cfg);
}


static void test_reload_rooms_replaces_table_only_when_valid(void **state)
{
	struct cfg *cfg = NULL;
	(void)state;

	write_conf("", "room 1000 max=5\nauto_create dddd\n");
	assert_int_equal(cfg_load(&cfg, tmpdir), 0);

	write_file("rooms.conf", "room 1000 max=8 pin=42\nroom 3000\n"
		   "auto_create off\n");
	assert_int_equal(cfg_reload_rooms(cfg), 0);
	assert_int_equal(cfg->nrooms, 2);
	assert_int_equal(cfg_room_find(cfg, "1000")->max_legs, 8);
	assert_string_equal(cfg_room_find(cfg, "1000")->pin, "42");
	assert_non_null(cfg_room_find(cfg, "3000"));
	assert_false(cfg_room_auto(cfg, "1234"));

	/* a broken edit keeps what was in force */
	logged.n = 0;
	write_file("rooms.conf", "room 1000 max=many\n");
	assert_int_equal(cfg_reload_rooms(cfg), EINVAL);
	assert_true(logged_has("rooms.conf:1:", "room 1000 max", NULL));
	assert_int_equal(cfg->nrooms, 2);
	assert_int_equal(cfg_room_find(cfg, "1000")->max_legs, 8);
	assert_non_null(cfg_room_find(cfg, "3000"));

	/* and so does a missing file */
	write_file("rooms.conf", "");
	{
		char path[128];
		snprintf(path, sizeof(path), "%s/rooms.conf", tmpdir);
		unlink(path);
	}
	assert_int_equal(cfg_reload_rooms(cfg), ENOENT);
	assert_int_equal(cfg->nrooms, 2);

	mem_deref(cfg);
}


static void test_print_hides_pins(void **state)
{
	struct cfg *cfg = NULL;
	char *out = NULL;
	(void)state;

	write_conf("codecs G722,opus\n", "room 7 pin=8642 modpin=9753\n");
	assert_int_equal(cfg_load(&cfg, tmpdir), 0);

	assert_int_equal(re_sdprintf(&out, "%H", cfg_print, cfg), 0);
	assert_non_null(strstr(out, "sip_listen 0.0.0.0:5060\n"));
	assert_non_null(strstr(out, "codecs G722,opus\n"));
	assert_non_null(strstr(out, "room 7 name=\"7\" max=50 pin=*** "
				    "modpin=***"));
	assert_null(strstr(out, "8642"));
	assert_null(strstr(out, "9753"));

	mem_deref(out);
	mem_deref(cfg);
}


static void test_main_changes_reported_not_applied(void **state)
{
	struct cfg *cfg = NULL;
	(void)state;

	write_conf("ptime 20\ncodecs opus,PCMU\n", "room 1\n");
	assert_int_equal(cfg_load(&cfg, tmpdir), 0);

	/* unchanged file: nothing to report */
	assert_int_equal(cfg_main_changes(cfg), 0);

	/* two keys changed (one only by dropping a codec), one set to
	   its default explicitly: that is not a change */
	logged.n = 0;
	write_file("chorus.conf", "ptime 40\ncodecs opus\nroom_srate 48000\n");
	assert_int_equal(cfg_main_changes(cfg), 2);
	assert_true(logged_has("chorus.conf: ptime changed", "restart", NULL));
	assert_true(logged_has("chorus.conf: codecs changed", "restart", NULL));
	assert_false(logged_has("room_srate", NULL, NULL));
	assert_int_equal(cfg->media.ptime_ms, 20);
	assert_int_equal(cfg->ncodecs, 2);

	/* a broken file is reported as such */
	logged.n = 0;
	write_file("chorus.conf", "ptime 41\n");
	assert_int_equal(cfg_main_changes(cfg), -1);
	assert_true(logged_has("chorus.conf:1:", "ptime", NULL));

	mem_deref(cfg);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_shipped_conf_loads_with_documented_defaults,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_empty_files_give_defaults_and_no_rooms,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_values_are_parsed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_dir_is_enoent,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_bad_values_rejected_with_file_key_reason,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_names_the_line,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_all_errors_of_both_files_are_reported,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_rooms_parsed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_rooms_rejected,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_pattern_matching,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_reload_rooms_replaces_table_only_when_valid,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_hides_pins,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_main_changes_reported_not_applied,
			setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
