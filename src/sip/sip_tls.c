/**
 * @file sip_tls.c  SIP over TLS listeners (see sip_tls.h).
 *
 * What TLS gives here: confidentiality and integrity of the signalling,
 * which carries the SDES keys (a=crypto) of SRTP. Clients are not asked
 * for certificates (phones rarely have one); who may join a room is the
 * rooms' business (PINs, moderators).
 */
#include <stdbool.h>
#include <string.h>
#include <re.h>

#include "ctrl/log.h"
#include "sip/sip_tls.h"

struct tls_walk {
	struct sip *sip;
	struct tls *tls;
	uint16_t port;
	bool v6;
	unsigned n;
	int err;
};


static int add_one(struct sip *sip, struct tls *tls, const struct sa *laddr)
{
	int err;

	if (sip_transp_isladdr(sip, SIP_TRANSP_TLS, laddr))
		return 0;

	err = sip_transp_add(sip, SIP_TRANSP_TLS, laddr, tls);
	if (err) {
		warning("sip: TLS listen on %J failed (%m)\n", laddr, err);
		return err;
	}

	info("sip: listening on tls:%J\n", laddr);

	return 0;
}


static bool if_handler(const char *ifname, const struct sa *sa, void *arg)
{
	struct tls_walk *w = arg;
	struct sa laddr;
	(void)ifname;

	if (sa_af(sa) != AF_INET && !(w->v6 && sa_af(sa) == AF_INET6))
		return false;
	if (sa_is_linklocal(sa))
		return false;

	sa_cpy(&laddr, sa);
	sa_set_port(&laddr, w->port);

	w->err = add_one(w->sip, w->tls, &laddr);
	if (!w->err)
		++w->n;

	return w->err != 0;
}


int sip_tls_listen(struct sip *sip, const struct cfg *cfg)
{
	struct tls *tls = NULL;
	struct sa laddr;
	int err;

	if (!sip || !cfg)
		return EINVAL;

	if (!cfg->sip_tls)
		return 0;

	err = sa_decode(&laddr, cfg->tls_listen, strlen(cfg->tls_listen));
	if (err) {
		warning("sip: bad tls_listen \"%s\" (%m)\n", cfg->tls_listen,
			err);
		return err;
	}

	/* one PEM file: certificate chain and private key */
	err = tls_alloc(&tls, TLS_METHOD_SSLV23, cfg->tls_cert, NULL);
	if (err) {
		warning("sip: TLS certificate %s not usable (%m): it must be"
			" one PEM file with the certificate and its key\n",
			cfg->tls_cert, err);
		return err;
	}

	if (!sa_is_any(&laddr)) {
		err = add_one(sip, tls, &laddr);
	}
	else {
		struct tls_walk w = {sip, tls, sa_port(&laddr),
				     sa_af(&laddr) == AF_INET6, 0, 0};

		err = net_if_apply(if_handler, &w);
		if (!err)
			err = w.err;
		if (!err && !w.n)
			err = EADDRNOTAVAIL;
	}

	/* the transports hold their own references */
	mem_deref(tls);

	return err;
}
