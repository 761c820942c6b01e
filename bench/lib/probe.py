#!/usr/bin/python3
"""Latency probes (bench/latency.sh and idle-connections.sh, issue 11's B2 and B5).

  probe.py send HOST PORT COUNT INTERVAL_MS OUT   sends COUNT probe messages, one at a time over
      one session, one every INTERVAL_MS, from probe@probe.test; appends "N UNIX-TIME" to OUT when
      the 250 to each message's final dot is read (the client's view of "accepted")
  probe.py report ACKS ARRIVALS LO HI             prints "p50 p99 n missing" in milliseconds:
      arrival at the sink (latency_sink.py) minus the 250, over probe numbers LO <= N < HI
"""
import smtplib, sys, time

if sys.argv[1] == "send":
    host, port, count, interval, out = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]) / 1000, sys.argv[6]
    start = int(sys.argv[7]) if len(sys.argv) > 7 else 0
    with open(out, "a", buffering=1) as f, smtplib.SMTP(host, port, timeout=120) as s:
        s.ehlo("probe.test")
        nxt = time.monotonic()
        for k in range(start, start + count):
            msg = (f"From: <probe@probe.test>\r\nTo: <rcpt@bench.example>\r\nSubject: probe {k}\r\n"
                   f"X-Bench-Probe: {k}\r\n\r\nlatency probe {k}\r\n")
            s.sendmail("probe@probe.test", ["rcpt@bench.example"], msg)
            f.write(f"{k} {time.time():.6f}\n")
            nxt += interval
            time.sleep(max(0.0, nxt - time.monotonic()))
elif sys.argv[1] == "report":
    def load(path):
        d = {}
        for line in open(path):
            k, t = line.split()
            d[int(k)] = float(t)
        return d
    acks, arrivals = load(sys.argv[2]), load(sys.argv[3])
    lo, hi = int(sys.argv[4]), int(sys.argv[5])
    mine = {k: t for k, t in acks.items() if lo <= k < hi}
    lat = sorted((arrivals[k] - t) * 1000 for k, t in mine.items() if k in arrivals)
    missing = sum(1 for k in mine if k not in arrivals)
    if not lat:
        print("n.a. n.a. 0", missing)
    else:
        pct = lambda p: lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))]
        print(f"{pct(50):.2f} {pct(99):.2f} {len(lat)} {missing}")
