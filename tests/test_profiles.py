"""profiles/full.yaml stays a valid profile: the same keys as params.yaml, and every part of it resolves."""
import yaml

from srtwins.config import run_names
from srtwins.sr import srconfig
from srtwins.twins import arms, crossval
from tests.conftest import ROOT


def _keys(node, prefix=""):
    """Dotted keys of nested mappings, leaves included; the runs and sr.nets entries are the profile's choice."""
    if not isinstance(node, dict) or prefix in ("sr.runs.", "sr.gan_runs.", "sr.nets."):
        return {prefix.rstrip(".")}
    return {k for key, value in node.items() for k in _keys(value, f"{prefix}{key}.")}


def test_full_profile_has_the_keys_of_params():
    base = yaml.safe_load((ROOT / "params.yaml").read_text())
    full = yaml.safe_load((ROOT / "profiles/full.yaml").read_text())
    assert _keys(full) == _keys(base)


def test_full_profile_resolves():
    full = yaml.safe_load((ROOT / "profiles/full.yaml").read_text())
    runs = [srconfig.resolve(full, name) for name in run_names(full)]
    assert {r.scale for r in runs} == {2, 3, 4} and {r.net for r in runs} >= {"srgan", "esrgan", "edsr", "rrdb"}
    study_arms, twins = arms.study(full)
    assert {"hr-bicubic", "hr-sr-esrgan", "sr-esrgan", "lr", "bicubic", "hr"} <= {a.name for a in study_arms}
    assert len(twins) == 2 * len(full["classify"]["sr_runs"]) + 2 * len(full["classify"]["hr_sr"])
    assert crossval.recipe(full).grid == 2  # the x4 LR arm is 8x8: two 2x2 poolings leave a 2x2 map
