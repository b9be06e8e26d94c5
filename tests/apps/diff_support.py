"""What the differential app tests (httpbin_diff_test.py, serve_diff_test.py) share:
counting checks, free loopback ports, and waiting for a server to listen."""
import socket
import time

failures = []
_passed = 0


def check(cond, what, detail=""):
    """Counts a passed check, or records and prints a failed one."""
    global _passed
    if cond:
        _passed += 1
    else:
        failures.append(what + (": " + detail if detail else ""))
        print("FAIL", what, detail[:2000], flush=True)


def passed():
    return _passed


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, deadline):
    """Returns once 127.0.0.1:port accepts; raises if `proc` exits or `deadline` passes."""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with status %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not listen on port %d" % port)
