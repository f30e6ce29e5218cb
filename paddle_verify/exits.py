"""The suite's own exit statuses, beside pytest's (1 failed, 4 usage, 5 no tests): a leaf module,
importable where only the standard library is (``paddle-verify host`` on a bare GPU host)."""

# Every failure of the run is the host's, none the image's (the gate); the host is not ready for
# the manifest's gpu variants (``paddle-verify host``).
EXIT_HOST = 8
