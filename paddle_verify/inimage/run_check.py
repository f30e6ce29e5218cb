# The child script that runs paddle's own install check in the image: probe.py runs it after the
# imports in their interpreter (python_children), gpu_probe.py in a child of its own, in a container
# that has the host's GPUs: paddle.utils.run_check()
# in paddle 2.x and 3.x, paddle.fluid.install_check.run_check() in 1.x. What it prints is the
# verdict (the host judges it: paddle_verify/facts/run_check.py); it prints to this child's
# stdout and stderr, then the child's last line is which check ran and what it raised.
# Sent in front of the probe that runs it; see the rule in __init__.py (Python 2.7 and 3.x).
RUN_CHECK = r"""
import json, sys, traceback
out = {"api": None, "error": None}
check = None
try:
    import paddle
    check = getattr(getattr(paddle, "utils", None), "run_check", None)
    if check is not None:
        out["api"] = "paddle.utils.run_check"
    else:
        try:
            from paddle.fluid import install_check
            check = install_check.run_check
            out["api"] = "paddle.fluid.install_check.run_check"
        except BaseException:
            pass  # this paddle has neither: no install check to run
except BaseException:
    out["error"] = "import paddle: " + traceback.format_exc().strip().splitlines()[-1]
if check is not None:
    try:
        check()
    except BaseException:
        out["error"] = traceback.format_exc().strip().splitlines()[-1]
sys.stdout.flush()
sys.stdout.write("\n" + json.dumps(out) + "\n")
"""
