import subprocess
import sys

import synthaug


def test_import_is_cheap():
    code = "import sys, synthaug; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False", "importing synthaug must not import torch"


def test_public_api():
    assert synthaug.CTGANSynthesizer.__name__ == "CTGANSynthesizer"
    assert callable(synthaug.load) and callable(synthaug.infer_schema)
    assert "ctgan" in synthaug.available_synthesizers()
