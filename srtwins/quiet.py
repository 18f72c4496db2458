"""TensorFlow's C++ start-up notices kept off a CPU user's terminal: they read as failures.

TF_CPP_MIN_LOG_LEVEL hides most of them; the CUDA probe's lines are printed before that setting is read,
so the first ``import tensorflow`` runs with stderr captured and everything but those notices passed on.
Set TF_CPP_MIN_LOG_LEVEL yourself (e.g. 0) to see all of them."""
import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

NOTICE = re.compile(rb"absl::InitializeLog|cudart_stub|cuInit|cuda drivers|oneDNN custom operations|"
                    rb"Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered|"
                    rb"TF-TRT Warning|This TensorFlow binary is optimized")


@contextlib.contextmanager
def filtered_stderr():
    """Capture file descriptor 2 (C++ writes there directly); on exit, pass on every line but the notices."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().splitlines(keepends=True) if not NOTICE.search(line)]
            os.write(2, b"".join(kept))


class QuietTensorFlow(importlib.abc.MetaPathFinder):
    """An import hook that runs the first ``import tensorflow`` inside :func:`filtered_stderr`."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            run = spec.loader.exec_module

            def exec_module(module):
                with filtered_stderr():
                    run(module)

            spec.loader.exec_module = exec_module
        return spec


def install():
    """Quiet the start-up logs unless the user chose a TF_CPP_MIN_LOG_LEVEL (one set here is passed on to
    child processes, marked so that they quiet theirs too)."""
    if "TF_CPP_MIN_LOG_LEVEL" not in os.environ or os.environ.get("SRTWINS_QUIET") == "1":
        os.environ.update(TF_CPP_MIN_LOG_LEVEL="3", SRTWINS_QUIET="1")
        if "tensorflow" not in sys.modules:
            sys.meta_path.insert(0, QuietTensorFlow())
