"""The storage layer as the binary uses it: the --data-dir format marker and lock, restart
after SIGTERM and SIGKILL, and the ephemeral spill directory's clean-up."""

from __future__ import annotations

import subprocess

from conftest import BIN, Aloft


def health(a: Aloft):
    return a.internal("GET", "health")


def refused(data_dir) -> str:
    """Starts Aloft on ``data_dir`` expecting it to refuse; returns what it said."""
    p = subprocess.run(
        [str(BIN), "--port", "0", "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=30,
    )
    assert p.returncode != 0, p.stdout
    assert "aloft ready" not in p.stdout
    return p.stderr


def test_a_new_data_dir_is_laid_out_and_reopens(aloft_factory, tmp_path):
    data = tmp_path / "data"
    a = aloft_factory(data_dir=data)
    assert health(a) is not None
    assert (data / "FORMAT").read_text().splitlines() == ["aloft data directory", "format = 3"]
    assert (data / "meta.redb").is_file()
    assert (data / "wal.log").is_file()
    assert (data / "blobs").is_dir()
    assert a.stop() == 0
    b = aloft_factory(data_dir=data)
    assert health(b) is not None


def test_a_data_dir_reopens_after_kill_9(aloft_factory, tmp_path):
    a = aloft_factory(data_dir=tmp_path)
    health(a)
    a.kill()
    b = aloft_factory(data_dir=tmp_path)
    assert health(b) is not None


def test_a_format_1_data_dir_is_upgraded_in_place(aloft_factory, tmp_path):
    # Format 1 was meta.redb and blobs/ without the write-ahead log: what a clean stop leaves,
    # minus wal.log, with the old marker.
    data = tmp_path / "data"
    a = aloft_factory(data_dir=data)
    a.client("ssm").put_parameter(Name="/kept", Value="v1", Type="String")
    assert a.stop() == 0
    (data / "wal.log").unlink()
    (data / "FORMAT").write_text("aloft data directory\nformat = 1\n")
    b = aloft_factory(data_dir=data)
    assert b.client("ssm").get_parameter(Name="/kept")["Parameter"]["Value"] == "v1"
    assert (data / "FORMAT").read_text().splitlines() == ["aloft data directory", "format = 3"]
    assert (data / "wal.log").is_file()


def test_a_data_dir_in_use_is_refused(aloft_factory, tmp_path):
    aloft_factory(data_dir=tmp_path)
    assert f"data directory {tmp_path} is in use by another Aloft process" in refused(tmp_path)


def test_a_data_dir_from_a_newer_aloft_is_refused(tmp_path):
    (tmp_path / "FORMAT").write_text("aloft data directory\nformat = 99\n")
    assert "was written by a newer Aloft (data format 99)" in refused(tmp_path)
    assert not (tmp_path / "meta.redb").exists()


def test_a_foreign_directory_is_not_taken_over(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    assert "is not empty and has no FORMAT file" in refused(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_the_ephemeral_spill_dir_is_removed_and_stale_ones_swept(aloft_factory, tmp_path):
    # What a kill -9'd Aloft left behind (pid 0 never runs a user process).
    stale = tmp_path / "aloft-blobs-0-00000000deadbeef"
    stale.mkdir()
    (stale / "blob").write_bytes(b"x")
    stale_lambda = tmp_path / "aloft-lambda-0"  # Lambda's work directory of a killed run
    (stale_lambda / "code").mkdir(parents=True)
    a = aloft_factory(env={"TMPDIR": str(tmp_path)})
    health(a)
    spill = [p for p in tmp_path.iterdir() if p.name.startswith("aloft-blobs-")]
    # The stale one is swept in the background a moment after start (off the start-up path), or
    # at shutdown at the latest.
    assert str(a.proc.pid) in [p.name.split("-")[2] for p in spill]
    assert a.stop() == 0
    assert not any(p.name.startswith("aloft-blobs-") for p in tmp_path.iterdir())
    assert not stale_lambda.exists()
