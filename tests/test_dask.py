"""textmine run --engine dask: the same outputs, row for row, as the local engine."""

import pandas as pd
import pytest

pytest.importorskip("distributed")

from textmine.dask_engine import combine_partitions, partition_files, run_dask  # noqa: E402
from textmine.errors import InputError  # noqa: E402
from textmine.pipeline import run, sample_path  # noqa: E402

OUTPUTS = ("comments.csv", "rejects.csv", "office_summary.csv", "rectification_items.csv", "rectification.md")


@pytest.fixture(scope="module")
def local_and_dask(tmp_path_factory, toolkit):
    """The sample through the local engine and through a 2-worker LocalCluster (2 partitions each side)."""
    source = sample_path()
    frame = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    parts = tmp_path_factory.mktemp("parts")
    half = len(frame) // 2
    frame.iloc[:half].to_csv(parts / "part-000.csv", index=False, encoding="utf-8-sig")
    frame.iloc[half:].to_parquet(parts / "part-001.parquet", index=False)
    local_out = tmp_path_factory.mktemp("local")
    local = run(source, local_out, toolkit=toolkit)
    dask_out = tmp_path_factory.mktemp("dask")
    distributed = run_dask(source, dask_out, n_workers=2, partition_rows=1000, toolkit=toolkit)
    dir_out = tmp_path_factory.mktemp("dask_dir")
    from_dir = run_dask(parts, dir_out, n_workers=2, toolkit=toolkit)
    return (local, local_out), (distributed, dask_out), (from_dir, dir_out)


def test_dask_outputs_identical_to_local_engine(local_and_dask):
    (local, local_out), (distributed, dask_out), _ = local_and_dask
    for name in OUTPUTS:
        assert (dask_out / name).read_bytes() == (local_out / name).read_bytes(), name
    pd.testing.assert_frame_equal(distributed.comments, local.comments)
    pd.testing.assert_frame_equal(distributed.items, local.items)
    assert distributed.info["counts"] == local.info["counts"]


def test_work_was_done_on_the_workers(local_and_dask):
    (local, _), (distributed, dask_out), _ = local_and_dask
    engine = distributed.info["engine"]
    assert engine["workers"] == 2
    # cleaning, masking and tagging of every distinct text went to the workers in tasks of
    # at most 1,000 texts, then the segmentation of typical opinions
    distinct = pd.read_csv(sample_path(), dtype=str, keep_default_na=False,
                           encoding="utf-8-sig")["意见建议"].nunique()
    assert engine["texts_on_workers"] > distinct
    assert engine["tasks"] >= -(-distinct // 1000) + 1
    assert '"engine"' in (dask_out / "run.json").read_text(encoding="utf-8")


def test_folder_of_csv_and_parquet_partitions(local_and_dask):
    (local, local_out), _, (from_dir, dir_out) = local_and_dask
    assert from_dir.info["engine"]["input_files"] == 2
    # same rows, same order: the same opinions, themes and rectification items
    assert (dir_out / "rectification.md").read_bytes() == (local_out / "rectification.md").read_bytes()
    assert from_dir.comments["text"].tolist() == local.comments["text"].tolist()
    assert from_dir.comments["themes"].tolist() == local.comments["themes"].tolist()


def test_partition_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match="no partition files"):
        partition_files(tmp_path)
    pd.DataFrame({"a": ["1"], "b": ["2"]}).to_csv(tmp_path / "p1.csv", index=False)
    pd.DataFrame({"a": ["1"], "c": ["2"]}).to_csv(tmp_path / "p2.csv", index=False)
    with pytest.raises(InputError, match="p2.csv: columns a, c differ"):
        combine_partitions(partition_files(tmp_path), tmp_path / "all.out")


def test_cli_refuses_scheduler_without_dask_and_folders_on_the_local_engine(tmp_path):
    from click.testing import CliRunner

    from textmine.cli import main

    result = CliRunner().invoke(main, ["run", str(sample_path()), "--out", str(tmp_path / "o"),
                                       "--scheduler", "tcp://127.0.0.1:8786"])
    assert result.exit_code == 2 and "--scheduler needs --engine dask" in result.output
    result = CliRunner().invoke(main, ["run", str(tmp_path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "is a folder" in result.output
