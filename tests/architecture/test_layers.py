"""The house rules the code relies on, checked on the source itself.

Services are told who acts and never read the request or the signed-in user;
blueprints share through common modules and never import one another; the
instrument rules know no database.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "feedback"
BLUEPRINTS = ("admin", "auth", "cases", "reports", "respond")


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module name imported by ``path`` (``from a.b import c`` gives a.b and a.b.c)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _names_used(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}


@pytest.mark.parametrize("path", _modules(PACKAGE / "services"), ids=lambda p: p.name)
def test_services_neither_read_the_request_nor_the_signed_in_user(path):
    imports = _imports(path)
    assert not {i for i in imports if i.startswith("flask_login")}, \
        f"{path.name} imports flask_login: pass the actor instead (decision 31)"
    assert "flask.request" not in imports and "flask.session" not in imports, \
        f"{path.name} reads the request: pass the actor (and its address) instead"
    assert "current_user" not in _names_used(path)


def test_the_rule_checker_catches_a_service_that_reads_the_request(tmp_path):
    offender = tmp_path / "bad.py"
    offender.write_text("from flask import request\nfrom flask_login import current_user\n")
    assert "flask.request" in _imports(offender)
    assert "flask_login" in _imports(offender)


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_no_blueprint_imports_another(blueprint):
    others = {f"feedback.{b}" for b in BLUEPRINTS if b != blueprint}
    for path in _modules(PACKAGE / blueprint):
        bad = {i for i in _imports(path) if any(i == o or i.startswith(o + ".") for o in others)}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}: share through a " \
                        "module at the package root or a service instead"


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_pages_ask_a_service_for_packs_not_the_loader(blueprint):
    for path in _modules(PACKAGE / blueprint):
        assert "feedback.instruments.loader" not in _imports(path), path


def test_instrument_rules_know_no_database_and_no_app():
    for path in _modules(PACKAGE / "instruments"):
        imports = _imports(path)
        bad = {i for i in imports if i.startswith(("feedback.models", "feedback.services",
                                                   "feedback.extensions", "sqlalchemy"))}
        assert not bad, f"{path.name} imports {sorted(bad)}"
        if path.name != "loader.py":  # the loader finds the app's pack directory
            assert not {i for i in imports if i.startswith("flask")}, path.name


def test_models_know_no_use_case():
    for path in _modules(PACKAGE / "models"):
        bad = {i for i in _imports(path) if i.startswith("feedback.services")}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_services_know_no_pages():
    pages = tuple(f"feedback.{b}" for b in BLUEPRINTS) + ("feedback.sessions",
                                                          "feedback.errors")
    for path in _modules(PACKAGE / "services"):
        bad = {i for i in _imports(path) if i.startswith(pages)}
        assert not bad, f"{path.name} imports {sorted(bad)}"
