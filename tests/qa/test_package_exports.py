"""kgqa.qa's lazily imported names: ``__all__`` and the lazy table list the same names, and each resolves."""

import subprocess
import sys

import kgqa.qa


def test_all_names_the_lazy_exports_and_each_resolves():
    assert sorted(kgqa.qa.__all__) == sorted(kgqa.qa._EXPORTS)
    for name in kgqa.qa.__all__:
        assert getattr(kgqa.qa, name).__name__ == name


def test_importing_the_config_does_not_import_torch():
    # kgqa.config imports kgqa.qa.config; `kgqa query` and `kgqa --help` must not pay for torch
    code = "import sys, kgqa.config, kgqa.qa; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
