"""Validation of pipeline specs: the sections and keys :class:`~synthaug.pipeline.SynthesisPipeline` accepts.

A spec is a dict of sections (``[input]``, ``[synthesizer]`` ...) as read from TOML. :func:`check_spec`
checks every section, key, type and value, fills in the defaults and returns the resolved spec;
every error is a :class:`~synthaug.exceptions.SpecError` naming the key and what is allowed.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .exceptions import PrivacyError, SpecError

SECTIONS: dict[str, tuple[str, ...]] = {
    "input": ("path", "dataset", "target", "holdout", "sep", "decimal", "encoding"),
    "schema": (),  # free-form: {column = {override ...}}
    "synthesizer": ("name", "params"),
    "privacy": ("epsilon", "delta", "max_grad_norm", "accountant", "preprocessing_share"),
    "oversample": ("strategy", "mode"),
    "evaluate": ("sensitive", "real_images"),
    "output": ("dir", "rows", "seed"),
}
REQUIRED_SECTIONS = ("input", "synthesizer", "output")
OVERSAMPLE_MODES = ("conditional", "per_class")
# synthesizer parameters the pipeline sets itself, and from where
RESERVED_PARAMS = {
    "random_state": "output.seed",
    "schema": "the [schema] section",
    "dp": "the [privacy] section",
    "verbose": "run(verbose=...) / the CLI's -q",
}
DEFAULT_HOLDOUT = 0.3
DEFAULT_SEED = 0
IMAGE_DATASETS = ("digits",)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _section(spec: Mapping[str, Any], name: str) -> dict[str, Any]:
    section = spec.get(name, {})
    if not isinstance(section, Mapping):
        raise SpecError(f"spec section [{name}] must be a table of keys, got {type(section).__name__}")
    allowed = SECTIONS[name]
    if allowed:
        unknown = [key for key in section if key not in allowed]
        if unknown:
            raise SpecError(f"unknown key {name}.{unknown[0]}; allowed keys in [{name}]: {', '.join(allowed)}")
    return dict(section)


def _string(section: dict[str, Any], section_name: str, key: str, required: bool = False) -> str | None:
    value = section.get(key)
    if value is None:
        if required:
            raise SpecError(f"spec key {section_name}.{key} is required")
        return None
    if not isinstance(value, str) or not value:
        raise SpecError(f"spec key {section_name}.{key} must be a non-empty string, got {value!r}")
    return value


def apply_overrides(
    spec: Mapping[str, Any], *, output_dir: str | Path | None = None, epochs: int | None = None, seed: int | None = None
) -> dict[str, Any]:
    """A copy of ``spec`` with ``output.dir``, ``synthesizer.params.epochs`` and ``output.seed`` replaced where given."""
    spec = copy.deepcopy(dict(spec))
    if output_dir is not None:
        spec.setdefault("output", {})
        if isinstance(spec["output"], Mapping):
            spec["output"] = {**spec["output"], "dir": str(output_dir)}
    if seed is not None:
        spec.setdefault("output", {})
        if isinstance(spec["output"], Mapping):
            spec["output"] = {**spec["output"], "seed": seed}
    if epochs is not None:
        synthesizer = spec.setdefault("synthesizer", {})
        if isinstance(synthesizer, Mapping):
            params = synthesizer.get("params", {})
            if isinstance(params, Mapping):
                spec["synthesizer"] = {**synthesizer, "params": {**params, "epochs": epochs}}
    return spec


def check_spec(spec: Mapping[str, Any], base_dir: Path, cwd: Path) -> dict[str, Any]:
    """Validate ``spec`` and return it resolved: defaults filled in, paths absolute, unset keys left out.

    ``input.path`` is taken relative to ``base_dir`` (the spec file's folder), ``output.dir``
    relative to ``cwd``.
    """
    if not isinstance(spec, Mapping):
        raise SpecError(f"a pipeline spec is a mapping of sections, got {type(spec).__name__}")
    unknown = [name for name in spec if name not in SECTIONS]
    if unknown:
        raise SpecError(f"unknown spec section [{unknown[0]}]; allowed sections: {', '.join(SECTIONS)}")
    missing = [name for name in REQUIRED_SECTIONS if name not in spec]
    if missing:
        raise SpecError(f"spec lacks the [{missing[0]}] section; required sections: {', '.join(REQUIRED_SECTIONS)}")
    resolved: dict[str, Any] = {"input": _check_input(spec, base_dir)}
    if input_kind(resolved["input"]) == "images":
        return _check_image_spec(spec, resolved, cwd)
    schema = _check_schema(spec)
    if schema:
        resolved["schema"] = schema
    resolved["synthesizer"] = _check_synthesizer(spec)
    if resolved["synthesizer"]["name"].startswith("image_"):
        raise SpecError(
            f"synthesizer.name {resolved['synthesizer']['name']!r} needs images: input.dataset = 'digits', or input.path "
            "a folder of class sub-folders or an .npz file"
        )
    if "privacy" in spec:
        resolved["privacy"] = _check_privacy(spec)
    if "oversample" in spec:
        resolved["oversample"] = _check_oversample(spec, resolved["input"], schema)
    resolved["evaluate"] = _check_evaluate(spec)
    resolved["output"] = _check_output(spec, cwd, oversample="oversample" in resolved)
    return resolved


def _check_input(spec: Mapping[str, Any], base_dir: Path) -> dict[str, Any]:
    from .datasets import available_datasets

    section = _section(spec, "input")
    path, dataset = _string(section, "input", "path"), _string(section, "input", "dataset")
    if (path is None) == (dataset is None):
        which = "both" if path is not None else "neither"
        raise SpecError(
            f"[input] needs exactly one of input.path (a .csv or .parquet file) or input.dataset "
            f"({', '.join(available_datasets())}); got {which}"
        )
    resolved: dict[str, Any] = {}
    if dataset is not None:
        if dataset not in (*available_datasets(), *IMAGE_DATASETS):
            allowed = ", ".join([*available_datasets(), *IMAGE_DATASETS])
            raise SpecError(f"unknown input.dataset {dataset!r}; allowed: {allowed}")
        resolved["dataset"] = dataset
    else:
        full = (base_dir / path).resolve()
        images = full.is_dir() or full.suffix.lower() == ".npz"
        if not images and full.suffix.lower() not in (".csv", ".txt", ".parquet", ".pq"):
            raise SpecError(
                f"input.path {path!r} must be a .csv or .parquet file (a table), or a folder of class sub-folders "
                "or an .npz file (images)"
            )
        resolved["path"] = str(full)
    target = _string(section, "input", "target")
    if target is not None:
        resolved["target"] = target
    resolved.update(_csv_keys(section))
    holdout = section.get("holdout", DEFAULT_HOLDOUT)
    if not _is_number(holdout) or not 0 < holdout < 1:
        raise SpecError(f"input.holdout must be a fraction in (0, 1) (the share of rows kept out of training), got {holdout!r}")
    resolved["holdout"] = float(holdout)
    return resolved


def _csv_keys(section: Mapping[str, Any]) -> dict[str, str]:
    """input.sep, input.decimal (one character each) and input.encoding, for CSV inputs."""
    import codecs

    found = {k: _string(dict(section), "input", k) for k in ("sep", "decimal", "encoding")}
    found = {k: v for k, v in found.items() if v is not None}
    for key in ("sep", "decimal"):
        if key in found and len(found[key]) != 1:
            raise SpecError(f"input.{key} must be one character, got {found[key]!r}")
    if "encoding" in found:
        try:
            codecs.lookup(found["encoding"])
        except LookupError as exc:
            raise SpecError(f"input.encoding: unknown encoding {found['encoding']!r}") from exc
    return found


def _check_schema(spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    from .schema import _OVERRIDE_KEYS

    section = _section(spec, "schema")
    for column, override in section.items():
        if not isinstance(override, Mapping):
            raise SpecError(f"schema.{column} must be a table of column settings ({', '.join(_OVERRIDE_KEYS)}), got {override!r}")
        unknown = [key for key in override if key not in _OVERRIDE_KEYS]
        if unknown:
            raise SpecError(f"unknown key schema.{column}.{unknown[0]}; allowed: {', '.join(_OVERRIDE_KEYS)}")
    return {column: dict(override) for column, override in section.items()}


def _check_synthesizer(spec: Mapping[str, Any]) -> dict[str, Any]:
    from .synthesizers.registry import available_synthesizers, synthesizer_class

    section = _section(spec, "synthesizer")
    name = _string(section, "synthesizer", "name", required=True)
    if name not in available_synthesizers():
        raise SpecError(f"unknown synthesizer.name {name!r}; allowed: {', '.join(available_synthesizers())}")
    params = section.get("params", {})
    if not isinstance(params, Mapping):
        raise SpecError(f"synthesizer.params must be a table of parameters, got {params!r}")
    for key in params:
        if key in RESERVED_PARAMS:
            raise SpecError(f"synthesizer.params.{key} is set by the pipeline (from {RESERVED_PARAMS[key]}); remove it")
    allowed = [p for p in synthesizer_class(name)._get_param_names() if p not in RESERVED_PARAMS]
    unknown = [key for key in params if key not in allowed]
    if unknown:
        raise SpecError(f"unknown synthesizer.params.{unknown[0]} for {name}; allowed: {', '.join(allowed)}")
    return {"name": name, "params": dict(params)}


def _check_privacy(spec: Mapping[str, Any]) -> dict[str, Any]:
    from .privacy.config import check_dp

    section = _section(spec, "privacy")
    if "epsilon" not in section:
        raise SpecError("[privacy] needs privacy.epsilon (the total budget); leave out the section to train without DP")
    for key in ("epsilon", "delta", "max_grad_norm", "preprocessing_share"):
        if key in section and not _is_number(section[key]):
            raise SpecError(f"privacy.{key} must be a number, got {section[key]!r}")
    try:
        config = check_dp(section)
    except PrivacyError as exc:
        raise SpecError(f"[privacy]: {exc}") from exc
    return {key: value for key, value in config.to_dict().items() if value is not None}


def _check_oversample(spec: Mapping[str, Any], input_: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    section = _section(spec, "oversample")
    if "target" not in input_:
        raise SpecError("[oversample] needs input.target: the class column whose rarer classes get synthetic rows")
    if input_["target"] in schema:
        raise SpecError(
            f"schema.{input_['target']}: with [oversample] the target's labels are the classes (a public domain, "
            "passed to the synthesizer as y); remove its override"
        )
    strategy = section.get("strategy", "auto")
    if isinstance(strategy, Mapping):
        bad = {k: v for k, v in strategy.items() if not _is_int(v) or v < 0}
        if bad:
            raise SpecError(f"oversample.strategy as a table maps class -> target count (integers >= 0); bad entries {bad}")
        strategy = dict(strategy)
    elif not (isinstance(strategy, str) or _is_number(strategy)):
        raise SpecError(
            "oversample.strategy must be a string (auto, minority, not majority, not minority, all), a number "
            f"(binary targets) or a table of class -> count, got {strategy!r}"
        )
    mode = section.get("mode", "conditional")
    if mode not in OVERSAMPLE_MODES:
        raise SpecError(f"oversample.mode must be one of {', '.join(OVERSAMPLE_MODES)}, got {mode!r}")
    if schema and mode == "conditional":
        raise SpecError(
            "[schema] overrides with oversample.mode = 'conditional' are not supported (the conditional synthesizer "
            "adds the class column to the schema itself); use mode = 'per_class' or leave out [schema]"
        )
    return {"strategy": strategy, "mode": mode}


def _check_evaluate(spec: Mapping[str, Any]) -> dict[str, Any]:
    section = _section(spec, "evaluate")
    if "real_images" in section:
        raise SpecError("evaluate.real_images applies to image pipelines only; remove it")
    sensitive = _string(section, "evaluate", "sensitive")
    return {} if sensitive is None else {"sensitive": sensitive}


def _check_output(spec: Mapping[str, Any], cwd: Path, oversample: bool) -> dict[str, Any]:
    section = _section(spec, "output")
    folder = _string(section, "output", "dir", required=True)
    resolved: dict[str, Any] = {"dir": str((cwd / folder).resolve())}
    rows = section.get("rows")
    if rows is not None:
        if oversample:
            raise SpecError("output.rows does not apply with [oversample]: oversample.strategy sets how many rows are added")
        if not _is_int(rows) or rows < 1:
            raise SpecError(f"output.rows must be a positive integer, got {rows!r}")
        resolved["rows"] = int(rows)
    seed = section.get("seed", DEFAULT_SEED)
    if not _is_int(seed) or not 0 <= seed < 2**32:
        raise SpecError(f"output.seed must be an integer in [0, 2**32), got {seed!r}")
    resolved["seed"] = int(seed)
    return resolved


def input_kind(input_: Mapping[str, Any]) -> str:
    """``"images"`` for the built-in digits, a folder (of class sub-folders) or an .npz; else ``"table"``."""
    if "dataset" in input_:
        return "images" if input_["dataset"] in IMAGE_DATASETS else "table"
    path = Path(input_["path"])
    return "images" if path.is_dir() or path.suffix.lower() == ".npz" else "table"


def _check_image_spec(spec: Mapping[str, Any], resolved: dict[str, Any], cwd: Path) -> dict[str, Any]:
    """The rest of an image pipeline's spec: an image synthesizer; no [schema], target or sensitive column."""
    if "schema" in spec:
        raise SpecError("[schema] does not apply to an image pipeline (images have no columns); remove it")
    evaluate = _section(spec, "evaluate")
    if "sensitive" in evaluate:
        raise SpecError("evaluate.sensitive does not apply to an image pipeline (images have no columns); remove it")
    real_images = evaluate.get("real_images", False)
    if not isinstance(real_images, bool):
        raise SpecError(f"evaluate.real_images must be true or false, got {real_images!r}")
    if "target" in resolved["input"]:
        raise SpecError("input.target does not apply to images: the labels are the class folders (or y in the .npz)")
    resolved["synthesizer"] = _check_synthesizer(spec)
    name = resolved["synthesizer"]["name"]
    if not name.startswith("image_"):
        raise SpecError(f"synthesizer.name {name!r} is a table synthesizer; images need image_gan, image_vae or image_flow")
    if "privacy" in spec:
        resolved["privacy"] = _check_privacy(spec)
    if "oversample" in spec:
        section = _section(spec, "oversample")
        strategy = section.get("strategy", "auto")
        if not (isinstance(strategy, str) or isinstance(strategy, Mapping)):
            raise SpecError(f"oversample.strategy must be a string or a table of class -> count, got {strategy!r}")
        mode = section.get("mode", "conditional")
        if mode not in OVERSAMPLE_MODES:
            raise SpecError(f"oversample.mode must be one of {', '.join(OVERSAMPLE_MODES)}, got {mode!r}")
        resolved["oversample"] = {"strategy": dict(strategy) if isinstance(strategy, Mapping) else strategy, "mode": mode}
    resolved["evaluate"] = {"real_images": real_images} if "real_images" in evaluate else {}
    resolved["output"] = _check_output(spec, cwd, oversample="oversample" in resolved)
    return resolved
