"""The GPU switches' check, apart from the rest of config so that only training stages load a backend for it."""
import keras

from srtwins import SrtwinsError, compute
from srtwins.config import get


def check(params, switches):
    """Refuse GPU switches ({key where set: value}; true asks for the GPU) when the backend sees no GPU.

    The top-level ``allow_cpu: true`` runs them on the CPU on purpose; a GPU user never falls back silently."""
    asked = [key for key, value in switches.items() if value is True]
    if asked and not get(params, "allow_cpu", bool, default=False) and not compute.gpus():
        raise SrtwinsError(f"params: '{asked[0]}' is true but no GPU is visible to keras ({keras.backend.backend()}"
                           " backend); set 'allow_cpu: true' to run on the CPU on purpose")
