"""The public surface of ptyflow.acquire: a curated, sorted __all__ of names that exist."""

from __future__ import annotations

import ptyflow.acquire as acquire


def test_all_is_curated_and_complete() -> None:
    assert acquire.__all__ == sorted(acquire.__all__, key=lambda n: (not n.isupper(), n))
    for name in acquire.__all__:
        assert getattr(acquire, name) is not None, name
    public = {n for n in vars(acquire) if not n.startswith("_")}
    assert public == set(acquire.__all__)  # no private module leaks out by name
