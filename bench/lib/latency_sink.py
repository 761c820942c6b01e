#!/usr/bin/python3
"""A sink that notes when each probe message arrives (bench/latency.sh, issue 11's B2).

Listens on HOST:PORT (plain SMTP, aiosmtpd) and appends "PROBE-NUMBER UNIX-TIME" to OUT for every
message carrying an "X-Bench-Probe: N" header. Prints READY once listening; runs until SIGTERM.
"""
import argparse, re, threading, time
from aiosmtpd.controller import Controller
from serve import serve_until_signal

parser = argparse.ArgumentParser()
parser.add_argument("--host", required=True)
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()
probe = re.compile(rb"^X-Bench-Probe: *(\d+)", re.M | re.I)
out = open(args.out, "a", buffering=1)
lock = threading.Lock()


class Handler:
    async def handle_DATA(self, server, session, envelope):
        now = time.time()
        m = probe.search(envelope.original_content or envelope.content)
        if m:
            with lock:
                out.write(f"{int(m.group(1))} {now:.6f}\n")
        return "250 2.0.0 Ok"


serve_until_signal(Controller(Handler(), hostname=args.host, port=args.port))
