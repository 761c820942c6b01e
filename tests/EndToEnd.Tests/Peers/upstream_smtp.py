#!/usr/bin/python3
"""An upstream relay standing in for Amazon SES: STARTTLS and AUTH are required.

Every accepted message is written to OUTDIR as N.eml (the bytes received) and N.json (the
envelope, the authenticated login and whether TLS was on). --fail-first N answers the first N
DATA commands with 454 (SES's throttling reply). --port 0 takes a free port (the tests read it
from the kernel); --reuse-port joins a port the tests hold reserved. Prints "READY" once listening.

Runs until stdin closes (the tests hold it open) or until SIGTERM, SIGINT or SIGHUP; with
--until-signal stdin is not read at all (scripts/run-example.sh: stdin may be /dev/null).
"""
import argparse, asyncio, json, os, signal, socket, ssl, sys, threading
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

parser = argparse.ArgumentParser()
parser.add_argument("--host", required=True)
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--cert", required=True)
parser.add_argument("--key", required=True)
parser.add_argument("--user", required=True)
parser.add_argument("--password", required=True)
parser.add_argument("--outdir", required=True)
parser.add_argument("--fail-first", type=int, default=0)
parser.add_argument("--greylist", action="store_true", help="answer every RCPT with 450 (greylisting)")
parser.add_argument("--implicit-tls", action="store_true", help="TLS from connect (port 465 style) instead of STARTTLS")
parser.add_argument("--reuse-port", action="store_true", help="bind with SO_REUSEPORT (the port is held reserved by the test)")
parser.add_argument("--smtputf8", action="store_true", help="offer SMTPUTF8 (RFC 6531)")
parser.add_argument("--until-signal", action="store_true", help="ignore stdin; run until SIGTERM/SIGINT/SIGHUP")
args = parser.parse_args()

lock = threading.Lock()
state = {"count": 0, "failures_left": args.fail_first, "auth_attempts": 0}


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if args.greylist:
            return "450 4.2.0 " + address + ": Recipient address rejected: Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with lock:
            if state["failures_left"] > 0:
                state["failures_left"] -= 1
                return "454 4.7.0 Throttling failure: Maximum sending rate exceeded."
            state["count"] += 1
            n = state["count"]
        base = os.path.join(args.outdir, str(n))
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        login = session.auth_data.login if session.authenticated and isinstance(session.auth_data, LoginPassword) else None
        with open(base + ".json.tmp", "w") as f:
            json.dump({
                "mail_from": envelope.mail_from,
                "mail_options": envelope.mail_options,
                "rcpt_tos": envelope.rcpt_tos,
                "login": login.decode() if isinstance(login, bytes) else login,
                "tls": session.ssl is not None or args.implicit_tls,
                "session": id(session),
            }, f)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 2.0.0 Ok: stored as " + str(n)


def authenticator(server, session, envelope, mechanism, auth_data):
    with lock:
        state["auth_attempts"] += 1
        with open(os.path.join(args.outdir, "auth_attempts"), "w") as f:
            f.write(str(state["auth_attempts"]))
    if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user and auth_data.password.decode() == args.password:
        return AuthResult(success=True, auth_data=auth_data)
    return AuthResult(success=False, handled=False)


class BoundController(Controller):
    """A Controller on a socket bound before it starts: port 0 and reserved ports work."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if args.reuse_port:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self.sock.bind((self.hostname, self.port))
        self.port = self.sock.getsockname()[1]

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self.sock, ssl=self.ssl_context)


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(args.cert, args.key)
if args.implicit_tls:
    controller = BoundController(
        Handler(), hostname=args.host, port=args.port, ssl_context=context,
        # aiosmtpd only counts STARTTLS as TLS for auth_require_tls; here the socket is TLS from connect.
        auth_required=True, auth_require_tls=False, authenticator=authenticator, ready_timeout=10,
        enable_SMTPUTF8=args.smtputf8)
else:
    controller = BoundController(
        Handler(), hostname=args.host, port=args.port, tls_context=context,
        require_starttls=True, auth_required=True, auth_require_tls=True,
        authenticator=authenticator, ready_timeout=10, enable_SMTPUTF8=args.smtputf8)
stop = threading.Event()
for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(signum, lambda *_: stop.set())
if not args.until_signal:
    def read_stdin():
        sys.stdin.read()  # returns when stdin closes
        stop.set()
    threading.Thread(target=read_stdin, daemon=True).start()

controller.start()
print("READY", flush=True)
try:
    while not stop.wait(0.2):  # a timed wait lets the signal handlers run promptly
        pass
finally:
    controller.stop()
