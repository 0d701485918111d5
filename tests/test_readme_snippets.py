"""The README's Python snippets run as written, with small epochs and sizes, on small local stand-in data."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

README = Path(__file__).resolve().parents[1] / "README.md"
#: what is shrunk so the snippets run in seconds; nothing else of their text changes
SHRINK = ((r"epochs=\d+", "epochs=1"), (r"1_000_000", "2_000"), (r"patience=\d+", "patience=1"))


def snippets() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    for pattern, replacement in SHRINK:
        blocks = [re.sub(pattern, replacement, block) for block in blocks]
    return blocks


def write_stand_ins(folder: Path) -> None:
    """``attrition.csv`` with the columns the snippets name, and a ``pets/`` folder of two classes."""
    rng = np.random.default_rng(0)
    n = 2000
    pd.DataFrame(
        {
            "Age": rng.integers(18, 70, n),
            "Department": rng.choice(["HR", "R&D", "Sales"], n),
            "MonthlyIncome": rng.gamma(4, 1500, n).round(2),
            "Attrition": rng.choice(["Yes", "No"], n, p=[0.2, 0.8]),
        }
    ).to_csv(folder / "attrition.csv", index=False)
    for label in ("cat", "dog"):
        (folder / "pets" / label).mkdir(parents=True)
        for i in range(3):
            pixels = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / "pets" / label / f"{label}_{i}.png")


@pytest.mark.slow
def test_every_readme_snippet_runs(tmp_path, monkeypatch):
    blocks = snippets()
    assert len(blocks) >= 5
    write_stand_ins(tmp_path)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    for number, block in enumerate(blocks):  # in order: later snippets use earlier names (``real``)
        try:
            exec(compile(block, f"README.md python snippet {number}", "exec"), namespace)
        except Exception as exc:  # noqa: BLE001 - re-raised with the snippet that failed
            raise AssertionError(f"README python snippet {number} fails:\n{block}") from exc
    assert (tmp_path / "big.parquet").exists() and (tmp_path / "attrition.synthaug").exists()
    assert namespace["model"] is not None
