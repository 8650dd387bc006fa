"""``ptyflow transfer``: its parser and its thin, lazily importing commands."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ptyflow.cli._options import add_overrides

if TYPE_CHECKING:
    from ptyflow.config.transfer import TransferConfig
    from ptyflow.transfer import Transfer

__all__ = ["add_transfer_parser"]

log = logging.getLogger("ptyflow")

_DESCRIPTION = """\
Move every store from the acquisition output directory to the group server and prove that
what arrived is what was written.

  run (default)  watch the directory, queue each store (a SQLite queue that survives kill -9),
                 send sealed stores with rsync (over ssh with a pinned host key, or to a
                 local path), check every file on the server with sha256sum against the
                 store's manifest, re-send what differs, and write a provenance record of the
                 transfer beside the store on the server; then apply the disk policy
  status         show the queue: pending, in flight, verified, failed (with the reason),
                 sizes and rates
  verify         check stores already verified again on the server and repair them from
                 the local copy (all of them, or those named with --store)
"""


def add_transfer_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "transfer",
        help="send stores to the server with rsync+ssh, verified against their manifests",
        description=_DESCRIPTION,
        epilog="examples:\n"
        "  ptyflow transfer --config configs/transfer.toml\n"
        "  ptyflow transfer status --config configs/transfer.toml\n"
        "  ptyflow transfer verify --config configs/transfer.toml --store scan_0042.zarr\n"
        "docs: docs/transfer.md",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "action", nargs="?", choices=["run", "status", "verify"], default="run", help="default: run"
    )
    p.add_argument(
        "--store",
        dest="stores",
        action="append",
        default=[],
        metavar="NAME",
        help="verify: only this store (repeatable; default: every verified store)",
    )
    p.add_argument(
        "--config", "-c", type=Path, required=True, help="transfer config (configs/transfer.toml)"
    )
    p.add_argument(
        "--exit-when-idle",
        action="store_true",
        help="run: stop once every sealed store found is verified or failed (instead of "
        "watching on); stores still being acquired are left for the next run",
    )
    add_overrides(p, "rsync.bandwidth_limit_KiB_per_s=50000")
    p.set_defaults(func=_transfer)


def _load(args: argparse.Namespace) -> TransferConfig:
    from ptyflow.config import load_toml
    from ptyflow.config.transfer import TransferConfig

    config = load_toml(args.config, TransferConfig, args.overrides)
    return config.resolved(args.config.resolve().parent)


def _transfer(args: argparse.Namespace) -> int:
    from ptyflow.errors import ConfigError

    if args.stores and args.action != "verify":
        raise ConfigError(f"--store is only taken by 'verify', not by {args.action!r}")
    config = _load(args)
    if args.action == "status":
        return _status(config)
    if args.action == "verify":
        return _verify(config, args.stores)
    return _run(config, exit_when_idle=args.exit_when_idle)


def _status(config: TransferConfig) -> int:
    from rich.console import Console

    from ptyflow.transfer import Queue, render_status

    if not config.queue_db.is_file():
        Console().print(f"no queue yet at {config.queue_db} (the transfer has not run)")
        return 0
    Console().print(render_status(Queue(config.queue_db).items()))
    return 0


def _run(config: TransferConfig, *, exit_when_idle: bool) -> int:
    from ptyflow.transfer import State, Transfer

    # SIGTERM interrupts like Ctrl-C (ptyflow.cli.main): the queue keeps the store in
    # flight, and the next run resumes it.
    with Transfer(config) as transfer:
        log.info(
            "watching %s, sending to %s (queue %s)",
            config.source.watch_dir,
            transfer.dest.label,
            config.queue_db,
        )
        transfer.run(exit_when_idle=exit_when_idle)
        failed = transfer.queue.items(State.FAILED)
    for item in failed:
        log.error("%s failed: %s", item.name, item.reason)
    return 1 if failed else 0


def _verify(config: TransferConfig, names: list[str]) -> int:
    from ptyflow.transfer import Transfer

    if not config.queue_db.is_file():  # not created here: nothing was ever verified
        log.warning("no queue at %s (the transfer has not run); nothing to check", config.queue_db)
        return 0
    with Transfer(config) as transfer:
        return _verify_with(transfer, names)


def _verify_with(transfer: Transfer, names: list[str]) -> int:
    from ptyflow.errors import TransferError
    from ptyflow.transfer import State

    config = transfer.config
    items = {item.name: item for item in transfer.queue.items(State.VERIFIED)}
    unknown = [n for n in names if n not in items]
    if unknown:
        raise TransferError(
            f"not verified in the queue {config.queue_db}: {', '.join(map(repr, unknown))} "
            f"(verified: {', '.join(sorted(items)) or 'none'})"
        )
    chosen = [items[n] for n in names] if names else list(items.values())
    if not chosen:
        log.warning("no store is verified in the queue %s yet; nothing to check", config.queue_db)
    bad = 0
    for item in chosen:
        if item.local_deleted or not item.source.is_dir():
            log.warning("%s: no local copy to check against; skipped", item.name)
            continue
        transfer.queue.requeue(item.name)
        result = transfer.process(transfer.queue.get(item.name) or item)
        if result is None:
            bad += 1
        elif result.repaired:
            log.warning("%s: repaired %s", item.name, ", ".join(result.repaired))
    return 1 if bad else 0
