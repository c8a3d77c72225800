"""SDES-SRTP attacks end to end (src/sip/sec_sdp.c, media engine SRTP,
docs/SECURITY.md). Real baresip SRTP clients are in test_srtp.py.

- policy: in the mandatory room a plain RTP/AVP offer gets 488 with a
  Warning; in an srtp=off room an RTP/SAVP offer gets 488; in the
  optional (global) room both work.
- tamper: two scripted SRTP parties (AES_CM_128_HMAC_SHA1_80, written
  here with python3-cryptography) talk through the room; one of them
  sends 100 tampered SRTP packets (valid header, flipped ciphertext bit)
  in between its real ones, from its own latched socket. chorusd must
  drop exactly those 100 (srtp_fail 100 in the leg's media stats line
  at BYE) and the other party's audio must stay clean; then plain RTP
  with a loud tone forged from another port must not be heard (counted
  as wrong_source: the latched-source check drops it before libsrtp).
- rekey: a re-INVITE with a new key: chorusd answers with a new key of
  its own and the audio goes on under the new keys (both directions).
- timeout: an SRTP leg that sends only tampered packets is silent for
  rtp_timeout (3 s in that daemon): chorusd sends BYE (garbage does not
  keep a leg alive).
- plain RTP: the same forgery against a plain RTP/AVP call (optional
  room): not heard, counted as wrong_source.
- baresip: three baresip clients with srtp-mand and PCMA (the codec
  test_srtp.py and test_tls.py do not use) hear each other.
"""
import base64
import hashlib
import hmac
import os
import random
import re
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402

ROOM_OPT, ROOM_MAND, ROOM_OFF = "4000", "4100", "4200"
ROOMS = ('room %s name="srtp mandatory" srtp=mandatory\n'
         'room %s name="srtp off" srtp=off\n' % (ROOM_MAND, ROOM_OFF))


# --------------------------------------------------------------------------
# RFC 3711 SRTP, AES_CM_128_HMAC_SHA1_80 only, no MKI, kdr 0

def _aes_cm(key, iv, n):
    enc = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return enc.update(b"\0" * n)


def _kdf(mkey, msalt, label, n):
    x = bytearray(msalt)
    x[7] ^= label                     # key_id = label || r (r = 0)
    return _aes_cm(mkey, bytes(x) + b"\0\0", n)


def _xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


class Srtp:
    """One direction of SRTP for any SSRC (we use one)."""

    def __init__(self, keysalt):
        mk, ms = keysalt[:16], keysalt[16:30]
        self.ke, self.ka, self.ks = _kdf(mk, ms, 0, 16), _kdf(mk, ms, 1, 20), _kdf(mk, ms, 2, 14)
        self.roc = 0
        self.s_l = None

    def _iv(self, ssrc, index):
        iv = bytearray(self.ks + b"\0\0")
        for i, b in enumerate(struct.pack("!I", ssrc)):
            iv[4 + i] ^= b
        for i, b in enumerate(index.to_bytes(6, "big")):
            iv[8 + i] ^= b
        return bytes(iv)

    @staticmethod
    def _hlen(pkt):
        hl = 12 + 4 * (pkt[0] & 0x0F)
        if pkt[0] & 0x10:
            hl += 4 + 4 * struct.unpack("!H", pkt[hl + 2:hl + 4])[0]
        return hl

    def protect(self, pkt):
        seq, ssrc = struct.unpack("!H", pkt[2:4])[0], struct.unpack("!I", pkt[8:12])[0]
        if self.s_l is not None and seq < self.s_l and self.s_l - seq > 32768:
            self.roc += 1
        self.s_l = seq
        hl = self._hlen(pkt)
        body = _xor(pkt[hl:], _aes_cm(self.ke, self._iv(ssrc, (self.roc << 16) | seq),
                                      len(pkt) - hl))
        m = pkt[:hl] + body
        return m + hmac.new(self.ka, m + struct.pack("!I", self.roc), hashlib.sha1).digest()[:10]

    def unprotect(self, pkt):
        """Plain packet, or None when the tag does not verify."""
        if len(pkt) < 22:
            return None
        seq, ssrc = struct.unpack("!H", pkt[2:4])[0], struct.unpack("!I", pkt[8:12])[0]
        roc = self.roc
        if self.s_l is not None:
            if self.s_l < 32768 and seq - self.s_l > 32768:
                roc -= 1
            elif self.s_l >= 32768 and self.s_l - 32768 > seq:
                roc += 1
        m, tag = pkt[:-10], pkt[-10:]
        if not hmac.compare_digest(
                tag, hmac.new(self.ka, m + struct.pack("!I", roc & 0xFFFFFFFF),
                              hashlib.sha1).digest()[:10]):
            return None
        if roc > self.roc or self.s_l is None or (roc == self.roc and seq > self.s_l):
            self.roc, self.s_l = roc, seq
        hl = self._hlen(m)
        return m[:hl] + _xor(m[hl:], _aes_cm(self.ke, self._iv(ssrc, (roc << 16) | seq),
                                           len(m) - hl))


def crypto_line(tag, keysalt):
    return "a=crypto:%d AES_CM_128_HMAC_SHA1_80 inline:%s" % (
        tag, base64.b64encode(keysalt).decode())


def answer_crypto(sdp_text):
    m = re.search(r"a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)", sdp_text)
    return (int(m.group(1)), m.group(2), base64.b64decode(m.group(3))) if m else None


# --------------------------------------------------------------------------
# a scripted SRTP participant

class SrtpParty:
    """SIP over UDP (chorustest SipUA) + a G.711 tone over SRTP, sent and
    received in a thread; what it hears is kept decrypted."""

    def __init__(self, d, name, freq, room=ROOM_MAND):
        self.name, self.freq, self.room = name, freq, room
        self.ua = ct.SipUA(d.addr, "udp", name)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ct.HOST, 0))
        self.port = self.sock.getsockname()[1]
        self.key = os.urandom(30)
        self.tx = Srtp(self.key)
        self.rx = None
        self.dst = None
        self.received = []        # (time, plain rtp dict)
        self.rx_auth_fail = 0
        self.inject = 0           # tampered packets still to send
        self.injected = 0
        self.lock = threading.Lock()
        self.seq = random.randrange(0, 65536)
        self.ts = random.randrange(0, 2 ** 32)
        self.ssrc = random.randrange(1, 2 ** 32)
        self._stop = False
        self.paused = False       # keep time, send nothing
        self._thread = None
        self.call = None

    def offer(self, proto="RTP/SAVP", tag=1):
        sdp = ct.make_sdp(self.port, [0], ptime=20, extra=[crypto_line(tag, self.key)])
        return sdp.replace(b"RTP/AVP", proto.encode())

    def join(self, proto="RTP/SAVP"):
        self.call = self.ua.invite(self.room, self.offer(proto))
        f = self.call.final
        check(f is not None and f.status == 200, "%s: INVITE: %s" % (self.name, f and f.first))
        self._take_answer(f.body.decode())
        return f

    def _take_answer(self, text):
        cr = answer_crypto(text)
        check(cr is not None, "%s: answer without a=crypto:\n%s" % (self.name, text))
        tag, suite, keysalt = cr
        check(suite == "AES_CM_128_HMAC_SHA1_80" and len(keysalt) == 30,
              "%s: answer crypto %s (%d bytes)" % (self.name, suite, len(keysalt)))
        check(keysalt != self.key, "%s: chorusd echoed our key" % self.name)
        a = ct.Sdp(text.encode())
        with self.lock:
            self.rx = Srtp(keysalt)
            self.dst = (a.conn, a.port)
        self.their_key = keysalt
        return tag

    def rekey(self):
        """re-INVITE with a fresh key; new contexts on both sides.
        No pause: we switch to the new key when the 200 OK arrives, while
        chorusd switches its contexts at its next frame and keeps the old
        inbound one for a moment, so nothing we send in between may fail
        (the exact srtp_fail count below checks that)."""
        new = os.urandom(30)
        old_key = self.key
        self.key = new
        r = self.call.request("INVITE", body=self.offer(), ctype="application/sdp")
        check(r is not None and r.status == 200, "%s: re-INVITE: %s" % (self.name, r and r.first))
        old_theirs = self.their_key
        with self.lock:
            self.tx = Srtp(new)
        self._take_answer(r.body.decode())
        check(self.their_key != old_theirs, "%s: chorusd kept its key after our rekey"
              % self.name)
        check(new != old_key, "test bug")

    def _packet(self, k):
        n = 160
        t = (k * n + np.arange(n)) / 8000.0
        pcm = (0.2 * 32767 * np.sin(2 * np.pi * self.freq * t)).astype(np.int16)
        return ct.rtp_packet(0, self.seq & 0xFFFF, self.ts & 0xFFFFFFFF, self.ssrc,
                             ct.g711_encode(pcm, "PCMU"), marker=(k == 0))

    def start(self):
        def run():
            t0 = time.monotonic()
            k = 0
            while not self._stop:
                due = t0 + k * 0.02
                now = time.monotonic()
                if now >= due:
                    with self.lock:
                        pkt = self.tx.protect(self._packet(k))
                        dst = self.dst
                        self.seq += 1
                        self.ts += 160
                        bad = []
                        # 5 tampered packets per 20 ms while asked to:
                        # later sequence numbers, one ciphertext bit flipped
                        for j in range(min(5, self.inject)):
                            p = bytearray(Srtp(self.key_for_inject()).protect(
                                self._packet_at(self.seq + 1000 + self.injected + j)))
                            p[20] ^= 0x01
                            bad.append(bytes(p))
                        self.inject -= len(bad)
                        self.injected += len(bad)
                    try:
                        if not self.paused:
                            self.sock.sendto(pkt, dst)
                        for b in bad:
                            self.sock.sendto(b, dst)
                    except OSError:
                        pass
                    k += 1
                    continue
                self.sock.settimeout(max(0.0005, due - now))
                try:
                    data, _ = self.sock.recvfrom(4096)
                except (socket.timeout, OSError):
                    continue
                with self.lock:
                    plain = self.rx.unprotect(data) if self.rx else None
                if plain is None:
                    self.rx_auth_fail += 1
                    continue
                p = ct.rtp_parse(plain)
                if p is not None:
                    self.received.append((time.monotonic(), p))
        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def key_for_inject(self):
        return self.key

    def _packet_at(self, seq):
        return ct.rtp_packet(0, seq & 0xFFFF, self.ts & 0xFFFFFFFF, self.ssrc, b"\xff" * 160)

    def stop(self):
        self._stop = True
        if self._thread:
            self._thread.join(5)

    def heard(self, t0, t1):
        pk = [p for t, p in list(self.received) if t0 <= t < t1 and p["pt"] == 0]
        pcm = b"".join(p["payload"] for p in pk)
        return len(pk), ct.g711_decode(pcm, "PCMU").astype(float) / 32768.0

    def close(self):
        self.stop()
        self.ua.close()
        self.sock.close()


np = ct.np


def levels(p, other, t0, t1, extra=()):
    n, x = p.heard(t0, t1)
    lv = {f: ct.tone_level_blocks_db(x, 8000, f) if hasattr(ct, "tone_level_blocks_db")
          else ct.tone_level_db(x, 8000, f) for f in (other.freq, p.freq) + tuple(extra)}
    ct.log("%s [%.1f..%.1f s]: %d packets; %s" % (p.name, t0 - T0, t1 - T0, n, ", ".join(
        "%d Hz %.1f dB" % (f, v) for f, v in lv.items())))
    return n, lv


T0 = time.monotonic()


def test_tamper_and_rekey(r, d):
    a = SrtpParty(d, "alice", 700.0)
    b = SrtpParty(d, "bob", 1100.0)
    forger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    forger.bind((ct.HOST, 0))
    try:
        a.join()
        b.join()
        a.start()
        b.start()
        time.sleep(1.5)
        t0 = time.monotonic()
        time.sleep(2.0)
        t1 = time.monotonic()
        for me, other in ((a, b), (b, a)):
            n, lv = levels(me, other, t0, t1)
            check(n >= 80, "%s: only %d SRTP packets verified in 2 s" % (me.name, n))
            check(lv[other.freq] > -25, "%s does not hear %s over SRTP (%.1f dB)"
                  % (me.name, other.name, lv[other.freq]))
            check(lv[me.freq] < lv[other.freq] - 20, "%s hears itself" % me.name)
            check(me.rx_auth_fail == 0, "%s: %d packets from chorusd failed SRTP auth"
                  % (me.name, me.rx_auth_fail))

        # 100 tampered packets from alice's own (latched) socket
        with a.lock:
            a.inject = 100
        ti = time.monotonic()
        check(ct.wait_for(lambda: a.inject == 0, 5), "injection did not finish")
        tj = time.monotonic()
        time.sleep(1.0)
        tk = time.monotonic()
        ct.log("alice sent %d tampered packets in %.2f s" % (a.injected, tj - ti))
        n, lv = levels(b, a, ti, tk)
        check(n >= 0.8 * 50 * (tk - ti), "bob: %d packets during the injection" % n)
        check(lv[a.freq] > -25, "bob lost alice during the injection (%.1f dB)" % lv[a.freq])

        # forged plain RTP (loud 1500 Hz) to alice's chorusd port from another port
        fpeer = ct.RtpPeer()
        fpeer.sock.close()
        fpeer.sock = forger
        tf = time.monotonic()
        fpeer.stream(a.dst, 0, "PCMU", 1.5, freq=1500.0, amp=0.5, collect=False)
        tg = time.monotonic()
        n, lv = levels(b, a, tf, tg, extra=(1500.0,))
        check(lv[1500.0] < -50, "bob hears the forged plain RTP (1500 Hz at %.1f dB)"
              % lv[1500.0])
        check(lv[a.freq] > -25, "bob lost alice during the forgery (%.1f dB)" % lv[a.freq])

        # re-key both directions by re-INVITE; audio continues under the new keys
        a.rekey()
        time.sleep(1.5)
        t2 = time.monotonic()
        time.sleep(1.5)
        t3 = time.monotonic()
        n, lv = levels(b, a, t2, t3)
        check(lv[a.freq] > -25, "bob does not hear alice after her rekey (%.1f dB)" % lv[a.freq])
        n, lv = levels(a, b, t2, t3)
        check(n >= 50, "alice: %d packets under chorusd's new key" % n)
        check(lv[b.freq] > -25, "alice does not hear bob under the new key (%.1f dB)"
              % lv[b.freq])

        time.sleep(1.2)           # the worker publishes leg stats once a second
        a.stop()
        b.stop()
        for p in (a, b):
            rb = p.call.bye()
            check(rb is not None and rb.status == 200, "%s BYE: %s" % (p.name, rb and rb.first))
        time.sleep(0.3)
        log = d.log_text()
        stats = {leg: (int(f), int(w)) for leg, f, w in re.findall(
            r"leg (\d+): media stats: .*srtp_fail (\d+) wrong_source (\d+)", log)}
        legs = {name: leg for leg, name in re.findall(r"leg (\d+): sip:(alice|bob)@\S+ joined",
                                                     log)}
        ct.log("leg stats (srtp_fail, wrong_source): alice %s, bob %s" % (
            stats.get(legs.get("alice")), stats.get(legs.get("bob"))))
        check("alice" in legs and "bob" in legs and legs["alice"] in stats
              and legs["bob"] in stats, "no media stats lines at BYE")
        fa, wa = stats[legs["alice"]]
        fb, wb = stats[legs["bob"]]
        # alice's leg: exactly the 100 tampered packets fail SRTP; the forged
        # plain RTP from another port is dropped by the source check (it
        # never reaches libsrtp); bob's leg: nothing
        npk_forged = int(round(1.5 / 0.02))
        check(fa == 100, "alice's leg counted %d SRTP failures (sent 100 tampered)" % fa)
        check(npk_forged - 3 <= wa <= npk_forged + 3,
              "alice's leg dropped %d packets from a wrong source (forged ~%d)"
              % (wa, npk_forged))
        check(fb == 0 and wb == 0, "bob's leg counted %d SRTP failures, %d wrong source"
              % (fb, wb))
        for key in (a.key, b.key, a.their_key, b.their_key):
            check(base64.b64encode(key).decode() not in log, "an SRTP key is in the log")
    finally:
        a.close()
        b.close()
        forger.close()


def test_policy(r, d):
    def offer(room, proto, crypto):
        with ct.SipUA(d.addr, "udp", "pol") as ua:
            extra = [crypto_line(1, os.urandom(30))] if crypto else []
            sdp = ct.make_sdp(ct.free_port(2, tcp=False), [0], extra=extra)
            sdp = sdp.replace(b"RTP/AVP", proto.encode())
            c = ua.invite(room, sdp)
            f = c.final
            if f is not None and f.status == 200:
                c.bye()
            return f
    f = offer(ROOM_MAND, "RTP/AVP", False)
    check(f is not None and f.status == 488, "plain RTP in the mandatory room: %s"
          % (f and f.first))
    w = f.get("warning") or ""
    check(w.startswith("399 ") and "SRTP required" in w, "488 Warning: %r" % w)
    ct.log("mandatory room, plain offer: %s; Warning: %s" % (f.first, w))
    f = offer(ROOM_OFF, "RTP/SAVP", True)
    check(f is not None and f.status == 488, "RTP/SAVP in the srtp=off room: %s"
          % (f and f.first))
    ct.log("off room, SAVP offer: %s; Warning: %s" % (f.first, f.get("warning")))
    f = offer(ROOM_OPT, "RTP/AVP", False)
    check(f is not None and f.status == 200 and b"a=crypto" not in f.body,
          "plain offer in the optional room: %s" % (f and f.first))
    f = offer(ROOM_OPT, "RTP/SAVP", True)
    check(f is not None and f.status == 200 and b"RTP/SAVP" in f.body
          and b"a=crypto:1 AES_CM_128_HMAC_SHA1_80" in f.body,
          "SAVP offer in the optional room: %s" % (f and f.first))
    f = offer(ROOM_MAND, "RTP/AVP", True)
    check(f is not None and f.status == 200 and b"a=crypto:1" in f.body,
          "RTP/AVP with a=crypto in the mandatory room: %s" % (f and f.first))


def test_late_offer(r, d):
    """INVITE without SDP to the mandatory room: chorusd offers with
    a=crypto; an answer with our tag and a key -> SRTP leg; an answer
    without a=crypto -> the call is ended."""
    for with_crypto in (True, False):
        with ct.SipUA(d.addr, "udp", "late%d" % with_crypto) as ua:
            c = ua.invite(ROOM_MAND, None)
            f = c.final
            check(f is not None and f.status == 200, "late-offer INVITE: %s" % (f and f.first))
            cr = answer_crypto(f.body.decode())
            check(cr is not None and cr[1] == "AES_CM_128_HMAC_SHA1_80" and len(cr[2]) == 30,
                  "chorusd's own offer has no usable a=crypto:\n%s" % f.body.decode())
            port = ct.free_port(2, tcp=False)
            extra = [crypto_line(cr[0], os.urandom(30))] if with_crypto else []
            c.ack_2xx(ct.make_sdp(port, [0], extra=extra))
            if with_crypto:
                time.sleep(0.3)
                lines = [l for l in d.log_text().splitlines()
                         if "media PCMU" in l and "SRTP AES_CM_128_HMAC_SHA1_80" in l]
                check(lines and str(port) in lines[-1],
                      "no SRTP media line for the late-offer leg: %s" % lines[-1:])
                rb = c.bye()
                check(rb is not None and rb.status == 200, "BYE: %s" % (rb and rb.first))
            else:
                bye = ua.wait_request("BYE", 5, call_id=c.call_id)
                check(bye is not None, "an answer without a=crypto in a mandatory room did "
                      "not end the call")
                ct.log("answer without a=crypto -> %s (%s)" % (bye.first, bye.get("reason")))


def test_garbage_timeout(r):
    d = ct.Daemon(r.tmp.path, name="chorusd-timeout", conf={"srtp": "optional",
                                                            "rtp_timeout": "3"},
                  rooms_extra=ROOMS)
    d.start()
    a = SrtpParty(d, "silent", 700.0)
    try:
        a.join()
        a.start()
        time.sleep(1.0)
        with a.lock:
            a.paused = True           # no more valid packets ...
            a.inject = 400            # ... only tampered ones, 5 per 20 ms
        t0 = time.monotonic()
        bye = a.ua.wait_request("BYE", 8, call_id=a.call.call_id)
        dt = time.monotonic() - t0
        check(bye is not None, "no BYE for an SRTP leg that sends only garbage for 8 s")
        ct.log("BYE %.1f s after the last valid packet (%d tampered sent meanwhile); %s"
               % (dt, a.injected, bye.get("reason")))
        check(2.5 <= dt <= 5.0, "BYE after %.1f s (rtp_timeout 3)" % dt)
        check(a.injected >= 100, "only %d tampered packets were sent" % a.injected)
    finally:
        a.close()
        for p in d.stop():
            r.fail("shutdown chorusd-timeout", p)


def test_forged_plain(r, d):
    """Plain RTP legs: a forger on another port is not heard."""
    uas, peers, calls = [], [], []
    forger = ct.RtpPeer()
    try:
        for name, freq in (("carol", 600.0), ("dave", 900.0)):
            ua = ct.SipUA(d.addr, "udp", name)
            peer = ct.RtpPeer()
            uas.append(ua)
            peers.append(peer)
            c = ua.invite(ROOM_OPT, ct.make_sdp(peer.port, [0], ptime=20))
            check(c.final is not None and c.final.status == 200, "%s: %s"
                  % (name, c.final and c.final.first))
            calls.append(c)
            a = ct.Sdp(c.final.body)
            peer.dst = (a.conn, a.port)
            peer.start_stream(peer.dst, 0, "PCMU", freq)
        time.sleep(1.5)
        tf = time.monotonic()
        forger.stream(peers[0].dst, 0, "PCMU", 1.5, freq=1500.0, amp=0.5, collect=False)
        tg = time.monotonic()
        pk = peers[1].received_between(tf, tg, pt=0)
        x = ct.g711_decode(b"".join(p["payload"] for p in pk), "PCMU").astype(float) / 32768.0
        forged, carol = ct.tone_level_db(x, 8000, 1500.0), ct.tone_level_db(x, 8000, 600.0)
        ct.log("dave during the forgery: %d packets, 1500 Hz (forged) %.1f dB, 600 Hz "
               "(carol) %.1f dB" % (len(pk), forged, carol))
        check(forged < -50, "dave hears the forged plain RTP (%.1f dB)" % forged)
        check(carol > -25, "dave lost carol during the forgery (%.1f dB)" % carol)
        time.sleep(1.2)
        for p in peers:
            p.stop_stream()
        for c in calls:
            c.bye()
        time.sleep(0.3)
        log = d.log_text()
        leg = re.findall(r"leg (\d+): sip:carol@\S+ joined", log)
        st = re.findall(r"leg %s: media stats: .*srtp_fail (\d+) wrong_source (\d+)"
                        % (leg[-1] if leg else "x"), log)
        ct.log("carol's leg (srtp_fail, wrong_source): %s" % st)
        check(st and int(st[-1][1]) >= 70, "carol's leg did not count the forged packets: %s"
              % st)
    finally:
        for p in peers:
            if hasattr(p, "_thread"):
                p.stop_stream()
            p.close()
        for ua in uas:
            ua.close()
        forger.close()


def test_baresip_pcma(r, d):
    import test_mix_audio as mix
    mix.run_room(r, d, "srtp-pcma", ["PCMA"] * 3, room=ROOM_MAND,
                 acct=[";mediaenc=srtp-mand"] * 3, extra_config="module\t\t\tsrtp.so")


def main():
    r = ct.Runner("srtp_tamper")
    d = ct.Daemon(r.tmp.path, conf={"srtp": "optional"}, rooms_extra=ROOMS)
    if not r.start_daemon(d):
        return r.finish()
    tests = [("policy", test_policy, ()),
             ("tamper, forged RTP, rekey", test_tamper_and_rekey, ()),
             ("late offer with a=crypto", test_late_offer, ()),
             ("forged plain RTP", test_forged_plain, ()),
             ("baresip srtp-mand PCMA", test_baresip_pcma, ())]
    for name, fn, args in tests:
        r.sub_while_up(d, name, fn, r, d, *args)
    r.sub("garbage does not keep a silent SRTP leg alive", test_garbage_timeout, r)
    return r.finish_daemon(d, 150)


if __name__ == "__main__":
    sys.exit(main())
