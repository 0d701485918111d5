"""The marginal (MST) synthesizer: tree estimation, exact conditions, DP accounting and its proof."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from opacus.accountants import create_accountant
from opacus.accountants.analysis.rdp import compute_rdp

from synthaug import MarginalSynthesizer
from synthaug.exceptions import ConditionError, ParameterError
from synthaug.privacy import DPConfig
from synthaug.privacy.accounting import epsilon_of
from synthaug.privacy.marginals import exponential_choice, plan_marginal_budget, zcdp_of_entry
from synthaug.privacy.randomness import noise_source
from synthaug.schema import infer_schema
from synthaug.synthesizers.tree_model import estimate_tree, simplex_projection, spanning_tree

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _chain(n: int = 6000, seed: int = 0) -> pd.DataFrame:
    """a -> b -> c, a Markov chain (so a tree holds the joint exactly), plus a numeric column."""
    rng = np.random.default_rng(seed)
    a = rng.choice(["x", "y", "z"], n, p=[0.5, 0.3, 0.2])
    b = np.where(rng.random(n) < 0.8, a, rng.choice(["x", "y", "z"], n))
    c = np.where(rng.random(n) < 0.7, np.char.add("c", b), rng.choice(["cx", "cy", "cz"], n))
    return pd.DataFrame({"a": a, "b": b, "c": c, "age": rng.normal(40, 10, n) + (a == "x") * 15})


def _tv(p: pd.Series, q: pd.Series) -> float:
    return 0.5 * float(p.sub(q, fill_value=0.0).abs().sum())


# ---------------------------------------------------------------------- the tree model
def test_simplex_projection_is_non_negative_with_the_total():
    projected = simplex_projection(np.array([5.0, -2.0, 1.0, 0.5]), 4.0)
    assert projected.min() >= 0 and projected.sum() == pytest.approx(4.0)
    assert projected[1] == 0.0 and projected[0] > projected[2]


def test_spanning_tree_takes_the_strongest_pairs():
    scores = np.array([[0, 5, 1, 0], [5, 0, 4, 0], [1, 4, 0, 3], [0, 0, 3, 0]], dtype=float)
    assert sorted(spanning_tree(scores, lambda s: int(np.argmax(s)))) == [(0, 1), (1, 2), (2, 3)]


def test_estimated_edges_agree_with_the_node_marginals():
    rng = np.random.default_rng(0)
    noisy = {(0, 1): rng.normal(50, 30, (3, 4))}
    tree = estimate_tree([3, 4], [(0, 1)], [rng.normal(200, 30, 3), rng.normal(150, 30, 4)], noisy, 600.0, sigma1=30, sigma2=30)
    table = tree.edge_probs[0]
    assert table.min() > 0 and table.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(table.sum(axis=1), tree.node_probs[0], atol=1e-9)
    np.testing.assert_allclose(table.sum(axis=0), tree.node_probs[1], atol=1e-9)


# ---------------------------------------------------------------------- fit and exact conditions
def test_chow_liu_tree_recovers_the_chain_and_its_conditionals():
    data = _chain()
    model = MarginalSynthesizer(random_state=0).fit(data)
    discrete_pairs = {frozenset(e) for e in model.tree_edges_ if "age" not in e}
    assert discrete_pairs == {frozenset(("a", "b")), frozenset(("b", "c"))}
    given = model.sample(4000, conditions={"a": "x", "c": "cy"})
    assert (given["a"] == "x").all() and (given["c"] == "cy").all() and len(given) == 4000
    real = data[(data.a == "x") & (data.c == "cy")]["b"].value_counts(normalize=True)
    # p(b | a, c) on a chain: two conditioned columns at once, by message passing, no rejection
    assert _tv(given["b"].value_counts(normalize=True), real) < 0.06


def test_numeric_range_conditions_return_only_rows_in_range():
    model = MarginalSynthesizer(random_state=0).fit(_chain())
    rows = model.sample(777, conditions={"age": (30, 35), "b": "z"})
    assert len(rows) == 777 and rows["age"].between(30, 35).all() and (rows["b"] == "z").all()
    with pytest.raises(ConditionError, match="not seen in fit"):
        model.sample(5, conditions={"a": "nope"})


def test_target_makes_a_star_and_y_is_the_target():
    data = _chain(2000)
    star = MarginalSynthesizer(target="b", random_state=0).fit(data)
    assert all("b" in pair for pair in star.tree_edges_) and len(star.tree_edges_) == 3
    X, y = data.drop(columns="c"), data["c"]
    labelled = MarginalSynthesizer(random_state=0).fit(X, y)
    assert all("c" in pair for pair in labelled.tree_edges_)
    Xs, ys = labelled.sample(300, y="cz")
    assert (ys == "cz").all() and list(Xs.columns) == ["a", "b", "age"]
    with pytest.raises(ParameterError, match="target='nope' is not a column"):
        MarginalSynthesizer(target="nope").fit(data)


def test_marginal_takes_no_training_parameters():
    with pytest.raises(TypeError):
        MarginalSynthesizer(epochs=5)


# ---------------------------------------------------------------------- DP accounting and its proof
def test_a_gaussian_entry_is_the_zcdp_of_its_mechanism_in_opacus_rdp():
    """The conversion the ledger rests on: Opacus's RDP of an entry ``(z, 1.0, k)`` is exactly
    ``alpha * k / (2 z^2)``, the RDP curve of ``k / (2 z^2)``-zCDP, so a Gaussian measurement and
    an exponential mechanism (``epsilon^2 / 8``-zCDP, entered with ``z = 2 / epsilon``) compose exactly."""
    alphas = [1.5, 2.0, 8.0, 64.0]
    for z, steps in [(3.0, 1), (41.0, 30), (2 / 0.05, 29)]:
        rdp = compute_rdp(q=1.0, noise_multiplier=z, steps=steps, orders=alphas)
        np.testing.assert_allclose(rdp, [a * zcdp_of_entry(z, steps) for a in alphas], rtol=1e-12)
    eps_em = 0.2
    assert zcdp_of_entry(2 / eps_em, 1) == pytest.approx(eps_em**2 / 8)


def test_rdp_epsilon_of_a_zcdp_budget_matches_reference_conversions():
    """Against two conversions of rho-zCDP written here: the textbook bound (Bun and Steinke
    2016, Prop. 1.3) epsilon <= rho + 2 sqrt(rho log(1/delta)), and the tighter RDP conversion of
    Balle et al. (2020, Thm. 21) minimised over a fine grid of orders, which Opacus evaluates
    on its own, coarser grid (so its epsilon is at most a little above)."""
    alphas = np.linspace(1.01, 500, 200_000)
    for rho, delta in [(0.01, 1e-5), (0.05, 1e-6), (0.5, 1e-5)]:
        z = math.sqrt(1 / (2 * rho))
        eps = epsilon_of([(z, 1.0, 1)], delta, "rdp")
        tight = np.min(alphas * rho + np.log1p(-1 / alphas) - (np.log(delta) + np.log(alphas)) / (alphas - 1))
        assert tight - 1e-9 <= eps <= 1.02 * tight
        assert eps <= rho + 2 * math.sqrt(rho * math.log(1 / delta))


@pytest.mark.parametrize("select", [True, False])
def test_budget_split_composes_to_the_target(select):
    prior = [(20.0, 1.0, 2)]
    budget = plan_marginal_budget(1.0, 1e-5, 12, prior, select=select)
    assert sum(zcdp_of_entry(z, k) for z, _, k in budget.history()) == pytest.approx(budget.rho, rel=1e-9)
    assert epsilon_of([*prior, *budget.history()], 1e-5, "rdp") <= 1.0
    assert (budget.selection_epsilon > 0) is select


def test_exponential_mechanism_draws_in_proportion_to_exp_of_the_score():
    noise = noise_source(3)
    scores, eps = np.array([0.0, 2.0, 4.0]), 0.5
    draws = np.bincount([exponential_choice(scores, eps, 1.0, noise) for _ in range(6000)], minlength=3) / 6000
    expected = np.exp(eps * scores / 2) / np.exp(eps * scores / 2).sum()
    np.testing.assert_allclose(draws, expected, atol=0.025)


def test_private_fit_spends_at_most_epsilon_and_matches_opacus():
    data = _chain(3000)
    schema = infer_schema(
        data,
        {
            "a": {"public": True, "categories": ["x", "y", "z"]},
            "b": {"public": True, "categories": ["x", "y", "z"]},
            "c": {"public": True, "categories": ["cx", "cy", "cz"]},
            "age": {"public": True, "bounds": [0, 120]},
        },
    )
    model = MarginalSynthesizer(dp=DPConfig(1.0), schema=schema, random_state=0).fit(data)
    ledger = model.privacy_spent_
    accountant = create_accountant("rdp")
    accountant.history = [tuple(e) for e in ledger["history"]]
    assert ledger["epsilon"] <= 1.0 and ledger["accountant"] == "rdp"
    assert ledger["epsilon"] == pytest.approx(accountant.get_epsilon(delta=ledger["delta_accountant"]), rel=1e-9)
    assert [b["stage"] for b in ledger["breakdown"]] == ["preprocessing", "marginals"]
    sample = model.sample(3000)
    assert set(sample["c"]) <= {"cx", "cy", "cz"} and sample["age"].between(0, 120).all()
    # the strongest dependence survives the noise at epsilon 1 on 3,000 rows
    assert (sample["a"] == sample["b"]).mean() > 0.6


def test_a_rare_declared_class_is_generated_under_dp():
    data = _chain(2000)
    y = pd.Series(np.where(np.arange(2000) < 4, "rare", "common"), name="label")
    model = MarginalSynthesizer(dp=DPConfig(1.0), random_state=0).fit(data, y)
    assert "rare" in model.schema_["label"].categories
    _, labels = model.sample(20_000)
    assert (labels == "rare").any()
    X, labels = model.sample(50, y="rare")
    assert (labels == "rare").all() and len(X) == 50


# ---------------------------------------------------------------------- CLI and oversampler
def _private_csv(tmp_path):
    data = _chain(1500)
    source, schema = tmp_path / "in.csv", tmp_path / "schema.json"
    data.to_csv(source, index=False)
    declared = {c: {"public": True, "categories": sorted(data[c].unique())} for c in "abc"}
    declared["age"] = {"public": True, "bounds": [0, 120]}
    schema.write_text(infer_schema(data, declared).to_json())
    return source, schema


def test_cli_synthesizes_with_the_marginal_model_under_epsilon(tmp_path, capsys):
    from synthaug.cli import main

    source, schema = _private_csv(tmp_path)
    out = tmp_path / "out.csv"
    args = ["synthesize", str(source), "-o", str(out), "--model", "marginal", "--target", "c", "--rows", "200"]
    assert main([*args, "--epsilon", "1", "--schema", str(schema), "--condition", "c=cy", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "differential privacy" in printed and "rdp accountant" in printed
    frame = pd.read_csv(out)
    assert len(frame) == 200 and (frame["c"] == "cy").all()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--model", "ctgan", "--target", "c"], "--target only applies with --model auto"),
        (["--model", "marginal", "--epochs", "5"], "unknown parameter(s) ['epochs']"),
        (["--model", "marginal", "--target", "nope"], "--target 'nope' is not a column"),
    ],
)
def test_cli_marginal_misuse_is_a_clear_error(tmp_path, capsys, extra, message):
    from synthaug.cli import main

    source, _ = _private_csv(tmp_path)
    assert main(["synthesize", str(source), "-o", str(tmp_path / "o.csv"), *extra, "-q"]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_private_class_counts_pool_every_measurement_of_the_label():
    # the class counts a private oversampler generates from are the model's label marginal (the star
    # measures the label in every pair) times the public row count: they add up to it, and over
    # repeated fits they scatter less than the preprocessing's single noisy count would (std ~100
    # rows here at epsilon 1; the pooled estimate's is ~20)
    data = _chain(2000)
    y = pd.Series(np.where(data["a"] == "z", "rare", "common"), name="label")
    errors = []
    for _ in range(4):
        model = MarginalSynthesizer(dp=DPConfig(1.0), random_state=0).fit(data.drop(columns="a"), y)
        assert sum(model.noisy_class_counts_.values()) == pytest.approx(len(data))
        errors.append(model.noisy_class_counts_["rare"] - (y == "rare").sum())
    assert np.sqrt(np.mean(np.square(errors))) < 60


def test_private_oversampler_with_the_marginal_model_balances_the_classes():
    from synthaug import GenerativeOverSampler

    data = _chain(2000)
    y = pd.Series(np.where(data["a"] == "z", "rare", "common"), name="label")
    # domains declared public: discovered privately, b's "z" (453 rows) would fall below the category
    # threshold (346 rows here, noise std 76) in ~8% of fits, and then no row could have b == "z"
    X = data.drop(columns="a")
    declared = {"b": {"public": True, "categories": ["x", "y", "z"]}, "c": {"public": True, "categories": ["cx", "cy", "cz"]}}
    schema = infer_schema(X, {**declared, "age": {"public": True, "bounds": [0, 120]}})
    synthesizer = MarginalSynthesizer(dp=DPConfig(1.0), schema=schema)
    sampler = GenerativeOverSampler(synthesizer=synthesizer, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    counts = y_res.value_counts()
    assert abs(counts["rare"] - counts["common"]) <= 0.1 * counts["common"]
    assert sampler.privacy_spent_["epsilon"] <= 1.0
    # the synthetic rare rows follow the rare class: b mostly "z" as a is
    added = X_res.iloc[len(data) :][y_res.iloc[len(data) :].to_numpy() == "rare"]
    assert (added["b"] == "z").mean() > 0.5
