"""Rewrite a module so mutmut can mutate its decorated functions (used by scripts/mutation.sh on a
scratch copy only; never on the checkout).

mutmut swaps every function for a trampoline and leaves decorated ones alone, which would leave
every registered filter rule unmeasured. Here a top-level `@deco def f(...)` becomes `def f(...)`
followed by `f = deco(f)`, so the same object (the trampoline) is decorated and registered.
Caching decorators (`lru_cache`, `cache`) are dropped: a result cached by the clean run would
otherwise hide a mutant. Usage: python scripts/mutation_undecorate.py FILE.py
"""

from __future__ import annotations

import ast
import sys

CACHING = {"lru_cache", "cache"}


def _decorator_name(dec: ast.expr) -> str:
    target = dec.func if isinstance(dec, ast.Call) else dec
    if isinstance(target, ast.Attribute):
        return target.attr
    return getattr(target, "id", "")


def undecorate(src: str) -> str:
    lines = src.splitlines(keepends=True)
    edits = []
    for node in ast.parse(src).body:
        if not isinstance(node, ast.FunctionDef) or not node.decorator_list:
            continue
        kept = [ast.get_source_segment(src, d) for d in node.decorator_list if _decorator_name(d) not in CACHING]
        call = node.name
        for text in reversed(kept):  # the decorator nearest the def applies first
            call = f"({text})({call})"
        assign = [f"{node.name} = {call}\n"] if kept else []
        edits.append((node.decorator_list[0].lineno - 1, node.lineno - 1, node.end_lineno, assign))
    for first, def_line, end, assign in sorted(edits, reverse=True):
        lines[end:end] = assign
        del lines[first:def_line]
    return "".join(lines)


if __name__ == "__main__":
    path = sys.argv[1]
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(undecorate(text))
