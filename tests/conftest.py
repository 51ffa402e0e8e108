"""Hypothesis settings for the suite.

Under CI (``CI`` set) Hypothesis loads its built-in ``ci`` profile by itself
(derandomized, no deadline, no example database) and nothing here changes that.
Elsewhere the default profile stays, except for its 200 ms deadline per example:
timings belong to ``benchmarks/``, and a first example that pays for an import (sklearn,
torch's autograd) on a loaded machine must not fail a correctness test. A profile named
in ``HYPOTHESIS_PROFILE`` wins over both.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("theorycheck-local", deadline=None)

if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
elif not os.environ.get("CI"):
    settings.load_profile("theorycheck-local")
