#!/usr/bin/python3
"""Holds COUNT idle SMTP sessions open (bench/idle-connections.sh, issue 11's B5).

  idle_clients.py HOST PORT COUNT

Each connection reads the greeting, says EHLO, reads the reply, then stays silent. Prints
"READY n" once all are established (n: those that got a 250 to EHLO), then holds them until
SIGTERM or SIGINT.
"""
import asyncio, signal, sys

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


async def reply(reader):
    while True:
        line = await reader.readline()
        if not line or line[3:4] != b"-":
            return line


async def session(held):
    reader, writer = await asyncio.open_connection(host, port)
    greeting = await reply(reader)
    if not greeting.startswith(b"220"):
        writer.close()
        return 0
    writer.write(b"EHLO idle.bench.test\r\n")
    await writer.drain()
    ok = (await reply(reader)).startswith(b"250")
    held.append(writer)
    return int(ok)


async def main():
    held = []
    results = []
    for i in range(0, count, 100):  # 100 at a time: no SYN flood against the listen backlog
        results += await asyncio.gather(*(session(held) for _ in range(min(100, count - i))), return_exceptions=True)
    ok = sum(r for r in results if isinstance(r, int))
    print(f"READY {ok}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for w in held:
        w.close()

asyncio.run(main())
