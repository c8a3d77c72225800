/**
 * @file sdpneg.c  SDP offer/answer for one audio stream (RFC 3264).
 *
 * libre's sdp_decode() matches the remote m= lines against our single
 * local audio line (by media name and transport; the rest become
 * remote-only lines that libre answers with port 0) and marks each
 * remote format we also have as supported (sdp_format.sup), copying our
 * codec table entry into its data pointer. The decision below walks the
 * remote formats in the peer's order, so the offerer's order wins.
 *
 * Direction: libre stores the remote direction from our point of view
 * (their a=sendonly becomes SDP_RECVONLY). res->dir is that direction
 * as a media_dir; whether a one-way offer means "hold" (take the leg
 * out of the mix) is flagged in res->hold and decided by the call layer.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <re.h>

#include "sip/sdpneg.h"

enum neg_kind { NEG_AUDIO, NEG_TELEV };

struct neg_codec {
	enum neg_kind kind;
	enum codec_id id;
	const char *name;
	const char *pt;        /* static PT, NULL = dynamic           */
	uint32_t clock;        /* RTP clock rate in SDP               */
	uint32_t srate;        /* audio rate                          */
	uint8_t  ch;           /* channels in the rtpmap              */
	const char *fmtp;      /* what we ask for when receiving      */
};

/* Dynamic PTs we use in our own offers (the peer's win in answers). */
static const struct neg_codec codec_tab[] = {
	{NEG_AUDIO, CODEC_OPUS, "opus", "111", 48000, 48000, 2,
	 "minptime=10;useinbandfec=1"},
	/* RFC 3551: G.722 is 16 kHz audio but says 8000 in SDP */
	{NEG_AUDIO, CODEC_G722, "G722", "9",  8000, 16000, 1, NULL},
	{NEG_AUDIO, CODEC_PCMU, "PCMU", "0",  8000,  8000, 1, NULL},
	{NEG_AUDIO, CODEC_PCMA, "PCMA", "8",  8000,  8000, 1, NULL},
};

static const struct neg_codec telev_tab[] = {
	{NEG_TELEV, CODEC_NONE, "telephone-event", "101", 8000, 8000, 1,
	 "0-15"},
	/* RFC 4733: the event clock follows the audio codec (opus) */
	{NEG_TELEV, CODEC_NONE, "telephone-event", "110", 48000, 48000, 1,
	 "0-15"},
};

static const uint32_t opus_ptimes[] = {10, 20, 40, 60};


void sdpneg_prefs_default(struct sdpneg_prefs *prefs)
{
	if (!prefs)
		return;

	memset(prefs, 0, sizeof(*prefs));
	prefs->ptime_ms = SDPNEG_PTIME_DEFAULT;
	prefs->telev    = true;
}


static bool codec_allowed(const struct sdpneg_prefs *prefs, enum codec_id id)
{
	if (!prefs || !prefs->ncodecs)
		return true;

	for (unsigned i = 0; i < prefs->ncodecs && i < SDPNEG_CODECS_MAX; i++)
		if (prefs->codecs[i] == id)
			return true;

	return false;
}


static const struct neg_codec *codec_entry(enum codec_id id)
{
	for (size_t i = 0; i < ARRAY_SIZE(codec_tab); i++)
		if (codec_tab[i].id == id)
			return &codec_tab[i];

	return NULL;
}


static int format_add(struct sdp_media *m, const struct neg_codec *c)
{
	/* data points into our const table; never dereferenced by libre */
	return sdp_format_add(NULL, m, false, c->pt, c->name, c->clock, c->ch,
			      NULL, NULL, (void *)c, false,
			      c->fmtp ? "%s" : NULL, c->fmtp);
}


/* Our formats in preference order: cfg order first, then the rest if
 * the list is empty (= everything). */
static int formats_reset(struct sdp_media *m, const struct sdpneg_prefs *prefs)
{
	const struct list *lst = sdp_media_format_lst(m, true);
	struct le *le;
	int err = 0;

	le = list_head(lst);
	while (le) {
		struct sdp_format *fmt = le->data;

		le = le->next;
		mem_deref(fmt);
	}

	if (prefs && prefs->ncodecs) {
		for (unsigned i = 0; i < prefs->ncodecs &&
			     i < SDPNEG_CODECS_MAX; i++) {
			const struct neg_codec *c;

			c = codec_entry(prefs->codecs[i]);
			if (c)
				err |= format_add(m, c);
		}
	}
	else {
		for (size_t i = 0; i < ARRAY_SIZE(codec_tab); i++)
			err |= format_add(m, &codec_tab[i]);
	}

	if (!prefs || prefs->telev) {
		for (size_t i = 0; i < ARRAY_SIZE(telev_tab); i++)
			err |= format_add(m, &telev_tab[i]);
	}

	return err;
}


int sdpneg_session_alloc(struct sdp_session **sessp, const struct sa *laddr,
			 const struct sdpneg_prefs *prefs)
{
	struct sdp_session *sess = NULL;
	struct sdp_media *m;
	int err;

	if (!sessp || !laddr)
		return EINVAL;

	err = sdp_session_alloc(&sess, laddr);
	if (err)
		return err;

	err = sdp_media_add(&m, sess, sdp_media_audio, 0, sdp_proto_rtpavp);
	if (err)
		goto out;

	/* AVPF peers (e.g. linphone with AVPF on) get AVPF back: we send
	   no feedback, which RFC 4585 allows, instead of failing the call */
	err = sdp_media_set_alt_protos(m, 2, sdp_proto_rtpavp, "RTP/AVPF");
	if (err)
		goto out;

	err = formats_reset(m, prefs);

 out:
	if (err)
		mem_deref(sess);
	else
		*sessp = sess;

	return err;
}


static bool media_is_ours(const struct sdp_media *m, void *arg)
{
	(void)arg;

	return !sdp_media_disabled((struct sdp_media *)m) &&
		0 == str_casecmp(sdp_media_name(m), sdp_media_audio);
}


struct sdp_media *sdpneg_audio(const struct sdp_session *sess)
{
	struct le *le;

	/* before the first offer/answer the line is still in lmedial */
	for (le = list_head(sdp_session_medial(sess, false)); le;
	     le = le->next)
		if (media_is_ours(le->data, NULL))
			return le->data;

	for (le = list_head(sdp_session_medial(sess, true)); le;
	     le = le->next)
		if (media_is_ours(le->data, NULL))
			return le->data;

	return NULL;
}


enum media_dir sdpneg_media_dir(enum sdp_dir rdir)
{
	switch (rdir) {

	case SDP_SENDRECV: return MEDIA_SENDRECV;
	case SDP_SENDONLY: return MEDIA_SEND;   /* they are recvonly */
	case SDP_RECVONLY: return MEDIA_RECV;   /* they are sendonly */
	default:           return MEDIA_INACTIVE;
	}
}


static int fail(struct sdpneg_result *res, uint16_t scode, int err,
		const char *fmt, ...)
{
	va_list ap;

	res->scode = scode;
	/* libre's re_vsnprintf leaves the buffer empty when the text does
	 * not fit; the formats here are plain C, so let vsnprintf truncate */
	va_start(ap, fmt);
	(void)vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);

	return err;
}


static uint32_t pl_u32_or(const char *s, uint32_t dflt)
{
	struct pl pl;

	if (!str_isset(s))
		return dflt;

	pl_set_str(&pl, s);

	return pl_u32(&pl);
}


/* a=ptime in an offer is what the peer wants to receive: our send ptime */
static uint32_t choose_ptime(const struct sdp_media *m,
			     const struct sdp_session *sess,
			     const struct sdpneg_prefs *prefs, enum codec_id id)
{
	uint32_t dflt = prefs && prefs->ptime_ms ? prefs->ptime_ms :
		SDPNEG_PTIME_DEFAULT;
	uint32_t ptime, maxptime;

	ptime = pl_u32_or(sdp_media_session_rattr(m, sess, sdp_attr_ptime),
			  dflt);
	maxptime = pl_u32_or(sdp_media_session_rattr(m, sess,
						     sdp_attr_maxptime), 0);
	if (maxptime && ptime > maxptime)
		ptime = maxptime;

	if (ptime < SDPNEG_PTIME_MIN)
		ptime = SDPNEG_PTIME_MIN;
	if (ptime > SDPNEG_PTIME_MAX)
		ptime = SDPNEG_PTIME_MAX;

	if (id == CODEC_OPUS) {
		/* an Opus packet carries 10, 20, 40 or 60 ms in our encoder */
		uint32_t best = opus_ptimes[0];

		for (size_t i = 0; i < ARRAY_SIZE(opus_ptimes); i++)
			if (opus_ptimes[i] <= ptime)
				best = opus_ptimes[i];
		return best;
	}

	return ptime - ptime % 10;
}


static bool param_is_1(const struct pl *params, const char *name)
{
	struct pl val;

	if (!fmt_param_get(params, name, &val))
		return false;

	return pl_u32(&val) == 1;
}


static void opus_params(struct codec_fmt *cf, const char *params)
{
	struct pl pl, val;

	cf->channels = 1;

	if (!str_isset(params))
		return;

	pl_set_str(&pl, params);

	/* stereo=1: the peer wants to receive stereo from us */
	if (param_is_1(&pl, "stereo"))
		cf->channels = 2;

	cf->fec = param_is_1(&pl, "useinbandfec");
	cf->dtx = param_is_1(&pl, "usedtx");

	if (fmt_param_get(&pl, "maxaveragebitrate", &val))
		cf->maxavgbitrate = pl_u32(&val);
}


int sdpneg_decide(struct sdpneg_result *res, const struct sdp_session *sess,
		  const struct sdpneg_prefs *prefs, bool offer)
{
	const struct neg_codec *codec = NULL, *telev = NULL, *telev_any = NULL;
	const struct sdp_format *rcodec = NULL, *rtelev = NULL;
	const struct sdp_format *rtelev_any = NULL;
	struct sdp_media *m = NULL;
	unsigned idx = 0, naudio = 0;
	const char *badproto = NULL;
	enum sdp_dir rdir;
	struct le *le;

	if (!res || !sess)
		return EINVAL;

	memset(res, 0, sizeof(*res));
	res->telev_pt = -1;

	for (le = list_head(sdp_session_medial(sess, false)); le;
	     le = le->next, idx++) {

		struct sdp_media *mm = le->data;

		if (!str_casecmp(sdp_media_name(mm), sdp_media_audio)) {
			++naudio;
			if (!badproto)
				badproto = sdp_media_proto(mm);
		}

		if (media_is_ours(mm, NULL)) {
			m = mm;
			break;
		}
	}

	if (!m && naudio)
		return fail(res, 488, EPROTO, "No usable audio stream"
			    " (transport %s not supported)", badproto);
	if (!m)
		return fail(res, 488, EPROTO, "No audio stream in SDP");

	res->mindex = idx;

	if (!sa_port(sdp_media_raddr(m)))
		return fail(res, 488, EPROTO, "Audio stream rejected (port 0)");

	for (le = list_head(sdp_media_format_lst(m, false)); le;
	     le = le->next) {

		const struct sdp_format *rf = le->data;
		const struct neg_codec *c = rf->data;

		if (!rf->sup || !c)
			continue;

		if (c->kind == NEG_TELEV) {
			if (prefs && !prefs->telev)
				continue;
			if (!telev_any) {
				telev_any  = c;
				rtelev_any = rf;
			}
			continue;
		}

		if (!codec && codec_allowed(prefs, c->id)) {
			codec  = c;
			rcodec = rf;
		}
	}

	if (!codec)
		return fail(res, 488, ENOTSUP, "No common codec");

	/* telephone-event at the audio clock if offered, else any */
	for (le = list_head(sdp_media_format_lst(m, false)); le;
	     le = le->next) {

		const struct sdp_format *rf = le->data;
		const struct neg_codec *c = rf->data;

		if (!rf->sup || !c || c->kind != NEG_TELEV)
			continue;
		if (c->clock == codec->clock) {
			telev  = c;
			rtelev = rf;
			break;
		}
	}
	if (!telev && telev_any) {
		telev  = telev_any;
		rtelev = rtelev_any;
	}

	res->codec.id        = codec->id;
	res->codec.pt        = (uint8_t)rcodec->pt;
	res->codec.rtp_clock = codec->clock;
	res->codec.srate     = codec->srate;
	res->codec.channels  = 1;
	res->codec.ptime_ms  = choose_ptime(m, sess, prefs, codec->id);
	if (codec->id == CODEC_OPUS)
		opus_params(&res->codec, rcodec->params);

	if (telev) {
		res->telev_pt   = rtelev->pt;
		res->telev_rate = telev->clock;
	}

	res->raddr_rtp = *sdp_media_raddr(m);
	res->rtcp_mux  = NULL != sdp_media_rattr(m, "rtcp-mux");
	if (res->rtcp_mux)
		res->raddr_rtcp = res->raddr_rtp;
	else
		sdp_media_raddr_rtcp(m, &res->raddr_rtcp);

	/* c=0.0.0.0: RFC 2543 hold, nowhere to send to */
	res->zero_addr = !sa_isset(&res->raddr_rtp, SA_ADDR);

	rdir = sdp_media_rdir(m);
	res->dir = res->zero_addr ? MEDIA_INACTIVE : sdpneg_media_dir(rdir);
	res->hold = offer && (res->zero_addr || rdir == SDP_INACTIVE ||
			      rdir == SDP_RECVONLY);

	return 0;
}


int sdpneg_apply(struct sdp_session *sess, const struct sdpneg_result *res,
		 uint16_t rtp_port, uint16_t rtcp_port)
{
	struct sdp_media *m = sdpneg_audio(sess);
	struct le *le;
	int err = 0;

	if (!m || !res)
		return EINVAL;

	for (le = list_head(sdp_media_format_lst(m, true)); le;
	     le = le->next) {

		struct sdp_format *lf = le->data;
		const struct neg_codec *c = lf->data;

		if (!c) {
			lf->sup = false;
			continue;
		}

		if (c->kind == NEG_AUDIO)
			lf->sup = c->id == res->codec.id &&
				lf->pt == res->codec.pt;
		else
			lf->sup = res->telev_pt >= 0 &&
				lf->pt == res->telev_pt &&
				c->clock == res->telev_rate;

		if (lf->sup && c->id == CODEC_OPUS) {
			err |= sdp_format_set_params(lf, "%s%s", c->fmtp,
					res->codec.channels == 2 ?
					";sprop-stereo=1" : "");
		}
	}

	sdp_media_set_lport(m, rtp_port);
	sdp_media_set_ldir(m, res->zero_addr ? SDP_INACTIVE : SDP_SENDRECV);

	if (res->rtcp_mux) {
		sdp_media_set_lport_rtcp(m, 0);
		err |= sdp_media_set_lattr(m, true, "rtcp-mux", NULL);
	}
	else {
		sdp_media_del_lattr(m, "rtcp-mux");
		sdp_media_set_lport_rtcp(m, rtcp_port);
	}

	return err;
}


int sdpneg_offer_prepare(struct sdp_session *sess,
			 const struct sdpneg_prefs *prefs,
			 uint16_t rtp_port, uint16_t rtcp_port)
{
	struct sdp_media *m = sdpneg_audio(sess);
	int err;

	if (!m)
		return EINVAL;

	err = formats_reset(m, prefs);
	if (err)
		return err;

	sdp_media_set_lport(m, rtp_port);
	sdp_media_set_ldir(m, SDP_SENDRECV);
	/* no rtcp-mux in our own offers: the socket pair is already bound */
	sdp_media_del_lattr(m, "rtcp-mux");
	sdp_media_set_lport_rtcp(m, rtcp_port);

	return 0;
}


int sdpneg_formats_reset(struct sdp_session *sess,
			 const struct sdpneg_prefs *prefs)
{
	struct sdp_media *m = sdpneg_audio(sess);

	if (!m)
		return EINVAL;

	sdp_media_set_ldir(m, SDP_SENDRECV);

	return formats_reset(m, prefs);
}
