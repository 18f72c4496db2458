"""Each stage's dvc.yaml deps list exactly the repo modules its command runs."""
import pytest

from tests.helpers import module_closure, stage_code_deps

STAGES = stage_code_deps()


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stage_deps_are_its_import_closure(stage):
    """The .py deps of ``stage`` equal the import closure of the module in its cmd.

    A missing module means an edit to it would not rerun the stage; an extra one reruns it for nothing."""
    module, deps = STAGES[stage]
    closure = module_closure(module)
    missing, extra = sorted(closure - deps), sorted(deps - closure)
    assert not missing and not extra, (
        f"dvc.yaml stage {stage!r} (python -m {module}):\n"
        + "".join(f"  missing dep: {m}\n" for m in missing)
        + "".join(f"  extra dep (not imported): {e}\n" for e in extra))


def test_module_closure_follows_every_import_form(tmp_path):
    """Absolute, from-package, from-module, relative and function-local imports are all followed.

    The stages import lazily inside functions and the restructuring may switch to relative imports."""
    files = {
        "stages/__init__.py": "",
        "stages/run.py": "import os\nimport srtwins.a\nfrom srtwins import b, Err\n"
                         "def lazy():\n    from srtwins.sub.f import g\n",
        "srtwins/__init__.py": "class Err(Exception):\n    pass\n",
        "srtwins/a.py": "from . import c\n",
        "srtwins/b.py": "import numpy\n",
        "srtwins/c.py": "from .d import x\n",
        "srtwins/d.py": "x = 1\n",
        "srtwins/unused.py": "",
        "srtwins/sub/__init__.py": "",
        "srtwins/sub/f.py": "from .. import Err\ndef g():\n    import srtwins.a\n",
        "srtwins/data/manifests/set5.tsv": "",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert module_closure("stages.run", root=tmp_path) == {
        "stages/__init__.py", "stages/run.py", "srtwins/__init__.py", "srtwins/a.py", "srtwins/b.py",
        "srtwins/c.py", "srtwins/d.py", "srtwins/sub/__init__.py", "srtwins/sub/f.py"}


def test_stage_code_deps_reads_plain_foreach_and_matrix_stages():
    """Every stage of dvc.yaml yields its cmd's module, whatever its form.

    A template the parser skipped would make the closure test vacuous for that stage."""
    assert STAGES, "no stages read from dvc.yaml"
    for stage, (module, deps) in STAGES.items():
        assert module.startswith("stages."), (stage, module)
        assert deps, f"stage {stage!r} lists no .py deps"


def test_library_imports_are_one_way():
    """No module of srtwins imports itself back through others: the layers stay a graph without cycles."""
    from tests.helpers import REPO, _imported_modules, _module_file

    modules = sorted(".".join(p.relative_to(REPO).with_suffix("").parts) for p in (REPO / "srtwins").rglob("*.py")
                     if p.stem != "__init__")
    edges = {m: {n for n in _imported_modules(_module_file(m, REPO), m, REPO) if n in modules} - {m} for m in modules}
    done, path = set(), []

    def visit(m):
        assert m not in path, f"import cycle: {' -> '.join(path[path.index(m):] + [m])}"
        if m not in done:
            path.append(m)
            for n in sorted(edges[m]):
                visit(n)
            path.pop()
            done.add(m)

    for m in modules:
        visit(m)


GAN_CURVES = ("d_loss", "adversarial", "perceptual", "content")  # one overlay chart each, every GAN run


def test_top_level_plots_follow_params():
    """The overlay charts name one file per arm (ROC, curves) and per SR run: exactly those params make.

    DVC's top-level plots take no globs, so a run or arm added in params must be added there too."""
    import yaml

    from srtwins.config import twins
    from tests.helpers import REPO

    params = yaml.safe_load((REPO / "params.yaml").read_text())
    study_arms, _ = twins.study(params)
    expected = {
        "plots/classify/roc": {f"{a.name}.csv" for a in study_arms},
        "plots/train_cls": {f"{a.sources[0]}/{a.name}.csv" for a in study_arms},  # an SR arm's first seed
        "plots/train_sr": {f"{run}/plots/metrics/{kind}.tsv" for run, entry in params["sr"]["runs"].items()
                           if "seed" not in entry for kind in ("loss", "val_loss")}  # seed replicas not charted
        | {f"{run}/plots/metrics/{kind}.tsv" for run in params["sr"]["gan_runs"] for kind in GAN_CURVES},
    }
    found = {prefix: set() for prefix in expected}
    for plot in yaml.safe_load((REPO / "dvc.yaml").read_text())["plots"]:
        for path in next(iter(plot.values()))["y"]:
            prefix = next(p for p in expected if path.startswith(p + "/"))
            found[prefix].add(path[len(prefix) + 1:])
    assert found == expected
