"""What the benches' aiosmtpd peers share: start, say READY, serve until SIGTERM/SIGINT/SIGHUP."""
import signal, threading


def serve_until_signal(controller, before_ready=None):
    """Starts CONTROLLER, calls BEFORE_READY (if any), prints READY, and stops on a signal."""
    controller.start()
    if before_ready is not None:
        before_ready()
    print("READY", flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    controller.stop()
