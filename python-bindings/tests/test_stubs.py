"""The type stubs (gopcast/__init__.pyi) name what the module has, and the module has
nothing public the stubs leave out: editors complete what is really there."""
import ast
from pathlib import Path

import gopcast

STUBS = ast.parse((Path(__file__).resolve().parents[1] / "gopcast" / "__init__.pyi").read_text())


def members(node):
    for item in node.body:
        if isinstance(item, ast.FunctionDef):
            yield item.name
        elif isinstance(item, ast.AnnAssign):
            yield item.target.id


def test_stubs_and_module_agree():
    stubbed = {n.name: n for n in STUBS.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    assert set(gopcast.__all__) == set(stubbed)
    for name, node in stubbed.items():
        runtime = getattr(gopcast, name)
        if isinstance(node, ast.ClassDef):
            declared = set(members(node))
            assert {m for m in declared if not hasattr(runtime, m)} == set(), name
            if not issubclass(runtime, BaseException):
                public = {a for a in dir(runtime) if not a.startswith("_")}
                assert public - declared == set(), name


def test_settings_stubs_follow_the_template_key_schema():
    """The settings classes' annotations are the schema's keys with its Python types: a key
    added to spec/keys.cpp without its stub (or a stub of a key that is gone) fails here."""
    classes = {"video": "VideoSettings", "audio": "AudioSettings", "trans": "TransSettings", "mux": "MuxSettings",
               "hls": "HlsSettings"}
    stubbed = {n.name: n for n in STUBS.body if isinstance(n, ast.ClassDef)}
    schema = {}
    for k in gopcast.template_keys():
        group, _, name = k["key"].rpartition(".")
        schema.setdefault(group, {})[name] = k["python"]
        assert k["doc"] and k["values"], k
    for group, cls in classes.items():
        declared = {item.target.id: ast.unparse(item.annotation) for item in stubbed[cls].body if isinstance(item, ast.AnnAssign)}
        assert declared == schema[group], cls
        # ...and the attribute's help is the schema's line.
        for name in schema[group]:
            assert getattr(gopcast, cls).__dict__[name].__doc__.endswith(
                next(k["doc"] for k in gopcast.template_keys() if k["key"] == f"{group}.{name}")), name
