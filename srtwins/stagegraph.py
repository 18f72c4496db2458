"""The stages dvc.yaml generates for a params dict, each with its outputs and their cache flags.

``foreach`` is expanded as DVC expands it (a list or a mapping, literal or ``${params.key}``), so a stage
group added to dvc.yaml over a new params dict (e.g. ``sr.gan_runs``) is listed with no change here.
"""
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from srtwins import SrtwinsError

SECTIONS = ("outs", "metrics", "plots")  # where a stage declares what it writes
_VAR = re.compile(r"\$\{\s*([^}\s]+)\s*\}")


@dataclass(frozen=True)
class Out:
    path: str
    cached: bool  # in the DVC cache (cache: true, the default) or in git (cache: false)


@dataclass(frozen=True)
class Stage:
    name: str  # as `dvc repro` names it: fetch, train_sr@espcn_x2
    group: str  # its dvc.yaml entry: fetch, train_sr
    key: str | None  # the foreach key (a mapping's key, a list's item); None without foreach
    item: object  # the foreach value (``${item}``)
    outs: tuple  # Out, in dvc.yaml order


def stages(params, dvc_yaml="dvc.yaml"):
    """Every stage of ``dvc_yaml`` under ``params``, in file order; a matrix stage is a clear error."""
    try:
        doc = yaml.safe_load(Path(dvc_yaml).read_text())
    except (OSError, yaml.YAMLError) as e:
        raise SrtwinsError(f"{dvc_yaml}: cannot read the pipeline ({str(e).splitlines()[0]})") from None
    found = []
    for group, body in (doc or {}).get("stages", {}).items():
        if "matrix" in body:
            raise SrtwinsError(f"{dvc_yaml}: stage {group!r} uses matrix, which the plan does not expand")
        if "foreach" not in body:
            found.append(Stage(group, group, None, None, _outs(body, {}, params)))
            continue
        for key, item in _foreach(body["foreach"], params, f"{dvc_yaml}: stage {group!r}"):
            outs = _outs(body["do"], {"key": key, "item": item}, params)
            found.append(Stage(f"{group}@{key}", group, key, item, outs))
    return found


def _foreach(value, params, where):
    """(key, item) pairs of a foreach value: a mapping gives its keys, a list of names gives each name."""
    if isinstance(value, str):
        value = _lookup(_whole_var(value, where), {}, params, where)
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return [(str(v), v) for v in value]
    raise SrtwinsError(f"{where}: foreach must be a mapping or a list of names, got {value!r}")


def _outs(body, context, params):
    outs = []
    for section in SECTIONS:
        for entry in body.get(section, []):
            path, options = next(iter(entry.items())) if isinstance(entry, dict) else (entry, None)
            where = f"dvc.yaml output {path!r}"
            resolved = _VAR.sub(lambda m: str(_lookup(m.group(1), context, params, where)), path)
            outs.append(Out(resolved, (options or {}).get("cache", True)))
    return tuple(outs)


def _whole_var(text, where):
    m = _VAR.fullmatch(text.strip())
    if not m:
        raise SrtwinsError(f"{where}: foreach {text!r} is neither a list, a mapping nor one ${{params.key}}")
    return m.group(1)


def _lookup(name, context, params, where):
    """``key``, ``item``, ``item.x`` from the foreach context, anything else a dotted params key."""
    head, *rest = name.split(".")
    node, parts = (context[head], rest) if head in context else (params, [head, *rest])
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            raise SrtwinsError(f"params: missing key '{name}' (used by {where})")
        node = node[part]
    return node
