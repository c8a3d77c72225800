/**
 * @file test_roster.c  RFC 4575 documents, validated by xmllint against
 * the RFC's schema (tests/data/conference-info.xsd).
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
#include <sys/types.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <re.h>

#include "sip/roster.h"


static char xsd[1024];


/* tests/unit/test_roster.c -> tests/data/conference-info.xsd */
static int setup(void **state)
{
	const char *f = __FILE__;
	const char *slash = strrchr(f, '/');
	size_t n;
	(void)state;

	if (!slash)
		return -1;
	n = (size_t)(slash - f);   /* ".../tests/unit" */
	if (snprintf(xsd, sizeof(xsd), "%.*s/../data/conference-info.xsd",
		     (int)n, f) >= (int)sizeof(xsd))
		return -1;
	if (access(xsd, R_OK)) {
		print_error("schema not found at %s\n", xsd);
		return -1;
	}
	if (system("xmllint --version >/dev/null 2>&1") != 0) {
		print_error("xmllint missing (Debian: libxml2-utils)\n");
		return -1;
	}

	return 0;
}


/* Write the document out and run xmllint on it; its exit status. */
static int xmllint_rc(const char *doc, size_t len)
{
	char path[] = "/tmp/chorus_roster_XXXXXX";
	char log[] = "/tmp/chorus_roster_log_XXXXXX";
	char cmd[3 * 1024];
	int fd, lfd, st, rc;
	FILE *f;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, doc, len), (ssize_t)len);
	close(fd);
	lfd = mkstemp(log);
	assert_true(lfd >= 0);
	close(lfd);

	snprintf(cmd, sizeof(cmd),
		 "xmllint --noout --nonet --schema '%s' '%s' >'%s' 2>&1",
		 xsd, path, log);
	st = system(cmd);
	assert_true(WIFEXITED(st));
	rc = WEXITSTATUS(st);

	if (rc != 0) {
		char line[512];

		f = fopen(log, "r");
		while (f && fgets(line, sizeof(line), f)) {
			/* the schema's unused xml.xsd import, expected */
			if (!strstr(line, "xml.xsd"))
				print_message("xmllint: %s", line);
		}
		if (f)
			fclose(f);
	}
	unlink(path);
	unlink(log);

	return rc;
}


static char *encode(const struct roster_doc *doc)
{
	struct mbuf *mb = mbuf_alloc(1024);
	char *s;

	assert_non_null(mb);
	assert_int_equal(roster_encode(mb, doc), 0);
	s = malloc(mb->end + 1);
	assert_non_null(s);
	memcpy(s, mb->buf, mb->end);
	s[mb->end] = '\0';
	mem_deref(mb);

	return s;
}


static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p;
	     p = strstr(p + 1, needle))
		++n;

	return n;
}


static const struct roster_conf room = {
	.entity = "sip:4100@chorus.example.org",
	.display_text = "Sales & \"Marketing\" <weekly>",
	.subject = "Q3 'numbers'",
	.max_users = 50,
	.user_count = 3,
	.active = true,
	.locked = false,
};

static const struct roster_user three[] = {
	{
		.entity = "sip:alice@example.org",
		.display_text = "Alice <Boss> & Co",
		.role = ROSTER_ROLE_MODERATOR,
		.ep_entity = "sip:alice@192.0.2.10:5060;transport=udp",
		.status = ROSTER_EP_CONNECTED,
		.joining = ROSTER_JOIN_DIALED_IN,
		.media_id = "1",
		.ssrc = 4294967295u,
		.has_ssrc = true,
		.dir = ROSTER_DIR_SENDRECV,
		.call_id = "a84b4c76e66710@pc33",
		.from_tag = "1928301774",
		.to_tag = "a6c85cf",
	},
	{
		.entity = "sip:bob@example.org",
		.display_text = "Bob \"the builder\" O'Neil",
		.status = ROSTER_EP_CONNECTED,
		.joining = ROSTER_JOIN_DIALED_IN,
		.media_id = "2",
		.media_label = "main",
		.muted = true,
	},
	{
		.entity = "sips:zoe@example.org",
		.display_text = "Zo\xc3\xab \xe2\x98\x8e",   /* Zoë ☎ */
		.status = ROSTER_EP_ON_HOLD,
		.joining = ROSTER_JOIN_DIALED_OUT,
		.media_id = "3",
		.dir = ROSTER_DIR_SENDONLY,
		.deaf = true,
	},
};


static void test_full_document_is_schema_valid(void **state)
{
	struct roster_doc doc = {&room, three, 3, 7, false};
	char *x;
	(void)state;

	x = encode(&doc);
	assert_int_equal(xmllint_rc(x, strlen(x)), 0);

	assert_non_null(strstr(x, "state=\"full\" version=\"7\""));
	assert_non_null(strstr(x, "<display-text>Sales &amp; &quot;Marketing"
			       "&quot; &lt;weekly&gt;</display-text>"));
	assert_non_null(strstr(x, "<subject>Q3 &apos;numbers&apos;</subject>"));
	assert_non_null(strstr(x, "<maximum-user-count>50<"));
	assert_non_null(strstr(x, "<user-count>3</user-count>"));
	assert_non_null(strstr(x, "<locked>false</locked>"));
	assert_int_equal(count(x, "<user "), 3);
	assert_non_null(strstr(x, "Alice &lt;Boss&gt; &amp; Co"));
	assert_non_null(strstr(x, "Bob &quot;the builder&quot; O&apos;Neil"));
	assert_non_null(strstr(x, "Zo\xc3\xab \xe2\x98\x8e"));
	assert_int_equal(count(x, "<entry>moderator</entry>"), 1);
	assert_int_equal(count(x, "<entry>participant</entry>"), 2);
	assert_non_null(strstr(x, "<src-id>4294967295</src-id>"));
	assert_non_null(strstr(x, "<call-id>a84b4c76e66710@pc33</call-id>"));
	assert_non_null(strstr(x,
		"entity=\"sip:alice@192.0.2.10:5060;transport=udp\""));
	/* alice: talking and hearing */
	assert_non_null(strstr(x, "<status>sendrecv</status>\n"
			       "     <chorus:muted>false</chorus:muted>\n"
			       "     <chorus:deaf>false</chorus:deaf>"));
	/* bob: muted by the focus */
	assert_int_equal(count(x, "<status>muted-via-focus</status>"), 1);
	assert_non_null(strstr(x, "<label>main</label>"));
	assert_non_null(strstr(x, "<status>recvonly</status>\n"
			       "     <chorus:muted>true</chorus:muted>"));
	/* zoe: holding (she only sends) and deaf: deafness takes away a
	 * direction she does not use, so the media stays sendonly */
	assert_int_equal(count(x, "<status>on-hold</status>"), 1);
	assert_non_null(strstr(x, "<status>sendonly</status>\n"
			       "     <chorus:muted>false</chorus:muted>\n"
			       "     <chorus:deaf>true</chorus:deaf>"));
	assert_int_equal(count(x, "<joining-method>dialed-out<"), 1);
	free(x);
}


static void test_partial_document_is_schema_valid(void **state)
{
	struct roster_conf c = room;
	struct roster_user u[3] = {three[1], three[0], three[2]};
	struct roster_doc doc = {&c, u, 3, 8, true};
	char *x;
	(void)state;

	c.locked = true;
	c.user_count = 2;
	u[0].state = ROSTER_STATE_PARTIAL;    /* bob unmuted */
	u[0].muted = false;
	u[1].state = ROSTER_STATE_DELETED;    /* alice left */
	u[2].state = ROSTER_STATE_FULL;       /* zoe re-sent whole */

	x = encode(&doc);
	assert_int_equal(xmllint_rc(x, strlen(x)), 0);

	assert_non_null(strstr(x, "state=\"partial\" version=\"8\""));
	assert_null(strstr(x, "<conference-description>"));
	assert_non_null(strstr(x, "<locked>true</locked>"));
	assert_non_null(strstr(x, "<users state=\"partial\">"));
	assert_non_null(strstr(x, "<user entity=\"sip:bob@example.org\" "
			       "state=\"partial\">"));
	assert_non_null(strstr(x, "<user entity=\"sip:alice@example.org\" "
			       "state=\"deleted\"/>"));
	assert_non_null(strstr(x, "<user entity=\"sips:zoe@example.org\" "
			       "state=\"full\">"));
	assert_null(strstr(x, "muted-via-focus"));
	assert_null(strstr(x, "Alice"));
	free(x);
}


static void test_full_document_skips_deleted_and_forces_full(void **state)
{
	struct roster_user u[3] = {three[0], three[1], three[2]};
	struct roster_doc doc = {&room, u, 3, 1, false};
	char *x;
	(void)state;

	u[0].state = ROSTER_STATE_DELETED;
	u[1].state = ROSTER_STATE_PARTIAL;
	u[2].status = ROSTER_EP_DISCONNECTED;
	u[2].disconnection = ROSTER_DISC_BOOTED;
	u[1].deaf = true;   /* and muted: nothing flows either way */

	x = encode(&doc);
	assert_int_equal(xmllint_rc(x, strlen(x)), 0);
	assert_non_null(strstr(x, "<status>inactive</status>\n"
			       "     <chorus:muted>true</chorus:muted>\n"
			       "     <chorus:deaf>true</chorus:deaf>"));
	assert_int_equal(count(x, "<user "), 2);
	assert_null(strstr(x, "alice"));
	assert_null(strstr(x, "\"partial\""));
	assert_null(strstr(x, "\"deleted\""));
	assert_non_null(strstr(x, "<disconnection-method>booted<"));
	free(x);
}


static void test_empty_and_minimal_rosters(void **state)
{
	static const struct roster_conf bare = {.entity = "sip:1@h"};
	static const struct roster_user minimal = {.entity = "sip:x@h"};
	struct roster_doc doc = {&bare, NULL, 0, 0, false};
	char *x;
	(void)state;

	x = encode(&doc);
	assert_int_equal(xmllint_rc(x, strlen(x)), 0);
	assert_int_equal(count(x, "<user "), 0);
	assert_null(strstr(x, "<display-text>"));
	assert_null(strstr(x, "<maximum-user-count>"));
	free(x);

	doc.users = &minimal;
	doc.userc = 1;
	x = encode(&doc);
	assert_int_equal(xmllint_rc(x, strlen(x)), 0);
	assert_non_null(strstr(x, "<endpoint entity=\"sip:x@h\">"));
	assert_null(strstr(x, "<media"));
	assert_null(strstr(x, "<call-info>"));
	free(x);
}


static void test_hostile_names_stay_well_formed(void **state)
{
	struct roster_user u[2] = {three[0], three[1]};
	struct roster_doc doc = {&room, u, 2, 2, false};
	char *x;
	(void)state;

	/* control characters, broken UTF-8, overlong '<', a surrogate, and
	 * markup that tries to close the element */
	u[0].display_text = "a\x01" "b\x1b[31m\xff\xfe" "c\xc0\xbc"
		"d\xed\xa0\x80" "e</display-text><x>";
	u[1].display_text = "]]>&amp;&#0;";
	u[1].entity = "sip:\"q\"@h";

	x = encode(&doc);
	assert_int_equal(xmllint_rc(x, strlen(x)), 0);
	assert_non_null(strstr(x, "<display-text>a?b?[31m??c??d???e&lt;/"
			       "display-text&gt;&lt;x&gt;</display-text>"));
	assert_non_null(strstr(x, "]]&gt;&amp;amp;&amp;#0;"));
	assert_non_null(strstr(x, "entity=\"sip:&quot;q&quot;@h\""));
	free(x);
}


static void test_large_roster(void **state)
{
	enum { N = 300 };
	struct roster_user *u = calloc(N, sizeof(*u));
	char (*names)[64] = calloc(N, 64);
	char (*ids)[16] = calloc(N, 16);
	struct roster_conf c = room;
	struct roster_doc doc = {&c, u, N, 99, false};
	char *x;
	(void)state;

	assert_non_null(u);
	assert_non_null(names);
	assert_non_null(ids);
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], 64, "sip:user%zu@example.org", i);
		snprintf(ids[i], 16, "%zu", i);
		u[i].entity = names[i];
		u[i].display_text = "P & Q";
		u[i].status = ROSTER_EP_CONNECTED;
		u[i].media_id = ids[i];
		u[i].muted = i % 3 == 0;
	}
	c.user_count = N;

	x = encode(&doc);
	assert_int_equal(xmllint_rc(x, strlen(x)), 0);
	assert_int_equal(count(x, "<user "), N);
	assert_int_equal(count(x, "muted-via-focus"), N / 3);
	free(x);
	free(u);
	free(names);
	free(ids);
}


/* The validation step itself must be able to fail. */
static void test_invalid_documents_fail_validation(void **state)
{
	struct roster_doc doc = {&room, three, 3, 7, false};
	char *x, *p;
	(void)state;

	x = encode(&doc);
	assert_int_equal(xmllint_rc(x, strlen(x)), 0);

	/* an enumeration value the schema does not have */
	p = strstr(x, "<status>sendrecv</status>");
	assert_non_null(p);
	memcpy(p + 8, "sendrcv ", 8);
	assert_int_not_equal(xmllint_rc(x, strlen(x)), 0);
	memcpy(p + 8, "sendrecv", 8);
	assert_int_equal(xmllint_rc(x, strlen(x)), 0);

	/* elements out of the schema's sequence order */
	p = strstr(x, "<roles>");
	assert_non_null(p);
	memcpy(p, "<rolez>", 7);
	assert_int_not_equal(xmllint_rc(x, strlen(x)), 0);
	free(x);

	/* not even well-formed: a raw ampersand */
	{
		static const char bad[] =
			"<?xml version=\"1.0\"?>\n"
			"<conference-info xmlns=\"" ROSTER_NS "\" "
			"entity=\"sip:a@b\"><conference-description>"
			"<display-text>A & B</display-text>"
			"</conference-description></conference-info>\n";

		assert_int_not_equal(xmllint_rc(bad, sizeof(bad) - 1), 0);
	}

	/* missing the required entity attribute */
	{
		static const char bad[] =
			"<?xml version=\"1.0\"?>\n"
			"<conference-info xmlns=\"" ROSTER_NS "\"/>\n";

		assert_int_not_equal(xmllint_rc(bad, sizeof(bad) - 1), 0);
	}
}


static void test_escape_printer(void **state)
{
	char buf[128];
	(void)state;

	re_snprintf(buf, sizeof(buf), "%H", roster_xml_escape,
		    "<a href='x'>\"&\"</a>");
	assert_string_equal(buf, "&lt;a href=&apos;x&apos;&gt;&quot;&amp;"
			    "&quot;&lt;/a&gt;");
	re_snprintf(buf, sizeof(buf), "%H", roster_xml_escape,
		    "tab\tnl\ncr\r");
	assert_string_equal(buf, "tab\tnl\ncr\r");
	/* truncated multi-byte sequence at the end of the string */
	re_snprintf(buf, sizeof(buf), "%H", roster_xml_escape, "x\xe2\x98");
	assert_string_equal(buf, "x??");
	/* 4-byte character kept, beyond U+10FFFF rejected */
	re_snprintf(buf, sizeof(buf), "%H", roster_xml_escape,
		    "\xf0\x9f\x8e\xb5|\xf4\x90\x80\x80");
	assert_string_equal(buf, "\xf0\x9f\x8e\xb5|????");
	re_snprintf(buf, sizeof(buf), "%H", roster_xml_escape,
		    "\xef\xbf\xbe");   /* U+FFFE */
	assert_string_equal(buf, "???");
}


static void test_required_fields(void **state)
{
	struct roster_conf c = room;
	struct roster_user u = three[0];
	struct roster_doc doc = {&c, &u, 1, 1, false};
	struct mbuf *mb = mbuf_alloc(64);
	(void)state;

	assert_non_null(mb);
	assert_int_equal(mbuf_write_str(mb, "keep"), 0);

	c.entity = NULL;
	assert_int_equal(roster_encode(mb, &doc), EINVAL);
	c.entity = "";
	assert_int_equal(roster_encode(mb, &doc), EINVAL);
	c.entity = room.entity;
	u.entity = NULL;
	assert_int_equal(roster_encode(mb, &doc), EINVAL);
	u.entity = three[0].entity;
	u.media_id = "";
	assert_int_equal(roster_encode(mb, &doc), EINVAL);
	doc.users = NULL;
	assert_int_equal(roster_encode(mb, &doc), EINVAL);
	assert_int_equal(roster_encode(NULL, &doc), EINVAL);
	assert_int_equal(roster_encode(mb, NULL), EINVAL);
	/* nothing was written by the failed calls */
	assert_int_equal(mb->end, 4);
	assert_int_equal(mb->pos, 4);
	mem_deref(mb);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_document_is_schema_valid),
		cmocka_unit_test(test_partial_document_is_schema_valid),
		cmocka_unit_test(test_full_document_skips_deleted_and_forces_full),
		cmocka_unit_test(test_empty_and_minimal_rosters),
		cmocka_unit_test(test_hostile_names_stay_well_formed),
		cmocka_unit_test(test_large_roster),
		cmocka_unit_test(test_invalid_documents_fail_validation),
		cmocka_unit_test(test_escape_printer),
		cmocka_unit_test(test_required_fields),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
