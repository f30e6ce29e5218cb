"""The table of proofs: every check of ``checks/`` and every gate of ``benchmarks/``, and how the
self-tests make it fail. ``tests/test_meta.py`` holds the table to the code: a check without an
entry, an entry without a check, or a proof that does not prove are failures.

A proof is one of:

* ``defect:NAME``: a broken image of ``tests/defects.py`` (``ALL_DEFECTS``) whose expected
  failures name the check; the broken-image self-tests build it, run the suite on it and see
  exactly those checks fail, with the variant and the defect named, and every other pass;
* ``selftest:FILE::FUNCTION``: a self-test (with a test double, the fake NVIDIA host tree, a
  broken SSH build context, a slowed agent) that runs the check and sees it fail; the function
  must name the check;
* ``cannot:REASON``: the few that cannot be provoked on any host the self-tests run on.
"""

from __future__ import annotations

TABLE: dict[str, tuple[str, ...]] = {
    # checks/test_launcher.py
    "test_command_on_path_and_executable": ("defect:launcher-missing", "defect:launcher-not-executable"),
    "test_launcher_subcommand_answers": ("defect:launcher-missing", "defect:launcher-not-executable"),
    # checks/test_packages.py
    "test_package_imports": ("defect:import-fails", "defect:contract-package-missing"),
    "test_py_paddle_initialises": ("defect:py-paddle-init-fails", "defect:contract-package-missing"),
    "test_paddle_computes": ("defect:matmul-wrong", "defect:import-fails", "defect:fluid-matmul-wrong"),
    # checks/test_version.py
    "test_paddle_version_exits_0_offline": ("defect:launcher-missing",),
    "test_paddle_version_prints_version_and_build": ("defect:build-line-missing", "defect:launcher-missing"),
    "test_with_gpu_matches_flavour": ("defect:with-gpu-wrong", "defect:with-gpu-off"),
    "test_version_matches_tag": ("defect:wrong-version",),
    "test_launcher_and_package_agree": ("defect:wrong-version", "defect:other-package-version"),
    # checks/test_consistency.py
    "test_same_paddle_as_the_other_variants": ("defect:other-commit", "defect:other-package-version"),
    # checks/test_digest.py: a real registry, a second engine pulling through a mirror of it re-pointed
    "test_same_image_on_every_engine": (
        "selftest:test_fleet_engines.py::test_a_tag_repointed_on_one_engine_fails_the_digest_check",
    ),
    # checks/test_shell.py
    "test_run_it_gives_a_shell": ("defect:no-shell",),
    "test_paddle_version_in_the_shell": ("defect:no-shell", "defect:launcher-missing"),
    # checks/test_devel.py
    "test_tool_runs": ("defect:devel-tool-missing",),
    "test_python_headers": ("defect:python-headers-missing", "defect:py27-python-headers-missing"),
    "test_source_tree": ("defect:source-tree-missing",),
    "test_builds_c_program": ("defect:stdio-h-missing",),
    "test_builds_cxx_program": ("defect:stdio-h-missing",),
    "test_builds_python_extension": ("defect:python-headers-missing", "defect:stdio-h-missing"),
    "test_builds_paddle_custom_op": ("defect:paddle-include-missing", "defect:stdio-h-missing"),
    "test_compiles_cuda_program": ("defect:nvcc-missing",),
    # no GPU where the self-tests run: the CUDA program's run phase, failing, through the probe here
    "test_cuda_program_runs_on_gpu": ("selftest:test_devel_builds.py::test_a_cuda_program_that_cannot_run_fails",),
    # checks/test_demo.py
    "test_demo_package_imports": ("defect:demo-dep-missing",),
    "test_demo_trains_and_loss_goes_down": ("defect:demo-does-not-learn", "defect:demo-loss-nan"),
    # checks/test_kernel.py: no host the self-tests run on has an old kernel: test doubles of the facts
    "test_host_kernel_at_least_3_10": ("selftest:test_doubles.py::test_host_kernel_below_3_10_fails",),
    "test_container_sees_host_kernel": ("selftest:test_doubles.py::test_container_on_another_kernel_fails",),
    # checks/test_cuda.py
    "test_cuda_library_loads": ("defect:cuda-library-missing",),
    "test_paddle_built_with_the_image_cuda": ("defect:paddle-cuda-other-than-runtime",),
    "test_host_driver_runs_the_image_cuda": ("selftest:test_cuda.py::test_driver_fit_on_the_fake_host_tree",),
    # checks/test_carries.py: the reference images as today's family's variants (tests/test_family.py)
    "test_python_as_declared": ("selftest:test_family.py::test_cpu_reference_as_the_family_cpu_variant",),
    "test_paddle_built_with_the_declared_cuda": (
        "selftest:test_family.py::test_gpu_reference_as_the_family_gpu_variants",
    ),
    "test_image_carries_the_declared_cuda": ("selftest:test_family.py::test_gpu_reference_as_the_family_gpu_variants",),
    "test_host_driver_runs_the_declared_cuda": ("selftest:test_family.py::test_declared_cuda_needs_its_driver",),
    # checks/test_run_check.py: a defect image that prints a failure and exits 0; doubles of the GPU probe's run
    "test_run_check_says_paddle_works": (
        "defect:run-check-prints-failure",
        "defect:import-fails",
        "selftest:test_run_check.py::test_run_check_prints_a_failure_and_exits_0",
    ),
    "test_run_check_works_on_the_gpus": (
        "selftest:test_run_check.py::test_run_check_on_the_gpus_needs_the_gpu_wording",
    ),
    # checks/test_gpu.py: the fake NVIDIA host tree (a TEST DOUBLE) and doubles of the GPU probe's JSON
    "test_host_has_nvidia_gpu": (
        "selftest:test_gpu.py::test_gpu_variant_on_host_without_gpu_fails_once",
        "selftest:test_doubles.py::test_gpus_without_a_libcuda_to_mount_fail",
    ),
    "test_gpu_device_nodes_present": ("selftest:test_gpu.py::test_seed_mapping_missing_a_device_fails_the_checks",),
    "test_libcuda_counts_host_gpus": ("selftest:test_gpu.py::test_seed_mapping_missing_a_device_fails_the_checks",),
    "test_nvidia_smi_lists_host_gpus": ("selftest:test_doubles.py::test_nvidia_smi_listing_other_gpus_fails",),
    "test_paddle_sees_host_gpus": ("selftest:test_gpu.py::test_seed_mapping_end_to_end_libcuda_counts_the_fake_gpus",),
    "test_gpu_matmul_matches_cpu": ("selftest:test_doubles.py::test_gpu_matmul_that_differs_from_the_cpu_fails",),
    "test_cpu_variant_sees_no_gpu": (
        "selftest:test_gpu.py::test_cpu_container_sees_no_gpu_check_fails_when_a_gpu_leaks_in",
    ),
    # checks/test_ssh.py: broken SSH build contexts
    "test_ssh_image_builds": ("selftest:test_ssh.py::test_ssh_build_that_fails",),
    "test_sshd_answers_on_the_published_port": ("selftest:test_ssh.py::test_sshd_missing",),
    "test_root_login_runs_paddle_version_like_docker_exec": ("selftest:test_ssh.py::test_root_login_refused",),
    "test_stop_and_rm_remove_the_container_and_its_data": (
        "cannot:`docker rm -v` removes a container's writable layer and anonymous volumes on every engine the "
        "self-tests run on; no image can keep them (its other branch, stop or rm refused, needs a broken engine)",
    ),
    "test_port_published_on_loopback_only": ("selftest:test_ssh.py::test_port_on_all_interfaces_is_a_finding",),
    "test_root_password_login_refused": ("selftest:test_ssh.py::test_release_turns_findings_into_failures",),
    "test_password_not_guessable": ("selftest:test_ssh.py::test_password_in_history_and_well_known",),
    "test_host_keys_differ_between_containers": ("selftest:test_ssh.py::test_host_keys_baked_into_the_image",),
    "test_no_credentials_in_image_history": ("selftest:test_ssh.py::test_password_in_history_and_well_known",),
    "test_ssh_login_gets_the_image_env_like_docker_exec": (
        "selftest:test_ssh.py::test_image_env_lost_over_ssh_fails_naming_the_variable",
    ),
    # checks/test_pip_check.py
    "test_pip_check_finds_no_broken_requirements": ("defect:requirement-missing",),
    # checks/test_secrets.py: images with a private key, an ENV secret (and its docker history line),
    # a GitHub token in ENV, in a build step's history line and in a file
    "test_no_private_keys_or_credential_files": (
        "selftest:test_secrets.py::test_secrets_in_an_image_fail_exactly_the_secrets_checks",
    ),
    "test_no_secrets_in_image_env": (
        "selftest:test_secrets.py::test_secrets_in_an_image_fail_exactly_the_secrets_checks",
    ),
    "test_no_secrets_in_image_history": (
        "selftest:test_secrets.py::test_secrets_in_an_image_fail_exactly_the_secrets_checks",
    ),
    # checks/test_baseline.py (--baseline): release N+1 against release N's facts.json
    "test_no_package_removed_since_baseline": (
        "selftest:test_baseline.py::test_release_n_plus_1_fails_exactly_what_changed",
    ),
    "test_no_major_version_change_since_baseline": (
        "selftest:test_baseline.py::test_release_n_plus_1_fails_exactly_what_changed",
    ),
    "test_build_lines_unchanged_since_baseline": (
        "selftest:test_baseline.py::test_release_n_plus_1_fails_exactly_what_changed",
    ),
    "test_image_growth_within_limit": ("selftest:test_baseline.py::test_release_n_plus_1_fails_exactly_what_changed",),
    # benchmarks/: gates, and the measurements they replay into pytest-benchmark
    "test_cpu_overhead_within_threshold": ("selftest:test_benchmarks.py::test_cpu_quota_fails_the_gate",),
    "test_host_network_matches_bare_metal": (
        "selftest:test_benchmarks.py::test_slowed_container_agent_fails_the_host_network_gate",
    ),
    "test_new_no_slower_than_old": ("selftest:test_benchmarks.py::test_against_an_image_slowed_by_ten_percent",),
    # the A/A check: a test double of a biased method (synthetic pairs, one side 3% slower)
    "test_a_place_against_itself_is_unbiased": (
        "selftest:test_stats.py::test_a_biased_a_a_fails_the_calibration_check",
    ),
    "test_against_compute": (
        "cannot:a measurement, not a gate: it replays the paired old/new timings into pytest-benchmark",
    ),
    "test_gpu_overhead_within_threshold": (
        "cannot:needs a real GPU on both sides; the fake NVIDIA tree computes nothing, and a faked timing would "
        "test only the statistics (tests/test_stats.py does)",
    ),
    "test_cpu_compute": ("cannot:a measurement, not a gate: it replays the agents' timings into pytest-benchmark",),
    # a history row: its self-test is the saved clean run compared with a run under a quota
    "test_cpu_container_seconds_per_bare_metal_second": (
        "selftest:test_benchmarks.py::test_history_compare_trips_on_a_quota",
    ),
    "test_gpu_compute": ("cannot:a measurement, not a gate: it replays the agents' timings into pytest-benchmark",),
    "test_network_latency": ("cannot:a measurement, not a gate: it replays the round trips into pytest-benchmark",),
    "test_network_throughput": (
        "cannot:a measurement, not a gate: it replays the bulk transfers into pytest-benchmark",
    ),
    "test_checks_wall_time": ("cannot:the suite's own speed, not an image's: a median compared with a fixed budget",),
}
