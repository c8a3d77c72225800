/**
 * @file sock.c  RTP/RTCP socket pairs from the configured port range.
 *
 * Plain non-blocking file descriptors, not libre udp objects: after
 * media_leg_add() a media worker reads and writes them from its own
 * thread, where no libre object may be used.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <re.h>

#include "media/worker.h"

enum { SOCK_RCVBUF = 256 * 1024 };


static int sock_open(int *fdp, const struct sa *laddr, uint16_t port,
		     uint8_t dscp)
{
	struct sa a = *laddr;
	int af = sa_af(laddr);
	int tos = dscp << 2;
	int rcvbuf = SOCK_RCVBUF;
	int fd, err;

	fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return errno;

	/* best effort: a small buffer or missing QoS is not fatal */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (af == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos,
				 sizeof(tos));
	else
		(void)setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));

	sa_set_port(&a, port);
	if (bind(fd, &a.u.sa, a.len) < 0) {
		err = errno;
		close(fd);
		return err;
	}

	*fdp = fd;
	return 0;
}


int media_sock_alloc(struct media_engine *me, struct media_sock *ms,
		     const struct sa *laddr, bool rtcp_mux)
{
	const struct media_cfg *cfg;
	unsigned min, max, n, i;
	int err = EADDRINUSE;

	if (!me || !ms || !laddr)
		return EINVAL;

	if (sa_af(laddr) != AF_INET && sa_af(laddr) != AF_INET6)
		return EAFNOSUPPORT;

	cfg = &me->cfg;
	min = (cfg->rtp_port_min + 1u) & ~1u;   /* RTP on even ports */
	max = cfg->rtp_port_max;
	if (!min || max < min)
		return EINVAL;

	n = (max - min) / 2 + 1;

	ms->fd_rtp = -1;
	ms->fd_rtcp = -1;

	/* round-robin through the range: a port just released is not
	 * reused at once, so late packets of the old call miss it */
	for (i = 0; i < n; i++) {
		unsigned k = (me->port_next + i) % n;
		uint16_t port = (uint16_t)(min + 2 * k);
		int fd_rtp, fd_rtcp = -1;

		if (!rtcp_mux && port + 1u > max)
			continue;

		err = sock_open(&fd_rtp, laddr, port, cfg->dscp_rtp);
		if (err == EADDRINUSE || err == EACCES)
			continue;
		if (err)
			return err;

		if (!rtcp_mux) {
			err = sock_open(&fd_rtcp, laddr, (uint16_t)(port + 1),
					cfg->dscp_rtp);
			if (err) {
				close(fd_rtp);
				if (err == EADDRINUSE || err == EACCES)
					continue;
				return err;
			}
		}

		me->port_next = (k + 1) % n;

		ms->fd_rtp = fd_rtp;
		ms->fd_rtcp = fd_rtcp;
		ms->laddr_rtp = *laddr;
		sa_set_port(&ms->laddr_rtp, port);
		ms->laddr_rtcp = *laddr;
		sa_set_port(&ms->laddr_rtcp, rtcp_mux ? port
				     : (uint16_t)(port + 1));
		return 0;
	}

	return EADDRINUSE;
}


void media_sock_close(struct media_sock *ms)
{
	if (!ms)
		return;

	if (ms->fd_rtp >= 0)
		close(ms->fd_rtp);
	if (ms->fd_rtcp >= 0)
		close(ms->fd_rtcp);

	ms->fd_rtp = -1;
	ms->fd_rtcp = -1;
}
