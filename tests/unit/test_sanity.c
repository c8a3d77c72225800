/**
 * @file test_sanity.c  Request sanity helpers (RFC 4475/5118 torture)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <setjmp.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>
#include <re.h>

#include "sip/sanity.h"


static int uint_of(const char *s, uint64_t max, uint64_t *v)
{
	struct pl pl;

	pl_set_str(&pl, s);

	return sanity_uint(&pl, max, v);
}


static void test_uint_range(void **state)
{
	uint64_t v = 0;
	(void)state;

	assert_int_equal(uint_of("0", 255, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(uint_of("255", 255, &v), 0);
	assert_int_equal(v, 255);
	assert_int_equal(uint_of("2147483647", 0x7fffffff, &v), 0);
	assert_int_equal(v, 2147483647u);

	/* RFC 4475 3.1.2.4 scalar02: wraps in pl_u32, refused here */
	assert_int_equal(uint_of("300", 255, NULL), ERANGE);
	assert_int_equal(uint_of("2147483648", 0x7fffffff, NULL), ERANGE);
	assert_int_equal(uint_of("4294967301", 0xffffffff, NULL), ERANGE);
	assert_int_equal(uint_of("36893488147419103232", 0x7fffffff, NULL),
			 ERANGE);
	assert_int_equal(uint_of("00000000001", 0xffffffff, NULL), ERANGE);

	/* ncl: negative, and other non-numbers */
	assert_int_equal(uint_of("-999", 0xffffffff, NULL), EINVAL);
	assert_int_equal(uint_of("", 0xffffffff, NULL), EINVAL);
	assert_int_equal(uint_of("12a", 0xffffffff, NULL), EINVAL);
	assert_int_equal(uint_of("+5", 0xffffffff, NULL), EINVAL);
}


static bool quotes(const char *s)
{
	struct pl pl;

	pl_set_str(&pl, s);

	return sanity_quotes_ok(&pl);
}


static void test_quotes(void **state)
{
	(void)state;

	assert_true(quotes("sip:a@example.com"));
	assert_true(quotes("\"Mr. J. User\" <sip:j@example.com>"));
	assert_true(quotes("\"a \\\" b\" <sip:j@example.com>"));
	assert_true(quotes("\"\" <sip:j@example.com>"));

	/* quotbal */
	assert_false(quotes("\"Mr. J. User <sip:j.user@example.com>"));
	/* an escaped closing quote does not close */
	assert_false(quotes("\"a \\\" <sip:j@example.com>"));
	assert_false(quotes("\"a\" \"b <sip:j@example.com>"));
}


static bool scheme(const char *s)
{
	struct pl pl;

	pl_set_str(&pl, s);

	return sanity_scheme_ok(&pl);
}


static bool v6host(const char *s)
{
	struct pl pl;

	pl_set_str(&pl, s);

	return sanity_ipv6_host_ok(&pl);
}


static void test_uri(void **state)
{
	(void)state;

	assert_true(scheme("sip:1000@example.com"));
	assert_true(scheme("SIPS:1000@example.com"));
	assert_false(scheme("nobodyKnowsThisScheme:totallyopaquecontent"));
	assert_false(scheme("soap.beep://192.0.2.103:3002"));
	assert_false(scheme("sipx:1000@example.com"));
	assert_false(scheme("noscheme"));

	assert_true(v6host("sip:[2001:db8::10]"));
	assert_true(v6host("sip:[2001:db8::10]:5070;transport=udp"));
	assert_true(v6host("sip:1000@192.0.2.1:5060"));
	assert_true(v6host("sip:user:pw@example.com:5060;x=a:b:c"));
	assert_true(v6host("sip:1000@[2001:db8::1]"));
	assert_false(v6host("sip:2001:db8::10"));
	assert_false(v6host("sip:1000@2001:db8::1;transport=udp"));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uint_range),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_uri),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
