"""TEST DOUBLE of ``py_paddle.swig_paddle``: accepts the historical init flags."""

_initialised = False


def initPaddle(*flags: str) -> None:
    global _initialised
    for flag in flags:
        if not flag.startswith("--"):
            raise ValueError(f"bad flag {flag!r}")
    _initialised = True
