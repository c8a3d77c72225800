#!/usr/bin/env python3
"""Write the fuzz seed corpora to tests/data/fuzz/<target>/.

Small, real examples of what each harness parses; see the harness headers
(fuzz_*.c) for the input layouts. Opus payloads come from the system
libopus (ctypes) so they are real encoder output. Deterministic: run it
again and the files are identical.

    python3 tests/fuzz/make_seeds.py [--torture]   (--torture: also copy
    tests/data/torture/*.sip into the sip corpus)
"""
import ctypes
import ctypes.util
import math
import os
import struct
import sys

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(TOP, "tests", "data", "fuzz")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n").encode()


# ---- SDP ------------------------------------------------------------------

def sdp(mlines, extra_session=(), addr="192.0.2.10"):
    lines = ["v=0", "o=alice 2890844526 2890844526 IN IP4 %s" % addr, "s=-",
             "c=IN IP4 %s" % addr, "t=0 0"] + list(extra_session)
    for m in mlines:
        lines += m
    return "\r\n".join(lines) + "\r\n"


SDP_OPUS = sdp([["m=audio 49170 RTP/AVP 111 9 0 8 101",
                 "a=rtpmap:111 opus/48000/2",
                 "a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1;maxaveragebitrate=32000",
                 "a=rtpmap:9 G722/8000", "a=rtpmap:0 PCMU/8000",
                 "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000",
                 "a=fmtp:101 0-16", "a=ptime:20", "a=maxptime:60",
                 "a=rtcp-mux", "a=rtcp:49171", "a=sendrecv"]])
SDP_PCMU = sdp([["m=audio 5004 RTP/AVP 0", "a=rtpmap:0 PCMU/8000"]])
SDP_G722 = sdp([["m=audio 5004 RTP/AVP 9 101", "a=rtpmap:101 telephone-event/8000",
                 "a=ptime:30", "a=sendonly"]])
SDP_HOLD = sdp([["m=audio 5004 RTP/AVP 8", "c=IN IP4 0.0.0.0", "a=inactive"]])
SDP_TWO = sdp([["m=video 5006 RTP/AVP 96", "a=rtpmap:96 H264/90000"],
               ["m=audio 5004 RTP/AVP 18 0", "a=rtpmap:18 G729/8000"],
               ["m=audio 0 RTP/AVP 0"]])
SDP_SRTP = sdp([["m=audio 5004 RTP/SAVP 0 8",
                 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
                 "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4",
                 "a=crypto:2 AEAD_AES_128_GCM inline:YUJDZGVmZ2hpSktMbW9QUXJzVHV2d3h5eg== KDR=0",
                 "a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj WSH=128"]])
SDP_IP6 = sdp([["m=audio 5004 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"]],
              addr="2001:db8::1").replace("IN IP4 2001", "IN IP6 2001")
SDP_NOCODEC = sdp([["m=audio 5004 RTP/AVP 3 18"]])


def seeds_sdp():
    for i, (name, body) in enumerate([("opus", SDP_OPUS), ("pcmu", SDP_PCMU),
                                      ("g722", SDP_G722), ("hold", SDP_HOLD),
                                      ("two", SDP_TWO), ("srtp", SDP_SRTP),
                                      ("ip6", SDP_IP6), ("nocodec", SDP_NOCODEC)]):
        put("sdp", "offer_%s" % name, bytes([0]) + body.encode())
    put("sdp", "answer_pcmu", bytes([1]) + SDP_PCMU.encode())
    put("sdp", "reoffer_opus", bytes([8]) + SDP_OPUS.encode())
    put("sdp", "prefs_g722", bytes([2 | 4]) + SDP_OPUS.encode())
    # bits 4-5: SRTP policy (0 off, 1 optional, 2 mandatory, 3 no sec_sdp layer)
    put("sdp", "srtp_optional", bytes([0x10]) + SDP_SRTP.encode())
    put("sdp", "srtp_mandatory", bytes([0x20]) + SDP_SRTP.encode())
    put("sdp", "srtp_mandatory_plain", bytes([0x20]) + SDP_PCMU.encode())
    put("sdp", "nosec_pcmu", bytes([0x30]) + SDP_PCMU.encode())
    put("sdp", "srtp_optional_reoffer", bytes([0x18]) + SDP_SRTP.encode())
    put("sdp", "srtp_answer", bytes([0x11]) + SDP_SRTP.encode())


# ---- SIP ------------------------------------------------------------------

def sip_req(method, ruri, extra=(), body=b"", ctype=None, cseq=1):
    h = ["%s %s SIP/2.0" % (method, ruri),
         "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK776asdhds;rport",
         "Max-Forwards: 70",
         "To: <%s>" % ruri,
         "From: \"Alice\" <sip:alice@127.0.0.1:5070>;tag=1928301774",
         "Call-ID: a84b4c76e66710@127.0.0.1",
         "CSeq: %d %s" % (cseq, method),
         "Contact: <sip:alice@127.0.0.1:5070>"] + list(extra)
    if ctype:
        h.append("Content-Type: " + ctype)
    h.append("Content-Length: %d" % len(body))
    return ("\r\n".join(h) + "\r\n\r\n").encode() + body


def seeds_sip():
    r = "sip:1000@127.0.0.1:5060"
    put("sip", "invite_sdp", sip_req("INVITE", r, ["Allow: INVITE, ACK, BYE, UPDATE",
                                                   "Supported: timer",
                                                   "Session-Expires: 1800;refresher=uac",
                                                   "Min-SE: 90"],
                                     SDP_OPUS.encode(), "application/sdp"))
    put("sip", "invite_noofer", sip_req("INVITE", r))
    put("sip", "invite_require", sip_req("INVITE", r, ["Require: 100rel, foo", "k: timer",
                                                       "x: 60;refresher=uas"],
                                         SDP_PCMU.encode(), "application/sdp"))
    put("sip", "options", sip_req("OPTIONS", "sip:127.0.0.1:5060", ["Accept: application/sdp"]))
    put("sip", "info_json", sip_req("INFO", r, ["Info-Package: chorus-control"],
                                    b'{"cmd":"gain","target":"sip:bob@example.org","in_db":-6,"out_db":3}',
                                    "application/json"))
    put("sip", "info_dtmf", sip_req("INFO", r, [], b"Signal=5\r\nDuration=160\r\n",
                                    "application/dtmf-relay"))
    put("sip", "update", sip_req("UPDATE", r, ["Session-Expires: 90"], SDP_G722.encode(),
                                 "application/sdp", cseq=2))
    put("sip", "bye", sip_req("BYE", r, cseq=3))
    put("sip", "register", sip_req("REGISTER", "sip:127.0.0.1", ["Expires: 3600"]))
    put("sip", "compact", crlf(
        "INVITE sip:1000@127.0.0.1 SIP/2.0\n"
        "v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKcompact\n"
        "t: <sip:1000@127.0.0.1>\nf: <sip:a@127.0.0.1>;tag=1\ni: compact@x\n"
        "CSeq: 1 INVITE\nm: <sip:a@127.0.0.1:5070>\nc: application/sdp\n"
        "l: %d\n\n" % len(SDP_PCMU)) + SDP_PCMU.encode())
    put("sip", "response_200", crlf(
        "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\n"
        "To: <sip:bob@127.0.0.1>;tag=2\nFrom: <sip:1000@127.0.0.1>;tag=1\n"
        "Call-ID: y@127.0.0.1\nCSeq: 1 BYE\nContent-Length: 0\n\n"))
    tdir = os.path.join(TOP, "tests", "data", "torture")
    if "--torture" in sys.argv and os.path.isdir(tdir):
        for n in sorted(os.listdir(tdir)):
            if n.endswith(".sip"):
                with open(os.path.join(tdir, n), "rb") as f:
                    put("sip", "torture_" + n[:-4], f.read())


# ---- RTP / RTCP -----------------------------------------------------------

def rtp(pt, seq, ts, ssrc, payload, marker=False, csrc=(), ext=None, pad=0):
    b0 = 0x80 | (0x20 if pad else 0) | (0x10 if ext is not None else 0) | len(csrc)
    h = struct.pack("!BBHII", b0, (0x80 if marker else 0) | pt, seq & 0xffff,
                    ts & 0xffffffff, ssrc)
    for c in csrc:
        h += struct.pack("!I", c)
    if ext is not None:
        h += struct.pack("!HH", 0xbede, len(ext) // 4) + ext
    p = h + payload
    if pad:
        p += bytes(pad - 1) + bytes([pad])
    return p


def rtcp_sr(ssrc, rb=True):
    body = struct.pack("!IIIIII", ssrc, 0xe8f0a1b2, 0x12345678, 160000, 500, 80000)
    if rb:
        body += struct.pack("!IIIIII", 0x0badcafe, (3 << 24) | 12, 0x0001f000, 25, 0xa1b20000, 65536)
    n = 1 if rb else 0
    return struct.pack("!BBH", 0x80 | n, 200, len(body) // 4) + body


def rtcp_rr(ssrc):
    body = struct.pack("!I", ssrc) + struct.pack("!IIIIII", 0x0badcafe, 5, 1000, 10, 0, 0)
    return struct.pack("!BBH", 0x81, 201, len(body) // 4) + body


def rtcp_sdes(ssrc, cname=b"alice@192.0.2.10"):
    item = bytes([1, len(cname)]) + cname + b"\x00"
    item += bytes((-len(item)) % 4)
    body = struct.pack("!I", ssrc) + item
    return struct.pack("!BBH", 0x81, 202, len(body) // 4) + body


def rtcp_bye(ssrc, reason=b"bye"):
    body = struct.pack("!I", ssrc) + bytes([len(reason)]) + reason
    body += bytes((-len(body)) % 4)
    return struct.pack("!BBH", 0x81, 203, len(body) // 4) + body


def frame(dgram, step=20, gets=1):
    return struct.pack("!H", len(dgram)) + bytes([(step & 0xfc) | gets]) + dgram


def opus_packets(n, channels=1, fec=False):
    lib = ctypes.util.find_library("opus")
    if not lib:
        return [bytes([0xf8, 0xff, 0xfe])] * n     # TOC-only fallback
    o = ctypes.CDLL(lib)
    o.opus_encoder_create.restype = ctypes.c_void_p
    err = ctypes.c_int()
    enc = o.opus_encoder_create(48000, channels, 2048, ctypes.byref(err))
    if fec:
        o.opus_encoder_ctl(ctypes.c_void_p(enc), 4012, 1)      # INBAND_FEC
        o.opus_encoder_ctl(ctypes.c_void_p(enc), 4014, 10)     # PACKET_LOSS_PERC
    pcm = (ctypes.c_int16 * (960 * channels))()
    out = (ctypes.c_ubyte * 1500)()
    pk = []
    for k in range(n):
        for i in range(960):
            v = int(8000 * math.sin(2 * math.pi * 440 * (k * 960 + i) / 48000))
            for c in range(channels):
                pcm[i * channels + c] = v
        ln = o.opus_encode(ctypes.c_void_p(enc), pcm, 960, out, 1500)
        pk.append(bytes(out[:max(ln, 0)]))
    o.opus_encoder_destroy(ctypes.c_void_p(enc))
    return pk


def g711(n):
    return bytes((i * 37 + n * 11) & 0xff for i in range(160))


def seeds_rtp():
    ssrc = 0x11223344
    # sel: bits 0-1 codec (0 opus 1 g722 2 pcmu 3 pcma), bit2 16k room,
    # bit3 opus stereo, bit4 fec, bit5 PT 96 (opus default is 96 too?)
    for sel, name, pt in [(2, "pcmu", 0), (3, "pcma", 8), (1, "g722", 9),
                          (2 | 4, "pcmu_16k", 0), (1 | 4, "g722_16k", 9)]:
        s = bytes([sel])
        for k in range(12):
            s += frame(rtp(pt, 1000 + k, 160 * k, ssrc, g711(k), marker=(k == 0)))
        put("rtp", name, s)
        # reordering, duplicate, loss, SSRC change, telephone-event, RTCP
        seqs = [0, 2, 1, 1, 5, 4, 9, 3]
        s = bytes([sel])
        for k in seqs:
            s += frame(rtp(pt, 7 + k, 160 * k, ssrc, g711(k)), step=20, gets=2)
        s += frame(rtp(pt, 9000, 99999, 0x55667788, g711(1), marker=True))
        for d in range(4):
            s += frame(rtp(101, 9001 + d, 100000, 0x55667788,
                           bytes([5, 0x80 if d >= 2 else 0x0a]) + struct.pack("!H", 160 * (d + 1))))
        s += frame(rtcp_sr(ssrc) + rtcp_sdes(ssrc))
        s += frame(rtcp_rr(ssrc) + rtcp_sdes(ssrc) + rtcp_bye(ssrc))
        put("rtp", name + "_mixed", s)
    for chans, fec, sel, name in [(1, False, 0, "opus"), (2, False, 8, "opus_stereo"),
                                  (1, True, 16, "opus_fec"), (1, False, 4, "opus_16k")]:
        pk = opus_packets(10, chans, fec)
        for pt in (111, 96):
            s = bytes([sel | (32 if pt == 96 else 0)])
            for k, p in enumerate(pk):
                if k == 4:
                    continue            # a loss: PLC / FEC from the next one
                s += frame(rtp(pt, 500 + k, 960 * k, ssrc, p,
                               csrc=(1, 2) if k == 1 else (),
                               ext=b"\x10\xaa\x00\x00" if k == 2 else None,
                               pad=4 if k == 3 else 0))
            put("rtp", "%s_pt%d" % (name, pt), s)
    put("rtp", "rtcp_only", bytes([2]) + frame(rtcp_sr(ssrc, rb=False)) +
        frame(rtcp_rr(ssrc)) + frame(rtcp_bye(ssrc, b"")))


# ---- SRTP -----------------------------------------------------------------

def seeds_srtp():
    p = rtp(0, 1, 160, 0x01020304, g711(0))
    r = rtcp_sr(0x01020304) + rtcp_sdes(0x01020304)
    for sel in range(6):
        s = bytes([sel])
        s += bytes([2]) + struct.pack("!H", len(p)) + p                    # round trip RTP
        s += bytes([3]) + struct.pack("!H", len(r)) + r                    # round trip RTCP
        p2 = rtp(0, 2, 320, 0x01020304, g711(1))
        s += bytes([4]) + struct.pack("!H", len(p2)) + bytes([20]) + p2    # tampered
        p3 = rtp(0, 3, 480, 0x01020304, g711(2))
        s += bytes([6]) + struct.pack("!H", len(p3)) + p3                  # replay
        s += bytes([0]) + struct.pack("!H", len(p) + 10) + p + bytes(10)   # raw garbage tag
        put("srtp", "suite%d" % sel, s)


# ---- control INFO bodies --------------------------------------------------

def seeds_command():
    cmds = [b'{"cmd":"mute","target":"self"}',
            b'{"cmd":"unmute","target":"all"}',
            b'{"cmd":"deaf","target":7}',
            b'{"cmd":"kick","target":"12"}',
            b'{"cmd":"gain","target":"sip:alice@example.org","in_db":-6,"out_db":3.5}',
            b'{"cmd":"gain","target":"sips:bob@[2001:db8::1]:5061;transport=tls","in_db":-2e1}',
            b'{"cmd":"role","target":7,"role":"moderator"}',
            b'{"cmd":"lock"}',
            b'{ "cmd" : "unlock" , "x" : [1, {"y": null}, true, false, "\\u00e9\\n"] }',
            b'{"cmd":"mute","target":"self","cmd":"unmute"}']
    for i, c in enumerate(cmds):
        put("command", "json%02d" % i, bytes([0]) + c)
    put("command", "dtmf_relay", bytes([1]) + b"Signal=5\r\nDuration=160\r\n")
    put("command", "dtmf_relay_star", bytes([1]) + b"Signal= *\nDuration= 250")
    put("command", "dtmf", bytes([2]) + b"#")
    put("command", "ctype_params", bytes([3]) + b"Application/JSON; charset=utf-8\x00" + cmds[0])
    put("command", "ctype_unknown", bytes([3]) + b"text/plain\x00hello")


# ---- mixer ----------------------------------------------------------------

def seeds_mixer():
    def seq(cfg, ops):
        return bytes(cfg) + bytes(ops)
    add, rem, flags, gain, const, data, square, tick = range(8)
    talk = [add, add, add, const, 0, 0x10, 0x00, const, 1, 0xf0, 0x00, square, 2, 5, tick]
    put("mixer", "three_legs", seq([4, 1, 0x03], talk * 3))
    put("mixer", "full_scale", seq([4, 1, 0x0b],
                                   [add] * 8 + sum(([square, i, 3] for i in range(8)), []) +
                                   [tick, tick] + sum(([square, i, 1] for i in range(8)), []) + [tick]))
    put("mixer", "gain_mute", seq([1, 1, 0x24],
                                  [add, add, add, gain, 0, 48, 0xd0, flags, 1, 1, const, 0, 0x7f, 0xff,
                                   const, 2, 0x80, 0x00, tick, flags, 1, 0, flags, 2, 3, tick, tick,
                                   rem, 1, add, gain, 1, 0x80, 0x7f, tick]))
    put("mixer", "topk", seq([4, 1, 0x26],
                             [add] * 6 + sum(([data, i, 4, 0x10 * i, 0, 0xf0, 0, 0x7f, 0xff, 0, 0]
                                              for i in range(6)), []) + [tick] * 4))
    put("mixer", "rates", seq([0, 0, 0x02], talk) )
    put("mixer", "rates60", seq([3, 3, 0x02], talk))


# ---- conference-info roster --------------------------------------------

def seeds_roster():
    z = b"\0"
    put("roster", "two_users", z.join([
        b"sip:1000@chorus.example", b'Main <room> & "friends"', b"weekly",
        b"sip:alice@example.com", "Alice \u00e9 <script>".encode(), b"sip:alice@192.0.2.1:5060;transport=udp",
        b"audio1", b"main", b"abc@host", b"t1", b"t2",
        b"\x07sips:bob@[2001:db8::1]", b"Bob \x01\x02\xff\xfe", b"", b"a", b"", b"c&d", b"<", b">"]))
    put("roster", "conf_only", z.join([b"sip:room@x", b"", b"]]>"]))


# ---- DTMF menu / PIN ---------------------------------------------------

def seeds_menu():
    k = {c: i for i, c in enumerate("0123456789*#ABCD")}
    def keyseq(s, dt=8):
        return bytes(b for c in s for b in (k[c], dt))
    # PIN 1234 (digit indexes 1,2,3,4), 3 tries: wrong, clear, right
    put("menu", "pin_right", bytes([0x02 | (2 << 2), 3, 1, 2, 3, 4]) + keyseq("99#12*1234#*6"))
    put("menu", "pin_hangup", bytes([0x02, 3, 1, 2, 3, 4]) + keyseq("#0000#1111#1234#"))
    put("menu", "pin_timeout", bytes([0x02 | (1 << 2), 1, 5]) + keyseq("5", 200) + keyseq("5#"))
    put("menu", "moderator", bytes([0x01, 0, 0]) + keyseq("*5*8*6*4*7*1*3*0**6#"))
    put("menu", "participant", bytes([0x00, 0, 0]) + keyseq("*5*8*9*") + keyseq("6", 250))
    put("menu", "keymap", bytes([0x01, 0, 0]) + keyseq("#1#2") + b"\0mute=#1,lock=#2,help=,muteall=*9")


# ---- endpoint dialogs (fuzz_endpoint: parts, $TOTAG, $PORT) -----------

SEP = b"\r\n--next--\r\n"


def dlg_req(method, cseq, body=b"", ctype=None, extra=(), totag=True, callid="dlg1@fuzz",
            branch=None, user="1000"):
    h = ["%s sip:%s@127.0.0.1 SIP/2.0" % (method, user),
         "Via: SIP/2.0/UDP 127.0.0.1:$PORT;branch=z9hG4bK%s;rport" % (branch or "%s%d" % (method.lower(), cseq)),
         "Max-Forwards: 70",
         "To: <sip:%s@127.0.0.1>%s" % (user, ";tag=$TOTAG" if totag else ""),
         "From: \"Fuzz <&>\" <sip:fuzz@127.0.0.1>;tag=f1",
         "Call-ID: " + callid,
         "CSeq: %d %s" % (cseq, "ACK" if method == "ACK" else method),
         "Contact: <sip:fuzz@127.0.0.1:$PORT>"] + list(extra)
    if ctype:
        h.append("Content-Type: " + ctype)
    h.append("Content-Length: %d" % len(body))
    return ("\r\n".join(h) + "\r\n\r\n").encode() + body


def seeds_endpoint():
    invite = dlg_req("INVITE", 1, SDP_PCMU.encode(), "application/sdp",
                     ["Supported: timer", "Session-Expires: 1800;refresher=uac",
                      "Allow: INVITE, ACK, BYE, CANCEL, UPDATE, INFO, REFER"], totag=False)
    ack = dlg_req("ACK", 1, branch="ack1")
    bye = dlg_req("BYE", 9)
    info_json = dlg_req("INFO", 2, b'{"cmd":"mute","target":"self"}', "application/json",
                        ["Info-Package: chorus-control"])
    info_gain = dlg_req("INFO", 3, b'{"cmd":"gain","target":"all","in_db":-6,"out_db":3}',
                        "application/json", ["Info-Package: chorus-control"])
    info_dtmf = dlg_req("INFO", 4, b"Signal=*\r\nDuration=160\r\n", "application/dtmf-relay")
    reinv_hold = dlg_req("INVITE", 5, SDP_HOLD.encode(), "application/sdp")
    update = dlg_req("UPDATE", 6, extra=["Session-Expires: 120"])
    refer = dlg_req("REFER", 7, extra=["Refer-To: <sip:alice@127.0.0.1>", "Referred-By: <sip:fuzz@127.0.0.1>"])
    put("endpoint", "call_control", SEP.join([invite, ack, info_json, info_gain, info_dtmf, bye]))
    put("endpoint", "call_reinvite", SEP.join([invite, ack, reinv_hold, dlg_req("ACK", 5, branch="ack5"),
                                               update, refer, bye]))
    late = dlg_req("INVITE", 1, totag=False, callid="late@fuzz")
    late_ack = dlg_req("ACK", 1, SDP_G722.encode(), "application/sdp", callid="late@fuzz", branch="ackl")
    put("endpoint", "late_offer", SEP.join([late, late_ack, dlg_req("BYE", 2, callid="late@fuzz")]))
    sub = dlg_req("SUBSCRIBE", 1, totag=False, callid="sub@fuzz",
                  extra=["Event: conference", "Accept: application/conference-info+xml", "Expires: 600"])
    put("endpoint", "subscribe", SEP.join([invite, ack, sub,
                                           dlg_req("SUBSCRIBE", 2, callid="sub@fuzz", extra=["Event: conference", "Expires: 0"]),
                                           bye]))
    put("endpoint", "message", dlg_req("MESSAGE", 1, b"hello room", "text/plain", totag=False,
                                       callid="msg@fuzz"))
    put("endpoint", "cancel", SEP.join([dlg_req("INVITE", 1, SDP_PCMU.encode(), "application/sdp",
                                                totag=False, callid="cxl@fuzz", branch="cxl1"),
                                        dlg_req("CANCEL", 1, totag=False, callid="cxl@fuzz", branch="cxl1")]))


def main():
    seeds_endpoint()
    seeds_menu()
    seeds_roster()
    seeds_sdp()
    seeds_sip()
    seeds_rtp()
    seeds_srtp()
    seeds_command()
    seeds_mixer()
    for t in sorted(os.listdir(OUT)):
        print(t, len(os.listdir(os.path.join(OUT, t))))


if __name__ == "__main__":
    main()
