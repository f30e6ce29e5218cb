"""TEST DOUBLE: a fake ``py_paddle`` (the SWIG wrapper of paddle 0.x no longer exists).

Used only by tests/ to show that the py_paddle checks pass when the package
initialises and fail when it is missing. Never part of a reference image.
"""

__version__ = "0.0.0-test-double"
