"""The public surfaces of ptyflow.physics and ptyflow.simulate are exactly their ``__all__``."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("name", ["ptyflow.physics", "ptyflow.simulate"])
def test_all_names_exist_and_nothing_else_is_public(name: str) -> None:
    module = importlib.import_module(name)
    assert len(set(module.__all__)) == len(module.__all__)
    for attr in module.__all__:
        assert getattr(module, attr) is not None
    public = {a for a in vars(module) if not a.startswith("_") and a not in {"annotations"}}
    submodules = {a for a in public if type(getattr(module, a)).__name__ == "module"}
    assert public - submodules == set(module.__all__)
