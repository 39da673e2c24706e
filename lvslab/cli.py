"""Command line: lvslab image|up|down|status|ssh|client|crash|stop|start."""

from __future__ import annotations

import argparse
import json
import os
import sys

from . import LabError


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="lvslab", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    p = sub.add_parser("image", help="build the guest image (reused when its inputs match)")
    p.add_argument("--force", action="store_true", help="rebuild even if cached")

    p = sub.add_parser("up", help="boot the guests that inventory/PROFILE describes")
    p.add_argument("profile")
    p.add_argument("--name", help="lab name (default: the profile)")

    for cmd, text in (
        ("down", "stop every guest and remove the lab's network"),
        ("status", "show guests, states and addresses"),
    ):
        p = sub.add_parser(cmd, help=text)
        p.add_argument("--name", help="lab name (default: the only lab that is up)")
        if cmd == "status":
            p.add_argument("--json", action="store_true")

    p = sub.add_parser("ssh", help="ssh into a guest, or run a command there")
    p.add_argument("guest")
    p.add_argument("--name")
    p.add_argument("command", nargs=argparse.REMAINDER)

    p = sub.add_parser("client", help="run a command on the client side (e.g. curl a VIP)")
    p.add_argument("--name")
    p.add_argument(
        "--address",
        help="run it in a client namespace of its own with this one address "
        "(203.0.113.128/25), made on first use",
    )
    p.add_argument("command", nargs=argparse.REMAINDER)

    for cmd, text in (
        ("crash", "power cut: kill the guest's process group"),
        ("stop", "clean halt of a guest"),
        ("start", "boot a stopped or crashed guest again, its disk kept"),
    ):
        p = sub.add_parser(cmd, help=text)
        p.add_argument("guest")
        p.add_argument("--name")
    return ap


def _strip_dashdash(cmd: list[str]) -> list[str]:
    return cmd[1:] if cmd and cmd[0] == "--" else cmd


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.cmd == "image":
            from . import image

            _need_root()
            image.build(force=args.force)
            return 0
        from . import lab

        _need_root()
        if args.cmd == "up":
            lab.up(args.profile, args.name or args.profile)
            return 0
        name = lab.resolve_name(args.name)
        if args.cmd == "down":
            lab.down(name)
            return 0
        if args.cmd == "status":
            state = lab.status(name)
            if args.json:
                print(json.dumps(state, indent=2))
            else:
                print(lab.format_status(state))
            return 0
        if args.cmd == "ssh":
            return lab.ssh(name, args.guest, _strip_dashdash(args.command))
        if args.cmd == "client":
            return lab.client(name, _strip_dashdash(args.command), args.address)
        if args.cmd == "crash":
            lab.crash(name, args.guest)
        elif args.cmd == "stop":
            lab.stop(name, args.guest)
        elif args.cmd == "start":
            lab.start(name, args.guest)
        return 0
    except LabError as exc:
        print(f"lvslab: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lvslab: interrupted", file=sys.stderr)
        return 130


def _need_root() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, tap devices): run as root")


if __name__ == "__main__":
    sys.exit(main())
