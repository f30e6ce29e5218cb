"""paddle-verify: the verification suite that gates PaddlePaddle's Docker images.

The machinery lives here (manifest, engine, facts, probe); the checks that read
like the install page's contract live in ``checks/`` and ``benchmarks/``.
"""

__version__ = "0.1.0"
