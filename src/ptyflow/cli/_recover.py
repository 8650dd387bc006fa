"""``ptyflow recover STORE``: seal a store whose writer crashed."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

__all__ = ["add_parser"]

log = logging.getLogger("ptyflow")


def recover(args: argparse.Namespace) -> int:
    from ptyflow.dataset import recover_dataset

    result = recover_dataset(args.store)
    for message in result.damaged:
        log.warning("dropped: %s", message)
    log.info(
        "recovered %s: state '%s', %d of %d frames kept (%d damaged chunk(s) dropped), "
        "content hash %s",
        result.path,
        result.state.value,
        result.frames_kept,
        result.frames_total,
        len(result.damaged),
        result.content_hash,
    )
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "recover",
        help="seal a store left 'acquiring' by a crashed writer",
        description="Seal a dataset store whose writer was killed (state 'acquiring') with "
        "exactly the frames that survived: those marked in frames_received whose chunks still "
        "decode (each carries a CRC-32C). Recomputes the live images, removes temp files of "
        "interrupted writes, marks the store 'incomplete' ('complete' if nothing was lost), "
        "writes the manifest and a provenance record of the recovery whose input is the store "
        "as found. Refuses a store in any other state.",
    )
    p.add_argument("store", type=Path, help="dataset store directory")
    p.set_defaults(func=recover)
