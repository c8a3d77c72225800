/**
 * @file sec_sdp.c  SDES-SRTP in offer/answer (see sec_sdp.h).
 *
 * libre 1.1 matches a remote m= line to our audio line by media name and
 * transport; the transports our line accepts are its "alternative
 * protocols", and on a match libre switches the line's transport to the
 * offer's, so the answer says RTP/SAVP to an RTP/SAVP offer by itself.
 */
#include <stdbool.h>
#include <string.h>
#include <re.h>

#include "ctrl/log.h"
#include "sip/sec_sdp.h"


enum cfg_srtp sec_sdp_policy(const struct cfg *cfg, const struct room *room)
{
	const struct cfg_room *rc = room ? room_cfg(room) : NULL;

	/* rooms.c fills an unset room value with the global policy */
	if (rc)
		return rc->srtp;

	return cfg ? cfg->srtp : CFG_SRTP_OFF;
}


int sec_sdp_prepare(struct sdp_session *sess, enum cfg_srtp policy)
{
	struct sdp_media *m = sdpneg_audio(sess);

	if (!m)
		return EINVAL;

	if (policy == CFG_SRTP_OFF)
		return sdp_media_set_alt_protos(m, 2, sdp_proto_rtpavp,
						"RTP/AVPF");

	return sdp_media_set_alt_protos(m, 4, sdp_proto_rtpavp, "RTP/AVPF",
					sdp_proto_rtpsavp, "RTP/SAVPF");
}


static bool proto_is_savp(const struct sdp_media *m)
{
	const char *p = sdp_media_proto(m);

	return p && (!str_casecmp(p, sdp_proto_rtpsavp) ||
		     !str_casecmp(p, "RTP/SAVPF"));
}


static int refuse(struct sdpneg_result *res, int err, const char *fmt,
		  const char *arg)
{
	char buf[256];

	/* libre's re_snprintf() leaves nothing when the text does not fit:
	   format at length, then cut */
	res->scode = 488;
	(void)re_snprintf(buf, sizeof(buf), fmt, arg);
	str_ncpy(res->reason, buf, sizeof(res->reason));
	res->srtp = false;
	sdes_crypto_wipe(&res->srtp_tx);
	sdes_crypto_wipe(&res->srtp_rx);

	return err;
}


static bool same_key(const struct sdes_crypto *a, const struct sdes_crypto *b)
{
	return a->tag == b->tag && a->suite == b->suite &&
		a->keysalt_len == b->keysalt_len &&
		a->mki_len == b->mki_len && a->mki == b->mki &&
		0 == memcmp(a->keysalt, b->keysalt, a->keysalt_len);
}


static int plain(struct sdpneg_result *res, struct sdp_media *m)
{
	res->srtp = false;
	sdes_crypto_wipe(&res->srtp_tx);
	sdes_crypto_wipe(&res->srtp_rx);
	sdp_media_del_lattr(m, "crypto");

	return 0;
}


int sec_sdp_offer(struct sdpneg_result *res, struct sdp_session *sess,
		  enum cfg_srtp policy, const struct sdpneg_result *prev)
{
	struct sdp_media *m = sdpneg_audio(sess);
	char reason[SDES_REASON_SIZE];
	struct sdes_crypto theirs;
	bool savp;
	int err;

	if (!res || !m)
		return EINVAL;

	savp = proto_is_savp(m);

	if (policy == CFG_SRTP_OFF) {
		/* sec_sdp_prepare() keeps SAVP from matching; belt and braces */
		if (savp)
			return refuse(res, EPROTO, "SRTP is off in this room"
				      " (offer RTP/AVP)%s", "");
		return plain(res, m);
	}

	err = sdes_select(&theirs, m, reason, sizeof(reason));
	if (err) {
		if (savp)
			return refuse(res, err, "No usable a=crypto in the"
				      " RTP/SAVP offer: %s", reason);
		if (policy == CFG_SRTP_MANDATORY)
			return refuse(res, EPERM, "SRTP required in this room"
				      " (RTP/SAVP with a=crypto)%s", "");
		return plain(res, m);
	}

	res->srtp = true;
	res->srtp_rx = theirs;

	/* RFC 4568 7.1.4: same key offered again, ours stays too */
	if (prev && prev->srtp && same_key(&prev->srtp_rx, &theirs))
		res->srtp_tx = prev->srtp_tx;
	else
		err = sdes_crypto_answer(&res->srtp_tx, &theirs);

	if (!err)
		err = sdes_media_set(m, &res->srtp_tx);

	sdes_crypto_wipe(&theirs);

	if (err)
		return refuse(res, err, "SRTP key set-up failed%s", "");

	return 0;
}


int sec_sdp_offer_prepare(struct sdp_session *sess, enum cfg_srtp policy,
			  struct sdes_crypto *ours)
{
	struct sdp_media *m = sdpneg_audio(sess);
	int err;

	if (!m || !ours)
		return EINVAL;

	memset(ours, 0, sizeof(*ours));
	sdp_media_del_lattr(m, "crypto");

	if (policy == CFG_SRTP_OFF)
		return 0;

	err = sdes_crypto_generate(ours, 1, SDES_AES_CM_128_HMAC_SHA1_80);
	if (!err)
		err = sdes_media_set(m, ours);

	return err;
}


int sec_sdp_answer(struct sdpneg_result *res, struct sdp_session *sess,
		   enum cfg_srtp policy, const struct sdes_crypto *ours)
{
	struct sdp_media *m = sdpneg_audio(sess);
	char reason[SDES_REASON_SIZE];
	struct sdes_crypto theirs;
	int err;

	if (!res || !m)
		return EINVAL;

	if (!ours || ours->suite == SDES_SUITE_NONE)
		return plain(res, m);

	err = sdes_select(&theirs, m, reason, sizeof(reason));
	if (!err && (theirs.tag != ours->tag || theirs.suite != ours->suite))
		err = EPROTO;

	if (err) {
		sdes_crypto_wipe(&theirs);
		if (policy == CFG_SRTP_MANDATORY || proto_is_savp(m))
			return refuse(res, err, "SDP answer without a=crypto"
				      " for our offer (SRTP required)%s", "");
		return plain(res, m);
	}

	res->srtp = true;
	res->srtp_rx = theirs;
	res->srtp_tx = *ours;
	sdes_crypto_wipe(&theirs);

	return 0;
}
