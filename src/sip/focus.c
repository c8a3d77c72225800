/**
 * @file focus.c  Conference focus: the conference event package
 * (RFC 4575 over RFC 6665 with libre's sipevent), the room control glue
 * and the routing of focus requests (REFER, MESSAGE) to refer.c and
 * message.c.
 *
 * Versions: each subscription counts its own notifications (RFC 4575
 * 4.6: the version is per subscription); the first NOTIFY carries the
 * full state with version 1, every later one a partial document with the
 * users that changed. Changes in one pass of the main loop (a "mute all")
 * are collected and go out as one partial NOTIFY.
 *
 * Limitation (libre 1.1 sipnot): a refreshing SUBSCRIBE is answered by
 * libre, which repeats the last document (same version; subscribers
 * discard a version they already have).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <re.h>

#include "ctrl/log.h"
#include "sip/call.h"
#include "sip/call_int.h"
#include "sip/focus.h"
#include "sip/refer.h"
#include "sip/message.h"
#include "sip/roster.h"
#include "sip/auth.h"
#include "ctrl/prompt.h"

enum {
	FOCUS_HASH_NOT   = 32,
	FOCUS_HASH_SUB   = 32,
	FOCUS_EXP_MIN    = 60,      /* s, SUBSCRIBE Expires bounds        */
	FOCUS_EXP_DFL    = 600,
	FOCUS_EXP_MAX    = 3600,
	FOCUS_FLUSH_MS   = 5,       /* collect changes this long          */
	FOCUS_USERS_MAX  = 256,     /* users in one partial document      */
	FOCUS_FULL_WINDOW_MS = 20,  /* a NOTIFY this soon after the last
				       may meet it in flight: full state  */
};

struct focus {
	struct call_env *env;
	struct sipevent_sock *sevs;
	struct sip_lsnr *lsnr;
	struct control *ctl;
	struct prompts *prompts;
	struct list subs;           /* struct fsub                        */
	struct list dirty;          /* struct dirty: changes to notify    */
	struct list kicks;          /* struct kick                        */
	struct list refers;         /* refer.c jobs                       */
	struct tmr tmr_flush;
	struct tmr tmr_kick;
	struct auth *auth;          /* digest auth from outside a call    */
};

/* one conference subscription */
struct fsub {
	struct le le;
	struct focus *focus;
	struct sipnot *not;
	char number[32];            /* room                               */
	char entity[160];           /* conference URI                     */
	uint32_t version;
	struct sip_dialog *dlg;     /* the subscription's dialog (ours, or
				       the participant's INVITE dialog)   */
	uint32_t leg_id;            /* that participant, 0 = out of dialog */
	uint64_t last_ms;           /* when the last NOTIFY went out      */
	struct tmr tmr_full;        /* full state after a refresh         */
};

/* a user (or the room) whose roster entry changed */
struct dirty {
	struct le le;
	char number[32];
	uint32_t leg_id;            /* 0: the room itself (lock, count)   */
	bool deleted;
	char entity[256];
	char display[64];
};

struct kick {
	struct le le;
	uint32_t leg_id;
	char why[64];
};


static void fsub_destructor(void *arg)
{
	struct fsub *s = arg;

	tmr_cancel(&s->tmr_full);
	list_unlink(&s->le);
	mem_deref(s->not);
	mem_deref(s->dlg);
}


static void destructor(void *arg)
{
	struct focus *f = arg;

	tmr_cancel(&f->tmr_flush);
	tmr_cancel(&f->tmr_kick);
	registry_set_observer(f->env->reg, NULL, NULL);
	list_flush(&f->refers);
	list_flush(&f->subs);
	list_flush(&f->dirty);
	list_flush(&f->kicks);
	mem_deref(f->lsnr);
	mem_deref(f->sevs);
	mem_deref(f->ctl);
	mem_deref(f->prompts);
	mem_deref(f->auth);
}


/* ---- roster documents --------------------------------------------------- */

static enum roster_dir roster_dir(enum media_dir d)
{
	switch (d) {

	case MEDIA_SENDRECV: return ROSTER_DIR_SENDRECV;
	case MEDIA_RECV:     return ROSTER_DIR_SENDONLY;   /* they send */
	case MEDIA_SEND:     return ROSTER_DIR_RECVONLY;
	default:             return ROSTER_DIR_INACTIVE;
	}
}


struct ubuf {
	char id[16];
};


static void user_fill(const struct focus *f, struct roster_user *u,
		      struct ubuf *ub, struct leg *leg)
{
	const struct call *call = leg_udata(leg);
	const struct sdpneg_result *neg = call_media(call);
	struct control_state st = control_state(f->ctl, leg);
	const char *dn = leg_display_name(leg);
	bool hold = call_on_hold(call);

	memset(u, 0, sizeof(*u));
	re_snprintf(ub->id, sizeof(ub->id), "%u", leg_id(leg));

	u->state = ROSTER_STATE_FULL;
	u->entity = leg_remote_uri(leg);
	u->display_text = dn && dn[0] ? dn : NULL;
	u->role = leg_role(leg) == LEG_MODERATOR ? ROSTER_ROLE_MODERATOR :
		ROSTER_ROLE_PARTICIPANT;
	u->status = hold ? ROSTER_EP_ON_HOLD : st.muted ?
		ROSTER_EP_MUTED_VIA_FOCUS : ROSTER_EP_CONNECTED;
	u->joining = refer_leg_dialed_out(f, leg) ? ROSTER_JOIN_DIALED_OUT :
		ROSTER_JOIN_DIALED_IN;
	u->media_id = ub->id;
	u->dir = hold ? ROSTER_DIR_INACTIVE :
		neg ? roster_dir(neg->dir) : ROSTER_DIR_SENDRECV;
	u->muted = st.muted;
	u->deaf = st.deaf;
	u->has_gain = true;
	u->gain_in_db = st.gain_in;
	u->gain_out_db = st.gain_out;
}


static bool leg_listed(const struct focus *f, const struct leg *leg)
{
	return leg_state(leg) == LEG_ESTABLISHED &&
		control_admitted(f->ctl, leg);
}


static uint32_t room_present(const struct focus *f, struct room *room)
{
	struct le *le;
	uint32_t n = 0;

	for (le = list_head(room_legs(room)); le; le = le->next)
		n += leg_listed(f, le->data);

	return n;
}


static void conf_fill(struct roster_conf *c, const struct fsub *s,
		      struct room *room, uint32_t users)
{
	const struct cfg_room *rc = room ? room_cfg(room) : NULL;

	memset(c, 0, sizeof(*c));
	c->entity = s->entity;
	c->display_text = rc && rc->name[0] ? rc->name : NULL;
	c->max_users = rc ? rc->max_legs : 0;
	c->user_count = users;
	c->active = users > 0;
	c->locked = room ? room_locked(room) : false;
}


static int notify_doc(struct fsub *s, const struct roster_doc *doc)
{
	struct mbuf *mb = mbuf_alloc(2048);
	int err;

	if (!mb)
		return ENOMEM;

	err = roster_encode(mb, doc);
	if (!err) {
		mb->pos = 0;
		err = sipevent_notify(s->not, mb, SIPEVENT_ACTIVE, 0, 0);
		s->last_ms = tmr_jiffies();
	}
	if (err)
		warning("focus: room %s: NOTIFY version %u failed (%m)\n",
			s->number, doc->version, err);
	else
		debug("focus: room %s: NOTIFY version %u (%s)\n", s->number,
		      doc->version, doc->partial ? "partial" : "full");

	mem_deref(mb);

	return err;
}


static int notify_full(struct fsub *s)
{
	struct focus *f = s->focus;
	struct room *room = registry_room_find(f->env->reg, s->number);
	struct roster_user *uv = NULL;
	struct ubuf *bv = NULL;
	struct roster_conf conf;
	struct roster_doc doc;
	uint32_t n = 0, max;
	struct le *le;
	int err = 0;

	max = room ? room_leg_count(room) : 0;
	if (max) {
		uv = mem_zalloc(max * sizeof(*uv), NULL);
		bv = mem_zalloc(max * sizeof(*bv), NULL);
		if (!uv || !bv) {
			err = ENOMEM;
			goto out;
		}
		for (le = list_head(room_legs(room)); le && n < max;
		     le = le->next) {
			if (!leg_listed(f, le->data))
				continue;
			user_fill(f, &uv[n], &bv[n], le->data);
			++n;
		}
	}

	conf_fill(&conf, s, room, n);
	memset(&doc, 0, sizeof(doc));
	doc.conf = &conf;
	doc.users = uv;
	doc.userc = n;
	doc.version = ++s->version;
	doc.partial = false;

	err = notify_doc(s, &doc);

 out:
	mem_deref(uv);
	mem_deref(bv);

	return err;
}


/* A partial document for s with every dirty entry of its room. */
static void notify_partial(struct fsub *s)
{
	struct focus *f = s->focus;
	struct room *room = registry_room_find(f->env->reg, s->number);
	struct roster_user uv[FOCUS_USERS_MAX];
	struct ubuf bv[FOCUS_USERS_MAX];
	struct roster_conf conf;
	struct roster_doc doc;
	size_t n = 0;
	struct le *le;
	bool any = false;

	for (le = list_head(&f->dirty); le; le = le->next) {
		struct dirty *d = le->data;
		struct leg *leg;

		if (strcmp(d->number, s->number))
			continue;

		any = true;
		if (!d->leg_id)
			continue;
		if (n >= FOCUS_USERS_MAX) {
			/* too many at once: the full state instead */
			(void)notify_full(s);
			return;
		}

		leg = registry_leg_by_id(f->env->reg, d->leg_id);
		if (!d->deleted && leg && leg_listed(f, leg) &&
		    !strcmp(room_number(leg_room(leg)), s->number)) {
			user_fill(f, &uv[n], &bv[n], leg);
		}
		else {
			memset(&uv[n], 0, sizeof(uv[n]));
			uv[n].state = ROSTER_STATE_DELETED;
			uv[n].entity = d->entity;
			uv[n].display_text = d->display[0] ? d->display :
				NULL;
		}
		++n;
	}

	if (!any)
		return;

	/* libre's sipnot sends only the newest body when a NOTIFY is still
	   in flight: a partial document could be lost there, full state
	   cannot (RFC 4575 4.6 lets the notifier send it at any time) */
	if (s->last_ms && tmr_jiffies() - s->last_ms < FOCUS_FULL_WINDOW_MS) {
		(void)notify_full(s);
		return;
	}

	conf_fill(&conf, s, room, room ? room_present(f, room) : 0);
	memset(&doc, 0, sizeof(doc));
	doc.conf = &conf;
	doc.users = uv;
	doc.userc = n;
	doc.version = ++s->version;
	doc.partial = true;

	(void)notify_doc(s, &doc);
}


static void flush_handler(void *arg)
{
	struct focus *f = arg;
	struct le *le;

	le = list_head(&f->subs);
	while (le) {
		struct fsub *s = le->data;

		le = le->next;
		if (s->not)
			notify_partial(s);
	}

	list_flush(&f->dirty);
}


static void dirty_add(struct focus *f, const char *number, struct leg *leg,
		      bool deleted)
{
	struct dirty *d;
	struct le *le;

	if (list_isempty(&f->subs))
		return;

	for (le = list_head(&f->dirty); le; le = le->next) {
		d = le->data;
		if (d->leg_id == leg_id(leg) && !strcmp(d->number, number)) {
			d->deleted = deleted;
			return;
		}
	}

	d = mem_zalloc(sizeof(*d), NULL);
	if (!d)
		return;

	str_ncpy(d->number, number, sizeof(d->number));
	d->leg_id = leg_id(leg);
	d->deleted = deleted;
	if (leg) {
		str_ncpy(d->entity, leg_remote_uri(leg), sizeof(d->entity));
		if (leg_display_name(leg))
			str_ncpy(d->display, leg_display_name(leg),
				 sizeof(d->display));
	}
	list_append(&f->dirty, &d->le, d);

	if (!tmr_isrunning(&f->tmr_flush))
		tmr_start(&f->tmr_flush, FOCUS_FLUSH_MS, flush_handler, f);
}


/* ---- subscriptions -------------------------------------------------------- */

static void sub_close_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct fsub *s = arg;
	(void)msg;

	info("focus: room %s: conference subscription ended (%m)\n",
	     s->number, err);
	mem_deref(s);
}


static bool event_is_conference(const struct sip_msg *msg,
				struct sipevent_event *se)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_EVENT);

	if (!hdr || sipevent_event_decode(se, &hdr->val))
		return false;

	return !pl_strcasecmp(&se->event, "conference");
}


static void reply_bad_event(struct focus *f, const struct sip_msg *msg)
{
	call_reject(f->env->sip, msg, 489, "Bad Event",
		    "Allow-Events: conference, refer\r\n",
		    "event package not supported");
}


static int sub_accept(struct focus *f, const struct sip_msg *msg,
		      const char *number, struct sip_dialog *dlg,
		      uint32_t leg_id, const struct sipevent_event *se)
{
	struct fsub *s;
	int err;

	s = mem_zalloc(sizeof(*s), fsub_destructor);
	if (!s)
		return ENOMEM;

	s->focus = f;
	s->leg_id = leg_id;
	if (dlg) {
		s->dlg = mem_ref(dlg);
	}
	else {
		/* our own dialog, so that refreshes can be recognised */
		err = sip_dialog_accept(&s->dlg, msg);
		if (err) {
			mem_deref(s);
			return err;
		}
	}
	str_ncpy(s->number, number, sizeof(s->number));
	if (!msg->uri.port)
		re_snprintf(s->entity, sizeof(s->entity), "sip:%s@%r",
			    number, &msg->uri.host);
	else
		re_snprintf(s->entity, sizeof(s->entity), "sip:%s@%r:%u",
			    number, &msg->uri.host, msg->uri.port);

	list_append(&f->subs, &s->le, s);

	err = sipevent_accept(&s->not, f->sevs, msg, s->dlg, se, 200, "OK",
			      FOCUS_EXP_MIN, FOCUS_EXP_DFL, FOCUS_EXP_MAX,
			      number, ROSTER_CTYPE, NULL, NULL, false,
			      sub_close_handler, s,
			      "Allow-Events: conference, refer\r\n");
	if (err) {
		warning("focus: room %s: SUBSCRIBE accept failed (%m)\n",
			number, err);
		mem_deref(s);
		return err;
	}

	info("focus: room %s: conference subscription from %r%s\n", number,
	     &msg->from.auri, dlg ? " (in dialog)" : "");

	(void)notify_full(s);

	return 0;
}


/* The roster of a PIN room is for those who may be in it: a moderator
   URI (mod=) or an admitted participant. Spoofable From: auth.c decides
   whether that is enough (digest users configured or not). */
static bool roster_allowed(const struct focus *f, const char *number,
			   const struct sip_msg *msg)
{
	struct room *room = registry_room_find(f->env->reg, number);
	const struct cfg_room *rc = room ? room_cfg(room) :
		cfg_room_find(f->env->cfg, number);
	char from[256], mods[sizeof(rc->moderators)], *s, *save = NULL;
	struct le *le;

	if (!rc || !rc->pin[0])
		return true;

	re_snprintf(from, sizeof(from), "%r", &msg->from.auri);

	str_ncpy(mods, rc->moderators, sizeof(mods));
	for (s = strtok_r(mods, ",", &save); s; s = strtok_r(NULL, ",", &save))
		if (control_uri_match(s, from))
			return true;

	for (le = room ? list_head(room_legs(room)) : NULL; le; le = le->next)
		if (leg_listed(f, le->data) &&
		    control_uri_match(from, leg_remote_uri(le->data)))
			return true;

	return false;
}


/* Only a PIN room's roster is restricted (auth_authorise) */
static bool roster_open(const struct focus *f, const char *number)
{
	struct room *room = registry_room_find(f->env->reg, number);
	const struct cfg_room *rc = room ? room_cfg(room) :
		cfg_room_find(f->env->cfg, number);

	return !rc || !rc->pin[0];
}


/* sipevent: SUBSCRIBE without To tag */
static bool subscribe_handler(const struct sip_msg *msg, void *arg)
{
	struct focus *f = arg;
	struct sipevent_event se;
	char number[32];
	const struct cfg *cfg = f->env->cfg;

	if (!event_is_conference(msg, &se)) {
		reply_bad_event(f, msg);
		return true;
	}

	if (!pl_isset(&msg->uri.user) || msg->uri.user.l >= sizeof(number)) {
		call_reject(f->env->sip, msg, 404, "Not Found", NULL,
			    "no room in the Request-URI");
		return true;
	}
	(void)pl_strcpy(&msg->uri.user, number, sizeof(number));

	if (!registry_room_find(f->env->reg, number) &&
	    !cfg_room_find(cfg, number) && !cfg_room_auto(cfg, number)) {
		call_reject(f->env->sip, msg, 404, "Not Found", NULL,
			    "no such room");
		return true;
	}

	if (!roster_open(f, number) &&
	    !auth_authorise(f->auth, f->env->sip, msg, number,
			    roster_allowed(f, number, msg), false,
			    "roster of a PIN room: not a participant or "
			    "moderator"))
		return true;

	if (sub_accept(f, msg, number, NULL, 0, &se))
		call_reject(f->env->sip, msg, 500, "Server Internal Error",
			    NULL, "subscription");

	return true;
}


struct call *focus_call_by_dialog(const struct focus *f,
				  const struct sip_msg *msg)
{
	struct le *le;

	if (!f || !msg)
		return NULL;

	for (le = list_head(&f->env->calls); le; le = le->next) {
		struct call *call = le->data;

		if (call->sess && sipsess_dialog(call->sess) &&
		    sip_dialog_cmp(sipsess_dialog(call->sess), msg))
			return call;
	}

	return NULL;
}


/* SUBSCRIBE inside a participant's INVITE dialog (the first one: later
   refreshes match the sipnot and go to sipevent) */
static bool dialog_subscribe(struct focus *f, const struct sip_msg *msg)
{
	struct sipevent_event se;
	struct sip_dialog *dlg;
	struct call *call;
	struct le *le;

	call = focus_call_by_dialog(f, msg);
	if (!call || !call->leg)
		return false;

	dlg = sipsess_dialog(call->sess);
	for (le = list_head(&f->subs); le; le = le->next) {
		const struct fsub *s = le->data;

		if (s->dlg == dlg)
			return false;     /* a refresh: sipevent's */
	}

	if (!event_is_conference(msg, &se)) {
		reply_bad_event(f, msg);
		return true;
	}

	if (!sip_dialog_rseq_valid(dlg, msg)) {
		(void)sip_reply(f->env->sip, msg, 500, "Bad Sequence");
		return true;
	}

	if (sub_accept(f, msg, room_number(leg_room(call->leg)), dlg,
		       leg_id(call->leg), &se))
		call_reject(f->env->sip, msg, 500, "Server Internal Error",
			    NULL, "subscription");

	return true;
}


static void full_tmr_handler(void *arg)
{
	struct fsub *s = arg;

	if (s->not)
		(void)notify_full(s);
}


/* A refreshing SUBSCRIBE (RFC 6665 4.1.2.1): sipevent answers it and
   repeats the last document; then we send the full state, which is
   also how a subscriber that saw a version gap gets back in sync
   (RFC 4575 4.6). */
static bool refresh_seen(struct focus *f, const struct sip_msg *msg)
{
	struct le *le;

	for (le = list_head(&f->subs); le; le = le->next) {
		struct fsub *s = le->data;
		struct sipevent_event se;

		if (!s->dlg || !sip_dialog_cmp(s->dlg, msg))
			continue;
		if (!event_is_conference(msg, &se))
			continue;

		if (!pl_isset(&msg->expires) || pl_u32(&msg->expires))
			tmr_start(&s->tmr_full, FOCUS_FLUSH_MS,
				  full_tmr_handler, s);
		return true;
	}

	return false;
}


/* ---- requests --------------------------------------------------------- */

static bool request_handler(const struct sip_msg *msg, void *arg)
{
	struct focus *f = arg;

	if (!pl_strcmp(&msg->met, "SUBSCRIBE") && pl_isset(&msg->to.tag)) {
		if (refresh_seen(f, msg))
			return false;          /* sipevent answers it */
		return dialog_subscribe(f, msg);
	}

	if (!pl_strcmp(&msg->met, "REFER") && !pl_isset(&msg->to.tag)) {
		refer_ood_handle(f, msg);
		return true;
	}

	if (!pl_strcmp(&msg->met, "MESSAGE")) {
		message_handle(f, msg);
		return true;
	}

	return false;
}


/* ---- observer and control glue ------------------------------------------- */

static void terminate_dialog_subs(struct focus *f, uint32_t leg_id)
{
	struct le *le = list_head(&f->subs);

	while (le) {
		struct fsub *s = le->data;

		le = le->next;
		if (s->dlg && s->leg_id == leg_id) {
			(void)sipevent_notify(s->not, NULL,
					      SIPEVENT_TERMINATED,
					      SIPEVENT_NORESOURCE, 0);
			mem_deref(s);
		}
	}
}


/* A participant subscribed in its own dialog follows it to a new room. */
static void dialog_subs_follow(struct focus *f, const struct leg *leg,
			       const char *number)
{
	struct le *le;

	for (le = list_head(&f->subs); le; le = le->next) {
		struct fsub *s = le->data;
		char *at;

		if (s->leg_id != leg_id(leg) || !strcmp(s->number, number))
			continue;

		/* entity "sip:<old>@host" -> "sip:<new>@host" */
		at = strchr(s->entity, '@');
		if (at) {
			char host[sizeof(s->entity)];

			str_ncpy(host, at, sizeof(host));
			re_snprintf(s->entity, sizeof(s->entity), "sip:%s%s",
				    number, host);
		}
		str_ncpy(s->number, number, sizeof(s->number));
		if (s->not)
			(void)notify_full(s);
	}
}


static void observer(struct leg *leg, enum registry_leg_ev ev, void *arg)
{
	struct focus *f = arg;
	const char *number = room_number(leg_room(leg));

	switch (ev) {

	case REGISTRY_LEG_MEDIA:
		/* PIN rooms: out of the mix, PIN prompt, until admitted */
		control_leg_media(f->ctl, leg);
		break;

	case REGISTRY_LEG_JOINED:
		/* rooms.conf mod=<uri>: a moderator without a PIN */
		if (leg_role(leg) != LEG_MODERATOR &&
		    room_moderator_uri(leg_room(leg), leg_remote_uri(leg)))
			leg_set_role(leg, LEG_MODERATOR);
		control_leg_media(f->ctl, leg);
		if (control_admitted(f->ctl, leg))
			dirty_add(f, number, leg, false);
		dialog_subs_follow(f, leg, number);
		break;

	case REGISTRY_LEG_CHANGED:
		if (control_admitted(f->ctl, leg))
			dirty_add(f, number, leg, false);
		break;

	case REGISTRY_LEG_LEFT:
		if (control_admitted(f->ctl, leg))
			dirty_add(f, number, leg, true);
		/* leaving the call (not moving): end its in-dialog
		   subscriptions while the dialog still exists */
		if (leg_state(leg) != LEG_ESTABLISHED)
			terminate_dialog_subs(f, leg_id(leg));
		break;

	case REGISTRY_LEG_FREE:
		terminate_dialog_subs(f, leg_id(leg));
		refer_leg_gone(f, leg);
		control_leg_free(f->ctl, leg);
		break;
	}
}


static void room_handler(struct room *room, void *arg)
{
	struct focus *f = arg;
	struct dirty *d;

	if (list_isempty(&f->subs))
		return;

	d = mem_zalloc(sizeof(*d), NULL);
	if (!d)
		return;

	str_ncpy(d->number, room_number(room), sizeof(d->number));
	list_append(&f->dirty, &d->le, d);
	if (!tmr_isrunning(&f->tmr_flush))
		tmr_start(&f->tmr_flush, FOCUS_FLUSH_MS, flush_handler, f);
}


static void kick_handler(void *arg)
{
	struct focus *f = arg;
	struct le *le;

	while ((le = list_head(&f->kicks))) {
		struct kick *k = le->data;
		struct leg *leg = registry_leg_by_id(f->env->reg, k->leg_id);
		struct call *call = leg ? leg_udata(leg) : NULL;

		list_unlink(&k->le);
		if (call)
			call_hangup(call, k->why);
		mem_deref(k);
	}
}


void focus_kick(struct focus *f, struct leg *leg, const char *why)
{
	struct kick *k;

	if (!f || !leg)
		return;

	k = mem_zalloc(sizeof(*k), NULL);
	if (!k)
		return;

	k->leg_id = leg_id(leg);
	str_ncpy(k->why, why ? why : "kicked", sizeof(k->why));
	list_append(&f->kicks, &k->le, k);
	tmr_start(&f->tmr_kick, 0, kick_handler, f);
}


static void ctl_kick_handler(struct leg *leg, const char *why, void *arg)
{
	info("focus: room %s leg %u: %s\n", room_number(leg_room(leg)),
	     leg_id(leg), why);
	focus_kick(arg, leg, why);
}


static void ctl_prompt_handler(struct leg *leg, enum control_prompt p,
			       void *arg)
{
	struct focus *f = arg;
	const int16_t *pcm = NULL;
	size_t n = 0;
	int err;

	if (!f->env->me || !leg_media(leg))
		return;

	if (p != CONTROL_PROMPT_STOP) {
		pcm = prompts_pcm(f->prompts, (unsigned)p, &n);
		if (!pcm)
			return;
	}

	err = media_leg_prompt(f->env->me, leg_id(leg), pcm, n);
	if (err)
		warning("focus: leg %u: prompt %s: %m\n", leg_id(leg),
			prompt_name((unsigned)p), err);
	else
		debug("focus: leg %u: prompt %s (%zu samples)\n",
		      leg_id(leg), p == CONTROL_PROMPT_STOP ? "stop" :
		      prompt_name((unsigned)p), n);
}


bool focus_leg_isolated(const struct focus *f, const struct leg *leg)
{
	return f && leg && !control_admitted(f->ctl, leg);
}


void focus_admit(struct focus *f, struct leg *leg, enum leg_role role)
{
	if (f && leg)
		control_admit(f->ctl, leg, role);
}


static int prompts_setup(struct focus *f)
{
	const struct cfg *cfg = f->env->cfg;
	char dir[512] = "";

	if (cfg->prompt_dir[0] == '/')
		str_ncpy(dir, cfg->prompt_dir, sizeof(dir));
	else if (cfg->prompt_dir[0])
		re_snprintf(dir, sizeof(dir), "%s/%s", cfg->dir,
			    cfg->prompt_dir);
#ifdef CHORUS_PROMPT_DIR
	else
		str_ncpy(dir, CHORUS_PROMPT_DIR, sizeof(dir));
#endif

	return prompts_load(&f->prompts, dir,
			    cfg->media.room_srate ? cfg->media.room_srate :
			    48000);
}


void focus_media_event(struct focus *f, const struct media_event *ev)
{
	struct leg *leg;

	if (!f || !ev || ev->type != MEDIA_EV_DTMF)
		return;

	leg = registry_leg_by_id(f->env->reg, ev->leg_id);
	if (!leg)
		return;

	info("focus: room %s leg %u: DTMF %c (RTP)\n",
	     room_number(leg_room(leg)), ev->leg_id, ev->digit);
	control_key(f->ctl, leg, ev->digit);
}


int focus_alloc(struct focus **focusp, struct call_env *env)
{
	struct menu_keymap km;
	struct focus *f;
	char reason[MENU_REASON_SIZE];
	int err;

	if (!focusp || !env || !env->sip)
		return EINVAL;

	f = mem_zalloc(sizeof(*f), destructor);
	if (!f)
		return ENOMEM;

	f->env = env;

	err = auth_alloc(&f->auth, env->cfg);
	if (err)
		goto out;

	menu_keymap_default(&km);
	if (env->cfg->menu_keys[0] &&
	    menu_keymap_parse(&km, env->cfg->menu_keys, reason,
			      sizeof(reason))) {
		/* cfg validated it already; keep the defaults if not */
		warning("focus: menu_keys: %s (defaults used)\n", reason);
		menu_keymap_default(&km);
	}

	err = control_alloc(&f->ctl, env->me, &km);
	if (err)
		goto out;

	err = prompts_setup(f);
	if (err)
		goto out;

	control_set_handlers(f->ctl, ctl_kick_handler, room_handler,
			     ctl_prompt_handler, f);

	/* ours first: SUBSCRIBE inside an INVITE dialog is not sipevent's */
	err = sip_listen(&f->lsnr, env->sip, true, request_handler, f);
	if (err)
		goto out;

	err = sipevent_listen(&f->sevs, env->sip, FOCUS_HASH_NOT,
			      FOCUS_HASH_SUB, subscribe_handler, f);
	if (err)
		goto out;

	registry_set_observer(env->reg, observer, f);

 out:
	if (err)
		mem_deref(f);
	else
		*focusp = f;

	return err;
}


struct control *focus_control(const struct focus *f)
{
	return f ? f->ctl : NULL;
}


struct sipevent_sock *focus_sipevent(const struct focus *f)
{
	return f ? f->sevs : NULL;
}


struct call_env *focus_env(const struct focus *f)
{
	return f ? f->env : NULL;
}


struct list *focus_refers(struct focus *f)
{
	return f ? &f->refers : NULL;
}


struct auth *focus_auth(const struct focus *f)
{
	return f ? f->auth : NULL;
}
