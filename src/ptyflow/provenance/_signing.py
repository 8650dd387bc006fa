"""Ed25519 signatures over records: a facility vouches for a record with its private key.

Hashes alone prove only that nothing changed *since someone recomputed them*: anyone can
edit a record and recompute every hash. A signature over the record's canonical content
(:func:`~ptyflow.provenance.canonical_bytes`) can only be made with the private key, and
since a record holds its outputs' content hashes and its inputs' record hashes, one
signature on the last record covers the whole chain behind it.

Keys: the private key is a PKCS#8 PEM file (``keygen``); a public key is written as one
line, ``ed25519:<base64 of the 32 raw bytes>``, short enough to paste into a config.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import ValidationError

from ptyflow.errors import ProvenanceError
from ptyflow.provenance._record import (
    ProvenanceRecord,
    Signature,
    canonical_bytes,
    read_record,
    read_record_json,
    record_hash_of,
    write_record,
)

__all__ = [
    "PUBLIC_KEY_PREFIX",
    "SignatureCheck",
    "check_signatures",
    "generate_key",
    "load_private_key",
    "parse_public_key",
    "public_key_text",
    "sign_record",
]

PUBLIC_KEY_PREFIX = "ed25519:"


def public_key_text(key: Ed25519PublicKey) -> str:
    """``ed25519:<base64>`` of a public key's 32 raw bytes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PUBLIC_KEY_PREFIX + base64.b64encode(raw).decode("ascii")


def parse_public_key(text: str, where: str) -> Ed25519PublicKey:
    """The key of an ``ed25519:<base64>`` line; ProvenanceError naming ``where`` if malformed."""
    try:
        if not text.startswith(PUBLIC_KEY_PREFIX):
            raise ValueError(f"expected {PUBLIC_KEY_PREFIX}<base64>")
        raw = base64.b64decode(text.removeprefix(PUBLIC_KEY_PREFIX), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as err:
        raise ProvenanceError(f"{where}: not an Ed25519 public key {text!r}: {err}") from None


def generate_key(path: str | Path) -> tuple[Path, str]:
    """Write a new private key to ``path`` (PEM, owner-only) and its public key to
    ``path.pub``; return the private key's path and the public key line."""
    path = Path(path)
    if path.exists():
        raise ProvenanceError(f"{path}: exists; refusing to overwrite a key")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Created owner-only from the start: never readable by others, even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public = public_key_text(key.public_key())
    Path(f"{path}.pub").write_text(public + "\n", encoding="utf-8")
    return path, public


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file ``path``."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except FileNotFoundError:
        raise ProvenanceError(f"{path}: no such key file") from None
    except (OSError, ValueError, TypeError) as err:
        raise ProvenanceError(f"{path}: not an unencrypted PEM private key: {err}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ProvenanceError(f"{path}: not an Ed25519 key (ptyflow signs with Ed25519)")
    return key


def sign_record(artifact: str | Path, key_path: str | Path) -> Signature:
    """Add a signature by the key in ``key_path`` to the record of ``artifact``.

    Refuses a record that no longer matches its own ``record_hash``: a signature must never
    vouch for an edited record. (Check the data first with ``verify``.)
    """
    key = load_private_key(key_path)
    path, data = read_record_json(artifact)
    record = read_record(path)
    if record.record_hash is None or record.record_hash != record_hash_of(data):
        raise ProvenanceError(
            f"{path}: record does not match its record_hash (edited, or written before "
            "record schema 2); refusing to sign it"
        )
    signature = Signature(
        public_key=public_key_text(key.public_key()),
        signed_utc=datetime.now(UTC),
        signature=base64.b64encode(key.sign(canonical_bytes(data))).decode("ascii"),
    )
    others = [s for s in record.signatures if s.public_key != signature.public_key]
    write_record(record.model_copy(update={"signatures": [*others, signature]}), path)
    return signature


@dataclass(frozen=True)
class SignatureCheck:
    """One signature of a record: who signed (trusted name or the key) and whether it holds."""

    public_key: str
    trusted_as: str | None  # the name of the key in the trusted set; None if untrusted
    valid: bool


def check_signatures(
    data: Mapping[str, Any], trusted: Mapping[str, str], where: str
) -> list[SignatureCheck]:
    """Check every signature of the raw record ``data`` against its canonical content.

    ``trusted`` maps a name to a public key line; a signature by a key not in it is
    reported untrusted (it may be valid, but anyone can make such a key).
    """
    names = {key: name for name, key in trusted.items()}
    message = canonical_bytes(data)
    try:
        signatures = ProvenanceRecord.model_validate(data).signatures
    except ValidationError as err:
        raise ProvenanceError(f"{where}: invalid provenance record: {err}") from None
    checks = []
    for sig in signatures:
        try:
            parse_public_key(sig.public_key, where).verify(
                base64.b64decode(sig.signature, validate=True), message
            )
            valid = True
        except (InvalidSignature, ValueError, ProvenanceError):
            valid = False
        checks.append(SignatureCheck(sig.public_key, names.get(sig.public_key), valid))
    return checks
