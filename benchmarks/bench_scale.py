#!/usr/bin/env python
"""Scale benchmark: transform, fit and streamed sampling on a generated 1,000,000 x 20 table.

The table (``--rows`` x 20 columns: 10 continuous of several shapes, 3 integer, 4 categorical of
5-200 categories, 1 boolean, 1 datetime, 1 binary target-like categorical; missing values in two
columns) is generated with vectorised numpy from ``--seed``. For each model the script times:

* transform: ``TabularTransformer().fit(table)`` and ``.transform(table)``;
* fit: ``get_synthesizer(model, epochs=1, batch_size=B)`` on the whole table, i.e. a fixed
  ``ceil(rows / B)`` steps (one epoch), transformer included;
* sampling: ``write_table_chunks(model.iter_samples(rows, chunk_size=C), "out.parquet")``,
  streamed in chunks so that memory stays bounded;

and the peak resident memory (RSS) of each phase (Linux: the kernel's high-water mark, reset
before each phase through ``/proc/self/clear_refs``). Targets (issue 8): peak RSS under 4 GB and
sampling 1M rows in under a minute on a 2-core machine; the script prints them beside the figures.
Results go to ``benchmarks/results/scale_*.json`` and ``.md``.

    python benchmarks/bench_scale.py                      # 1M rows, tvae and ctgan
    python benchmarks/bench_scale.py --rows 50000 --models tvae --output-dir benchmarks/results/tmp
    python benchmarks/bench_scale.py --models tvae --engine dask --workers 1 2   # + parallel sampling, speed-up
    python benchmarks/bench_scale.py --from-parquet --rows 20000000 --models flow --batch-size 5000 --engine dask

With ``--from-parquet`` the table is written to a temporary Parquet file block by block (1M rows
at a time, never whole in memory), each model is fitted from the file for one epoch
(``fit(path)``: chunks of 131,072 rows encoded on the fly, see ``synthaug.synthesizers.streamed``)
and sampled with ``--engine``; the peak RSS of the generation, of the fit and of each worker is
printed (target: under 4 GB).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:  # run as a script: benchmarks/ is on sys.path
    import _common as common
except ImportError:  # imported as benchmarks.bench_scale
    from benchmarks import _common as common

RSS_TARGET_GB = 4.0
#: row-group size of the generated Parquet table (the streamed fit shuffles row groups each epoch)
ROW_GROUP_ROWS = 131_072
SAMPLE_TARGET_S = 60.0


def make_table(n_rows: int, seed: int) -> pd.DataFrame:
    """A mixed-type table of ``n_rows`` x 20 columns (see module docstring), vectorised."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=n_rows)
    data: dict[str, Any] = {
        "normal": 50 + 10 * base,
        "lognormal": np.exp(10 + 0.5 * base + 0.3 * rng.normal(size=n_rows)),
        "bimodal": np.where(rng.random(n_rows) < 0.4, rng.normal(-3, 1, n_rows), rng.normal(4, 1.5, n_rows)),
        "uniform": rng.uniform(0, 1, n_rows),
        "exponential": rng.exponential(2.0, n_rows),
        "gamma": rng.gamma(2.0, 3.0, n_rows),
        "student_t": rng.standard_t(3, n_rows),
        "beta": rng.beta(2, 5, n_rows),
        "correlated": 0.8 * base + 0.6 * rng.normal(size=n_rows),
        "with_missing": np.where(rng.random(n_rows) < 0.1, np.nan, rng.normal(0, 1, n_rows)),
        "age": rng.integers(18, 90, n_rows),
        "count": rng.poisson(20, n_rows),
        "year": rng.integers(1950, 2025, n_rows),
        "small_cat": rng.choice([f"s{i}" for i in range(5)], n_rows),
        "medium_cat": rng.choice([f"m{i}" for i in range(30)], n_rows),
        "large_cat": rng.choice([f"l{i}" for i in range(200)], n_rows, p=np.arange(200, 0, -1) / 20100),
        "cat_with_missing": pd.Series(rng.choice(["x", "y", "z"], n_rows)).where(rng.random(n_rows) > 0.05),
        "flag": rng.random(n_rows) < 0.3,
        "joined": pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3650, n_rows), unit="D"),
        "label": np.where(base + rng.normal(size=n_rows) > 1.5, "yes", "no"),
    }
    return pd.DataFrame(data)


# --------------------------------------------------------------------------- memory
def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_gb() -> float:
    """Peak RSS since the last reset (Linux's VmHWM; elsewhere the process lifetime's ru_maxrss)."""
    from synthaug.distributed import peak_rss_gb

    return peak_rss_gb()


def measured(fn: Any) -> tuple[Any, float, float]:
    """Run ``fn``; return its result, seconds and the peak RSS in GB during it."""
    _reset_peak()
    result, seconds = common.timed(fn)
    return result, seconds, _peak_gb()


# --------------------------------------------------------------------------- table on disk
def write_parquet_table(path: Path, n_rows: int, seed: int, block_rows: int = 1_000_000) -> None:
    """The generated table written block by block (each block from its own seed) to one Parquet
    file with row groups of ``ROW_GROUP_ROWS``: never more than one block in memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for block, start in enumerate(range(0, n_rows, block_rows)):
            frame = make_table(min(block_rows, n_rows - start), seed * 100_003 + block)
            table = pa.Table.from_pandas(frame, preserve_index=False)
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
    finally:
        if writer is not None:
            writer.close()


def run_from_parquet(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """``--from-parquet``: the table generated on disk, each model fitted from the file for one epoch
    (``fit(path)``, chunk by chunk), then sampled in parallel with ``--engine``."""
    import synthaug

    path = folder / "table.parquet"
    _, gen_s, gen_gb = measured(lambda: write_parquet_table(path, args.rows, args.seed))
    size_gb = path.stat().st_size / 1024**3
    print(f"wrote {args.rows:,} x 20 to {path.name} ({size_gb:.2f} GB) in {gen_s:.1f} s (peak RSS {gen_gb:.2f} GB)", flush=True)
    results: dict[str, Any] = {"generate": {"seconds": gen_s, "peak_rss_gb": gen_gb, "parquet_gb": size_gb}, "models": {}}
    for name in args.models:
        model = synthaug.get_synthesizer(name, epochs=1, batch_size=args.batch_size, random_state=args.seed)
        _, fit_s, fit_gb = measured(lambda m=model: m.fit(path))
        results["models"][name] = {"fit_seconds": fit_s, "fit_peak_rss_gb": fit_gb}
        print(f"{name}: fit from Parquet (1 epoch) {fit_s:.1f} s, peak RSS {fit_gb:.2f} GB", flush=True)
        if args.engine is not None:
            model_path = model.save(str(folder / f"{name}.synth"))
            results["models"][name]["parallel"] = parallel_sampling(model_path, args, folder / f"{name}_dataset")
    return results


# --------------------------------------------------------------------------- run
def run(args: argparse.Namespace) -> dict[str, Any]:
    import synthaug
    from synthaug.io import write_table_chunks

    table, gen_s, gen_gb = measured(lambda: make_table(args.rows, args.seed))
    print(f"generated {table.shape[0]:,} x {table.shape[1]} in {gen_s:.1f} s (peak RSS {gen_gb:.2f} GB)", flush=True)
    transformer = synthaug.TabularTransformer(random_state=args.seed)
    _, fit_t, fit_t_gb = measured(lambda: transformer.fit(table))
    encoded, tr_s, tr_gb = measured(lambda: transformer.transform(table))
    print(
        f"transformer: fit {fit_t:.1f} s, transform {tr_s:.1f} s -> {encoded.shape[1]} features "
        f"({encoded.nbytes / 1024**3:.2f} GB float32), peak RSS {max(fit_t_gb, tr_gb):.2f} GB",
        flush=True,
    )
    del encoded
    results: dict[str, Any] = {
        "generate": {"seconds": gen_s, "peak_rss_gb": gen_gb},
        "transformer": {"fit_seconds": fit_t, "transform_seconds": tr_s, "peak_rss_gb": max(fit_t_gb, tr_gb)},
        "models": {},
    }
    with tempfile.TemporaryDirectory() as folder:
        for name in args.models:
            model = synthaug.get_synthesizer(name, epochs=1, batch_size=args.batch_size, random_state=args.seed)
            _, fit_s, fit_gb = measured(lambda m=model: m.fit(table))
            steps = math.ceil(args.rows / args.batch_size)
            out = Path(folder) / f"{name}.parquet"
            chunks = model.iter_samples(args.rows, chunk_size=args.chunk_size, random_state=args.seed)
            (_, rows), smp_s, smp_gb = measured(lambda c=chunks, o=out: write_table_chunks(c, o))
            size_mb = out.stat().st_size / 1024**2
            results["models"][name] = {
                "fit_seconds": fit_s,
                "steps": steps,
                "steps_per_second": steps / fit_s,
                "fit_peak_rss_gb": fit_gb,
                "sample_rows": rows,
                "sample_seconds": smp_s,
                "sample_rows_per_second": rows / smp_s,
                "sample_peak_rss_gb": smp_gb,
                "parquet_mb": size_mb,
            }
            print(
                f"{name}: fit {fit_s:.1f} s for {steps} steps ({steps / fit_s:.1f} steps/s, peak RSS {fit_gb:.2f} GB); "
                f"sampled {rows:,} rows to Parquet in {smp_s:.1f} s ({rows / smp_s:,.0f} rows/s, peak RSS {smp_gb:.2f} GB, "
                f"{size_mb:.0f} MB)",
                flush=True,
            )
            if args.engine is not None:
                model_path = model.save(str(Path(folder) / f"{name}.synth"))
                results["models"][name]["parallel"] = parallel_sampling(model_path, args, Path(folder) / f"{name}_dataset")
    return results


def parallel_sampling(model_path: str, args: argparse.Namespace, out: Path) -> list[dict[str, Any]]:
    """``sample_to_parquet`` on ``args.engine`` with each of ``args.workers`` (one partition per
    worker), the cluster started before the clock; rows/s, speed-up over the first, worker peak RSS."""
    from synthaug.distributed import sample_to_parquet

    rows = []
    for workers in args.workers:
        client, close = _engine_client(args.engine, workers)
        try:
            options = {"engine": args.engine, "partitions": workers, "workers": workers, "random_state": args.seed}
            result, seconds = common.timed(
                lambda o=options, c=client: sample_to_parquet(model_path, args.rows, out, **o, client=c, overwrite=True)
            )
        finally:
            close()
        peak = result["worker_peak_rss_gb"]
        rows.append({"workers": workers, "seconds": seconds, "rows_per_second": args.rows / seconds, "worker_peak_rss_gb": peak})
        speedup = rows[0]["seconds"] / seconds
        print(
            f"  {args.engine}, {workers} worker(s): {args.rows:,} rows in {seconds:.1f} s ({args.rows / seconds:,.0f} rows/s, "
            f"speed-up {speedup:.2f} over {args.workers[0]}), worker peak RSS {result['worker_peak_rss_gb']:.2f} GB",
            flush=True,
        )
    return rows


def _engine_client(engine: str, workers: int) -> tuple[Any, Any]:
    """A started Dask client (and its closer), so cluster start-up is not timed; Ray starts here too."""
    if engine == "dask":
        import dask
        from dask.distributed import Client, LocalCluster

        from synthaug.distributed import _TRIM_SETTING

        with dask.config.set({_TRIM_SETTING: None}):  # as sample_to_parquet's own local cluster
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster)
        client.run(lambda: __import__("synthaug.persistence"))  # workers up, torch imported
        return client, lambda: (client.close(), cluster.close())
    if engine == "ray":
        import ray

        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        return None, ray.shutdown
    return None, lambda: None


def markdown(info: dict[str, Any], args: argparse.Namespace, results: dict[str, Any]) -> str:
    t = results["transformer"]
    lines = [
        f"# Scale benchmark ({info['timestamp_utc']})",
        "",
        f"- command: `{info['command']}`",
        f"- machine: {info['platform']}, {info['cpu_count']} CPUs (torch threads {info['torch_threads']}); "
        f"torch {info['versions']['torch']}, pandas {info['versions']['pandas']}",
        f"- table: {args.rows:,} rows x 20 mixed columns (generated, seed {args.seed}); batch {args.batch_size}; "
        f"sampling chunk {args.chunk_size:,} rows streamed to Parquet",
        f"- transformer: fit {t['fit_seconds']:.1f} s, transform {t['transform_seconds']:.1f} s, "
        f"peak RSS {t['peak_rss_gb']:.2f} GB",
        "",
        "| model | fit s (1 epoch) | steps | steps/s | fit peak RSS GB | sample s | sample rows/s | sample peak RSS GB "
        f"| RSS < {RSS_TARGET_GB:g} GB | sample < {SAMPLE_TARGET_S:g} s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results["models"].items():
        peak = max(r["fit_peak_rss_gb"], r["sample_peak_rss_gb"], t["peak_rss_gb"])
        lines.append(
            f"| {name} | {r['fit_seconds']:.1f} | {r['steps']} | {r['steps_per_second']:.1f} | {r['fit_peak_rss_gb']:.2f} "
            f"| {r['sample_seconds']:.1f} | {r['sample_rows_per_second']:,.0f} | {r['sample_peak_rss_gb']:.2f} "
            f"| {'yes' if peak < RSS_TARGET_GB else 'no'} | {'yes' if r['sample_seconds'] < SAMPLE_TARGET_S else 'no'} |"
        )
    for name, r in results["models"].items():
        for p in r.get("parallel", []):
            speedup = r["parallel"][0]["seconds"] / p["seconds"]
            lines.append(
                f"- {name}, `sample_to_parquet` on {args.engine} with {p['workers']} worker(s): {p['seconds']:.1f} s, "
                f"{p['rows_per_second']:,.0f} rows/s, speed-up {speedup:.2f}, worker peak RSS {p['worker_peak_rss_gb']:.2f} GB"
            )
    return "\n".join(lines) + "\n"


def markdown_from_parquet(info: dict[str, Any], args: argparse.Namespace, results: dict[str, Any]) -> str:
    g = results["generate"]
    lines = [
        f"# Scale benchmark, fit from Parquet ({info['timestamp_utc']})",
        "",
        f"- command: `{info['command']}`",
        f"- machine: {info['platform']}, {info['cpu_count']} CPUs (torch threads {info['torch_threads']}); "
        f"torch {info['versions']['torch']}, pandas {info['versions']['pandas']}",
        f"- table: {args.rows:,} rows x 20 mixed columns generated on disk block by block ({g['parquet_gb']:.2f} GB Parquet, "
        f"row groups of {ROW_GROUP_ROWS:,}) in {g['seconds']:.1f} s, peak RSS {g['peak_rss_gb']:.2f} GB; batch {args.batch_size}",
        "",
        f"| model | fit s (1 epoch from the file) | rows/s | fit peak RSS GB | RSS < {RSS_TARGET_GB:g} GB |",
        "|---|---|---|---|---|",
    ]
    for name, r in results["models"].items():
        lines.append(
            f"| {name} | {r['fit_seconds']:.1f} | {args.rows / r['fit_seconds']:,.0f} | {r['fit_peak_rss_gb']:.2f} "
            f"| {'yes' if r['fit_peak_rss_gb'] < RSS_TARGET_GB else 'no'} |"
        )
    for name, r in results["models"].items():
        for p in r.get("parallel", []):
            speedup = r["parallel"][0]["seconds"] / p["seconds"]
            lines.append(
                f"- {name}, `sample_to_parquet` of {args.rows:,} rows on {args.engine} with {p['workers']} worker(s): "
                f"{p['seconds']:.1f} s, {p['rows_per_second']:,.0f} rows/s, speed-up {speedup:.2f}, "
                f"worker peak RSS {p['worker_peak_rss_gb']:.2f} GB"
            )
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="table rows (default 1,000,000)")
    parser.add_argument("--models", nargs="+", default=["tvae", "ctgan"], choices=["ctgan", "tvae", "flow"])
    parser.add_argument("--batch-size", type=int, default=500, help="rows per training step (default 500)")
    parser.add_argument("--chunk-size", type=int, default=65_536, help="rows per sampled chunk (default 65536)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engine", choices=["dask", "ray", "local"], default=None, help="also sample with sample_to_parquet")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts for --engine (default 1 2)")
    parser.add_argument(
        "--from-parquet",
        action="store_true",
        help="generate the table on disk and fit from the file in chunks (flow, tvae) instead of in memory",
    )
    common.add_path_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    info = common.machine_base(started)
    if args.from_parquet:
        with tempfile.TemporaryDirectory() as folder:
            results = run_from_parquet(args, Path(folder))
        report = markdown_from_parquet(info, args, results)
    else:
        results = run(args)
        report = markdown(info, args, results)
    print("\n" + report)
    out = args.output_dir / f"scale_{started.strftime('%Y%m%dT%H%M%SZ')}_{args.rows}"
    common.write_atomic(out.with_suffix(".json"), json.dumps({"machine": info, "results": results}, indent=2))
    common.write_atomic(out.with_suffix(".md"), report)
    print(f"wrote {out}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
