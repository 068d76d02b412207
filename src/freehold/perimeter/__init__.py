"""The data perimeter's detectors: find PII, secrets and deployment-specific terms in text.

Everything here is pure: a :class:`~freehold.perimeter.scan.Scanner` is built once from
:class:`~freehold.perimeter.scan.ScanOptions` (all patterns and the custom-term automaton
are compiled then) and scans many texts. Importing this package imports nothing optional;
the phone and custom-term detectors need ``pip install 'freehold[perimeter]'``.
"""

from __future__ import annotations

from freehold.perimeter.base import Category, Detector, Finding

__all__ = ["Category", "Detector", "Finding"]
