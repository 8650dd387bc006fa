"""The ``ptyflow`` command line. Parser in ``_parser``, thin lazy commands in ``_commands``."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from ptyflow.errors import PtyflowError

__all__ = ["main"]

log = logging.getLogger("ptyflow")


def _setup_logging(verbose: int, quiet: bool) -> None:
    from rich.logging import RichHandler

    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(message)s",
        datefmt="[%X]",
        handlers=[RichHandler(show_path=verbose > 1, rich_tracebacks=True)],
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``ptyflow`` command; return the process exit code."""
    # Before torch loads OpenMP: its threads spin while waiting by default, and on a shared
    # machine (another job, a daemon) that made reconstruction ~10x slower (docs/reconstruct.md).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from ptyflow._signals import Terminated, sigterm_as_interrupt
    from ptyflow.cli._parser import build_parser

    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose, args.quiet)
    try:
        with sigterm_as_interrupt():  # Slurm/systemd stop jobs so: close stores as failed
            code = int(args.func(args) or 0)
        sys.stdout.flush()  # here, so a closed pipe is noticed inside the handlers below
        return code
    except PtyflowError as err:
        # Deliberate errors: the message says what is wrong and what was expected.
        print(f"ptyflow {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader of our output went away (`| head`): stop quietly, as cat does.
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a writer killed by the pipe
    except OSError as err:
        # The system refused a file or directory (missing, read-only, full, not a
        # directory): the user's to fix, so a message naming it, not a traceback.
        where = f"{err.filename}: " if err.filename else ""
        print(f"ptyflow {args.command}: error: {where}{err.strerror or err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        terminated = isinstance(err, Terminated)
        print(f"ptyflow {args.command}: {err if terminated else 'interrupted'}", file=sys.stderr)
        return 143 if terminated else 130
