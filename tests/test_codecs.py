import json

import pytest

from synthaug import codecs
from synthaug.privacy.config import DPConfig
from synthaug.schema import ColumnSpec, TableSchema


class Point:
    def __init__(self, x: float, y: float) -> None:
        self.x, self.y = x, y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)


class Point3(Point):
    pass


codecs.register_codec(Point, "test-point", lambda p: [p.x, p.y], lambda xy: Point(*xy))


def _round_trip(value):
    return codecs.decode(json.loads(json.dumps(codecs.encode(value))))


def test_lists_stay_lists_and_tuples_stay_tuples():
    value = {"hidden": [64, 32], "dims": (8, 8), "nested": [(1, [2, (3,)]), {"k": ()}], "none": None, "flag": True}
    back = _round_trip(value)
    assert back == value
    assert type(back["hidden"]) is list and type(back["dims"]) is tuple
    assert type(back["nested"][0]) is tuple and type(back["nested"][0][1]) is list and back["nested"][1]["k"] == ()


def test_registered_types_round_trip_through_their_own_codec():
    schema = TableSchema([ColumnSpec("a", "categorical", categories=["x", "y"]), ColumnSpec("b", "continuous")])
    dp = DPConfig(2.0, delta=1e-6, accountant="rdp")
    back = _round_trip({"schema": schema, "dp": dp, "point": Point(1.0, 2.0), "sub": Point3(0.0, 1.0)})
    assert back["schema"] == schema and back["dp"] == dp and back["point"] == Point(1.0, 2.0)
    assert codecs.encode(dp)["__type__"] == "dp" and codecs.encode(schema)["__type__"] == "schema"
    assert type(back["sub"]) is Point, "a subclass is written with its base class's codec"


def test_a_dict_that_looks_tagged_is_escaped():
    value = {"__type__": "tuple", "value": [1, 2]}
    assert _round_trip(value) == value and type(_round_trip(value)) is dict


def test_unknown_types_tags_and_keys_are_errors():
    with pytest.raises(TypeError, match="no JSON codec for object"):
        codecs.encode(object())
    assert codecs.encode({1.5}, default=sorted) == [1.5]
    with pytest.raises(TypeError, match="keys must be strings"):
        codecs.encode({1: "a"})
    with pytest.raises(ValueError, match="unknown JSON type tag 'nope'"):
        codecs.decode({"__type__": "nope", "value": 1})


def test_registration_rules():
    with pytest.raises(ValueError, match="reserved"):
        codecs.register_codec(Point, "tuple", list, tuple)
    with pytest.raises(ValueError, match="already registered for Point"):
        codecs.register_codec(dict, "test-point", dict, dict)


def test_first_format_values():
    assert codecs.decode_legacy([1, 2]) == (1, 2)
    assert codecs.decode_legacy({"__dp__": {"epsilon": 1.0}}) == DPConfig(1.0)
    assert codecs.decode_legacy({"__unknown__": 3}) == {"__unknown__": 3}
    assert codecs.decode_legacy("text") == "text"


def test_save_checks_run_on_parameters():
    with pytest.raises(Exception, match="insecure_noise_seed"):
        codecs.check_savable({"dp": {"epsilon": 1.0, "insecure_noise_seed": 3}})
    codecs.check_savable({"dp": DPConfig(1.0), "epochs": 3})
