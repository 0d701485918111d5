"""Span layout of an encoded row: span offsets and the serialised form of a span."""

from __future__ import annotations

import dataclasses

import pytest

from synthaug.transform import Span, span_offsets

SPANS = [
    Span(1, "tanh", "income", "value"),
    Span(3, "softmax", "income", "mode"),
    Span(4, "softmax", "group", "category"),
    Span(2, "softmax", "score", "missing"),
]


def test_span_offsets_are_consecutive_and_cover_the_encoded_vector():
    offsets = span_offsets(SPANS)
    assert offsets == [(0, 1), (1, 4), (4, 8), (8, 10)]
    assert all(stop - start == span.dim for (start, stop), span in zip(offsets, SPANS, strict=True))


def test_span_offsets_of_no_spans():
    assert span_offsets([]) == []


def test_span_offsets_follow_the_given_order():
    assert span_offsets(SPANS[::-1]) == [(0, 2), (2, 6), (6, 9), (9, 10)]


def test_span_to_dict_round_trips():
    as_dict = SPANS[2].to_dict()
    assert as_dict == {"dim": 4, "activation": "softmax", "column": "group", "role": "category"}
    assert Span(**as_dict) == SPANS[2]


def test_spans_are_frozen_and_hashable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SPANS[0].dim = 2
    assert len({*SPANS, Span(1, "tanh", "income", "value")}) == len(SPANS)
