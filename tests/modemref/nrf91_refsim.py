#!/usr/bin/env python3
"""Reference nRF9160 modem simulator (second, independent implementation).

Written from Nordic's public nRF9160 AT Commands Reference Guide and the
nRF Connect SDK at_client / AT host behaviour, without looking at the
project's own simulator.  Python 3 standard library only.  See README.md.
"""
import argparse
import base64
import datetime
import hashlib
import os
import pty
import re
import secrets
import select
import signal
import sys
import termios
import time
import tty

CR, LF = 0x0D, 0x0A
USER_TAG_MAX = 2147483647
READABLE_TYPES = {0, 4}          # 1, 2, 3 are documented as not readable
WRITABLE_TYPES = {0, 1, 2, 3, 4, 5, 6}
MAX_CREDENTIALS = 64
REG_DELAY_S = 1.0
STALL_RECOVER_IDLE_S = 2.0

SCENARIOS = {
    # name: sim, pin, start_cfun, target stat, rsrq, rsrp, snr, clock offset (s)
    "registered": dict(sim=True, pin=False, cfun=1, stat=1, rsrq=25, rsrp=60, snr=30, clock=0),
    "no-sim":     dict(sim=False, pin=False, cfun=1, stat=90, rsrq=255, rsrp=255, snr=127, clock=0),
    "pin":        dict(sim=True, pin=True, cfun=1, stat=1, rsrq=25, rsrp=60, snr=30, clock=0),
    "searching":  dict(sim=True, pin=False, cfun=1, stat=2, rsrq=255, rsrp=255, snr=127, clock=0),
    "denied":     dict(sim=True, pin=False, cfun=1, stat=3, rsrq=255, rsrp=255, snr=127, clock=0),
    "roaming":    dict(sim=True, pin=False, cfun=1, stat=5, rsrq=22, rsrp=50, snr=25, clock=0),
    "weak":       dict(sim=True, pin=False, cfun=1, stat=1, rsrq=3, rsrp=5, snr=4, clock=0),
    "clock-off":  dict(sim=True, pin=False, cfun=1, stat=1, rsrq=25, rsrp=60, snr=30, clock=-365 * 86400),
    "flight":     dict(sim=True, pin=False, cfun=4, stat=1, rsrq=25, rsrp=60, snr=30, clock=0),
    "not-at-host": None,
    "silent": None,
}

HOME = dict(full="Refsim Home", short="RHome", plmn="00101", tac="4A2F", ci="0012BEEF",
            band=20, pci=123, earfcn=6300)
ROAM = dict(full="Refsim Partner", short="RPartner", plmn="00202", tac="1B1C", ci="00A1B2C3",
            band=3, pci=77, earfcn=1275)
DENIED_CELL = dict(tac="2C2D", ci="00C0FFEE")
REJECT_CAUSE = 7              # EMM cause #7 "EPS services not allowed"
PIN_CODE = "1234"


def log(msg):
    sys.stderr.write("[refsim] %s\n" % msg)
    sys.stderr.flush()


def uuid_from(seed):
    b = bytearray(hashlib.sha256(seed.encode()).digest()[:16])
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    return bytes(b)


def uuid_str(b):
    h = b.hex()
    return "%s-%s-%s-%s-%s" % (h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# --- minimal CBOR encoder (RFC 8949), enough for the attestation token ---
def cbor_head(major, n):
    if n < 24:
        return bytes([(major << 5) | n])
    if n < 0x100:
        return bytes([(major << 5) | 24, n])
    if n < 0x10000:
        return bytes([(major << 5) | 25]) + n.to_bytes(2, "big")
    if n < 0x100000000:
        return bytes([(major << 5) | 26]) + n.to_bytes(4, "big")
    return bytes([(major << 5) | 27]) + n.to_bytes(8, "big")


def cbor_int(v):
    return cbor_head(0, v) if v >= 0 else cbor_head(1, -1 - v)


def cbor_bstr(b):
    return cbor_head(2, len(b)) + b


def cbor_array(items):
    return cbor_head(4, len(items)) + b"".join(items)


def cbor_map(pairs):
    return cbor_head(5, len(pairs)) + b"".join(k + v for k, v in pairs)


def cbor_tag(tag, inner):
    return cbor_head(6, tag) + inner


def split_args(s):
    """Split a parameter list at commas outside quotes.  Returns (value, quoted)."""
    out, cur, inq, quoted = [], [], False, False
    for ch in s:
        if ch == '"':
            inq = not inq
            quoted = True
            cur.append(ch)
        elif ch == "," and not inq:
            out.append(cur)
            cur = []
        else:
            cur.append(ch)
    out.append(cur)
    res = []
    for part in out:
        t = "".join(part)
        st = t.strip()
        if len(st) >= 2 and st[0] == '"' and st[-1] == '"':
            res.append((st[1:-1], True))
        else:
            res.append((st, False))
    return res


class CmeError(Exception):
    def __init__(self, code):
        Exception.__init__(self, code)
        self.code = code


class PlainError(Exception):
    pass


class Modem:
    def __init__(self, args, write):
        self.write_raw = write
        self.pending = None
        sc = SCENARIOS[args.scenario]
        self.sc = sc
        self.imei = args.imei
        self.firmware = args.firmware
        self.model = "nRF9160-SICA"
        self.cmee = 0
        self.cereg_n = 0
        self.cesq_sub = 0
        self.sysmode = [1, 0, 0, 0]
        self.cfun = 0
        self.lte_on = False
        self.uicc_on = False
        self.stat = 0
        self.sim_present = sc["sim"]
        self.pin_locked = sc["pin"]
        self.iccid = "8900101234567890123F"
        self.imsi = "001011234567890"
        self.creds = {}           # (tag, type) -> (bytes content, passwd)
        self.timers = []          # (due, fn)
        self.clock_offset = args.clock_offset_seconds + sc["clock"]
        self.clock_known = False
        self.clock_user_delta = None   # seconds, set with AT+CCLK=
        self.clock_tz = 0
        self.modem_uuid = uuid_from("fw:" + self.firmware)
        self.device_uuid = uuid_from("dev:" + self.imei)
        self.set_cfun(sc["cfun"], initial=True)

    # ---------------------------------------------------------- output
    def send_lines(self, lines):
        data = "".join(l + "\r\n" for l in lines)
        self.write_raw(data.encode())

    def urc(self, line):
        log("URC %s" % line)
        if self.pending is not None:
            self.pending.append(line)      # sent after the final line of the command
        else:
            self.send_lines([line])

    def err(self, code):
        return "+CME ERROR: %d" % code if self.cmee == 1 else "ERROR"

    # ---------------------------------------------------------- network model
    def cell(self):
        if self.stat == 5:
            return ROAM
        if self.stat == 1:
            return HOME
        if self.stat == 3:
            return DENIED_CELL
        return None

    def registered(self):
        return self.stat in (1, 5)

    def set_stat(self, stat):
        if stat == self.stat:
            return
        self.stat = stat
        if self.registered():
            self.clock_known = True
        if self.cereg_n >= 1:
            self.urc("+CEREG: " + self.cereg_body(self.cereg_n))
        if self.cesq_sub:
            self.send_cesq_urc()

    def active(self):
        return self.cfun in (1, 2, 21) or self.lte_on

    def set_cfun(self, fun, initial=False):
        was_lte = self.lte_on
        if fun == 0:
            self.lte_on, self.uicc_on, self.cfun = False, False, 0
        elif fun == 1:
            self.lte_on, self.uicc_on, self.cfun = True, True, 1
        elif fun == 4:
            self.lte_on, self.uicc_on, self.cfun = False, False, 4
        elif fun == 44:
            self.lte_on, self.uicc_on, self.cfun = False, True, 4
        elif fun == 20:
            self.lte_on = False
            self.cfun = 4 if self.cfun == 1 else self.cfun
        elif fun == 21:
            self.lte_on, self.uicc_on, self.cfun = True, True, 1
        elif fun == 40:
            self.uicc_on = False
        elif fun == 41:
            self.uicc_on = True
        elif fun in (30, 31):
            pass
        else:
            raise CmeError(50)
        self.timers = []
        if self.lte_on and (not was_lte or initial):
            self.start_attach()
        elif not self.lte_on:
            self.stat = 0 if initial else self.stat
            self.set_stat(0)

    def start_attach(self):
        if not self.sim_present:
            self.set_stat(90)
            return
        if self.pin_locked:
            self.set_stat(0)
            return
        self.set_stat(2)
        target = self.sc["stat"]
        if target != 2:
            self.timers.append((time.monotonic() + REG_DELAY_S, lambda: self.set_stat(target)))

    def signal(self):
        if self.registered():
            return self.sc["rsrq"], self.sc["rsrp"], self.sc["snr"]
        return 255, 255, 127

    def cereg_body(self, n, with_n=False):
        parts = [str(self.stat)]
        c = self.cell()
        if n >= 2 and c is not None:
            parts += ['"%s"' % c["tac"], '"%s"' % c["ci"], "7"]
            if n in (3, 5) and self.stat == 3:
                parts += ["0", str(REJECT_CAUSE)]
        body = ",".join(parts)
        return ("%d,%s" % (n, body)) if with_n else body

    def send_cesq_urc(self):
        rsrq, rsrp, _ = self.signal()
        if rsrp == 255:
            ri = 255
        else:
            ri = min(rsrp // 20, 4)
        if rsrq == 255:
            qi = 255
        else:
            qi = min(rsrq // 8, 4)
        self.urc("%%CESQ: %d,%d,%d,%d" % (rsrp, ri, rsrq, qi))

    def tick(self):
        now = time.monotonic()
        due = [t for t in self.timers if t[0] <= now]
        self.timers = [t for t in self.timers if t[0] > now]
        for _, fn in due:
            fn()

    # ---------------------------------------------------------- clock
    def clock_now(self):
        utc = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        if self.clock_user_delta is not None:
            return utc + datetime.timedelta(seconds=self.clock_user_delta), self.clock_tz
        return utc + datetime.timedelta(seconds=self.clock_offset), 0

    # ---------------------------------------------------------- command dispatch
    def handle(self, line):
        s = line.strip()
        if len(s) < 2 or s[:2].upper() != "AT":
            return ["ERROR"]
        rest = s[2:]
        if rest == "":
            return ["OK"]
        m = re.match(r"^([+%][A-Za-z0-9]+)(.*)$", rest, re.S)
        if not m:
            return ["ERROR"]
        name = m.group(1).upper()
        tail = m.group(2)
        if tail == "":
            form, params = "exec", ""
        elif tail == "?":
            form, params = "read", ""
        elif tail == "=?":
            form, params = "test", ""
        elif tail.startswith("="):
            form, params = "set", tail[1:]
        else:
            return ["ERROR"]
        fn = getattr(self, "cmd_" + name[1:].lower(), None) if name[0] in "+%" else None
        if fn is None or not hasattr(fn, "_prefix") or fn._prefix != name[0]:
            return ["ERROR"]
        try:
            out = fn(form, params)
        except CmeError as e:
            return [self.err(e.code)]
        except PlainError:
            return ["ERROR"]
        except (ValueError, IndexError):
            return [self.err(50)]
        return out + ["OK"]

    # ---------------------------------------------------------- commands
    def need(self, cond):
        if not cond:
            raise PlainError()


def command(prefix):
    def deco(f):
        f._prefix = prefix
        return f
    return deco


def _int(v):
    return int(v[0], 10)


@command("+")
def cmd_cgsn(self, form, params):
    if form == "exec":
        return [self.imei]
    if form == "set":
        snt = _int(split_args(params)[0])
        if snt == 0:
            return [self.imei]
        if snt == 1:
            return ['+CGSN: "%s"' % self.imei]
        if snt == 2:
            return ['+CGSN: "%s%s"' % (self.imei[:14], "35")]
        if snt == 3:
            return ['+CGSN: "35"']
        raise CmeError(50)
    if form == "test":
        return ["+CGSN: (0-3)"]
    raise PlainError()


@command("+")
def cmd_cgmi(self, form, params):
    self.need(form == "exec")
    return ["Nordic Semiconductor ASA"]


@command("+")
def cmd_cgmm(self, form, params):
    self.need(form == "exec")
    return [self.model]


@command("+")
def cmd_cgmr(self, form, params):
    self.need(form == "exec")
    return [self.firmware]


@command("%")
def cmd_xmodemuuid(self, form, params):
    self.need(form == "exec")
    return ["%%XMODEMUUID: %s" % uuid_str(self.modem_uuid)]


@command("%")
def cmd_shortswver(self, form, params):
    self.need(form == "exec")
    return ["%%SHORTSWVER: %s" % self.firmware.replace("mfw_", "")]


@command("%")
def cmd_hwversion(self, form, params):
    self.need(form == "exec")
    return ["%HWVERSION: nRF9160 SICA B1A"]


@command("+")
def cmd_cmee(self, form, params):
    if form == "read":
        return ["+CMEE: %d" % self.cmee]
    if form == "test":
        return ["+CMEE: (0,1)"]
    if form == "set":
        v = _int(split_args(params)[0])
        self.need(v in (0, 1))
        self.cmee = v
        return []
    raise PlainError()


@command("+")
def cmd_cfun(self, form, params):
    if form == "read":
        return ["+CFUN: %d" % self.cfun]
    if form == "test":
        return ["+CFUN: (0,1,4,20,21,30,31,40,41,44)"]
    if form == "set":
        self.set_cfun(_int(split_args(params)[0]))
        return []
    raise PlainError()


def _sim_readable(self):
    if not self.uicc_on or not self.sim_present:
        return False
    return True


@command("+")
def cmd_cpin(self, form, params):
    if form == "read":
        if not self.sim_present or not self.uicc_on:
            raise CmeError(10)          # 3GPP 27.007: SIM not inserted
        return ['+CPIN: "SIM PIN"'] if self.pin_locked else ["+CPIN: READY"]
    if form == "set":
        if not self.sim_present or not self.uicc_on:
            raise CmeError(10)
        pin = split_args(params)[0][0]
        if not self.pin_locked:
            raise CmeError(3)           # operation not allowed
        if pin != PIN_CODE:
            raise CmeError(16)          # incorrect password
        self.pin_locked = False
        if self.lte_on:
            self.start_attach()
        return []
    raise PlainError()


@command("%")
def cmd_xiccid(self, form, params):
    self.need(form == "exec" and _sim_readable(self))
    return ["%%XICCID: %s" % self.iccid]


@command("+")
def cmd_cimi(self, form, params):
    self.need(form == "exec" and _sim_readable(self) and not self.pin_locked)
    return [self.imsi]


@command("%")
def cmd_xsystemmode(self, form, params):
    if form == "read":
        return ["%%XSYSTEMMODE: %s" % ",".join(str(v) for v in self.sysmode)]
    if form == "set":
        vals = [_int(a) for a in split_args(params)]
        self.need(len(vals) == 4 and all(v in (0, 1) for v in vals[:3]) and 0 <= vals[3] <= 4)
        if self.active():
            raise CmeError(518)
        self.sysmode = vals
        return []
    raise PlainError()


@command("+")
def cmd_cereg(self, form, params):
    if form == "read":
        return ["+CEREG: " + self.cereg_body(self.cereg_n, with_n=True)]
    if form == "test":
        return ["+CEREG: (0-5)"]
    if form == "set":
        v = _int(split_args(params)[0])
        self.need(0 <= v <= 5)
        self.cereg_n = v
        return []
    raise PlainError()


@command("+")
def cmd_cesq(self, form, params):
    self.need(form == "exec")
    rsrq, rsrp, _ = self.signal()
    return ["+CESQ: 99,99,255,255,%d,%d" % (rsrq, rsrp)]


@command("%")
def cmd_xmonitor(self, form, params):
    self.need(form == "exec")
    if not self.registered():
        return ["%%XMONITOR: %d" % self.stat]
    c = self.cell()
    rsrq, rsrp, snr = self.signal()
    return ['%%XMONITOR: %d,"%s","%s","%s","%s",7,%d,"%s",%d,%d,%d,%d,"","11100000","00111000","00101100"'
            % (self.stat, c["full"], c["short"], c["plmn"], c["tac"], c["band"], c["ci"],
               c["pci"], c["earfcn"], rsrp, snr)]


@command("+")
def cmd_cclk(self, form, params):
    if form == "read":
        if not self.clock_known:
            raise PlainError()
        t, tz = self.clock_now()
        local = t + datetime.timedelta(minutes=15 * tz)
        return ['+CCLK: "%s%s%02d"' % (local.strftime("%y/%m/%d,%H:%M:%S"), "-" if tz < 0 else "+", abs(tz))]
    if form == "set":
        v = split_args(params)[0]
        m = re.match(r"^(\d\d)/(\d\d)/(\d\d),(\d\d):(\d\d):(\d\d)([+-]\d\d?)?$", v[0])
        if not v[1] or not m:
            raise CmeError(50)
        y, mo, d, h, mi, se = (int(x) for x in m.groups()[:6])
        tz = int(m.group(7) or 0)
        if not -48 <= tz <= 48:
            raise CmeError(50)
        local = datetime.datetime(2000 + y, mo, d, h, mi, se)
        utc_given = local - datetime.timedelta(minutes=15 * tz)
        utc_now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        self.clock_user_delta = (utc_given - utc_now).total_seconds()
        self.clock_tz = tz
        self.clock_known = True
        return []
    raise PlainError()


@command("%")
def cmd_cmng(self, form, params):
    self.need(form == "set")
    args = split_args(params)
    op = _int(args[0])
    if op == 1:
        tag = _int(args[1]) if len(args) > 1 and args[1][0] != "" else None
        typ = _int(args[2]) if len(args) > 2 and args[2][0] != "" else None
        out = []
        for (t, ty) in sorted(self.creds):
            if tag is not None and t != tag:
                continue
            if typ is not None and ty != typ:
                continue
            out.append('%%CMNG: %d,%d,"%s"' % (t, ty, hashlib.sha256(self.creds[(t, ty)][0]).hexdigest().upper()))
        return out
    if op not in (0, 2, 3) or len(args) < 3:
        raise CmeError(50)
    tag, typ = _int(args[1]), _int(args[2])
    if tag < 0 or typ < 0:
        raise CmeError(50)
    key = (tag, typ)
    if op == 2:
        if key not in self.creds:
            raise CmeError(513)
        if typ not in READABLE_TYPES:
            raise CmeError(514)
        content = self.creds[key][0]
        return ['%%CMNG: %d,%d,"%s","%s"' % (tag, typ, hashlib.sha256(content).hexdigest().upper(),
                                             content.decode("latin-1"))]
    if op == 3:
        if tag > USER_TAG_MAX:
            raise CmeError(514)
        if self.active():
            raise CmeError(518)
        if key not in self.creds:
            raise CmeError(513)
        del self.creds[key]
        return []
    # op == 0: write
    if len(args) < 4 or not args[3][1]:
        raise CmeError(50)
    if tag > USER_TAG_MAX or typ not in WRITABLE_TYPES:
        raise CmeError(514)
    if self.active():
        raise CmeError(518)
    content = args[3][0].encode("latin-1")
    if len(content) == 0:
        raise CmeError(50)
    passwd = args[4][0] if len(args) > 4 else None
    if key not in self.creds and len(self.creds) >= MAX_CREDENTIALS:
        raise CmeError(515)
    self.creds[key] = (content, passwd)
    return []


@command("%")
def cmd_xfactoryreset(self, form, params):
    self.need(form == "set")
    v = _int(split_args(params)[0])
    self.need(v in (0, 1))
    if self.active():
        raise CmeError(518)
    self.sysmode = [1, 0, 0, 0]
    self.cereg_n = 0
    self.cesq_sub = 0
    if v == 0:
        self.creds = {k: c for k, c in self.creds.items() if k[0] > USER_TAG_MAX}
    return []


@command("%")
def cmd_attesttoken(self, form, params):
    if form == "set":
        ch = split_args(params)[0]
        if not ch[1] or not re.match(r"^[0-9A-Fa-f]{32}$", ch[0]):
            raise CmeError(50)
        nonce = bytes.fromhex(ch[0])
    elif form == "exec":
        nonce = secrets.token_bytes(16)
    else:
        raise PlainError()
    msg = cbor_tag(55799, cbor_array([cbor_int(1), cbor_bstr(self.device_uuid), cbor_int(3),
                                      cbor_bstr(self.modem_uuid), cbor_bstr(nonce)]))
    protected = cbor_map([(cbor_int(1), cbor_int(-7))])
    cose = cbor_tag(18, cbor_array([cbor_bstr(protected), cbor_map([]),
                                    cbor_bstr(hashlib.sha256(msg).digest()),
                                    cbor_bstr(secrets.token_bytes(64))]))
    return ['%%ATTESTTOKEN: "%s.%s"' % (b64url(msg), b64url(cose))]


@command("%")
def cmd_keygen(self, form, params):
    raise PlainError()


for _f in list(globals().values()):
    if callable(_f) and getattr(_f, "__name__", "").startswith("cmd_"):
        setattr(Modem, _f.__name__, _f)


# %CESQ and +CESQ share a Python name; route %CESQ separately.
_plus_cesq = Modem.cmd_cesq


@command("%")
def _pct_cesq(self, form, params):
    if form == "set":
        v = _int(split_args(params)[0])
        self.need(v in (0, 1))
        self.cesq_sub = v
        if v and self.registered():
            self.timers.append((time.monotonic() + 0.05, self.send_cesq_urc))
        return []
    raise PlainError()


_orig_handle = Modem.handle


def _handle(self, line):
    s = line.strip()
    if s[:7].upper() == "AT%CESQ":
        tail = s[7:]
        if tail.startswith("=") and tail != "=?":
            try:
                return _pct_cesq(self, "set", tail[1:]) + ["OK"]
            except CmeError as e:
                return [self.err(e.code)]
            except (PlainError, ValueError, IndexError):
                return ["ERROR"]
        return ["ERROR"]
    return _orig_handle(self, line)


Modem.handle = _handle


def describe(line):
    """Loggable form of a command: credential contents are never logged."""
    if '"' in line and line[:7].upper() in ("AT%CMNG", "AT%XPMN", "AT+CPIN"):
        return "%r... (%d bytes)" % (line[:20], len(line))
    return repr(line)


# ------------------------------------------------------------------ serving loops
class Server:
    def __init__(self, args):
        self.args = args
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        attrs = termios.tcgetattr(self.slave)
        attrs[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON)
        termios.tcsetattr(self.slave, termios.TCSANOW, attrs)
        self.path = os.ttyname(self.slave)
        self.running = True
        self.buf = bytearray()
        self.inq = False
        self.overflow = False
        self.last_rx = time.monotonic()
        self.prev_cr = False

    def write(self, data):
        try:
            os.write(self.master, data)
        except OSError as e:
            log("write failed: %s" % e)

    def serve(self):
        mode = self.args.scenario
        modem = None
        if mode not in ("not-at-host", "silent"):
            modem = Modem(self.args, self.write)
        elif mode == "not-at-host":
            self.write(b"\r\n\r\nuart:~$ ")
        while self.running:
            try:
                r, _, _ = select.select([self.master], [], [], 0.05)
            except InterruptedError:
                continue
            if modem is not None:
                modem.tick()
            if not r:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                time.sleep(0.05)
                continue
            now = time.monotonic()
            gap = now - self.last_rx
            self.last_rx = now
            if mode == "silent":
                log("silent: ignored %d bytes" % len(data))
            elif mode == "not-at-host":
                self.shell_bytes(data)
            else:
                self.at_bytes(data, gap, modem)

    # Zephyr shell imitation: echo, "<argv0>: command not found", new prompt.
    def shell_bytes(self, data):
        for b in data:
            if b in (CR, LF):
                if b == LF and self.prev_cr:
                    self.prev_cr = False
                    continue
                self.prev_cr = b == CR
                line = self.buf.decode("latin-1").strip()
                self.buf = bytearray()
                out = "\r\n"
                if line:
                    log("shell got %r" % line)
                    out += "%s: command not found\r\n" % line.split()[0]
                out += "uart:~$ "
                self.write(out.encode("latin-1"))
            else:
                self.prev_cr = False
                if b in (0x08, 0x7F):
                    if self.buf:
                        self.buf.pop()
                        self.write(b"\x08 \x08")
                elif 0x20 <= b < 0x7F:
                    self.buf.append(b)
                    self.write(bytes([b]))

    def at_bytes(self, data, gap, modem):
        stall = self.args.stall_write_bytes
        for i, b in enumerate(data):
            g = gap if i == 0 else 0.0
            if self.overflow:
                if b in (CR, LF) and g >= STALL_RECOVER_IDLE_S:
                    log("stall: line end after %.1f s idle, input accepted again" % g)
                    self.overflow = False
                    self.buf = bytearray()
                    self.inq = False
                continue
            if b == 0:
                continue
            if b == ord('"'):
                self.inq = not self.inq
                self.buf.append(b)
            elif b in (CR, LF) and not self.inq:
                line = self.buf.decode("latin-1")
                self.buf = bytearray()
                self.inq = False
                if line.strip() == "":
                    continue
                log("cmd %s" % describe(line.strip()))
                modem.pending = []
                answer = modem.handle(line)
                log("  -> %s" % (answer[-1]))
                modem.send_lines(answer + modem.pending)
                modem.pending = None
            elif b in (0x08, 0x7F) and not self.inq:
                if self.buf:
                    self.buf.pop()
            else:
                self.buf.append(b)
            if stall is not None and self.inq and len(self.buf) > stall:
                log("stall: command passed %d bytes inside quotes; dropping input" % stall)
                self.overflow = True
                self.buf = bytearray()


def main():
    ap = argparse.ArgumentParser(description="Independent nRF9160 AT reference simulator")
    ap.add_argument("--scenario", default="registered", choices=sorted(SCENARIOS))
    ap.add_argument("--link", help="create a symlink to the pty slave here")
    ap.add_argument("--imei", default="352656100000002")
    ap.add_argument("--firmware", default="mfw_nrf9160_1.3.5")
    ap.add_argument("--clock-offset-seconds", type=int, default=0)
    ap.add_argument("--stall-write-bytes", type=int, default=None)
    args = ap.parse_args()
    if not re.match(r"^\d{15}$", args.imei):
        ap.error("--imei needs 15 digits")

    srv = Server(args)
    if args.link:
        try:
            if os.path.islink(args.link):
                os.unlink(args.link)
            os.symlink(srv.path, args.link)
        except OSError as e:
            log("cannot create link %s: %s" % (args.link, e))
            args.link = None
    sys.stdout.write(srv.path + "\n")
    sys.stdout.flush()
    log("scenario=%s pty=%s" % (args.scenario, srv.path))

    def stop(signum, frame):
        srv.running = False
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        srv.serve()
    finally:
        if args.link and os.path.islink(args.link):
            os.unlink(args.link)
        log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
