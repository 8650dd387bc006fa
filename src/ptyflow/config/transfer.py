"""The ``ptyflow transfer`` config: what to watch, where to send it, how hard to try.

Every option is shown and explained in ``configs/transfer.toml``. Relative paths are
resolved against the directory of the config file (:meth:`TransferConfig.resolved`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveInt, field_validator, model_validator

from ptyflow._models import PositiveFloat, StrictModel

__all__ = [
    "DestinationConfig",
    "DiskPolicyConfig",
    "RetryConfig",
    "RsyncConfig",
    "SourceConfig",
    "TransferConfig",
    "VerifyMethod",
]

#: How files are hashed on the destination: Python's hashlib (fast) or coreutils sha256sum.
VerifyMethod = Literal["python3", "sha256sum"]

#: ``user@host:/absolute/path``: the user and an absolute path are required, no port here.
_SSH_TARGET = re.compile(r"^(?P<user>[^@:/\s]+)@(?P<host>[^@:/\s]+):(?P<path>/.*)$")


class SourceConfig(StrictModel):
    """Where the acquisition writes its stores, and how they are picked up."""

    watch_dir: Path = Field(description="the acquisition output directory (one store per entry)")
    poll_interval_s: PositiveFloat = Field(2.0, description="seconds between directory scans")
    early_send: bool = Field(
        False, description="send shards of stores still being acquired, before they are sealed"
    )
    early_min_age_s: PositiveFloat = Field(
        30.0, description="a shard unchanged this long counts as final for an early send"
    )
    queue_db: Path | None = Field(
        None, description="SQLite queue file; default WATCH_DIR/.ptyflow-transfer/queue.sqlite"
    )


class DestinationConfig(StrictModel):
    """The server (``user@host:/path``, over ssh) or a local directory."""

    target: str = Field(description="'user@host:/absolute/path' (rsync over ssh) or a local path")
    ssh_port: PositiveInt = Field(22, le=65535, description="ssh port of the server")
    ssh_identity: Path | None = Field(None, description="private key file for ssh (-i)")
    known_hosts: Path | None = Field(
        None, description="pinned known_hosts file; required for an ssh target"
    )
    ssh_cipher: str | None = Field(
        "aes128-gcm@openssh.com", description="ssh cipher (-c); null: ssh's default"
    )
    connect_timeout_s: PositiveFloat = Field(10.0, description="ssh connection timeout")
    verify_with: VerifyMethod = Field(
        "python3", description="hash files on the destination with python3 or sha256sum"
    )

    @property
    def is_ssh(self) -> bool:
        return _SSH_TARGET.match(self.target) is not None

    def ssh_parts(self) -> tuple[str, str, str]:
        """``(user, host, path)`` of an ssh target."""
        match = _SSH_TARGET.match(self.target)
        if match is None:
            raise ValueError(f"{self.target!r} is not an ssh target 'user@host:/path'")
        return match["user"], match["host"], match["path"]

    @field_validator("target")
    @classmethod
    def _target_form(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("empty destination")
        if ":" in value.split("/", 1)[0] and _SSH_TARGET.match(value) is None:
            raise ValueError(
                f"{value!r} looks like a remote target but is not 'user@host:/absolute/path'"
            )
        return value

    @model_validator(mode="after")
    def _pinned_host_key(self) -> DestinationConfig:
        if self.is_ssh and self.known_hosts is None:
            raise ValueError(
                "an ssh target needs known_hosts: a file pinning the server's host key "
                "(host keys are never accepted blindly)"
            )
        return self


class RsyncConfig(StrictModel):
    """How rsync is run (always as an argument list, never through a shell)."""

    bandwidth_limit_KiB_per_s: PositiveInt | None = Field(
        None, description="cap on the rate (rsync --bwlimit, KiB/s); null: no cap"
    )
    io_timeout_s: PositiveInt = Field(
        60, description="abort a transfer when no data moves this long (rsync --timeout)"
    )
    partial_dir: str = Field(
        ".rsync-partial", description="where half-sent files wait (never under their final name)"
    )

    @field_validator("partial_dir")
    @classmethod
    def _relative_name(cls, value: str) -> str:
        if not value or "/" in value or value in {".", ".."}:
            raise ValueError(f"{value!r}: expected one directory name, e.g. '.rsync-partial'")
        return value


class RetryConfig(StrictModel):
    """Exponential backoff between attempts at one store."""

    max_attempts: PositiveInt = Field(10, description="attempts before a store is 'failed'")
    backoff_initial_s: PositiveFloat = Field(2.0, description="wait after the first failure")
    backoff_max_s: PositiveFloat = Field(300.0, description="the wait never grows beyond this")
    repair_rounds: PositiveInt = Field(
        2, description="re-sends of differing files within one attempt before it counts failed"
    )


class DiskPolicyConfig(StrictModel):
    """What may be deleted locally; only ever stores verified on the server. Off by default."""

    delete_after_verify: bool = Field(False, description="delete each store once verified")
    min_free_GiB: PositiveFloat | None = Field(
        None, description="keep this much free space by deleting the oldest verified stores"
    )


class TransferConfig(StrictModel):
    """``ptyflow transfer``: watch, queue, send, verify, record, tidy up."""

    source: SourceConfig
    destination: DestinationConfig
    rsync: RsyncConfig = Field(default_factory=RsyncConfig)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    disk: DiskPolicyConfig = Field(default_factory=DiskPolicyConfig)

    @property
    def queue_db(self) -> Path:
        return self.source.queue_db or self.source.watch_dir / ".ptyflow-transfer" / "queue.sqlite"

    def resolved(self, base: Path) -> TransferConfig:
        """This config with relative and ``~`` paths made absolute against ``base``."""

        def fix(path: Path | None) -> Path | None:
            return None if path is None else (base / path.expanduser()).resolve()

        dest = self.destination
        if not dest.is_ssh:
            dest = dest.model_copy(update={"target": str(fix(Path(dest.target)))})
        dest = dest.model_copy(
            update={"ssh_identity": fix(dest.ssh_identity), "known_hosts": fix(dest.known_hosts)}
        )
        source = self.source.model_copy(
            update={"watch_dir": fix(self.source.watch_dir), "queue_db": fix(self.source.queue_db)}
        )
        return self.model_copy(update={"source": source, "destination": dest})
