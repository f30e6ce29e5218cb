"""The pytest plugin (entry point ``pytest11``: ``paddle_verify``), one module per concern:
options and their parsers, selection (manifest, variants, parametrization), lifecycle
(configure, signals, watchdog, header), gpu_fixtures, engines (the fleet of ``--engine``:
fingerprints, a lost engine's column), fixtures (the sessions, the gatherers, facts, the
testinfra ``host``), ssh_fixtures, baseline_fixtures (``--baseline``: the diff since an
earlier run), reuse (``--reuse-verdicts``: a stored run's verdicts for an unchanged variant),
and outcomes (one cause, one failure; whose fault a failure is).

Listed so that a module comes after those it imports (pytest rewrites each one's asserts
when it is first imported)."""

pytest_plugins = [
    "paddle_verify.plugin.options",
    "paddle_verify.plugin.selection",
    "paddle_verify.plugin.lifecycle",
    "paddle_verify.plugin.gpu_fixtures",
    "paddle_verify.plugin.engines",
    "paddle_verify.plugin.reuse",
    "paddle_verify.plugin.fixtures",
    "paddle_verify.plugin.ssh_fixtures",
    "paddle_verify.plugin.baseline_fixtures",
    "paddle_verify.plugin.outcomes",
]
