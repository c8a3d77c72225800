/**
 * @file test_command.c  chorus-control INFO body parser
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include <cmocka.h>

#include "ctrl/command.h"
#include "ctrl/jsoncheck.h"


static int parse(struct ctrl_cmd *cmd, struct ctrl_result *res,
		 const char *s)
{
	return ctrl_cmd_parse(cmd, res, s, strlen(s));
}


/* Expect a rejection with this status and exactly this reason. */
static void expect_reject(const char *body, uint16_t scode,
			  const char *reason)
{
	struct ctrl_cmd cmd;
	struct ctrl_result res;
	int err = parse(&cmd, &res, body);

	if (err != EBADMSG || res.scode != scode ||
	    strcmp(res.reason, reason))
		print_error("body: %s\n got err=%d scode=%u reason='%s'\n",
			    body, err, res.scode, res.reason);
	assert_int_equal(err, EBADMSG);
	assert_int_equal(res.scode, scode);
	assert_string_equal(res.reason, reason);
	assert_int_equal(cmd.op, CTRL_OP_NONE);
}


static void test_every_simple_command_on_self(void **state)
{
	static const struct {
		const char *name;
		enum ctrl_op op;
	} tab[] = {
		{"mute", CTRL_OP_MUTE}, {"unmute", CTRL_OP_UNMUTE},
		{"deaf", CTRL_OP_DEAF}, {"undeaf", CTRL_OP_UNDEAF},
		{"kick", CTRL_OP_KICK},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct ctrl_cmd cmd;
		struct ctrl_result res;
		char body[128];

		snprintf(body, sizeof(body),
			 "{\"cmd\":\"%s\",\"target\":\"self\"}", tab[i].name);
		assert_int_equal(parse(&cmd, &res, body), 0);
		assert_int_equal(res.scode, 0);
		assert_string_equal(res.reason, "");
		assert_int_equal(cmd.op, tab[i].op);
		assert_int_equal(cmd.target_kind, CTRL_TARGET_SELF);
		assert_string_equal(cmd.target, "");
		assert_false(cmd.has_in);
		assert_false(cmd.has_out);
		assert_string_equal(ctrl_op_name(cmd.op), tab[i].name);
	}
}


static void test_lock_unlock_take_no_target(void **state)
{
	struct ctrl_cmd cmd;
	struct ctrl_result res;
	(void)state;

	assert_int_equal(parse(&cmd, &res, "{\"cmd\":\"lock\"}"), 0);
	assert_int_equal(cmd.op, CTRL_OP_LOCK);
	assert_int_equal(cmd.target_kind, CTRL_TARGET_NONE);

	assert_int_equal(parse(&cmd, &res, " {\"cmd\" : \"unlock\"}\r\n"), 0);
	assert_int_equal(cmd.op, CTRL_OP_UNLOCK);

	expect_reject("{\"cmd\":\"lock\",\"target\":\"self\"}", 400,
		      "'lock' takes no target");
}


static void test_targets_all_uri_and_ids(void **state)
{
	struct ctrl_cmd cmd;
	struct ctrl_result res;
	(void)state;

	assert_int_equal(parse(&cmd, &res,
			       "{\"cmd\":\"mute\",\"target\":\"all\"}"), 0);
	assert_int_equal(cmd.target_kind, CTRL_TARGET_ALL);

	assert_int_equal(parse(&cmd, &res,
			       "{\"cmd\":\"mute\",\"target\":\"ALL\"}"), 0);
	assert_int_equal(cmd.target_kind, CTRL_TARGET_ALL);

	assert_int_equal(parse(&cmd, &res,
		"{\"cmd\":\"kick\",\"target\":\"sip:bob@example.org;transport=tcp\"}"),
		0);
	assert_int_equal(cmd.op, CTRL_OP_KICK);
	assert_int_equal(cmd.target_kind, CTRL_TARGET_URI);
	assert_string_equal(cmd.target, "sip:bob@example.org;transport=tcp");

	assert_int_equal(parse(&cmd, &res,
		"{\"cmd\":\"deaf\",\"target\":\"sips:carol@[::1]:5061\"}"), 0);
	assert_int_equal(cmd.target_kind, CTRL_TARGET_URI);
	assert_string_equal(cmd.target, "sips:carol@[::1]:5061");

	{
		static const char *const good[] = {
			"SIP:alice@h", "sip:alice", "sip:a@192.0.2.1:5060",
			"sip:+4930123@gw.example.org;user=phone",
			"sips:b@[2001:db8::1]", "sip:c@h?subject=x",
		};

		for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			char body[300];

			snprintf(body, sizeof(body),
				 "{\"cmd\":\"mute\",\"target\":\"%s\"}",
				 good[i]);
			assert_int_equal(parse(&cmd, &res, body), 0);
			assert_int_equal(cmd.target_kind, CTRL_TARGET_URI);
			assert_string_equal(cmd.target, good[i]);
		}
	}

	assert_int_equal(parse(&cmd, &res,
			       "{\"cmd\":\"mute\",\"target\":17}"), 0);
	assert_int_equal(cmd.target_kind, CTRL_TARGET_ID);
	assert_int_equal(cmd.target_id, 17);
	assert_string_equal(cmd.target, "17");

	assert_int_equal(parse(&cmd, &res,
			       "{\"cmd\":\"mute\",\"target\":\"4294967295\"}"),
			 0);
	assert_int_equal(cmd.target_kind, CTRL_TARGET_ID);
	assert_int_equal(cmd.target_id, UINT32_MAX);
	assert_string_equal(cmd.target, "4294967295");

	assert_int_equal(parse(&cmd, &res,
			       "{\"cmd\":\"mute\",\"target\":0}"), 0);
	assert_int_equal(cmd.target_kind, CTRL_TARGET_ID);
	assert_int_equal(cmd.target_id, 0);
}


static void test_bad_targets(void **state)
{
	char body[600], uri[300];
	(void)state;

	expect_reject("{\"cmd\":\"mute\"}", 400, "missing target");
	expect_reject("{\"cmd\":\"mute\",\"target\":\"everyone\"}", 400,
		      "bad target 'everyone'");
	expect_reject("{\"cmd\":\"mute\",\"target\":\"4294967296\"}", 400,
		      "bad target '4294967296'");
	expect_reject("{\"cmd\":\"mute\",\"target\":-1}", 400,
		      "target id out of range");
	expect_reject("{\"cmd\":\"mute\",\"target\":4294967296}", 400,
		      "target id out of range");
	expect_reject("{\"cmd\":\"mute\",\"target\":1.5}", 400,
		      "target must be a string or an integer");
	expect_reject("{\"cmd\":\"mute\",\"target\":true}", 400,
		      "target must be a string or an integer");
	expect_reject("{\"cmd\":\"mute\",\"target\":null}", 400,
		      "target must be a string or an integer");
	expect_reject("{\"cmd\":\"mute\",\"target\":[\"self\"]}", 400,
		      "target must be a string or an integer");
	expect_reject("{\"cmd\":\"mute\",\"target\":{\"uri\":\"sip:a@b\"}}",
		      400, "target must be a string or an integer");
	expect_reject("{\"cmd\":\"mute\",\"target\":\"http://x/\"}", 400,
		      "bad target 'http://x/'");
	expect_reject("{\"cmd\":\"mute\",\"target\":\"sip:a b@c\"}", 400,
		      "bad target 'sip:a b@c'");
	/* a CR/LF would be header injection if echoed raw */
	expect_reject("{\"cmd\":\"mute\",\"target\":\"sip:a@b\\r\\nX: y\"}",
		      400, "bad target 'sip:a@b??X: y'");
	expect_reject("{\"cmd\":\"mute\",\"target\":\"\"}", 400,
		      "bad target ''");
	/* libre 1.1's uri_decode() takes all of these; we do not */
	expect_reject("{\"cmd\":\"mute\",\"target\":\"sip:@\"}", 400,
		      "bad target 'sip:@'");
	expect_reject("{\"cmd\":\"mute\",\"target\":\"sip:@h\"}", 400,
		      "bad target 'sip:@h'");
	expect_reject("{\"cmd\":\"mute\",\"target\":\"sip:a@\"}", 400,
		      "bad target 'sip:a@'");
	expect_reject("{\"cmd\":\"mute\",\"target\":\"sip::5060\"}", 400,
		      "bad target 'sip::5060'");
	expect_reject("{\"cmd\":\"mute\",\"target\":\"sip:a@b:99999\"}",
		      400, "bad target 'sip:a@b:99999'");
	expect_reject("{\"cmd\":\"mute\",\"target\":\"sip:a@b:0\"}",
		      400, "bad target 'sip:a@b:0'");
	expect_reject("{\"cmd\":\"mute\",\"target\":\"sip:a@b:\"}",
		      400, "bad target 'sip:a@b:'");
	expect_reject("{\"cmd\":\"mute\",\"target\":\"sip:a@[zz]\"}",
		      400, "bad target 'sip:a@[zz]'");
	expect_reject("{\"cmd\":\"mute\",\"target\":\"sip:a@b_c\"}",
		      400, "bad target 'sip:a@b_c'");

	/* 255 characters fit, 256 do not */
	memset(uri, 'a', sizeof(uri));
	memcpy(uri, "sip:", 4);
	memcpy(uri + 250, "@b.cc", 6);  /* total 255 chars */
	snprintf(body, sizeof(body), "{\"cmd\":\"mute\",\"target\":\"%s\"}", uri);
	{
		struct ctrl_cmd cmd;
		struct ctrl_result res;

		assert_int_equal(strlen(uri), 255);
		assert_int_equal(parse(&cmd, &res, body), 0);
		assert_string_equal(cmd.target, uri);
	}
	memset(uri, 'a', sizeof(uri));
	memcpy(uri, "sip:", 4);
	memcpy(uri + 251, "@b.cc", 6);  /* 256 chars */
	snprintf(body, sizeof(body), "{\"cmd\":\"mute\",\"target\":\"%s\"}", uri);
	expect_reject(body, 400, "bad target 'sip:aaaaaaaaaaaaaaaaaaaaaaaaa...'");
}


static void test_gain(void **state)
{
	struct ctrl_cmd cmd;
	struct ctrl_result res;
	(void)state;

	assert_int_equal(parse(&cmd, &res,
		"{\"cmd\":\"gain\",\"target\":\"self\",\"in_db\":-6,\"out_db\":3.5}"),
		0);
	assert_int_equal(cmd.op, CTRL_OP_GAIN);
	assert_true(cmd.has_in);
	assert_true(cmd.has_out);
	assert_true(cmd.in_db == -6.0);
	assert_true(cmd.out_db == 3.5);

	assert_int_equal(parse(&cmd, &res,
		"{\"cmd\":\"gain\",\"target\":3,\"out_db\":-20}"), 0);
	assert_false(cmd.has_in);
	assert_true(cmd.has_out);
	assert_true(cmd.out_db == -20.0);

	assert_int_equal(parse(&cmd, &res,
		"{\"cmd\":\"gain\",\"target\":\"all\",\"in_db\":12}"), 0);
	assert_true(cmd.has_in);
	assert_false(cmd.has_out);
	assert_true(cmd.in_db == 12.0);

	assert_int_equal(parse(&cmd, &res,
		"{\"cmd\":\"gain\",\"target\":\"self\",\"in_db\":-1.25e1}"), 0);
	assert_true(cmd.in_db == -12.5);
}


static void test_gain_out_of_range_and_types(void **state)
{
	(void)state;

	expect_reject("{\"cmd\":\"gain\",\"target\":\"self\",\"in_db\":12.01}",
		      400, "gain out of range -20..+12");
	expect_reject("{\"cmd\":\"gain\",\"target\":\"self\",\"out_db\":-20.5}",
		      400, "gain out of range -20..+12");
	expect_reject("{\"cmd\":\"gain\",\"target\":\"self\",\"out_db\":1e999}",
		      400, "gain out of range -20..+12");
	expect_reject("{\"cmd\":\"gain\",\"target\":\"self\",\"in_db\":0,"
		      "\"out_db\":100}", 400, "gain out of range -20..+12");
	expect_reject("{\"cmd\":\"gain\",\"target\":\"self\",\"in_db\":\"-6\"}",
		      400, "in_db must be a number");
	expect_reject("{\"cmd\":\"gain\",\"target\":\"self\",\"out_db\":true}",
		      400, "out_db must be a number");
	expect_reject("{\"cmd\":\"gain\",\"target\":\"self\",\"out_db\":null}",
		      400, "out_db must be a number");
	expect_reject("{\"cmd\":\"gain\",\"target\":\"self\"}", 400,
		      "gain needs in_db or out_db");
	expect_reject("{\"cmd\":\"gain\",\"in_db\":1}", 400, "missing target");
}


static void test_role(void **state)
{
	struct ctrl_cmd cmd;
	struct ctrl_result res;
	(void)state;

	assert_int_equal(parse(&cmd, &res,
		"{\"cmd\":\"role\",\"target\":\"sip:dave@h\",\"role\":\"moderator\"}"),
		0);
	assert_int_equal(cmd.op, CTRL_OP_ROLE);
	assert_int_equal(cmd.role, CTRL_ROLE_MODERATOR);
	assert_string_equal(ctrl_role_name(cmd.role), "moderator");

	assert_int_equal(parse(&cmd, &res,
		"{\"role\":\"participant\",\"target\":\"9\",\"cmd\":\"role\"}"), 0);
	assert_int_equal(cmd.role, CTRL_ROLE_PARTICIPANT);
	assert_int_equal(cmd.target_id, 9);

	expect_reject("{\"cmd\":\"role\",\"target\":\"self\"}", 400,
		      "missing role");
	expect_reject("{\"cmd\":\"role\",\"target\":\"self\",\"role\":\"admin\"}",
		      400, "unknown role 'admin'");
	expect_reject("{\"cmd\":\"role\",\"target\":\"self\",\"role\":1}",
		      400, "role must be a string");
	expect_reject("{\"cmd\":\"role\",\"target\":\"all\","
		      "\"role\":\"moderator\"}", 400,
		      "'role' needs one participant");
}


static void test_unknown_and_bad_cmd(void **state)
{
	(void)state;

	expect_reject("{\"cmd\":\"explode\",\"target\":\"self\"}", 400,
		      "unknown command 'explode'");
	expect_reject("{\"cmd\":\"MUTE\",\"target\":\"self\"}", 400,
		      "unknown command 'MUTE'");
	/* quotes and backslashes never reach the Warning header raw */
	expect_reject("{\"cmd\":\"a\\\"b\\\\c\"}", 400,
		      "unknown command 'a?b?c'");
	expect_reject("{\"cmd\":\"0123456789012345678901234567890123456789\"}",
		      400, "unknown command '01234567890123456789012345678...'");
	expect_reject("{\"target\":\"self\"}", 400, "missing cmd");
	expect_reject("{\"cmd\":7}", 400, "cmd must be a string");
	expect_reject("{\"cmd\":[\"mute\"]}", 400, "cmd must be a string");
	expect_reject("{\"cmd\":\"mute\",\"cmd\":\"unmute\",\"target\":\"self\"}",
		      400, "duplicate key 'cmd'");
	expect_reject("{\"cmd\":\"mute\",\"target\":\"self\",\"target\":\"all\"}",
		      400, "duplicate key 'target'");
}


static void test_bad_json(void **state)
{
	(void)state;

	expect_reject("", 400, "empty body");
	expect_reject(" \r\n\t", 400, "empty body");
	expect_reject("{", 400, "bad JSON: truncated");
	expect_reject("{\"cmd\":\"mute\"", 400, "bad JSON: truncated");
	expect_reject("{\"cmd\":\"mute", 400, "bad JSON: unterminated string");
	expect_reject("{cmd:\"mute\"}", 400, "bad JSON");
	expect_reject("{'cmd':'mute'}", 400, "bad JSON");
	expect_reject("{\"cmd\":\"mute\",}", 400, "bad JSON");
	expect_reject("{\"cmd\":\"mute\"} x", 400, "bad JSON: trailing data");
	expect_reject("{\"cmd\":\"lock\"}{\"cmd\":\"unlock\"}", 400,
		      "bad JSON: trailing data");
	expect_reject("{\"cmd\":tru}", 400, "bad JSON");
	expect_reject("{\"cmd\":\"lock\",\"x\":NaN}", 400, "bad JSON");
	expect_reject("{\"cmd\":\"lock\",\"x\":-}", 400, "bad JSON: bad number");
	expect_reject("{\"cmd\":\"lock\",\"x\":+1}", 400, "bad JSON");
	expect_reject("{\"cmd\":\"lock\",\"x\":01}", 400, "bad JSON");
	expect_reject("{\"cmd\":\"lock\",\"x\":1.}", 400, "bad JSON: bad number");
	expect_reject("{\"cmd\":\"lock\",\"x\":1e}", 400, "bad JSON: bad number");
	expect_reject("{\"cmd\":\"mute\",\"target\":99999999999999999999}",
		      400, "bad JSON: number too long");
	expect_reject("{\"cmd\":\"lo\\ck\"}", 400, "bad JSON: bad escape");
	expect_reject("{\"cmd\":\"lock\\u00zz\"}", 400, "bad JSON: bad escape");
	expect_reject("{\"cmd\":\"lock\\u0000\"}", 400,
		      "bad JSON: NUL in string");
	expect_reject("{\"cmd\":\"lo\nck\"}", 400,
		      "bad JSON: control character");
	expect_reject("[{\"cmd\":\"lock\"}]", 400, "JSON body must be an object");
	expect_reject("\"lock\"", 400, "JSON body must be an object");
	expect_reject("42", 400, "JSON body must be an object");
	expect_reject("null", 400, "JSON body must be an object");
}


static void test_embedded_nul_byte_is_rejected(void **state)
{
	static const char body[] = "{\"cmd\":\"lock\"}\0{\"cmd\":\"unlock\"}";
	struct ctrl_cmd cmd;
	struct ctrl_result res;
	(void)state;

	assert_int_equal(ctrl_cmd_parse(&cmd, &res, body, sizeof(body) - 1),
			 EBADMSG);
	assert_string_equal(res.reason, "bad JSON: trailing data");
}


static void test_nested_garbage(void **state)
{
	struct ctrl_cmd cmd;
	struct ctrl_result res;
	char *deep;
	size_t n = 2000, i, pos = 0;
	(void)state;

	/* unknown keys, even structured ones, are ignored ... */
	assert_int_equal(parse(&cmd, &res,
		"{\"cmd\":\"mute\",\"target\":\"self\","
		"\"x\":{\"y\":[1,2,{\"z\":null}]},\"w\":[]}"), 0);
	assert_int_equal(cmd.op, CTRL_OP_MUTE);

	/* ... up to the depth limit */
	expect_reject("{\"cmd\":\"mute\",\"target\":\"self\","
		      "\"x\":{\"y\":[[{\"z\":1}]]}}", 400,
		      "bad JSON: nested too deep");

	/* very deep nesting must not recurse without bound */
	deep = malloc(2 * n + 16);
	assert_non_null(deep);
	deep[pos++] = '{';
	memcpy(deep + pos, "\"a\":", 4);
	pos += 4;
	for (i = 0; i < n; i++)
		deep[pos++] = '[';
	for (i = 0; i < n; i++)
		deep[pos++] = ']';
	deep[pos++] = '}';
	deep[pos] = '\0';
	expect_reject(deep, 400, "bad JSON: nested too deep");
	free(deep);
}


static void test_huge_input(void **state)
{
	struct ctrl_cmd cmd;
	struct ctrl_result res;
	char *big;
	const size_t n = 64 * 1024;
	const char head[] = "{\"cmd\":\"mute\",\"target\":\"self\",\"pad\":\"";
	(void)state;

	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'x', n);
	memcpy(big, head, sizeof(head) - 1);
	memcpy(big + n - 2, "\"}", 2);
	big[n] = '\0';

	assert_int_equal(ctrl_cmd_parse(&cmd, &res, big, n), EBADMSG);
	assert_int_equal(res.scode, 413);
	assert_string_equal(res.reason, "body too large (max 4096 bytes)");

	/* exactly at the limit it is still parsed */
	memcpy(big + CTRL_BODY_MAX - 2, "\"}", 2);
	assert_int_equal(ctrl_cmd_parse(&cmd, &res, big, CTRL_BODY_MAX), 0);
	assert_int_equal(cmd.op, CTRL_OP_MUTE);

	assert_int_equal(ctrl_cmd_parse(&cmd, &res, big, CTRL_BODY_MAX + 1),
			 EBADMSG);
	assert_int_equal(res.scode, 413);
	free(big);
}


static void test_null_args(void **state)
{
	struct ctrl_cmd cmd;
	struct ctrl_result res;
	struct ctrl_dtmf d;
	(void)state;

	assert_int_equal(ctrl_cmd_parse(NULL, &res, "{}", 2), EINVAL);
	assert_int_equal(ctrl_cmd_parse(&cmd, NULL, "{}", 2), EINVAL);
	assert_int_equal(ctrl_cmd_parse(&cmd, &res, NULL, 2), EINVAL);
	assert_int_equal(ctrl_dtmf_relay_parse(&d, &res, NULL, 1), EINVAL);
	assert_int_equal(ctrl_dtmf_parse(NULL, &res, "1", 1), EINVAL);
}


/* --- DTMF --- */

static char relay(const char *body, uint32_t *dur)
{
	struct ctrl_dtmf d;
	struct ctrl_result res;
	int err = ctrl_dtmf_relay_parse(&d, &res, body, strlen(body));

	if (err) {
		print_error("relay '%s': %s\n", body, res.reason);
		return 0;
	}
	if (dur)
		*dur = d.duration_ms;
	return d.digit;
}


static void relay_reject(const char *body, const char *reason)
{
	struct ctrl_dtmf d;
	struct ctrl_result res;

	assert_int_equal(ctrl_dtmf_relay_parse(&d, &res, body, strlen(body)),
			 EBADMSG);
	assert_int_equal(res.scode, 400);
	assert_string_equal(res.reason, reason);
	assert_int_equal(d.digit, 0);
}


static void test_dtmf_relay_variants(void **state)
{
	uint32_t dur = 1;
	(void)state;

	assert_int_equal(relay("Signal=5\r\nDuration=160\r\n", &dur), '5');
	assert_int_equal(dur, 160);
	assert_int_equal(relay("Signal=5\r\nDuration=160", &dur), '5');
	assert_int_equal(relay("signal=0\nduration=250\n", &dur), '0');
	assert_int_equal(dur, 250);
	assert_int_equal(relay("SIGNAL = 9 \r\n DURATION = 100 \r\n", &dur),
			 '9');
	assert_int_equal(dur, 100);
	assert_int_equal(relay("Signal=*\r\n", &dur), '*');
	assert_int_equal(dur, 0);
	assert_int_equal(relay("Signal=#\r\nDuration=100", NULL), '#');
	assert_int_equal(relay("Signal=A", NULL), 'A');
	assert_int_equal(relay("Signal=b", NULL), 'B');
	assert_int_equal(relay("Signal=C", NULL), 'C');
	assert_int_equal(relay("Signal=d", NULL), 'D');
	assert_int_equal(relay("Signal=10\r\nDuration=160", NULL), '*');
	assert_int_equal(relay("Signal=11\r\nDuration=160", NULL), '#');
	assert_int_equal(relay("Signal=12", NULL), 'A');
	assert_int_equal(relay("Signal=15", NULL), 'D');
	/* unknown keys ignored, order free, blank lines tolerated */
	assert_int_equal(relay("\r\nDuration=80\r\nVolume=10\r\n\r\nSignal=7\r\n",
			       &dur), '7');
	assert_int_equal(dur, 80);
	/* absurd duration clamped, not trusted */
	assert_int_equal(relay("Signal=1\r\nDuration=99999", &dur), '1');
	assert_int_equal(dur, 60000);
}


static void test_dtmf_relay_bad(void **state)
{
	(void)state;

	relay_reject("", "missing Signal");
	relay_reject("Duration=160\r\n", "missing Signal");
	relay_reject("Signal=\r\n", "bad Signal ''");
	relay_reject("Signal=E", "bad Signal 'E'");
	relay_reject("Signal=16", "bad Signal '16'");
	relay_reject("Signal=55", "bad Signal '55'");
	relay_reject("Signal=-1", "bad Signal '-1'");
	relay_reject("Signal=5\r\nSignal=6", "duplicate Signal");
	relay_reject("Signal=5\r\nDuration=abc", "bad Duration");
	relay_reject("Signal=5\r\nDuration=", "bad Duration");
	relay_reject("Signal=5\r\nDuration=-5", "bad Duration");
	relay_reject("Signal=5\r\nDuration=1234567", "bad Duration");
	relay_reject("Signal=5\r\nDuration=1\r\nDuration=2",
		     "duplicate Duration");
	relay_reject("Signal 5", "bad dtmf-relay line 'Signal 5'");

	{
		static const char nul[] = "Signal=5\0\r\n";
		struct ctrl_dtmf d;
		struct ctrl_result res;

		assert_int_equal(ctrl_dtmf_relay_parse(&d, &res, nul,
						       sizeof(nul) - 1),
				 EBADMSG);
		assert_string_equal(res.reason, "bad dtmf-relay body");
	}
}


static void test_dtmf_plain(void **state)
{
	static const char ok_keys[] = "0123456789*#ABCD";
	struct ctrl_dtmf d;
	struct ctrl_result res;
	(void)state;

	for (size_t i = 0; ok_keys[i]; i++) {
		char b[2] = {ok_keys[i], 0};

		assert_int_equal(ctrl_dtmf_parse(&d, &res, b, 1), 0);
		assert_int_equal(d.digit, ok_keys[i]);
	}
	assert_int_equal(ctrl_dtmf_parse(&d, &res, "5\r\n", 3), 0);
	assert_int_equal(d.digit, '5');
	assert_int_equal(ctrl_dtmf_parse(&d, &res, " a ", 3), 0);
	assert_int_equal(d.digit, 'A');

	assert_int_equal(ctrl_dtmf_parse(&d, &res, "", 0), EBADMSG);
	assert_string_equal(res.reason, "empty body");
	assert_int_equal(ctrl_dtmf_parse(&d, &res, "55", 2), EBADMSG);
	assert_string_equal(res.reason, "bad dtmf '55'");
	assert_int_equal(ctrl_dtmf_parse(&d, &res, "10", 2), EBADMSG);
	assert_int_equal(ctrl_dtmf_parse(&d, &res, "x", 1), EBADMSG);
	assert_int_equal(res.scode, 400);
	assert_string_equal(res.reason, "bad dtmf 'x'");
	assert_int_equal(d.digit, 0);
}


static void test_dtmf_huge(void **state)
{
	struct ctrl_dtmf d;
	struct ctrl_result res;
	char *big = malloc(CTRL_BODY_MAX + 1);
	(void)state;

	assert_non_null(big);
	memset(big, ' ', CTRL_BODY_MAX + 1);
	memcpy(big, "Signal=5", 8);
	assert_int_equal(ctrl_dtmf_relay_parse(&d, &res, big, CTRL_BODY_MAX),
			 0);
	assert_int_equal(d.digit, '5');
	assert_int_equal(ctrl_dtmf_relay_parse(&d, &res, big,
					       CTRL_BODY_MAX + 1), EBADMSG);
	assert_int_equal(res.scode, 413);
	assert_int_equal(ctrl_dtmf_parse(&d, &res, big, CTRL_BODY_MAX + 1),
			 EBADMSG);
	assert_int_equal(res.scode, 413);
	free(big);
}


static void test_info_dispatch_by_content_type(void **state)
{
	struct ctrl_info info;
	struct ctrl_result res;
	(void)state;

	assert_int_equal(ctrl_info_parse(&info, &res,
		"application/json; charset=utf-8",
		"{\"cmd\":\"lock\"}", 14), 0);
	assert_int_equal(info.kind, CTRL_INFO_CMD);
	assert_int_equal(info.cmd.op, CTRL_OP_LOCK);

	assert_int_equal(ctrl_info_parse(&info, &res,
		"Application/DTMF-Relay", "Signal=11\r\nDuration=100", 23), 0);
	assert_int_equal(info.kind, CTRL_INFO_DTMF);
	assert_int_equal(info.dtmf.digit, '#');
	assert_int_equal(info.dtmf.duration_ms, 100);

	assert_int_equal(ctrl_info_parse(&info, &res, "application/dtmf",
					 "4", 1), 0);
	assert_int_equal(info.kind, CTRL_INFO_DTMF);
	assert_int_equal(info.dtmf.digit, '4');

	assert_int_equal(ctrl_info_parse(&info, &res, "text/plain", "hi", 2),
			 EBADMSG);
	assert_int_equal(res.scode, 415);
	assert_string_equal(res.reason, "unsupported content type 'text/plain'");
	assert_int_equal(info.kind, CTRL_INFO_NONE);

	assert_int_equal(ctrl_info_parse(&info, &res, "application/json",
					 "{\"cmd\":\"nope\"}", 14), EBADMSG);
	assert_int_equal(res.scode, 400);
	assert_string_equal(res.reason, "unknown command 'nope'");
	assert_int_equal(info.kind, CTRL_INFO_NONE);
}


static void test_json_check_limits(void **state)
{
	static const char d3[] = "{\"a\":[{\"b\":1}]}";
	static const char n5[] = "{\"a\":-12345.5e-3}";
	(void)state;

	assert_null(ctrl_json_check(d3, strlen(d3), 3, 15));
	assert_string_equal(ctrl_json_check(d3, strlen(d3), 2, 15),
			    "bad JSON: nested too deep");
	assert_null(ctrl_json_check(n5, strlen(n5), 4, 5));
	assert_string_equal(ctrl_json_check(n5, strlen(n5), 4, 4),
			    "bad JSON: number too long");
	{
		static const char esc[] = "{\"s\":\"\\u00e9\\n\\/\"}";
		static const char lit[] =
			" {\"t\":true,\"f\":false,\"n\":null} ";

		assert_null(ctrl_json_check(esc, strlen(esc), 4, 15));
		assert_null(ctrl_json_check(lit, strlen(lit), 4, 15));
	}
	assert_string_equal(ctrl_json_check(NULL, 0, 4, 15), "empty body");
	/* the length bounds the scan: a valid prefix is not enough */
	assert_string_equal(ctrl_json_check("{\"a\":1}", 6, 4, 15),
			    "bad JSON: truncated");
}


/* xorshift: a fixed, portable sequence */
static uint32_t rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;

	return *x;
}


static void reason_is_header_safe(const struct ctrl_result *res)
{
	assert_true(res->reason[0] != '\0');
	for (const char *p = res->reason; *p; p++) {
		assert_true(*p >= 0x20 && *p <= 0x7e);
		assert_true(*p != '"' && *p != '\\');
	}
}


/* Mutated bodies: every outcome is either a full command or a clean
 * 400 with a header-safe reason (and no sanitizer report). */
static void test_mutated_bodies(void **state)
{
	static const char *const seeds[] = {
		("{\"cmd\":\"gain\",\"target\":\"sip:a@b.c:5060\",\"in_db\":-6.5,"
		 "\"out_db\":3}"),
		"{\"cmd\":\"role\",\"target\":12,\"role\":\"moderator\"}",
		"{\"cmd\":\"mute\",\"target\":\"all\",\"x\":[1,{\"y\":null}]}",
	};
	static const char alphabet[] = "{}[]\",:\\/ -+.eE0123456789tfnu\"\x01\xff";
	uint32_t x = 0x2545f491;
	unsigned ok = 0, bad = 0;
	(void)state;

	for (unsigned it = 0; it < 30000; it++) {
		const char *seed = seeds[it % 3];
		size_t len = strlen(seed);
		char body[256];
		struct ctrl_cmd cmd;
		struct ctrl_result res;
		unsigned edits = 1 + rnd(&x) % 4;
		int err;

		memcpy(body, seed, len);
		for (unsigned e = 0; e < edits; e++) {
			size_t pos = rnd(&x) % len;
			char c = alphabet[rnd(&x) % (sizeof(alphabet) - 1)];

			switch (rnd(&x) % 3) {

			case 0:   /* replace */
				body[pos] = c;
				break;
			case 1:   /* delete */
				memmove(body + pos, body + pos + 1,
					len - pos - 1);
				--len;
				break;
			default:  /* insert */
				if (len + 1 < sizeof(body)) {
					memmove(body + pos + 1, body + pos,
						len - pos);
					body[pos] = c;
					++len;
				}
				break;
			}
			if (!len)
				break;
		}

		err = ctrl_cmd_parse(&cmd, &res, body, len);
		if (err) {
			assert_int_equal(err, EBADMSG);
			assert_int_equal(res.scode, 400);
			assert_int_equal(cmd.op, CTRL_OP_NONE);
			reason_is_header_safe(&res);
			++bad;
		}
		else {
			assert_int_equal(res.scode, 0);
			assert_true(cmd.op != CTRL_OP_NONE);
			assert_true(cmd.op == CTRL_OP_LOCK ||
				    cmd.op == CTRL_OP_UNLOCK ||
				    cmd.target_kind != CTRL_TARGET_NONE);
			if (cmd.has_in)
				assert_true(cmd.in_db >= -20 && cmd.in_db <= 12);
			if (cmd.has_out)
				assert_true(cmd.out_db >= -20 &&
					    cmd.out_db <= 12);
			++ok;
		}
	}

	/* both outcomes were exercised */
	assert_true(ok > 100);
	assert_true(bad > 100);
}


static void test_mutated_dtmf_relay(void **state)
{
	static const char seed[] = "Signal=5\r\nDuration=160\r\n";
	static const char alphabet[] = "=\r\n 0123456789*#ABCDabcdSignalDuration\x00\x80";
	uint32_t x = 0x9e3779b9;
	unsigned ok = 0;
	(void)state;

	for (unsigned it = 0; it < 20000; it++) {
		char body[64];
		size_t len = sizeof(seed) - 1;
		struct ctrl_dtmf d;
		struct ctrl_result res;

		memcpy(body, seed, len);
		for (unsigned e = 0; e < 1 + rnd(&x) % 3; e++)
			body[rnd(&x) % len] =
				alphabet[rnd(&x) % (sizeof(alphabet) - 1)];

		if (ctrl_dtmf_relay_parse(&d, &res, body, len)) {
			assert_int_equal(res.scode, 400);
			assert_int_equal(d.digit, 0);
			reason_is_header_safe(&res);
		}
		else {
			assert_non_null(strchr("0123456789*#ABCD", d.digit));
			assert_true(d.digit != 0);
			assert_true(d.duration_ms <= 60000);
			++ok;
		}
	}
	assert_true(ok > 100);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_simple_command_on_self),
		cmocka_unit_test(test_lock_unlock_take_no_target),
		cmocka_unit_test(test_targets_all_uri_and_ids),
		cmocka_unit_test(test_bad_targets),
		cmocka_unit_test(test_gain),
		cmocka_unit_test(test_gain_out_of_range_and_types),
		cmocka_unit_test(test_role),
		cmocka_unit_test(test_unknown_and_bad_cmd),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_embedded_nul_byte_is_rejected),
		cmocka_unit_test(test_nested_garbage),
		cmocka_unit_test(test_huge_input),
		cmocka_unit_test(test_null_args),
		cmocka_unit_test(test_dtmf_relay_variants),
		cmocka_unit_test(test_dtmf_relay_bad),
		cmocka_unit_test(test_dtmf_plain),
		cmocka_unit_test(test_dtmf_huge),
		cmocka_unit_test(test_info_dispatch_by_content_type),
		cmocka_unit_test(test_json_check_limits),
		cmocka_unit_test(test_mutated_bodies),
		cmocka_unit_test(test_mutated_dtmf_relay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
