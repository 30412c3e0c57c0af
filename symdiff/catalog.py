"""The functions symdiff builds graphs for, by the module users call them from.

The README's list is this module's ``markdown()``, and a test keeps the two equal, so the
list cannot drift from the op table and the dispatch tables it is read from.
"""

from __future__ import annotations

import importlib


def supported() -> dict[str, list[str]]:
    """Module path -> the names that build symdiff nodes when called on nodes (sorted)."""
    from symdiff import interop, special

    importlib.import_module("symdiff")  # every module has registered its ops and functions
    functions = interop.functions()
    numpy = set(interop.ufuncs()) | {name for name in functions if "." not in name}
    groups: dict[str, set[str]] = {"numpy": numpy}
    for name in functions:
        if "." in name:
            module, leaf = name.rsplit(".", 1)
            groups.setdefault(f"numpy.{module}", set()).add(leaf)
    groups["scipy.special"] = set(interop.SCIPY_UFUNCS) | set(getattr(special, "__all__", ()))
    return {module: sorted(names) for module, names in sorted(groups.items()) if names}


def markdown() -> str:
    """The README's list: one line per module, the names in backticks."""
    lines = []
    for module, names in supported().items():
        where = {"numpy": "`np.<name>(node)` and `sd.<name>`", "scipy.special": "`sd.special.<name>`"}.get(
            module, f"`{module.replace('numpy', 'np')}.<name>(node)` and `sd.{module.split('.')[-1]}.<name>`")
        lines.append(f"- **{module}** ({len(names)}, as {where}): " + ", ".join(f"`{n}`" for n in names))
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
