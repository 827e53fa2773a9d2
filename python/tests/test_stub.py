# SPDX-License-Identifier: Apache-2.0
"""The typed stub _palmvein.pyi names every public function, class and member of the extension."""
import ast
import inspect
import pathlib

import palmvein._palmvein as ext

STUB = pathlib.Path(ext.__file__).with_name("_palmvein.pyi")


def stub_names():
    tree = ast.parse(STUB.read_text())
    names, members = set(), {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets)
        if isinstance(node, ast.ClassDef):
            members[node.name] = {n.name if isinstance(n, ast.FunctionDef) else n.target.id
                                  for n in node.body if isinstance(n, (ast.FunctionDef, ast.AnnAssign))}
    return names, members


def test_every_public_name_and_member_is_in_the_stub():
    names, members = stub_names()
    missing = []
    for name in dir(ext):
        if name.startswith("_"):
            continue
        if name not in names:
            missing.append(name)
            continue
        obj = getattr(ext, name)
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for member in obj.__dict__:
                if member.startswith("_") or member in ("name", "value"):
                    continue
                if member not in members.get(name, set()):
                    missing.append(f"{name}.{member}")
    assert not missing, f"not in {STUB.name}: {missing}"
