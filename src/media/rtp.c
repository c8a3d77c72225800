/**
 * @file rtp.c  RTP/RTCP wire format (see rtp.h)
 *
 * Everything here runs on untrusted input from the network: every length
 * is checked before it is used, and a datagram that does not add up is
 * rejected as a whole.
 */
#include <errno.h>
#include <string.h>

#include "media/rtp.h"

enum { NTP_UNIX_OFFSET = 2208988800u, RTP_SEQ_MOD = 1 << 16 };


static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}


static inline uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
		((uint32_t)p[2] << 8) | p[3];
}


static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}


static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}


int rtph_decode(struct rtph *h, const uint8_t *buf, size_t len)
{
	size_t off;
	unsigned i;

	if (!h || !buf)
		return EINVAL;

	if (len < RTPH_HDR_SIZE)
		return EBADMSG;

	if ((buf[0] >> 6) != RTPH_VERSION)
		return EPROTO;

	h->pad    = (buf[0] >> 5) & 1;
	h->ext    = (buf[0] >> 4) & 1;
	h->cc     = buf[0] & 0x0f;
	h->marker = buf[1] >> 7;
	h->pt     = buf[1] & 0x7f;
	h->seq    = rd16(buf + 2);
	h->ts     = rd32(buf + 4);
	h->ssrc   = rd32(buf + 8);

	off = RTPH_HDR_SIZE;
	if (len < off + 4u * h->cc)
		return EBADMSG;

	for (i = 0; i < h->cc; i++, off += 4)
		h->csrc[i] = rd32(buf + off);

	h->ext_profile = 0;
	h->ext_words = 0;
	if (h->ext) {
		if (len < off + 4)
			return EBADMSG;

		h->ext_profile = rd16(buf + off);
		h->ext_words   = rd16(buf + off + 2);
		off += 4;

		if (len - off < 4u * h->ext_words)
			return EBADMSG;

		off += 4u * h->ext_words;
	}

	h->hdr_len = off;
	h->pay_len = len - off;

	if (h->pad) {
		/* the count includes itself, so 0 is not a valid value */
		uint8_t npad = buf[len - 1];

		if (npad == 0 || npad > h->pay_len)
			return EBADMSG;

		h->pay_len -= npad;
	}

	return 0;
}


size_t rtph_encode(uint8_t *buf, size_t size, const struct rtph *h)
{
	size_t need, off;
	unsigned i;

	if (!buf || !h || h->cc > RTPH_CSRC_MAX || h->pt > 127)
		return 0;

	need = RTPH_HDR_SIZE + 4u * h->cc;
	if (h->ext)
		need += 4 + 4u * h->ext_words;

	if (size < need)
		return 0;

	buf[0] = (uint8_t)((RTPH_VERSION << 6) | (h->pad ? 0x20 : 0) |
			   (h->ext ? 0x10 : 0) | h->cc);
	buf[1] = (uint8_t)((h->marker ? 0x80 : 0) | h->pt);
	wr16(buf + 2, h->seq);
	wr32(buf + 4, h->ts);
	wr32(buf + 8, h->ssrc);

	off = RTPH_HDR_SIZE;
	for (i = 0; i < h->cc; i++, off += 4)
		wr32(buf + off, h->csrc[i]);

	if (h->ext) {
		wr16(buf + off, h->ext_profile);
		wr16(buf + off + 2, h->ext_words);
		off += 4;
		memset(buf + off, 0, 4u * h->ext_words);
		off += 4u * h->ext_words;
	}

	return off;
}


bool rtph_is_rtcp(const uint8_t *buf, size_t len)
{
	if (!buf || len < 2)
		return false;

	return buf[1] >= 192 && buf[1] <= 223;
}


static void seq_init(struct rtph_seq *s, uint32_t ssrc, uint16_t seq)
{
	memset(s, 0, sizeof(*s));
	s->init     = true;
	s->ssrc     = ssrc;
	s->base_seq = seq;
	s->max_seq  = seq;
	s->bad_seq  = RTP_SEQ_MOD + 1;  /* so seq == bad_seq is false */
}


bool rtph_seq_update(struct rtph_seq *s, uint32_t ssrc, uint16_t seq)
{
	uint16_t udelta;

	if (!s)
		return false;

	if (!s->init || s->ssrc != ssrc) {
		seq_init(s, ssrc, seq);
		s->received = 1;
		return true;
	}

	udelta = (uint16_t)(seq - s->max_seq);

	if (udelta < RTPH_MAX_DROPOUT) {
		/* in order, with permissible gap */
		if (seq < s->max_seq)
			s->cycles += RTP_SEQ_MOD;

		s->max_seq = seq;
	}
	else if (udelta <= RTP_SEQ_MOD - RTPH_MAX_MISORDER) {
		/* a very large jump: accept it only when the next packet
		 * confirms it (the sender restarted its sequence) */
		if (seq == s->bad_seq) {
			seq_init(s, ssrc, seq);
		}
		else {
			s->bad_seq = (uint32_t)((seq + 1) & (RTP_SEQ_MOD - 1));
			return false;
		}
	}
	/* else: duplicate or reordered packet */

	s->received++;
	return true;
}


uint32_t rtph_seq_ext_max(const struct rtph_seq *s)
{
	return s ? s->cycles + s->max_seq : 0;
}


static int64_t seq_expected(const struct rtph_seq *s)
{
	return (int64_t)rtph_seq_ext_max(s) - s->base_seq + 1;
}


int32_t rtph_seq_lost(const struct rtph_seq *s)
{
	int64_t lost;

	if (!s || !s->init)
		return 0;

	lost = seq_expected(s) - s->received;

	if (lost > 0x7fffff)
		lost = 0x7fffff;
	else if (lost < -0x800000)
		lost = -0x800000;

	return (int32_t)lost;
}


uint8_t rtph_seq_fraction(struct rtph_seq *s)
{
	uint32_t expected, exp_int, rec_int;
	int64_t lost_int;

	if (!s || !s->init)
		return 0;

	expected = (uint32_t)seq_expected(s);
	exp_int  = expected - s->expected_prior;
	rec_int  = s->received - s->received_prior;
	s->expected_prior = expected;
	s->received_prior = s->received;

	lost_int = (int64_t)exp_int - rec_int;
	if (exp_int == 0 || lost_int <= 0)
		return 0;

	return (uint8_t)((lost_int << 8) / exp_int);
}


int rtph_telev_decode(struct rtph_telev *ev, const uint8_t *p, size_t len)
{
	if (!ev || !p)
		return EINVAL;

	if (len < 4)
		return EBADMSG;

	ev->event    = p[0];
	ev->end      = p[1] >> 7;
	ev->volume   = p[1] & 0x3f;
	ev->duration = rd16(p + 2);

	return 0;
}


char rtph_telev_digit(uint8_t event)
{
	static const char map[] = "0123456789*#ABCD";

	return event < 16 ? map[event] : 0;
}


char telev_rx_put(struct telev_rx *st, uint32_t ts,
		  const struct rtph_telev *ev)
{
	char digit = 0;

	if (!st || !ev)
		return 0;

	if (st->active && ts != st->ts) {

		/* a straggler of an earlier event */
		if (rtph_ts_diff(ts, st->ts) < 0)
			return 0;

		/* a new event: the previous one lost all its end packets */
		if (!st->reported)
			digit = rtph_telev_digit(st->event);

		st->active = false;
	}

	if (!st->active) {
		st->active   = true;
		st->reported = false;
		st->ts       = ts;
		st->event    = ev->event;
	}

	if (ev->end && !st->reported) {
		st->reported = true;

		/* two digits at once only when one was lost; report the
		 * older one now and this one with its next end packet */
		if (digit)
			st->reported = false;
		else
			digit = rtph_telev_digit(st->event);
	}

	return digit;
}


/* ---- RTCP ------------------------------------------------------------ */

static void rb_decode(struct rtcpx_rb *rb, const uint8_t *p)
{
	uint32_t lost = ((uint32_t)p[5] << 16) | ((uint32_t)p[6] << 8) | p[7];

	rb->ssrc     = rd32(p);
	rb->fraction = p[4];
	/* sign-extend the 24-bit field */
	rb->lost     = (lost & 0x800000) ? (int32_t)(lost | 0xff000000u)
				       : (int32_t)lost;
	rb->ext_seq  = rd32(p + 8);
	rb->jitter   = rd32(p + 12);
	rb->lsr      = rd32(p + 16);
	rb->dlsr     = rd32(p + 20);
}


static int sdes_decode(struct rtcpx_info *info, const uint8_t *p,
		       size_t len, unsigned count)
{
	size_t off = 0;
	unsigned c;

	for (c = 0; c < count; c++) {

		if (len - off < 4)
			return EBADMSG;

		off += 4;  /* SSRC/CSRC */

		for (;;) {
			uint8_t type, ilen;

			if (off >= len)
				return EBADMSG;

			type = p[off];
			if (type == 0) {
				/* end of list: pad to the next 32-bit word */
				off = (off + 4) & ~(size_t)3;
				if (off > len)
					return EBADMSG;
				break;
			}

			if (len - off < 2)
				return EBADMSG;

			ilen = p[off + 1];
			if (len - off - 2 < ilen)
				return EBADMSG;

			if (type == RTCPX_SDES_CNAME && !info->has_cname) {
				memcpy(info->cname, p + off + 2, ilen);
				info->cname[ilen] = '\0';
				info->has_cname = true;
			}

			off += 2u + ilen;
		}
	}

	return 0;
}


int rtcpx_decode(struct rtcpx_info *info, const uint8_t *buf, size_t len)
{
	size_t off = 0;

	if (!info || !buf)
		return EINVAL;

	memset(info, 0, sizeof(*info));

	if (len < 4)
		return EBADMSG;

	while (off < len) {
		const uint8_t *p = buf + off;
		size_t plen, body;
		unsigned count, pt, i;
		bool pad;

		if (len - off < 4)
			return EBADMSG;

		if ((p[0] >> 6) != RTPH_VERSION)
			return EBADMSG;

		pad   = (p[0] >> 5) & 1;
		count = p[0] & 0x1f;
		pt    = p[1];
		plen  = 4u * ((size_t)rd16(p + 2) + 1);

		if (plen > len - off)
			return EBADMSG;

		body = plen;
		if (pad) {
			uint8_t npad;

			/* only the last packet of a compound may be padded */
			if (off + plen != len)
				return EBADMSG;

			npad = p[plen - 1];
			if (npad == 0 || npad > plen - 4)
				return EBADMSG;

			body = plen - npad;
		}

		switch (pt) {

		case RTCPX_SR:
			if (body < 28 + 24u * count)
				return EBADMSG;

			if (!info->has_sr) {
				info->has_sr      = true;
				info->sr.ssrc     = rd32(p + 4);
				info->sr.ntp_sec  = rd32(p + 8);
				info->sr.ntp_frac = rd32(p + 12);
				info->sr.rtp_ts   = rd32(p + 16);
				info->sr.psent    = rd32(p + 20);
				info->sr.osent    = rd32(p + 24);
			}
			for (i = 0; i < count; i++) {
				if (!info->has_rb) {
					rb_decode(&info->rb, p + 28 + 24 * i);
					info->has_rb = true;
				}
				info->nrb++;
			}
			break;

		case RTCPX_RR:
			if (body < 8 + 24u * count)
				return EBADMSG;

			for (i = 0; i < count; i++) {
				if (!info->has_rb) {
					rb_decode(&info->rb, p + 8 + 24 * i);
					info->has_rb = true;
				}
				info->nrb++;
			}
			break;

		case RTCPX_SDES:
			if (sdes_decode(info, p + 4, body - 4, count))
				return EBADMSG;
			break;

		case RTCPX_BYE:
			if (body < 4 + 4u * count)
				return EBADMSG;

			info->bye = true;
			break;

		default:
			/* APP, feedback, XR: skipped by their length */
			break;
		}

		info->npkt++;
		off += plen;
	}

	return 0;
}


int rtcpx_rb_find(struct rtcpx_rb *rb, const uint8_t *buf, size_t len,
		  uint32_t ssrc)
{
	size_t off = 0;

	if (!rb || !buf)
		return EINVAL;

	/* the compound passed rtcpx_decode(); the bounds are checked again
	   all the same */
	while (len - off >= 4) {
		const uint8_t *p = buf + off;
		const size_t plen = 4u * ((size_t)rd16(p + 2) + 1);
		const unsigned count = p[0] & 0x1f, pt = p[1];
		size_t first;
		unsigned i;

		if (plen > len - off)
			return EBADMSG;

		first = pt == RTCPX_SR ? 28 : pt == RTCPX_RR ? 8 : 0;
		for (i = 0; first && i < count; i++) {
			const size_t at = first + 24u * i;

			if (at + 24 > plen)
				return EBADMSG;
			if (rd32(p + at) == ssrc) {
				rb_decode(rb, p + at);
				return 0;
			}
		}

		off += plen;
	}

	return ENOENT;
}


static void rtcp_hdr(uint8_t *p, unsigned count, unsigned pt, size_t len)
{
	p[0] = (uint8_t)((RTPH_VERSION << 6) | count);
	p[1] = (uint8_t)pt;
	wr16(p + 2, (uint16_t)(len / 4 - 1));
}


static void rb_encode(uint8_t *p, const struct rtcpx_rb *rb)
{
	uint32_t lost = (uint32_t)rb->lost & 0xffffff;

	wr32(p, rb->ssrc);
	p[4] = rb->fraction;
	p[5] = (uint8_t)(lost >> 16);
	p[6] = (uint8_t)(lost >> 8);
	p[7] = (uint8_t)lost;
	wr32(p + 8, rb->ext_seq);
	wr32(p + 12, rb->jitter);
	wr32(p + 16, rb->lsr);
	wr32(p + 20, rb->dlsr);
}


size_t rtcpx_encode_sr(uint8_t *buf, size_t size, const struct rtcpx_sr *sr,
		       const struct rtcpx_rb *rb)
{
	size_t len = 28 + (rb ? 24 : 0);

	if (!buf || !sr || size < len)
		return 0;

	rtcp_hdr(buf, rb ? 1 : 0, RTCPX_SR, len);
	wr32(buf + 4, sr->ssrc);
	wr32(buf + 8, sr->ntp_sec);
	wr32(buf + 12, sr->ntp_frac);
	wr32(buf + 16, sr->rtp_ts);
	wr32(buf + 20, sr->psent);
	wr32(buf + 24, sr->osent);
	if (rb)
		rb_encode(buf + 28, rb);

	return len;
}


size_t rtcpx_encode_rr(uint8_t *buf, size_t size, uint32_t ssrc,
		       const struct rtcpx_rb *rb)
{
	size_t len = 8 + (rb ? 24 : 0);

	if (!buf || size < len)
		return 0;

	rtcp_hdr(buf, rb ? 1 : 0, RTCPX_RR, len);
	wr32(buf + 4, ssrc);
	if (rb)
		rb_encode(buf + 8, rb);

	return len;
}


size_t rtcpx_encode_sdes(uint8_t *buf, size_t size, uint32_t ssrc,
			 const char *cname)
{
	size_t clen, len;

	if (!buf || !cname)
		return 0;

	clen = strlen(cname);
	if (clen > RTCPX_CNAME_MAX)
		clen = RTCPX_CNAME_MAX;

	/* header, SSRC, CNAME item, end item, padded to 32 bits */
	len = (4 + 4 + 2 + clen + 1 + 3) & ~(size_t)3;
	if (size < len)
		return 0;

	memset(buf, 0, len);
	rtcp_hdr(buf, 1, RTCPX_SDES, len);
	wr32(buf + 4, ssrc);
	buf[8] = RTCPX_SDES_CNAME;
	buf[9] = (uint8_t)clen;
	memcpy(buf + 10, cname, clen);

	return len;
}


size_t rtcpx_encode_bye(uint8_t *buf, size_t size, uint32_t ssrc)
{
	if (!buf || size < 8)
		return 0;

	rtcp_hdr(buf, 1, RTCPX_BYE, 8);
	wr32(buf + 4, ssrc);

	return 8;
}


void rtcpx_ntp(uint32_t *sec, uint32_t *frac, uint64_t realtime_ns)
{
	uint64_t ns = realtime_ns % 1000000000u;

	if (sec)
		*sec = (uint32_t)(realtime_ns / 1000000000u + NTP_UNIX_OFFSET);
	if (frac)
		*frac = (uint32_t)((ns << 32) / 1000000000u);
}
