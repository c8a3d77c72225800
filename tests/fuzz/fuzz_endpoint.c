/**
 * @file fuzz_endpoint.c  The real SIP endpoint (endpoint.c, call.c,
 * call_timer.c, sdpneg.c, the room registry) behind a real libre SIP stack:
 * each input is one UDP datagram sent to the endpoint's socket, then the
 * libre loop runs until the datagram has been handled. Signalling only
 * (no media engine), UDP only.
 *
 * The stack answers at the top Via's sent-by and sends BYEs to Contact
 * URIs: with fuzzed addresses that is anywhere. This harness therefore runs
 * only inside a network namespace whose one interface is loopback
 * (run_fuzzers.sh starts it under `unshare -rn`); it checks and refuses to
 * run otherwise.
 *
 * Dialogs: an input may hold several datagrams separated by
 * "\r\n--next--\r\n", sent in order. Before each one, "$TOTAG" becomes
 * the To tag of the last response the phone received and "$PORT" the
 * phone's port, so one input can set up a call (INVITE, ACK) and go on
 * inside it (INFO control, re-INVITE, UPDATE, REFER, BYE) although
 * chorus picks its tags at random.
 *
 * State: dialogs and transactions live across inputs (as in the daemon);
 * the endpoint, registry and SIP stack are rebuilt every REBUILD inputs
 * (FUZZ_ENDPOINT_REBUILD=n overrides) or
 * when more than MAX_CALLS dialogs are up, which bounds memory. A crash can
 * therefore depend on the inputs before it: re-run the saved input alone
 * first, then the corpus in order.
 */
#define _GNU_SOURCE  /* memmem */
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <re.h>
#define DEBUG_MODULE "fuzz_endpoint"
#define DEBUG_LEVEL 0
#include <re_dbg.h>

#include "cfg/cfg.h"
#include "ctrl/log.h"
#include "room/room.h"
#include "sip/endpoint.h"
#include "fuzz_common.h"

enum { REBUILD = 1000, MAX_CALLS = 16, MAX_DGRAM = 65000, MAX_PARTS = 8 };

static const char SEP[] = "\r\n--next--\r\n";
static bool trace;     /* FUZZ_ENDPOINT_TRACE=1: first lines to stderr */
static unsigned rebuild = REBUILD;   /* FUZZ_ENDPOINT_REBUILD=n overrides */


static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 65536; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			++n;
	return n;
}

static struct {
	char dir[64];
	struct cfg *cfg;
	struct registry *reg;
	struct endpoint *ep;
	struct sa ep_addr;
	int fd;                 /* the phone: a plain UDP socket */
	uint16_t port;          /* its port                        */
	char totag[64];         /* To tag of the last response     */
	unsigned n;
} g;


static void log_discard(enum log_level level, const char *line, void *arg)
{
	(void)level;
	(void)line;
	(void)arg;
}


/* loopback-only check: no interface but lo may be up with an address */
static void require_netns(void)
{
	struct ifaddrs *ifa, *i;

	if (getenv("CHORUS_FUZZ_ANY_NETWORK"))
		return;

	if (getifaddrs(&ifa)) {
		perror("getifaddrs");
		exit(1);
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) ||
		    (i->ifa_flags & IFF_LOOPBACK))
			continue;
		fprintf(stderr, "fuzz_endpoint: interface %s is up: run me in a"
			" network namespace with loopback only (unshare -rn)\n",
			i->ifa_name);
		exit(1);
	}
	freeifaddrs(ifa);
}


static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", g.dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0) {
		perror(path);
		exit(1);
	}
	fclose(f);
}


static void stack_down(void)
{
	g.ep = mem_deref(g.ep);
	g.reg = mem_deref(g.reg);
}


static void stack_up(void)
{
	if (registry_alloc(&g.reg, g.cfg, NULL) ||
	    endpoint_alloc(&g.ep, g.cfg, g.reg, NULL) ||
	    endpoint_laddr(g.ep, SIP_TRANSP_UDP, &g.ep_addr)) {
		fprintf(stderr, "fuzz_endpoint: endpoint set-up failed (is lo"
			" up? `ip link set lo up`)\n");
		exit(1);
	}
}


/* A pipe that is always readable when the loop starts: its handler ends
 * re_main() after the events of the same epoll batch (the datagram) and
 * the timers due now have run. (A 0 ms libre timer makes epoll wait its
 * 1 ms minimum, 1-18 ms on a loaded box, when nothing else is ready.) */
static int sentinel[2] = {-1, -1};


static void sentinel_handler(int flags, void *arg)
{
	char b[64];
	(void)flags;
	(void)arg;

	while (read(sentinel[0], b, sizeof(b)) > 0)
		;
	re_cancel();
}


/* One pass of the libre loop. */
static void loop_once(void)
{
	(void)write(sentinel[1], "x", 1);
	(void)re_main(NULL);
}


/* The harness is only worth running if a datagram really reaches the
 * endpoint within loop_once(): an OPTIONS must come back 200. */
static void self_test(void)
{
	struct sa me;
	char req[512], rsp[2048];
	socklen_t len = sizeof(me.u);
	ssize_t n;

	sa_init(&me, AF_INET);
	if (getsockname(g.fd, &me.u.sa, &len))
		exit(1);
	me.len = len;

	re_snprintf(req, sizeof(req),
		    "OPTIONS sip:1000@%J SIP/2.0\r\n"
		    "Via: SIP/2.0/UDP %J;branch=z9hG4bKselftest;rport\r\n"
		    "Max-Forwards: 70\r\n"
		    "To: <sip:1000@%J>\r\n"
		    "From: <sip:fuzz@%J>;tag=1\r\n"
		    "Call-ID: selftest@fuzz\r\n"
		    "CSeq: 1 OPTIONS\r\n"
		    "Content-Length: 0\r\n\r\n",
		    &g.ep_addr, &me, &g.ep_addr, &me);
	(void)sendto(g.fd, req, strlen(req), 0, &g.ep_addr.u.sa,
		     g.ep_addr.len);
	loop_once();
	loop_once();
	n = recv(g.fd, rsp, sizeof(rsp) - 1, 0);
	if (n < 12 || memcmp(rsp, "SIP/2.0 200", 11)) {
		fprintf(stderr, "fuzz_endpoint: self test: no 200 to OPTIONS"
			" within one loop pass\n");
		exit(1);
	}
}


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sa la;
	(void)argc;
	(void)argv;

	require_netns();

	/* Tearing the endpoint down while a dialog waits for its ACK after a
	   CANCEL (200 sent, CANCEL 200, no ACK) leaves the old SIP stack, its
	   socket and DNS client allocated (about 6 fds per rebuild; shutdown
	   only, see docs/SECURITY.md): allow long runs all the fds there are */
	{
		struct rlimit rl;

		if (!getrlimit(RLIMIT_NOFILE, &rl)) {
			rl.rlim_cur = rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	trace = getenv("FUZZ_ENDPOINT_TRACE") != NULL;
	if (getenv("FUZZ_ENDPOINT_REBUILD"))
		rebuild = (unsigned)atoi(getenv("FUZZ_ENDPOINT_REBUILD"));
	if (!rebuild)
		rebuild = REBUILD;

	if (libre_init())
		exit(1);
	dbg_init(DBG_EMERG, DBG_NONE);   /* libre's per-datagram decode notes */
	{
		struct rlimit rl;

		/* libre's fd table follows the raised limit (1024 default) */
		if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur > 1024)
			(void)fd_setsize(rl.rlim_cur > 65536 ? 65536
							     : (int)rl.rlim_cur);
	}
	if (pipe2(sentinel, O_NONBLOCK | O_CLOEXEC) ||
	    fd_listen(sentinel[0], FD_READ, sentinel_handler, NULL)) {
		perror("fuzz_endpoint: sentinel pipe");
		exit(1);
	}
	log_set_level(LOG_LVL_ERROR);
	log_set_handler(log_discard, NULL);

	snprintf(g.dir, sizeof(g.dir), "/tmp/chorus-fuzz-ep-XXXXXX");
	if (!mkdtemp(g.dir))
		exit(1);
	write_file("chorus.conf",
		   "sip_listen 127.0.0.1:5060\n"
		   "media_workers 1\n"
		   "rtp_port_min 41000\nrtp_port_max 41099\n"
		   "codecs opus,G722,PCMU,PCMA\n");
	write_file("rooms.conf",
		   "room 1000 name=\"Main room\" max=10\n"
		   "room 2000 name=Small max=1\n"
		   "auto_create dddd\n"
		   "auto_max_legs 5\n");
	if (cfg_load(&g.cfg, g.dir)) {
		fprintf(stderr, "fuzz_endpoint: cfg_load failed\n");
		exit(1);
	}
	str_ncpy(g.cfg->sip_listen, "127.0.0.1:0", sizeof(g.cfg->sip_listen));
	g.cfg->sip_udp = true;
	g.cfg->sip_tcp = false;
	g.cfg->pike_rate = 0;            /* one source sends everything */
	g.cfg->overload_permille = 0;

	stack_up();

	g.fd = socket(AF_INET, SOCK_DGRAM, 0);
	sa_set_str(&la, "127.0.0.1", 0);
	if (g.fd < 0 || bind(g.fd, &la.u.sa, la.len) ||
	    fcntl(g.fd, F_SETFL, O_NONBLOCK)) {
		perror("fuzz_endpoint: phone socket");
		exit(1);
	}

	{
		struct sa me;
		socklen_t len = sizeof(me.u);

		sa_init(&me, AF_INET);
		if (getsockname(g.fd, &me.u.sa, &len))
			exit(1);
		g.port = ntohs(me.u.in.sin_port);
	}

	self_test();

	return 0;
}


/* Remember the To tag of a response (for "$TOTAG" in the next part). */
static void take_totag(const char *p, size_t n)
{
	struct pl to, tag;

	if (n < 8 || memcmp(p, "SIP/2.0 ", 8))
		return;
	if (re_regex(p, n, "\nTo:[^\r\n]+", &to) &&
	    re_regex(p, n, "\nt:[^\r\n]+", &to))
		return;
	if (re_regex(to.p, to.l, ";tag=[^;, \t]+", &tag) ||
	    tag.l >= sizeof(g.totag))
		return;
	pl_strcpy(&tag, g.totag, sizeof(g.totag));
}


/* Copy p[0..n) into out with $TOTAG and $PORT replaced. */
static size_t expand(char *out, size_t size, const uint8_t *p, size_t n)
{
	char port[8];
	size_t o = 0;

	snprintf(port, sizeof(port), "%u", g.port);
	for (size_t i = 0; i < n && o < size; ) {
		const char *rep = NULL;
		size_t skip = 0;

		if (n - i >= 6 && !memcmp(p + i, "$TOTAG", 6)) {
			rep = g.totag;
			skip = 6;
		}
		else if (n - i >= 5 && !memcmp(p + i, "$PORT", 5)) {
			rep = port;
			skip = 5;
		}
		if (rep) {
			size_t l = strlen(rep);

			if (l > size - o)
				l = size - o;
			memcpy(out + o, rep, l);
			o += l;
			i += skip;
			continue;
		}
		out[o++] = (char)p[i++];
	}

	return o;
}


static void send_part(const uint8_t *p, size_t n)
{
	static char out[MAX_DGRAM];
	char buf[4096];
	size_t len = expand(out, sizeof(out), p, n);

	if (trace)
		fprintf(stderr, ">> %.*s\n", (int)strcspn(out, "\r\n"), out);
	if (sendto(g.fd, out, len, 0, &g.ep_addr.u.sa, g.ep_addr.len) < 0)
		return;

	/* the datagram is queued on the loopback socket already: one pass
	   reads and handles it; a second lets what it started go out */
	loop_once();
	loop_once();

	/* whatever came back to the phone */
	for (int i = 0; i < 64; i++) {
		ssize_t r = recv(g.fd, buf, sizeof(buf), 0);

		if (r < 0)
			break;
		if (trace)
			fprintf(stderr, "<< %.*s\n",
				(int)strcspn(buf, "\r\n"), buf);
		take_totag(buf, (size_t)r);
	}
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;

	g.totag[0] = '\0';

	for (int k = 0; k < MAX_PARTS && p <= end; k++) {
		const uint8_t *q = memmem(p, (size_t)(end - p), SEP,
					  sizeof(SEP) - 1);
		size_t n = q ? (size_t)(q - p) : (size_t)(end - p);

		send_part(p, n);
		if (!q)
			break;
		p = q + sizeof(SEP) - 1;
	}

	if (++g.n % rebuild == 0 || endpoint_call_count(g.ep) > MAX_CALLS) {
		stack_down();
		stack_up();
		if (trace)
			fprintf(stderr, "rebuilt: %d fds open\n", open_fds());
	}

	return 0;
}
