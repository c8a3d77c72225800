/**
 * @file fuzz_roster.c  RFC 4575 conference-info documents (sip/roster.c)
 * built from attacker-controlled strings -- From display names, URIs,
 * Call-ID and tags, SDP labels all come from participants -- must be
 * well-formed XML: every document roster_encode() produces is parsed with
 * libxml2 (no network, no entities), and so is roster_xml_escape() output
 * used as element text and as an attribute value.
 *
 * Input: NUL-separated strings, taken in order for the conference
 * (entity, display text, subject) and then for up to four users (entity,
 * display text, endpoint, media id, label, Call-ID, from-tag, to-tag); the
 * first byte of each user's entity string also picks its enums.
 */
#include <stdbool.h>
#include <libxml/parser.h>
#include <re.h>

#include "sip/roster.h"
#include "fuzz_common.h"

enum { MAX_USERS = 4, MAX_STR = 3 + MAX_USERS * 8 };


static int silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
	return 0;
}


static void must_parse(const uint8_t *p, size_t n)
{
	xmlDocPtr doc = xmlReadMemory((const char *)p, (int)n, "fuzz.xml",
				      NULL, XML_PARSE_NONET |
				      XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		fprintf(stderr, "not well-formed XML:\n%.*s\n", (int)n,
			(const char *)p);
		FUZZ_CHECK(0 && "roster output is not well-formed XML");
	}
	xmlFreeDoc(doc);
}


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, (xmlGenericErrorFunc)silent);
	return 0;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s[MAX_STR];
	struct roster_conf conf;
	struct roster_user users[MAX_USERS];
	struct roster_doc doc;
	struct mbuf *mb;
	char *copy;
	size_t ns = 0, nu;
	int err;

	/* NUL-terminated copy, split at NULs */
	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t i = 0, start = 0; i <= size && ns < MAX_STR; i++) {
		if (copy[i] == '\0') {
			s[ns++] = copy + start;
			start = i + 1;
		}
	}
	for (size_t i = ns; i < MAX_STR; i++)
		s[i] = NULL;

	memset(&conf, 0, sizeof(conf));
	conf.entity = s[0] && *s[0] ? s[0] : "sip:1000@chorus.example";
	conf.display_text = s[1];
	conf.subject = s[2];
	conf.max_users = 50;
	conf.user_count = 1;
	conf.active = true;

	memset(users, 0, sizeof(users));
	nu = ns > 3 ? (ns - 3 + 7) / 8 : 0;
	if (nu > MAX_USERS)
		nu = MAX_USERS;
	for (size_t u = 0; u < nu; u++) {
		const char **f = &s[3 + u * 8];
		uint8_t sel = f[0] ? (uint8_t)f[0][0] : 0;

		users[u].entity = f[0] && *f[0] ? f[0] : "sip:a@b";
		users[u].display_text = f[1];
		users[u].ep_entity = f[2];
		users[u].media_id = f[3];
		users[u].media_label = f[4];
		users[u].call_id = f[5];
		users[u].from_tag = f[6];
		users[u].to_tag = f[7];
		users[u].state = (enum roster_state)(sel % 3);
		users[u].role = (enum roster_role)(sel >> 2 & 1);
		users[u].status = (enum roster_ep_status)((sel >> 3) % 10);
		users[u].joining = (enum roster_joining)((sel >> 2) % 4);
		users[u].disconnection = (enum roster_disconnection)(sel % 5);
		users[u].dir = (enum roster_dir)((sel >> 5) & 3);
		users[u].muted = sel & 1;
		users[u].deaf = sel & 2;
		users[u].has_ssrc = sel & 4;
		users[u].ssrc = 0x11223344u * sel;
	}

	mb = mbuf_alloc(4096);
	if (!mb)
		goto out;

	for (int partial = 0; partial < 2; partial++) {
		memset(&doc, 0, sizeof(doc));
		doc.conf = &conf;
		doc.users = users;
		doc.userc = nu;
		doc.version = 7;
		doc.partial = partial;

		mbuf_reset(mb);
		err = roster_encode(mb, &doc);
		if (!err)
			must_parse(mb->buf, mb->end);
		else
			FUZZ_CHECK(mb->end == 0 && mb->pos == 0);
	}

	/* the escaper alone, as text and as an attribute value */
	if (s[1]) {
		mbuf_reset(mb);
		if (!mbuf_printf(mb, "<a b=\"%H\">%H</a>", roster_xml_escape,
				 s[1], roster_xml_escape, s[1]))
			must_parse(mb->buf, mb->end);
	}

 out:
	mem_deref(mb);
	free(copy);

	return 0;
}
