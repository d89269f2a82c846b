"""What this Python has besides the standard library, read from the runtime itself.

`scan()` lists every installed distribution with its version and the names it is imported by;
scripts/python-packages.sh writes it to packages.json (for `nestbox plugins list` and the Open
WebUI Tool), and a test checks the file still matches the runtime. `import_names()` reads that
file back for the hint on a missing module.
"""

import json
import os

HERE = os.path.dirname(__file__)


def _top_level_modules():
    """Every top-level module or package in the runtime's zip that is not the standard library."""
    import sys
    import zipfile

    archive = next(p for p in sys.path if p.endswith(".zip"))
    names = set()
    with zipfile.ZipFile(archive) as z:
        for entry in z.namelist():
            head, sep, _ = entry.partition("/")
            if sep and not head.endswith((".dist-info", ".data")) and "-" not in head:
                names.add(head)
            elif not sep and entry.endswith((".py", ".pyc")):
                names.add(entry.rsplit(".", 1)[0])
    return sorted(
        n for n in names if n.isidentifier() and not n.startswith("_") and n not in sys.stdlib_module_names
    )


def _norm(name):
    return name.lower().replace("-", "").replace("_", "").replace(".", "")


def scan():
    """Distributions with their versions and import names. The dist-info folders carry no
    RECORD, so a module belongs to the distribution with its name, else to the one whose version
    its `__version__` gives (importing it to ask: run once, by the generator)."""
    import importlib
    from importlib import metadata

    dists = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        dists[_norm(name)] = {"distribution": name, "version": dist.version, "import": []}
    for module in _top_level_modules():
        entry = dists.get(_norm(module))
        if entry is None:
            try:
                version = getattr(importlib.import_module(module), "__version__", None)
            except Exception:
                version = None
            same = [d for d in dists.values() if version and d["version"] == str(version)]
            entry = same[0] if len(same) == 1 else None
        if entry is not None:
            entry["import"].append(module)
    return [dists[k] for k in sorted(dists)]


def import_names():
    with open(os.path.join(HERE, "packages.json"), encoding="utf-8") as f:
        packages = json.load(f)
    return sorted({i for p in packages for i in p["import"]}, key=str.lower)
