/**
 * @file roster.c  RFC 4575 conference-info document encoder
 *
 * Element order follows the RFC 4575 schema sequences exactly (schema
 * validation rejects any other order); tests/unit/test_roster.c checks
 * every document shape against tests/data/conference-info.xsd.
 */
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <errno.h>
#include <sys/types.h>
#include <re.h>

#include "sip/roster.h"


static const char *state_name(enum roster_state st)
{
	switch (st) {

	case ROSTER_STATE_PARTIAL: return "partial";
	case ROSTER_STATE_DELETED: return "deleted";
	default:                   return "full";
	}
}


const char *roster_ep_status_name(enum roster_ep_status st)
{
	switch (st) {

	case ROSTER_EP_PENDING:         return "pending";
	case ROSTER_EP_DIALING_OUT:     return "dialing-out";
	case ROSTER_EP_DIALING_IN:      return "dialing-in";
	case ROSTER_EP_ALERTING:        return "alerting";
	case ROSTER_EP_ON_HOLD:         return "on-hold";
	case ROSTER_EP_CONNECTED:       return "connected";
	case ROSTER_EP_MUTED_VIA_FOCUS: return "muted-via-focus";
	case ROSTER_EP_DISCONNECTING:   return "disconnecting";
	case ROSTER_EP_DISCONNECTED:    return "disconnected";
	default:                        return NULL;
	}
}


static const char *joining_name(enum roster_joining j)
{
	switch (j) {

	case ROSTER_JOIN_DIALED_IN:   return "dialed-in";
	case ROSTER_JOIN_DIALED_OUT:  return "dialed-out";
	case ROSTER_JOIN_FOCUS_OWNER: return "focus-owner";
	default:                      return NULL;
	}
}


static const char *disc_name(enum roster_disconnection d)
{
	switch (d) {

	case ROSTER_DISC_DEPARTED: return "departed";
	case ROSTER_DISC_BOOTED:   return "booted";
	case ROSTER_DISC_FAILED:   return "failed";
	case ROSTER_DISC_BUSY:     return "busy";
	default:                   return NULL;
	}
}


const char *roster_dir_name(enum roster_dir dir)
{
	switch (dir) {

	case ROSTER_DIR_SENDONLY: return "sendonly";
	case ROSTER_DIR_RECVONLY: return "recvonly";
	case ROSTER_DIR_INACTIVE: return "inactive";
	default:                  return "sendrecv";
	}
}


/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not a
 * character XML 1.0 allows (controls, overlongs, surrogates, U+FFFE/F). */
static size_t xml_char_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80) {
		if (s[0] < 0x20 && s[0] != '\t' && s[0] != '\n' &&
		    s[0] != '\r')
			return 0;
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	}
	else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	}
	else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	}
	else {
		return 0;
	}

	/* the NUL terminator fails this test, so we never read past it */
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}

	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;

	return n;
}


int roster_xml_escape(struct re_printf *pf, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	const unsigned char *run;
	int err = 0;

	if (!s)
		return 0;

	run = s;
	while (*s && !err) {
		const char *rep = NULL;
		size_t n = xml_char_len(s);

		switch (n ? *s : 0) {

		case '&':  rep = "&amp;";  break;
		case '<':  rep = "&lt;";   break;
		case '>':  rep = "&gt;";   break;
		case '"':  rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		case 0:    rep = "?";      break;
		default:   break;
		}

		if (!rep) {
			s += n;
			continue;
		}

		if (s > run)
			err = re_hprintf(pf, "%b", run, (size_t)(s - run));
		if (!err)
			err = re_hprintf(pf, "%s", rep);
		s += n ? n : 1;
		run = s;
	}

	if (!err && s > run)
		err = re_hprintf(pf, "%b", run, (size_t)(s - run));

	return err;
}


/* <name>escaped text</name> when text is set */
static int text_elem(struct mbuf *mb, const char *ind, const char *name,
		     const char *text)
{
	if (!text)
		return 0;

	return mbuf_printf(mb, "%s<%s>%H</%s>\n", ind, name,
			   roster_xml_escape, text, name);
}


/* Media status as the participant sees it: mute takes away its send
 * direction (nobody hears it), deaf takes away its receive direction. */
static enum roster_dir effective_dir(const struct roster_user *u)
{
	bool send = u->dir == ROSTER_DIR_SENDRECV ||
		u->dir == ROSTER_DIR_SENDONLY;
	bool recv = u->dir == ROSTER_DIR_SENDRECV ||
		u->dir == ROSTER_DIR_RECVONLY;

	if (u->muted)
		send = false;
	if (u->deaf)
		recv = false;

	if (send && recv)
		return ROSTER_DIR_SENDRECV;
	if (send)
		return ROSTER_DIR_SENDONLY;
	if (recv)
		return ROSTER_DIR_RECVONLY;

	return ROSTER_DIR_INACTIVE;
}


static int media_encode(struct mbuf *mb, const struct roster_user *u)
{
	int err;

	err = mbuf_printf(mb, "    <media id=\"%H\">\n"
			  "     <type>audio</type>\n",
			  roster_xml_escape, u->media_id);
	err |= text_elem(mb, "     ", "label", u->media_label);
	if (u->has_ssrc)
		err |= mbuf_printf(mb, "     <src-id>%u</src-id>\n", u->ssrc);
	err |= mbuf_printf(mb, "     <status>%s</status>\n"
			   "     <chorus:muted>%s</chorus:muted>\n"
			   "     <chorus:deaf>%s</chorus:deaf>\n",
			   roster_dir_name(effective_dir(u)),
			   u->muted ? "true" : "false",
			   u->deaf ? "true" : "false");
	if (u->has_gain)
		err |= mbuf_printf(mb,
				   "     <chorus:gain-in>%d</chorus:gain-in>\n"
				   "     <chorus:gain-out>%d</chorus:gain-out>\n",
				   u->gain_in_db, u->gain_out_db);
	err |= mbuf_printf(mb, "    </media>\n");

	return err;
}


static int endpoint_encode(struct mbuf *mb, const struct roster_user *u)
{
	enum roster_ep_status st = u->status;
	const char *s;
	int err;

	if (st == ROSTER_EP_CONNECTED && u->muted)
		st = ROSTER_EP_MUTED_VIA_FOCUS;

	err = mbuf_printf(mb, "   <endpoint entity=\"%H\">\n",
			  roster_xml_escape,
			  u->ep_entity ? u->ep_entity : u->entity);

	s = roster_ep_status_name(st);
	if (s)
		err |= mbuf_printf(mb, "    <status>%s</status>\n", s);
	s = joining_name(u->joining);
	if (s)
		err |= mbuf_printf(mb,
				   "    <joining-method>%s</joining-method>\n",
				   s);
	s = disc_name(u->disconnection);
	if (s)
		err |= mbuf_printf(mb, "    <disconnection-method>%s"
				   "</disconnection-method>\n", s);
	if (u->media_id)
		err |= media_encode(mb, u);
	if (u->call_id && u->from_tag && u->to_tag) {
		err |= mbuf_printf(mb, "    <call-info>\n     <sip>\n");
		err |= text_elem(mb, "      ", "call-id", u->call_id);
		err |= text_elem(mb, "      ", "from-tag", u->from_tag);
		err |= text_elem(mb, "      ", "to-tag", u->to_tag);
		err |= mbuf_printf(mb, "     </sip>\n    </call-info>\n");
	}
	err |= mbuf_printf(mb, "   </endpoint>\n");

	return err;
}


static int user_encode(struct mbuf *mb, const struct roster_user *u,
		       enum roster_state st)
{
	int err;

	if (st == ROSTER_STATE_DELETED)
		return mbuf_printf(mb, "  <user entity=\"%H\" state=\"deleted\"/>\n",
				   roster_xml_escape, u->entity);

	err = mbuf_printf(mb, "  <user entity=\"%H\" state=\"%s\">\n",
			  roster_xml_escape, u->entity, state_name(st));
	err |= text_elem(mb, "   ", "display-text", u->display_text);
	err |= mbuf_printf(mb, "   <roles><entry>%s</entry></roles>\n",
			   u->role == ROSTER_ROLE_MODERATOR ?
			   "moderator" : "participant");
	err |= endpoint_encode(mb, u);
	err |= mbuf_printf(mb, "  </user>\n");

	return err;
}


static int doc_check(const struct roster_doc *doc)
{
	if (!doc->conf || !doc->conf->entity || !*doc->conf->entity)
		return EINVAL;
	if (doc->userc && !doc->users)
		return EINVAL;

	for (size_t i = 0; i < doc->userc; i++) {
		const struct roster_user *u = &doc->users[i];

		if (!u->entity || !*u->entity)
			return EINVAL;
		if (u->media_id && !*u->media_id)
			return EINVAL;
		if (u->state > ROSTER_STATE_DELETED)
			return EINVAL;
	}

	return 0;
}


int roster_encode(struct mbuf *mb, const struct roster_doc *doc)
{
	const struct roster_conf *c;
	size_t pos0, end0;
	int err;

	if (!mb || !doc)
		return EINVAL;

	err = doc_check(doc);
	if (err)
		return err;

	c = doc->conf;
	pos0 = mb->pos;
	end0 = mb->end;

	err = mbuf_printf(mb,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<conference-info xmlns=\"" ROSTER_NS "\"\n"
		" xmlns:chorus=\"" ROSTER_EXT_NS "\"\n"
		" entity=\"%H\" state=\"%s\" version=\"%u\">\n",
		roster_xml_escape, c->entity,
		doc->partial ? "partial" : "full", doc->version);

	/* the description does not change during a call: full only */
	if (!doc->partial) {
		err |= mbuf_printf(mb, " <conference-description>\n");
		err |= text_elem(mb, "  ", "display-text", c->display_text);
		err |= text_elem(mb, "  ", "subject", c->subject);
		if (c->max_users)
			err |= mbuf_printf(mb, "  <maximum-user-count>%u"
					   "</maximum-user-count>\n",
					   c->max_users);
		err |= mbuf_printf(mb,
			"  <available-media>\n"
			"   <entry label=\"audio\"><type>audio</type></entry>\n"
			"  </available-media>\n"
			" </conference-description>\n");
	}

	err |= mbuf_printf(mb, " <conference-state>\n"
			   "  <user-count>%u</user-count>\n"
			   "  <active>%s</active>\n"
			   "  <locked>%s</locked>\n"
			   " </conference-state>\n",
			   c->user_count, c->active ? "true" : "false",
			   c->locked ? "true" : "false");

	err |= mbuf_printf(mb, " <users%s>\n",
			   doc->partial ? " state=\"partial\"" : "");
	for (size_t i = 0; i < doc->userc && !err; i++) {
		const struct roster_user *u = &doc->users[i];

		if (!doc->partial && u->state == ROSTER_STATE_DELETED)
			continue;
		err = user_encode(mb, u, doc->partial ? u->state :
				  ROSTER_STATE_FULL);
	}
	err |= mbuf_printf(mb, " </users>\n</conference-info>\n");

	if (err) {
		/* err is an OR of errno values: report the usual one */
		err = ENOMEM;
		mb->pos = pos0;
		mb->end = end0;
	}

	return err;
}
