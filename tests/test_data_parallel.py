"""Data-parallel training across 2 CPU processes (gloo), started with torchrun (synthaug.training.data_parallel)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from synthaug.cli import main
from synthaug.exceptions import ParameterError
from synthaug.persistence import load
from synthaug.synthesizers import FlowSynthesizer
from synthaug.training.data_parallel import local_batch_size, shard, world

ROOT = Path(__file__).resolve().parents[1]

WORKER = textwrap.dedent(
    """
    import json, sys
    import numpy as np, pandas as pd, torch
    from synthaug.exceptions import ParameterError, PrivacyError
    from synthaug.privacy import DPConfig
    from synthaug.synthesizers import CTGANSynthesizer, FlowSynthesizer
    from synthaug.training.data_parallel import AllReducedStep, process_group, shard

    out = sys.argv[1]
    with process_group() as (rank, size):
        # one all-reduced SGD step on each process's half equals the step on the whole batch
        x = torch.arange(12.0).reshape(6, 2) / 10
        y = torch.tensor([1.0, -1.0, 0.5, 2.0, 0.0, 1.5])
        torch.manual_seed(0)
        net, ref = torch.nn.Linear(2, 1), torch.nn.Linear(2, 1)
        ref.load_state_dict(net.state_dict())
        mine = shard(torch.arange(6))
        AllReducedStep(torch.optim.SGD(net.parameters(), lr=0.1)).backward_and_step(
            (net(x[mine]).squeeze(1) - y[mine]) ** 2
        )
        opt = torch.optim.SGD(ref.parameters(), lr=0.1)
        ((ref(x).squeeze(1) - y) ** 2).mean().backward()
        opt.step()
        same_step = all(torch.allclose(a, b, atol=1e-6) for a, b in zip(net.parameters(), ref.parameters()))

        rng = np.random.default_rng(0)
        a = rng.normal(size=2000)
        b = rng.choice(["x", "y"], 2000)
        table = pd.DataFrame({"a": a, "b": b, "d": np.where(b == "x", a, -a)})
        model = FlowSynthesizer(epochs=3, batch_size=200, random_state=0).fit(table)
        model.save(f"{out}/rank{rank}.synth")
        refused = {}
        for key, make in (
            ("dp", lambda: FlowSynthesizer(epochs=1, dp=DPConfig(epsilon=1.0))),
            ("ctgan", lambda: CTGANSynthesizer(epochs=1)),
        ):
            try:
                make().fit(table)
                refused[key] = None
            except (ParameterError, PrivacyError) as exc:
                refused[key] = type(exc).__name__
        report = {"size": size, "same_step": same_step, "refused": refused, "epochs": len(model.history_)}
        report["nll"] = model.history_[-1]["nll"]
        json.dump(report, open(f"{out}/rank{rank}.json", "w"))
    """
)


def _torchrun(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    import os

    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", *args]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


@pytest.mark.slow
def test_two_processes_train_one_model_with_averaged_gradients(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    done = _torchrun([str(script), str(tmp_path)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for report in reports:
        assert report["size"] == 2 and report["same_step"]
        assert report["refused"] == {"dp": "PrivacyError", "ctgan": "ParameterError"}
    first, second = (load(str(tmp_path / f"rank{r}.synth")) for r in (0, 1))
    for (name, p), q in zip(first.flow_net_.state_dict().items(), second.flow_net_.state_dict().values(), strict=True):
        assert torch.equal(p, q), name  # every process applied the same updates
    single = FlowSynthesizer(epochs=3, batch_size=200, random_state=0)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=2000), rng.choice(["x", "y"], 2000)
    single.fit(pd.DataFrame({"a": a, "b": b, "d": np.where(b == "x", a, -a)}))
    # 3 epochs of 10 global steps (2000 rows / 200), each process taking 100 of its 1000 rows per step:
    # the loss reached is that of one process (per-process NLL means of different rows, so not equal)
    assert reports[0]["epochs"] == len(single.history_) == 3
    assert abs(reports[0]["nll"] - single.history_[-1]["nll"]) < 0.5


@pytest.mark.slow
def test_cli_nproc_starts_torchrun_and_rank_zero_writes(tmp_path, capsys):
    rng = np.random.default_rng(1)
    source, out, model_path = tmp_path / "in.csv", tmp_path / "out.csv", tmp_path / "m.synth"
    pd.DataFrame({"a": rng.normal(size=600), "b": rng.choice(["x", "y"], 600)}).to_csv(source, index=False)
    argv = ["synthesize", str(source), "-o", str(out), "--model", "tvae", "--epochs", "2", "--quiet"]
    code = main([*argv, "--nproc", "2", "--save-model", str(model_path)])
    assert code == 0 and len(pd.read_csv(out)) == 600 and load(str(model_path)).epochs == 2


def test_cli_nproc_refuses_what_cannot_run_in_processes(tmp_path, capsys):
    source = tmp_path / "in.csv"
    pd.DataFrame({"a": np.arange(100.0), "b": ["x", "y"] * 50}).to_csv(source, index=False)
    base = ["synthesize", str(source), "-o", str(tmp_path / "o.csv"), "--nproc", "2"]
    assert main([*base, "--model", "ctgan"]) == 2 and "--nproc needs --model" in capsys.readouterr().err
    assert main([*base, "--model", "flow", "--epsilon", "1"]) == 2 and "--epsilon" in capsys.readouterr().err
    assert main([*base, "--model", "flow", "--nproc", "0"]) == 2


def test_outside_a_process_group_training_is_single_process():
    assert world() == (0, 1)
    rows = torch.arange(7)
    assert torch.equal(shard(rows), rows) and local_batch_size(500) == 500


def test_parquet_fit_and_callbacks_are_refused_across_processes(monkeypatch, tmp_path):
    import synthaug.synthesizers.core as core
    import synthaug.synthesizers.streamed as streamed
    import synthaug.training.data_parallel as data_parallel
    from synthaug.training.callbacks import TimeLimit

    monkeypatch.setattr(data_parallel, "world", lambda: (0, 2))
    monkeypatch.setattr(streamed, "world", lambda: (0, 2))
    monkeypatch.setattr(core, "shared_random_state", lambda rng: rng)  # no real group to broadcast in
    path = tmp_path / "t.parquet"
    pd.DataFrame({"a": np.arange(100.0)}).to_parquet(path)
    with pytest.raises(ParameterError, match="one process"):
        FlowSynthesizer(epochs=1).fit(path)
    with pytest.raises(ParameterError, match="callbacks"):
        FlowSynthesizer(epochs=1, callbacks=[TimeLimit(10)]).fit(pd.DataFrame({"a": np.arange(100.0)}))


def test_each_epoch_splits_one_shared_order_of_the_rows_among_the_processes(monkeypatch):
    import synthaug.training.data_parallel as data_parallel

    epochs = {}
    for rank in (0, 1):
        monkeypatch.setattr(data_parallel, "world", lambda r=rank: (r, 2))
        shared = torch.Generator().manual_seed(7)
        batches = data_parallel.ShardedBatches(torch.arange(11), 2, shared)
        epochs[rank] = [torch.cat(list(batches.epoch_batches())) for _ in range(3)]
    for mine, theirs in zip(epochs[0], epochs[1], strict=True):
        assert len(mine) == len(theirs) == 5 and not set(mine.tolist()) & set(theirs.tolist())
    assert not torch.equal(epochs[0][0], epochs[0][1])  # a fresh split every epoch
