"""Read params.yaml in one place and validate keys with errors that name the key.

This package is the only code that reads params or spells a key: ``config.sr`` (SR runs), ``config.twins``
(the study, the classifier recipe, the decision) and ``config.data`` (fetch) resolve them into frozen
dataclasses; the library gets values and raises ``BadValue`` about them, which :func:`naming` turns into
an error that names the key where the value was set. One module per half keeps DVC deps narrow: an edit to
the classifier recipe's reading does not retrain the SR zoo."""
from contextlib import contextmanager
from pathlib import Path

import yaml

from srtwins import BadValue, SrtwinsError

SCALES = (2, 3, 4)
_MISSING = object()


def load(path="params.yaml"):
    path = Path(path)
    try:
        params = yaml.safe_load(path.read_text())
    except OSError:
        raise SrtwinsError(f"{path}: params file not found") from None
    except yaml.YAMLError as e:
        raise SrtwinsError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(params, dict):
        raise SrtwinsError(f"{path}: expected a mapping of params")
    return params


def get(params, key, kind, *, choices=None, minimum=None, maximum=None, default=_MISSING, label=None):
    """The value at dotted ``key``, checked against ``kind`` (a type or tuple), ``choices`` and the bounds.

    Errors name ``label`` when given (where the user set the value), else ``key``. A null that ``kind``
    admits (``type(None)`` in it) is returned as it is: choices and bounds are for values.
    """
    name = label or key
    node = params
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is not _MISSING:
                return default
            raise SrtwinsError(f"params: missing key '{name}'")
        node = node[part]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(node, kinds) or (isinstance(node, bool) and bool not in kinds):  # a bool is no number
        raise SrtwinsError(f"params: '{name}' must be {_name(kind)}, got {node!r}")
    if node is None:
        return node
    if choices is not None and node not in choices:
        raise SrtwinsError(f"params: '{name}' = {node!r} is not allowed; allowed: {', '.join(map(str, choices))}")
    if minimum is not None and node < minimum:
        raise SrtwinsError(f"params: '{name}' = {node!r} must be >= {minimum}")
    if maximum is not None and node > maximum:
        raise SrtwinsError(f"params: '{name}' = {node!r} must be <= {maximum}")
    return node


def get_list(params, key, kind, *, choices=None, minimum=None, maximum=None, nonempty=True, label=None):
    """A list param whose every item is checked like :func:`get`."""
    name = label or key
    values = get(params, key, list, label=name)
    if nonempty and not values:
        raise SrtwinsError(f"params: '{name}' must not be empty")
    for i, v in enumerate(values):
        get({"item": v}, "item", kind, choices=choices, minimum=minimum, maximum=maximum, label=f"{name}[{i}]")
    if len(set(map(repr, values))) != len(values):
        raise SrtwinsError(f"params: '{name}' has duplicate entries")
    return values


def scales(params):
    return get_list(params, "degrade.scales", int, choices=SCALES)


RUN_TABLES = ("sr.runs", "sr.gan_runs")  # SR runs trained on a pixel loss; GAN fine-tunings of those


def run_names(params):
    """Every SR run of the params, PSNR-trained first, then the GAN runs."""
    return [name for table in RUN_TABLES for name in get(params, table, dict, default={})]


def run_table(params, run):
    """Which of sr.runs / sr.gan_runs holds ``run``; an unknown run is a clear error."""
    for table in RUN_TABLES:
        if run in get(params, table, dict, default={}):
            return table
    raise SrtwinsError(f"params: neither sr.runs nor sr.gan_runs has a run {run!r}; runs: "
                       f"{', '.join(run_names(params)) or '(none)'}")


def run_seed(params, run):
    """An SR run's seed (initialisation and patch order): its entry's ``seed``, else its net's or the shared
    recipe's; a GAN run fine-tunes its generator, so it has the generator's seed (setting another is an error)."""
    table = run_table(params, run)
    entry = get(params, f"{table}.{run}", dict)
    if table == "sr.gan_runs":
        seed = run_seed(params, get(params, f"{table}.{run}.generator", str))
        if get(params, f"{table}.{run}.seed", int, default=seed) != seed:
            raise SrtwinsError(f"params: '{table}.{run}.seed' must be its generator's seed ({seed})")
        return seed
    if "seed" in entry:
        return get(params, f"{table}.{run}.seed", int, minimum=0, maximum=2**32 - 1)
    net = get(params, f"{table}.{run}.net", str)
    return get(params, f"sr.nets.{net}.train.seed", int, minimum=0,
               default=get(params, "sr.train.seed", int, minimum=0, default=0))


def _name(kind):
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join({int: "an integer", float: "a number", str: "a string", list: "a list",
                        dict: "a mapping", bool: "true or false", type(None): "null"}.get(k, k.__name__) for k in kinds)


@contextmanager
def naming(keys):
    """Re-raise a library ``BadValue`` about a value in ``keys`` ({name: params key}) as one naming the key."""
    try:
        yield
    except BadValue as e:
        if e.name not in keys:
            raise
        raise SrtwinsError(f"params: '{keys[e.name]}' {e.detail}") from None
