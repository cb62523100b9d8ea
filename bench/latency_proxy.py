"""The benchmarks' TCP delay line: ``pushgen.verify.latency``, which owns it (``pushgen verify --timing``).

Kept under this name for the benchmarks that import it (``slow_start_proxy.py``
builds on :class:`LatencyProxy`) and for running it by hand::

    python bench/latency_proxy.py --target 127.0.0.1:8443 --delay-ms 50 [--port 0]

The mechanism and what it models are in that module's docstring.
"""

from __future__ import annotations

import sys

from pushgen.verify.latency import LatencyProxy, main, parse_target

__all__ = ["LatencyProxy", "main"]

_target = parse_target  # slow_start_proxy.py's name for it

if __name__ == "__main__":
    sys.exit(main())
