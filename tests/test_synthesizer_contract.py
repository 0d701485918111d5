"""Every synthesizer passes the shared contract; a new one joins by adding one line below."""

import pytest

from synthaug.synthesizers import (
    AutoregressiveSynthesizer,
    CTGANSynthesizer,
    DiffusionSynthesizer,
    FlowSynthesizer,
    MarginalSynthesizer,
    TVAESynthesizer,
)
from synthaug.utils.estimator_checks import synthesizer_checks

SYNTHESIZERS = [
    CTGANSynthesizer(epochs=60, batch_size=120, pac=10, random_state=0),
    TVAESynthesizer(epochs=60, batch_size=120, random_state=0),
    FlowSynthesizer(epochs=40, batch_size=120, n_layers=4, random_state=0),
    DiffusionSynthesizer(epochs=40, batch_size=120, hidden_dims=(64, 64), random_state=0),
    AutoregressiveSynthesizer(epochs=40, batch_size=120, hidden_dims=(64, 64), random_state=0),
    MarginalSynthesizer(random_state=0),
]


@pytest.mark.parametrize("estimator", SYNTHESIZERS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("check", synthesizer_checks(), ids=lambda c: c.__name__)
def test_synthesizer_contract(estimator, check):
    check(estimator)
