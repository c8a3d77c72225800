/**
 * @file message.c  MESSAGE (RFC 3428) relay to the other participants.
 *
 * From a participant's dialog, or out of dialog to the room URI from a
 * URI that is in the room. Each other participant gets a MESSAGE inside
 * its own INVITE dialog (sip_drequestf on the sipsess dialog), so its
 * phone shows it in the call. A text/plain body is prefixed with the
 * sender's name ("Alice: hi"); other types go as they are, and every
 * relayed MESSAGE names the sender in X-Chorus-Sender.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <re.h>

#include "ctrl/log.h"
#include "sip/call.h"
#include "sip/call_int.h"
#include "sip/focus.h"
#include "sip/message.h"
#include "room/control.h"

enum { MESSAGE_BODY_MAX = 8192 };


static void resp_handler(int err, const struct sip_msg *msg, void *arg)
{
	(void)arg;

	if (err)
		debug("message: relay failed (%m)\n", err);
	else if (msg->scode >= 300)
		debug("message: relay answered %u\n", msg->scode);
}


static int relay_one(struct sip *sip, struct call *to, const char *name,
		     const char *sender, const struct sip_msg *msg,
		     bool text)
{
	struct sip_dialog *dlg = to->sess ? sipsess_dialog(to->sess) : NULL;
	size_t len = mbuf_get_left(msg->mb);
	size_t plen = text ? strlen(name) + 2 : 0;

	if (!dlg)
		return ENOENT;

	return sip_drequestf(NULL, sip, true, "MESSAGE", dlg, 0, NULL,
			     NULL, resp_handler, NULL,
			     "X-Chorus-Sender: <%s>\r\n"
			     "Content-Type: %r/%r%s%r\r\n"
			     "Content-Length: %zu\r\n"
			     "\r\n"
			     "%s%s"
			     "%b",
			     sender, &msg->ctyp.type, &msg->ctyp.subtype,
			     pl_isset(&msg->ctyp.params) ? ";" : "",
			     &msg->ctyp.params,
			     plen + len,
			     text ? name : "", text ? ": " : "",
			     mbuf_buf(msg->mb), len);
}


void message_handle(struct focus *f, const struct sip_msg *msg)
{
	struct call_env *env = focus_env(f);
	struct sip *sip = env->sip;
	struct call *from = NULL;
	struct leg *leg = NULL;
	struct room *room;
	char name[128];
	unsigned n = 0;
	bool text;
	struct le *le;

	if (pl_isset(&msg->to.tag)) {
		from = focus_call_by_dialog(f, msg);
		if (!from || !from->leg) {
			call_reject(sip, msg, 481, "Call/Transaction Does Not"
				    " Exist", NULL, "MESSAGE: no such dialog");
			return;
		}
		leg = from->leg;
		if (!control_admitted(focus_control(f), leg)) {
			call_reject(sip, msg, 403, "Forbidden", NULL,
				    "MESSAGE before the PIN");
			return;
		}
	}
	else {
		char number[32], uri[256];

		if (!pl_isset(&msg->uri.user) ||
		    msg->uri.user.l >= sizeof(number)) {
			call_reject(sip, msg, 404, "Not Found", NULL,
				    "MESSAGE: no room in the Request-URI");
			return;
		}
		(void)pl_strcpy(&msg->uri.user, number, sizeof(number));
		room = registry_room_find(env->reg, number);
		if (!room) {
			call_reject(sip, msg, 404, "Not Found", NULL,
				    "MESSAGE: no such room (or empty)");
			return;
		}

		re_snprintf(uri, sizeof(uri), "%r", &msg->from.auri);
		for (le = list_head(room_legs(room)); le; le = le->next) {
			if (leg_state(le->data) == LEG_ESTABLISHED &&
			    control_admitted(focus_control(f), le->data) &&
			    control_uri_match(uri, leg_remote_uri(le->data))) {
				leg = le->data;
				break;
			}
		}
		if (!leg) {
			call_reject(sip, msg, 403, "Forbidden", NULL,
				    "MESSAGE: sender is not in the room");
			return;
		}
		from = leg_udata(leg);
	}

	if (mbuf_get_left(msg->mb) > MESSAGE_BODY_MAX) {
		call_reject(sip, msg, 413, "Request Entity Too Large", NULL,
			    "MESSAGE body too large");
		return;
	}

	if (!pl_isset(&msg->ctyp.type)) {
		call_reject(sip, msg, 415, "Unsupported Media Type",
			    "Accept: text/plain\r\n",
			    "MESSAGE without Content-Type");
		return;
	}

	room = leg_room(leg);
	text = msg_ctype_cmp(&msg->ctyp, "text", "plain");
	if (leg_display_name(leg) && leg_display_name(leg)[0])
		str_ncpy(name, leg_display_name(leg), sizeof(name));
	else
		str_ncpy(name, leg_remote_uri(leg), sizeof(name));

	(void)sip_treplyf(NULL, NULL, sip, msg, false, 200, "OK",
			  "Content-Length: 0\r\n\r\n");

	for (le = list_head(room_legs(room)); le; le = le->next) {
		struct leg *other = le->data;
		struct call *to = leg_udata(other);

		if (other == leg || !to ||
		    leg_state(other) != LEG_ESTABLISHED ||
		    !control_admitted(focus_control(f), other))
			continue;

		if (!relay_one(sip, to, name, leg_remote_uri(leg), msg, text))
			++n;
	}

	info("message: room %s: %s relayed a MESSAGE to %u participant%s\n",
	     room_number(room), leg_remote_uri(leg), n, n == 1 ? "" : "s");
	(void)from;
}
