/**
 * @file rtp.h  RTP/RTCP wire format for the media workers: header
 * parse/validate/build (RFC 3550), sequence arithmetic and receive
 * statistics (RFC 3550 A.1/A.3), telephone-events (RFC 4733) and the
 * RTCP packets we send and read.
 *
 * Pure functions on byte buffers: no libre, no allocation, no threads.
 * Prefixes rtph_ (RTP) and rtcpx_ (RTCP) because libre owns rtp_/rtcp_.
 */
#ifndef CHORUS_MEDIA_RTP_H
#define CHORUS_MEDIA_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	RTPH_VERSION   = 2,
	RTPH_HDR_SIZE  = 12,
	RTPH_CSRC_MAX  = 15,
	RTPH_MAX_DROPOUT  = 3000,  /**< RFC 3550 A.1                       */
	RTPH_MAX_MISORDER = 100,
};

/** A decoded (and validated) RTP header. */
struct rtph {
	bool     pad;
	bool     ext;
	bool     marker;
	uint8_t  cc;
	uint8_t  pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint32_t csrc[RTPH_CSRC_MAX];
	uint16_t ext_profile;      /**< when ext                              */
	uint16_t ext_words;        /**< extension length in 32-bit words      */
	size_t   hdr_len;          /**< payload offset                        */
	size_t   pay_len;          /**< payload length without padding        */
};

/**
 * Parse and validate an RTP header: version 2, CSRC list, extension and
 * padding all inside len. Returns 0, EPROTO (not version 2) or EBADMSG.
 */
int    rtph_decode(struct rtph *h, const uint8_t *buf, size_t len);

/**
 * Write the fixed header, CSRCs and (if ext) an empty extension header of
 * ext_words zero words. Padding is not written. Returns the header
 * length, or 0 when size is too small or a field is out of range.
 */
size_t rtph_encode(uint8_t *buf, size_t size, const struct rtph *h);

/** RFC 5761 demultiplexing: is this datagram RTCP (PT 192..223)? */
bool   rtph_is_rtcp(const uint8_t *buf, size_t len);

/** Signed distance a - b in the 16-bit sequence space. */
static inline int32_t rtph_seq_diff(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b);
}

/** Signed distance a - b in the 32-bit timestamp space. */
static inline int64_t rtph_ts_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(uint32_t)(a - b);
}

/** Receive statistics of one source (RFC 3550 A.1, A.3). */
struct rtph_seq {
	bool     init;
	uint32_t ssrc;
	uint16_t max_seq;
	uint32_t cycles;           /**< count of wraps, shifted by 16         */
	uint32_t base_seq;
	uint32_t bad_seq;
	uint32_t received;
	uint32_t expected_prior;
	uint32_t received_prior;
};

/**
 * Account one packet. Returns false when the packet is a jump the
 * algorithm is still probing (not counted yet), true otherwise. A new
 * SSRC restarts the statistics.
 */
bool     rtph_seq_update(struct rtph_seq *s, uint32_t ssrc, uint16_t seq);
uint32_t rtph_seq_ext_max(const struct rtph_seq *s);
/** Cumulative lost, clamped to the 24-bit signed range of RTCP. */
int32_t  rtph_seq_lost(const struct rtph_seq *s);
/** Fraction lost since the previous call (8-bit fixed point). */
uint8_t  rtph_seq_fraction(struct rtph_seq *s);

/* ---- RFC 4733 telephone-events --------------------------------------- */

struct rtph_telev {
	uint8_t  event;
	bool     end;
	uint8_t  volume;
	uint16_t duration;
};

/** Returns 0 or EBADMSG (shorter than 4 bytes). */
int  rtph_telev_decode(struct rtph_telev *ev, const uint8_t *p, size_t len);
/** '0'-'9', '*', '#', 'A'-'D' for events 0..15, else 0. */
char rtph_telev_digit(uint8_t event);

/**
 * Per-stream DTMF detector state. Every packet of one event carries the
 * event's start timestamp; the end packet is sent three times.
 */
struct telev_rx {
	bool     active;           /**< an event with timestamp ts was seen   */
	bool     reported;         /**< its digit has been reported           */
	uint8_t  event;
	uint32_t ts;
};

/**
 * Feed one telephone-event packet (RTP timestamp ts). Returns the digit
 * to report now, or 0. A digit is reported once: on its first end
 * packet, or -- when all end packets were lost -- when the next event
 * starts. Packets of older events are ignored.
 */
char telev_rx_put(struct telev_rx *st, uint32_t ts,
		  const struct rtph_telev *ev);

/* ---- RTCP ------------------------------------------------------------ */

enum rtcpx_type {
	RTCPX_SR   = 200,
	RTCPX_RR   = 201,
	RTCPX_SDES = 202,
	RTCPX_BYE  = 203,
	RTCPX_APP  = 204,
};

enum { RTCPX_SDES_CNAME = 1, RTCPX_CNAME_MAX = 255 };

struct rtcpx_sr {
	uint32_t ssrc;
	uint32_t ntp_sec;
	uint32_t ntp_frac;
	uint32_t rtp_ts;
	uint32_t psent;
	uint32_t osent;
};

struct rtcpx_rb {
	uint32_t ssrc;
	uint8_t  fraction;
	int32_t  lost;             /**< 24-bit signed                          */
	uint32_t ext_seq;
	uint32_t jitter;           /**< timestamp units                       */
	uint32_t lsr;
	uint32_t dlsr;             /**< 1/65536 s                              */
};

/** What we take from a received compound packet. */
struct rtcpx_info {
	unsigned npkt;             /**< RTCP packets in the compound          */
	bool     has_sr;
	struct rtcpx_sr sr;        /**< the first SR                          */
	unsigned nrb;              /**< report blocks seen (SR+RR)            */
	bool     has_rb;
	struct rtcpx_rb rb;        /**< the first report block                */
	bool     has_cname;
	char     cname[RTCPX_CNAME_MAX + 1];
	bool     bye;
};

/**
 * Parse and validate a compound RTCP packet: every packet version 2,
 * lengths inside the datagram, report/source counts and SDES chunks
 * within their packet, padding only on the last packet. Returns 0 or
 * EBADMSG (the whole datagram is to be ignored).
 */
int    rtcpx_decode(struct rtcpx_info *info, const uint8_t *buf, size_t len);

/**
 * (added) The report block about source ssrc (e.g. our own stream) in a
 * compound that rtcpx_decode() accepted, from any SR or RR in it.
 * Returns 0 and fills rb, ENOENT when there is none, EBADMSG when a
 * length does not fit.
 */
int    rtcpx_rb_find(struct rtcpx_rb *rb, const uint8_t *buf, size_t len,
		     uint32_t ssrc);

/** Each encoder returns the bytes written, or 0 if size is too small. */
size_t rtcpx_encode_sr(uint8_t *buf, size_t size, const struct rtcpx_sr *sr,
		       const struct rtcpx_rb *rb);
size_t rtcpx_encode_rr(uint8_t *buf, size_t size, uint32_t ssrc,
		       const struct rtcpx_rb *rb);
size_t rtcpx_encode_sdes(uint8_t *buf, size_t size, uint32_t ssrc,
			 const char *cname);
size_t rtcpx_encode_bye(uint8_t *buf, size_t size, uint32_t ssrc);

/** NTP timestamp (RFC 3550 4) from a CLOCK_REALTIME reading. */
void     rtcpx_ntp(uint32_t *sec, uint32_t *frac, uint64_t realtime_ns);
/** The middle 32 bits of an NTP timestamp (LSR). */
static inline uint32_t rtcpx_ntp_mid(uint32_t sec, uint32_t frac)
{
	return (sec << 16) | (frac >> 16);
}

#endif
