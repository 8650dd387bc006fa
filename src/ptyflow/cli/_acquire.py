"""``ptyflow acquire`` and ``ptyflow emulate``: thin functions that import lazily."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

__all__ = ["acquire", "add_acquire_parsers", "emulate"]

log = logging.getLogger("ptyflow")


def acquire(args: argparse.Namespace) -> int:
    from ptyflow.config import load_toml
    from ptyflow.config.acquire import AcquireConfig
    from ptyflow.errors import ConfigError

    if args.action == "status":
        from ptyflow.acquire import fetch_status

        where = args.url
        if where is None:
            if args.config is None:
                raise ConfigError("ptyflow acquire status: give --url URL or --config CONFIG")
            where = load_toml(args.config, AcquireConfig, args.overrides).output.directory
        print(json.dumps(fetch_status(where), indent=2))
        return 0
    if args.config is None:
        raise ConfigError("ptyflow acquire: --config CONFIG is required")
    from ptyflow.acquire import run_daemon

    config = load_toml(args.config, AcquireConfig, args.overrides)
    closed = run_daemon(config)
    log.info("acquire: stopped after %d series", len(closed))
    # Every store is sealed and the status file removed: end the process here. The
    # interpreter's teardown (Numba unloading the compiled kernels) takes 1–3 s on a busy
    # machine, and SIGTERM must finish within 2 s (benchmarks/acquire_sigterm.py).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def emulate(args: argparse.Namespace) -> int:
    from ptyflow.acquire import EmulatorPlan, FrameSource, emulate, parse_ids, synthetic_frames

    scan = tuple(args.scan_shape) if args.scan_shape else None
    if args.store is not None:
        source = FrameSource.from_store(args.store)
    elif args.npy is not None:
        source = FrameSource.from_npy(args.npy, scan)
    else:
        frames = synthetic_frames(args.distinct, tuple(args.frame_shape), args.dtype)
        source = FrameSource(frames, scan or (16, 16))
    plan = EmulatorPlan(
        protocol=args.protocol,
        encoding=args.encoding,
        series=args.series,
        n_time=args.n_time,
        rate_hz=args.rate_hz,
        drop=parse_ids(args.drop),
        duplicate=parse_ids(args.duplicate),
        reorder=parse_ids(args.reorder),
        corrupt=parse_ids(args.corrupt),
        malformed=parse_ids(args.malformed),
        garbage_before_header=args.garbage_header,
        split_header=args.split_header,
        stop_after=args.stop_after,
        restart=args.restart,
    )

    def announce(endpoint: str) -> None:
        print(f"endpoint: {endpoint}", flush=True)

    stats = emulate(source, args.endpoint, plan, on_bound=announce)
    print(json.dumps(stats), flush=True)
    return 0


def add_acquire_parsers(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``acquire`` and ``emulate`` (kept here so the main parser stays short);
    return the ``acquire`` parser, which takes ``--set`` overrides."""
    from pathlib import Path

    p = sub.add_parser(
        "acquire",
        help="receive a DECTRIS detector stream into one store per series (daemon)",
        description="Connect to a DECTRIS detector's ZeroMQ stream (SIMPLON stream v1 JSON or "
        "v2 CBOR), decode bslz4/lz4/raw frames and write one dataset store per series, "
        "frames placed by frame id (an in-situ series fills the t axis). Gaps, duplicates, "
        "out-of-order and foreign frames and bad messages are counted, logged and never "
        "stop the daemon; only frames that arrived and decoded are marked received. Runs "
        "until SIGTERM/SIGINT, which closes the open store within seconds. Status: JSON "
        "metrics and a live PNG over HTTP on loopback; `ptyflow acquire status` prints them.",
    )
    p.add_argument(
        "action",
        nargs="?",
        choices=["run", "status"],
        default="run",
        help="run the daemon (default) or print a running daemon's status",
    )
    p.add_argument(
        "--config", "-c", type=Path, help="acquire config (TOML), see configs/acquire.toml"
    )
    p.add_argument("--url", help="status: the daemon's status URL (default: from --config)")
    p.set_defaults(func=acquire)
    acquire_parser = p

    p = sub.add_parser(
        "emulate",
        help="emulate a DECTRIS detector: stream a store, .npy or synthetic frames",
        description="Bind a ZeroMQ PUSH endpoint like a DECTRIS detector and stream one series "
        "(stream v1 or v2, bslz4/lz4/raw) from a store, an .npy stack or synthetic "
        "diffraction, at --rate-hz or flat out, optionally with faults. Prints "
        "'endpoint: URL' once bound, and a JSON summary at the end. Frame ids count from 0.",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--store", type=Path, help="a dataset store of integer frames")
    src.add_argument("--npy", type=Path, help="an .npy stack (n, ky, kx) or (ny, nx, ky, kx)")
    p.add_argument(
        "--scan-shape",
        type=int,
        nargs=2,
        metavar=("NY", "NX"),
        help="scan shape announced to the daemon (default: the source's, 16 16)",
    )
    p.add_argument(
        "--frame-shape",
        type=int,
        nargs=2,
        default=[96, 96],
        metavar=("KY", "KX"),
        help="synthetic frames: detector pixels (default: 96 96)",
    )
    p.add_argument(
        "--dtype",
        choices=["uint8", "uint16", "uint32"],
        default="uint16",
        help="synthetic frames: pixel type (default: uint16)",
    )
    p.add_argument("--distinct", type=int, default=64, help="synthetic: distinct frames, cycled")
    p.add_argument(
        "--endpoint",
        default="tcp://127.0.0.1:0",
        help="where to bind; port 0 picks a free port (default: %(default)s)",
    )
    p.add_argument("--protocol", choices=["v1", "v2"], default="v1", help="DECTRIS stream version")
    p.add_argument("--encoding", choices=["bslz4", "lz4", "raw"], default="bslz4")
    p.add_argument("--series", type=int, default=1, help="series id (default: 1)")
    p.add_argument(
        "--n-time",
        type=int,
        help="scans in the series (in-situ time series; default: the source's, else 1)",
    )
    p.add_argument("--rate-hz", type=float, help="frames per second (default: flat out)")
    for name, what in [
        ("drop", "never send"),
        ("duplicate", "send twice"),
        ("reorder", "swap with the next frame"),
        ("corrupt", "send an undecodable blob"),
        ("malformed", "send with a malformed image header"),
    ]:
        p.add_argument(
            f"--{name}", default="", metavar="IDS", help=f"frame ids to {what}, e.g. 3,7,10-12"
        )
    p.add_argument("--garbage-header", action="store_true", help="send a garbage message first")
    p.add_argument(
        "--split-header",
        action="store_true",
        help="v1: send the header and the detector config as two messages",
    )
    p.add_argument("--stop-after", type=int, metavar="N", help="stop mid-series after N frames")
    p.add_argument("--restart", action="store_true", help="then send a new, complete series")
    p.set_defaults(func=emulate)
    return acquire_parser
