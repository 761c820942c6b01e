#!/usr/bin/python3
"""An upstream relay requiring STARTTLS and AUTH that counts (bench/upstream-tls.sh, issue 11's B3).

Like the SES stand-in of the tests (tests/EndToEnd.Tests/Peers/upstream_smtp.py) but keeps nothing:
it rewrites COUNTFILE with "AUTHENTICATED-SESSIONS MESSAGES" after every message. Each client
connection authenticates once, so the first number is the upstream connections used. Prints READY
once listening; runs until SIGTERM.
"""
import argparse, os, ssl, threading
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from serve import serve_until_signal

parser = argparse.ArgumentParser()
for a in ("--host", "--cert", "--key", "--user", "--password", "--countfile"):
    parser.add_argument(a, required=True)
parser.add_argument("--port", type=int, required=True)
args = parser.parse_args()
lock = threading.Lock()
state = {"sessions": 0, "messages": 0}


def write():
    tmp = args.countfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{state['sessions']} {state['messages']}\n")
    os.replace(tmp, args.countfile)


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user and auth_data.password.decode() == args.password
    if ok:
        with lock:
            state["sessions"] += 1
    return AuthResult(success=ok)


class Handler:
    async def handle_DATA(self, server, session, envelope):
        with lock:
            state["messages"] += 1
            write()
        return "250 2.0.0 Ok: queued"


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(args.cert, args.key)
serve_until_signal(Controller(Handler(), hostname=args.host, port=args.port, tls_context=context, require_starttls=True,
                              authenticator=authenticator, auth_require_tls=True), before_ready=write)
