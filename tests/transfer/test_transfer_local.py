"""The shared logic through the local-path backend: queue, disk policy, early send, refusals."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pytest

from ptyflow.cli import main
from ptyflow.config.transfer import DiskPolicyConfig
from ptyflow.dataset import writer_running
from ptyflow.dataset._lock import OutputLock
from ptyflow.errors import TransferError
from ptyflow.provenance import build_manifest, sha256_file, tree_hash
from ptyflow.testing import undocumented_keys
from ptyflow.transfer import (
    LocalDestination,
    Queue,
    State,
    Transfer,
    _send,
    apply_disk_policy,
    destination_hashes,
    list_files,
)

#: A hang guard: a transfer that never ends fails here instead of stalling the suite.
pytestmark = pytest.mark.timeout(60)


def test_queue_survives_reopening_and_re_adding_is_harmless(tmp_path: Path) -> None:
    db = tmp_path / "q" / "queue.sqlite"
    queue = Queue(db)
    queue.add("a.zarr", tmp_path / "a.zarr", sealed=False)
    queue.add("b.zarr", tmp_path / "b.zarr", sealed=True)
    queue.start("b.zarr")
    queue.add("b.zarr", tmp_path / "b.zarr", sealed=True)  # re-added while in flight
    queue.add("a.zarr", tmp_path / "a.zarr", sealed=False)

    reopened = Queue(db)  # as after kill -9: only what was committed
    assert [(i.name, i.state) for i in reopened.items()] == [
        ("a.zarr", State.ACQUIRING),
        ("b.zarr", State.IN_FLIGHT),
    ]
    assert reopened.recover() == 1
    assert reopened.get("b.zarr").state is State.PENDING  # type: ignore[union-attr]
    reopened.add("a.zarr", tmp_path / "a.zarr", sealed=True)  # sealed now
    assert reopened.get("a.zarr").state is State.PENDING  # type: ignore[union-attr]


def test_disk_policy_never_deletes_an_unverified_store(
    tmp_path: Path,
    watch_dir: Path,
    store_name: str,
    make_config: Callable[..., Any],
) -> None:
    # Three stores: one that will verify, one still acquiring, one that will fail.
    acquiring = watch_dir / "acquiring.zarr"
    shutil.copytree(watch_dir / store_name, acquiring)
    (acquiring / "manifest.json").unlink()
    broken = watch_dir / "broken.zarr"
    shutil.copytree(watch_dir / store_name, broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["/etc/passwd"] = {"sha256": "0" * 64, "size_bytes": 1}
    (broken / "manifest.json").write_text(json.dumps(manifest))
    # Free space "always too low": the policy deletes all it may.
    config, _ = make_config(
        tmp_path, watch_dir, str(tmp_path / "server"), disk={"min_free_GiB": 1e9}
    )
    transfer = Transfer(config)
    transfer.run(exit_when_idle=True)

    states = {i.name: i.state for i in transfer.queue.items()}
    assert states == {
        store_name: State.VERIFIED,
        "acquiring.zarr": State.ACQUIRING,
        "broken.zarr": State.FAILED,
    }
    assert not (watch_dir / store_name).exists()
    assert (acquiring / "zarr.json").is_file() and (broken / "manifest.json").is_file()
    assert apply_disk_policy(config, transfer.queue) == []


def test_disk_policy_keeps_a_store_changed_since_it_was_verified(
    tmp_path: Path,
    watch_dir: Path,
    store_name: str,
    make_config: Callable[..., Any],
) -> None:
    config, _ = make_config(tmp_path, watch_dir, str(tmp_path / "server"))
    transfer = Transfer(config)
    transfer.run(exit_when_idle=True)  # policy off: verified, kept
    store = watch_dir / store_name
    manifest = json.loads((store / "manifest.json").read_text())
    (store / "notes.txt").write_text("added after the transfer")
    manifest["notes.txt"] = {"sha256": "0" * 64, "size_bytes": 24}
    (store / "manifest.json").write_text(json.dumps(manifest))  # re-sealed: new data

    deleting = config.model_copy(update={"disk": DiskPolicyConfig(delete_after_verify=True)})
    assert apply_disk_policy(deleting, transfer.queue) == []
    assert (store / "notes.txt").is_file()


def test_early_send_moves_settled_shards_before_sealing(
    tmp_path: Path,
    watch_dir: Path,
    store_name: str,
    make_config: Callable[..., Any],
    assert_identical: Callable[[Path, Path], None],
) -> None:
    store = watch_dir / store_name
    manifest = (store / "manifest.json").read_bytes()
    (store / "manifest.json").unlink()  # still acquiring
    old = store / "data" / "c" / "0" / "0" / "0" / "0"
    os.utime(old, (1e9, 1e9))  # settled long ago; the other shards are "fresh"
    root = tmp_path / "server"
    config, _ = make_config(
        tmp_path, watch_dir, str(root), source={"early_send": True, "early_min_age_s": 3600.0}
    )
    transfer = Transfer(config)
    transfer.scan()
    transfer.send_early()

    sent = sorted(
        p.relative_to(root / store_name).as_posix() for p in root.rglob("*") if p.is_file()
    )
    assert sent == ["data/c/0/0/0/0"]
    assert transfer.queue.get(store_name).state is State.ACQUIRING  # type: ignore[union-attr]

    (store / "manifest.json").write_bytes(manifest)  # sealed: the final pass
    transfer.run(exit_when_idle=True)
    assert transfer.queue.get(store_name).state is State.VERIFIED  # type: ignore[union-attr]
    assert_identical(store, root / store_name)


def test_damaged_source_never_overwrites_the_good_copy_and_fails_naming_the_file(
    tmp_path: Path,
    watch_dir: Path,
    store_name: str,
    make_config: Callable[..., Any],
) -> None:
    root = tmp_path / "server"
    config, _ = make_config(tmp_path, watch_dir, str(root))
    Transfer(config).run(exit_when_idle=True)
    rel = "data/c/0/1/0/0"
    good = (root / store_name / rel).read_bytes()
    for name in (store_name, "later.zarr"):  # bit rot in the verified store and in a new one
        if name != store_name:
            shutil.copytree(watch_dir / store_name, watch_dir / name)
        shard = watch_dir / name / rel
        shard.write_bytes(b"bit rot" + shard.read_bytes()[7:])

    transfer = Transfer(config)
    transfer.queue.requeue(store_name)  # re-check the verified one
    transfer.run(exit_when_idle=True)

    assert transfer.queue.get(store_name).state is State.VERIFIED  # type: ignore[union-attr]
    assert (root / store_name / rel).read_bytes() == good  # not overwritten by the rot
    item = transfer.queue.get("later.zarr")
    assert item is not None and item.state is State.FAILED
    assert item.reason is not None and f"{rel!r} no longer matches" in item.reason


def test_symlink_pointing_out_of_the_store_is_refused(
    tmp_path: Path,
    watch_dir: Path,
    store_name: str,
    make_config: Callable[..., Any],
) -> None:
    store = watch_dir / store_name
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the server")
    shard = store / "data" / "c" / "0" / "0" / "0" / "0"
    shard.unlink()
    shard.symlink_to(secret)
    root = tmp_path / "server"
    config, _ = make_config(tmp_path, watch_dir, str(root))

    transfer = Transfer(config)
    transfer.run(exit_when_idle=True)

    item = transfer.queue.get(store_name)
    assert item is not None and item.state is State.FAILED
    assert item.reason is not None and "symbolic link" in item.reason
    assert not root.exists()


def test_config_errors_are_clear_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[source]\nwatch_dir = "x"\n[destination]\ntarget = "me@server:/data"\n')
    assert main(["transfer", "status", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "known_hosts" in err and "Traceback" not in err
    path.write_text('[source]\nwatch_dir = "x"\n[destination]\ntarget = "server:/data"\n')
    assert main(["transfer", "--config", str(path)]) == 2
    assert "user@host:/absolute/path" in capsys.readouterr().err


def test_template_documents_every_option(tmp_path: Path) -> None:
    from ptyflow.config import load_toml
    from ptyflow.config.transfer import TransferConfig

    template = Path(__file__).resolve().parents[2] / "configs" / "transfer.toml"
    text = template.read_text()
    assert undocumented_keys(load_toml(template, TransferConfig), text) == []


@pytest.mark.parametrize("method", ["python3", "sha256sum"])
def test_both_hash_methods_report_files_by_exact_name_skipping_links_and_partials(
    tmp_path: Path, method: Literal["python3", "sha256sum"]
) -> None:
    store = tmp_path / "root" / "s.zarr"
    names = ["a b/'q' \"dq\" ü.bin", "nested/deeper/x", "back\\slash", ".hidden"]
    for i, name in enumerate(names):
        (store / name).parent.mkdir(parents=True, exist_ok=True)
        (store / name).write_bytes(bytes([i]) * (i * 100_000 + 1))
    (store / "nested" / ".rsync-partial").mkdir()
    (store / "nested" / ".rsync-partial" / "x").write_bytes(b"half")
    (store / "link").symlink_to(store / names[0])

    dest = LocalDestination(str(tmp_path / "root"))
    found = destination_hashes(dest, "s.zarr", [*names, "missing"], method)

    assert found == {name: sha256_file(store / name) for name in names}
    assert list_files(dest, "s.zarr", ".rsync-partial") == set(names)  # no link, no partial
    assert list_files(dest, "not there.zarr", ".rsync-partial") == set()


def test_pipelined_batches_keep_every_file_once_in_order(
    tmp_path: Path,
    watch_dir: Path,
    store_name: str,
    make_config: Callable[..., Any],
    assert_identical: Callable[[Path, Path], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = [f"f{i:03d}" for i in range(100)]
    sizes = {f: 1000 + 10 * i for i, f in enumerate(files)}
    monkeypatch.setattr(_send, "PIPELINE_MIN_BYTES", 0)
    parts = _send.batches(files, sizes)
    assert [f for part in parts for f in part] == files and len(parts) == 4
    part_bytes = [sum(sizes[f] for f in part) for part in parts]
    assert part_bytes == sorted(part_bytes, reverse=True)  # the last (not overlapped) smallest
    assert _send.batches(files[:1], sizes) == [files[:1]]

    # The whole store through the pipeline: send batch k+1 while batch k is hashed.
    root = tmp_path / "server"
    config, _ = make_config(tmp_path, watch_dir, str(root))
    result = Transfer(config).send_and_verify(watch_dir / store_name)
    assert result.repaired == ()
    assert_identical(watch_dir / store_name, root / store_name)


def test_store_sealed_again_with_new_content_is_sent_again(
    tmp_path: Path,
    watch_dir: Path,
    store_name: str,
    make_config: Callable[..., Any],
    assert_identical: Callable[[Path, Path], None],
) -> None:
    root = tmp_path / "server"
    config, _ = make_config(tmp_path, watch_dir, str(root))
    transfer = Transfer(config)
    transfer.run(exit_when_idle=True)
    first = transfer.queue.get(store_name)
    store = watch_dir / store_name
    shard = store / "data" / "c" / "1" / "1" / "0" / "0"
    shard.write_bytes(shard.read_bytes()[::-1])  # replaced by a new acquisition, then sealed
    manifest = build_manifest(store, exclude={"manifest.json", "provenance.json"})
    (store / "manifest.json").write_text(json.dumps(manifest))

    transfer.run(exit_when_idle=True)

    again = transfer.queue.get(store_name)
    assert first is not None and again is not None and again.state is State.VERIFIED
    assert again.tree_hash == tree_hash(manifest) != first.tree_hash
    assert_identical(store, root / store_name)


def test_unsealed_store_without_a_writer_is_named_for_recover(
    tmp_path: Path,
    watch_dir: Path,
    store_name: str,
    make_config: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = watch_dir / store_name
    manifest = (store / "manifest.json").read_bytes()
    (store / "manifest.json").unlink()  # unsealed
    config, _ = make_config(tmp_path, watch_dir, str(tmp_path / "server"))
    transfer = Transfer(config)

    lock = OutputLock.acquire(store)  # a writer at work: nothing to say
    transfer.scan()
    assert writer_running(store)
    assert transfer.queue.get(store_name).reason is None  # type: ignore[union-attr]

    lock.release()  # the writer is gone without sealing: a crash
    assert not writer_running(store)
    with caplog.at_level("WARNING", logger="ptyflow.transfer"):
        transfer.scan()
        transfer.scan()  # said once, not every poll
    item = transfer.queue.get(store_name)
    assert item is not None and item.state is State.ACQUIRING
    assert "ptyflow recover" in (item.reason or "")
    assert [r.message for r in caplog.records].count(f"{store_name}: {item.reason}") == 1
    with caplog.at_level("WARNING", logger="ptyflow.transfer"):
        transfer.queue.recover()  # a restarted daemon says it again, once
        transfer.scan()
        transfer.scan()
    assert [r.message for r in caplog.records].count(f"{store_name}: {item.reason}") == 2

    (store / "manifest.json").write_bytes(manifest)  # sealed (as recover would)
    transfer.scan()
    item = transfer.queue.get(store_name)
    assert item is not None and item.state is State.PENDING and item.reason is None


def test_a_missing_watched_directory_is_named_and_not_created(
    tmp_path: Path, make_config: Callable[..., Any]
) -> None:
    missing = tmp_path / "acquisitions"
    config, _ = make_config(tmp_path, missing, str(tmp_path / "server"))
    with pytest.raises(TransferError, match="acquisitions: the watched directory does not exist"):
        Transfer(config)
    assert not missing.exists()  # nor its queue inside it
