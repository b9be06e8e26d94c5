#!/usr/bin/env python3
"""Writes docker/seccomp-io_uring.json: a container engine's default seccomp profile plus
io_uring_setup, io_uring_enter and io_uring_register, as one extra rule of its own.

    docker/make-seccomp.py [DEFAULT_PROFILE] > docker/seccomp-io_uring.json

DEFAULT_PROFILE defaults to /usr/share/containers/seccomp.json, the default profile
podman uses (Debian's golang-github-containers-common), which follows Docker's (moby's
profiles/seccomp/default.json) rule for rule in the same format. Docker's own file can
be given instead where it can be had. The input is left as it is but for the one rule
added; no other call is allowed.
"""
import json
import sys

IO_URING = ["io_uring_enter", "io_uring_register", "io_uring_setup"]


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/containers/seccomp.json"
    with open(path) as f:
        profile = json.load(f)
    for rule in profile["syscalls"]:
        if rule.get("action") == "SCMP_ACT_ALLOW" and set(IO_URING) & set(rule["names"]):
            print(f"{path} already allows io_uring", file=sys.stderr)
            return 1
    profile["syscalls"].append({
        "names": IO_URING,
        "action": "SCMP_ACT_ALLOW",
        "args": [],
        "comment": "dusty: allow io_uring (blocked by Docker's and podman's defaults since "
                   "io_uring has had privilege-escalation bugs; see docker/README.md)",
        "includes": {},
        "excludes": {},
    })
    json.dump(profile, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
