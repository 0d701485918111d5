"""model="auto": selection by held-out scores, refit of the winner, the fixed DP choice, the CLI default."""

import time

import numpy as np
import pandas as pd
import pytest

from synthaug import AutoSynthesizer, load
from synthaug.cli import main
from synthaug.exceptions import ParameterError
from synthaug.privacy import DPConfig
from synthaug.schema import infer_schema
from synthaug.synthesizers.auto import PRIVATE_CHOICE
from synthaug.training.callbacks import StopTraining, TimeLimit

SMALL = {"epochs": 8, "batch_size": 100}


def _table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], n, p=[0.7, 0.3])
    value = np.where(group == "a", rng.normal(0, 1, n), rng.normal(4, 1, n))
    return pd.DataFrame({"value": value, "group": group, "count": rng.integers(0, 20, n)})


def test_selection_scores_every_candidate_and_refits_the_lowest_gap(capsys):
    data = _table()
    model = AutoSynthesizer(candidates=["autoregressive", "flow"], time_budget=None, target="group", verbose=True, **SMALL)
    model.set_params(random_state=0).fit(data)
    scores = model.selection_["candidates"]
    assert set(scores) == {"autoregressive", "flow"}
    for s in scores.values():
        assert 0.0 <= s["detection_auc"] <= 1.0 and s["epochs"] == 8
        assert s["gap"] == pytest.approx(s["detection_auc"] - 0.5 + max(0.0, 1.0 - s["tstr_over_trtr"]))
    chosen = model.selection_["chosen"]
    assert chosen == min(scores, key=lambda n: scores[n]["gap"])
    assert type(model.model_).model_name == chosen and len(model.model_.history_) == 8
    assert f"chose {chosen}" in capsys.readouterr().out
    sample = model.sample(50, conditions={"group": "b"}, random_state=0)
    assert (sample["group"] == "b").all() and list(sample.columns) == list(data.columns)
    assert model.privacy_spent_ == model.model_.privacy_spent_  # fitted attributes read through to the winner


def test_selection_is_reproducible_without_a_time_budget():
    data = _table()
    first = AutoSynthesizer(candidates=["autoregressive", "flow"], time_budget=None, random_state=1, **SMALL).fit(data)
    again = AutoSynthesizer(candidates=["autoregressive", "flow"], time_budget=None, random_state=1, **SMALL).fit(data)
    assert first.selection_["chosen"] == again.selection_["chosen"]
    pd.testing.assert_frame_equal(first.sample(40, random_state=0), again.sample(40, random_state=0))


def test_a_time_budget_stops_candidates_and_the_refit_keeps_their_epochs():
    model = AutoSynthesizer(candidates=["flow"], time_budget=0.01, epochs=500, batch_size=100, random_state=0).fit(_table())
    epochs = model.selection_["candidates"]["flow"]["epochs"]
    assert epochs < 500 and len(model.model_.history_) == epochs


def test_with_labels_the_target_is_y_and_the_winner_samples_classes(tmp_path):
    data = _table()
    y = data.pop("group")
    model = AutoSynthesizer(candidates=["autoregressive"], time_budget=None, random_state=0, **SMALL).fit(data, y)
    assert "tstr_over_trtr" in model.selection_["candidates"]["autoregressive"]
    X, labels = model.sample(30, y="b")
    assert (labels == "b").all() and list(X.columns) == ["value", "count"]
    loaded = load(model.save(str(tmp_path / "auto.synthaug")))
    assert type(loaded).model_name == "autoregressive"


def test_under_dp_the_documented_choice_is_fitted_without_a_selection():
    data = _table(800)
    schema = infer_schema(data, {"group": {"public": True, "categories": ["a", "b"]}})
    model = AutoSynthesizer(dp=DPConfig(3.0, accountant="rdp"), schema=schema, epochs=2, random_state=0).fit(data)
    assert model.selection_["chosen"] == PRIVATE_CHOICE and model.selection_["candidates"] == {}
    assert "private rows" in model.selection_["reason"] and model.privacy_spent_["epsilon"] <= 3.0


BAD = [
    ({"candidates": ["gpt"]}, "candidates"),
    ({"candidates": ["image_gan"]}, "candidates"),
    ({"validation_share": 0.9}, "validation_share"),
    ({"time_budget": -1.0}, "time_budget"),
]


@pytest.mark.parametrize("params, name", BAD)
def test_bad_parameters_name_the_parameter(params, name):
    with pytest.raises(ParameterError, match=name):
        AutoSynthesizer(**params).fit(_table(50))


def test_an_unknown_target_is_refused():
    with pytest.raises(ParameterError, match="target 'nope' is not a column"):
        AutoSynthesizer(target="nope", **SMALL).fit(_table(50))


def test_time_limit_stops_after_the_epoch_that_passes_it():
    patient = TimeLimit(3600)
    patient.on_train_begin([])
    patient.on_epoch_end({"epoch": 1}, [])
    assert patient.stopped_epoch_ is None
    limit = TimeLimit(0.001)
    limit.on_train_begin([])
    time.sleep(0.01)
    with pytest.raises(StopTraining):
        limit.on_epoch_end({"epoch": 1}, [])
    assert limit.stopped_epoch_ == 1
    with pytest.raises(ParameterError, match="TimeLimit seconds"):
        TimeLimit(0)


def test_cli_default_is_auto_and_narrows_candidates_to_the_conditions(tmp_path, capsys):
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _table().to_csv(source, index=False)
    args = ["synthesize", str(source), "-o", str(out), "--epochs", "3", "--rows", "30", "--time-budget", "0"]
    assert main([*args, "--condition", "value=0..2", "--condition", "group=a"]) == 0
    printed = capsys.readouterr().out
    assert "fitted autoregressive (chosen by auto)" in printed  # the only default candidate that takes ranges
    frame = pd.read_csv(out)
    assert len(frame) == 30 and frame["value"].between(0, 2).all() and (frame["group"] == "a").all()
    assert main(["synthesize", str(source), "-o", str(tmp_path / "x.csv"), "--model", "flow", "--target", "group"]) == 2
    assert "--target only applies with --model auto" in capsys.readouterr().err


def test_candidates_are_scored_on_the_table_as_modelled():
    """Identifiers leave the scored view and free text is merged alike on both sides, so the
    detection classifier neither sees 1,000 one-hot ID columns nor tells every model apart by
    its `_RARE_` text (which would make every candidate's detection AUC 1)."""
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        {
            "customer_id": [f"CUST-{i:06d}" for i in rng.permutation(n)],
            "comment": [f"called about invoice {i}" for i in range(n)],
            "merchant": rng.choice([f"m{i}" for i in range(300)], n),
            "x": rng.normal(size=n),
            "label": rng.choice(["a", "b"], n),
        }
    )
    model = AutoSynthesizer(max_categories=10)
    train, held_out = frame.iloc[:300], frame.iloc[300:]
    view_train, view_held = model._modelled_view(train, held_out, "label")
    assert "customer_id" not in view_train and "customer_id" not in view_held
    assert (view_train["comment"] == "_RARE_").all() and (view_held["comment"] == "_RARE_").all()
    assert view_held["merchant"].isin(set(view_train["merchant"])).all() and view_train["merchant"].nunique() <= 11
    assert view_held["label"].equals(held_out["label"])
