"""The pytest plugin (entry point ``pytest11``: ``paddle_verify``), one module per concern:
options and their parsers, fleet (one column per engine: engine, state, session, gatherer; the
lost engine's one failure), run (the run's one state, :func:`.run.run_of`), selection (manifest,
variants, parametrization), lifecycle (the one configure, signals, watchdog, header),
gpu_fixtures, engines (the fleet of ``--engine`` in pytest: fingerprints, the columns' owner
fixture, a lost engine's column), fixtures (the image facts, the testinfra ``host``), ssh_fixtures, baseline_fixtures (``--baseline``: the diff since an
earlier run), reuse (``--reuse-verdicts``: a stored run's verdicts for an unchanged variant),
outcomes (one cause, one failure; whose fault a failure is), and the benchmarks' fixtures beside
their options (``options_bench``): bench_fixtures (the measurements), bench_verdicts (``replay``
into pytest-benchmark, ``gate``).

Listed so that a module comes after those it imports (pytest rewrites each one's asserts
when it is first imported)."""

pytest_plugins = [
    "paddle_verify.plugin.options",
    "paddle_verify.plugin.fleet",
    "paddle_verify.plugin.run",
    "paddle_verify.plugin.selection",
    "paddle_verify.plugin.reuse",
    "paddle_verify.plugin.lifecycle",
    "paddle_verify.plugin.gpu_fixtures",
    "paddle_verify.plugin.engines",
    "paddle_verify.plugin.fixtures",
    "paddle_verify.plugin.ssh_fixtures",
    "paddle_verify.plugin.baseline_fixtures",
    "paddle_verify.plugin.outcomes",
    "paddle_verify.plugin.bench_fixtures",
    "paddle_verify.plugin.bench_verdicts",
]
