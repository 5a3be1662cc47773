"""The role mapping: claims to roles and teams, and the mistakes an operator is told about."""

from __future__ import annotations

import pytest

from feedback import create_app
from feedback.app import content_security_policy
from feedback.checks import sign_in_configured
from feedback.models import Role
from feedback.services.identity import MappingError, load_mapping, parse_mapping
from tests.oidc_provider import ROLE_MAPPING

MAPPING = parse_mapping(ROLE_MAPPING)


@pytest.mark.parametrize(("claims", "role", "teams"), [
    ({"groups": ["fb-nord-leads"]}, Role.team_lead, ("Team Nord",)),
    # The first matching rule with a role wins; teams come from every matching rule.
    ({"groups": ["fb-caseworkers", "fb-nord-leads", "fb-syd"]}, Role.team_lead,
     ("Team Nord", "Team Syd")),
    ({"groups": ["fb-caseworkers", "fb-syd"]}, Role.caseworker, ("Team Syd",)),
    ({"groups": "fb-caseworkers"}, Role.caseworker, ()),  # one value, not a list
    ({"roles": ["feedback-analyst"]}, Role.analyst, ()),
    ({"groups": ["fb-syd"]}, None, ("Team Syd",)),  # a team but no role: no access
    ({"groups": ["FB-NORD-LEADS"]}, None, ()),  # values match exactly
    ({"groups": [["fb-nord-leads"]]}, None, ()),
    ({"email": "fb-nord-leads"}, None, ()),
    ({}, None, ()),
])
def test_claims_give_roles_and_teams(claims, role, teams):
    grant = MAPPING.resolve(claims)
    assert grant.role == role
    assert grant.teams == teams


def test_a_custom_groups_claim():
    mapping = parse_mapping('groups_claim = "memberOf"\n[[rule]]\ngroup = "x"\nrole = "admin"\n')
    assert mapping.resolve({"memberOf": ["x"]}).role == Role.admin
    assert mapping.resolve({"groups": ["x"]}).role is None


@pytest.mark.parametrize(("text", "message"), [
    ("[[rule]\n", "not valid TOML"),
    ('[[rule]]\ngroup = "x"\nrole = "boss"\n', "role 'boss' is not one of"),
    ('[[rule]]\ngroup = "x"\n', "grants neither a role nor a team"),
    ('[[rule]]\nclaim = "groups"\nrole = "admin"\n', "needs group"),
    ('[[rule]]\ngroup = "x"\nclaim = "g"\nvalue = "y"\nrole = "admin"\n', "either group"),
    ('[[rule]]\ngroup = "x"\nrole = "admin"\nteams = "Team Nord"\n', "list of team names"),
    ('[[rule]]\ngroup = "x"\nrole = "admin"\nteam = ["Team Nord"]\n', "unknown keys ['team']"),
    ('[rules]\n', "unknown keys ['rules']"),
])
def test_mistakes_in_the_mapping_are_named(text, message):
    with pytest.raises(MappingError, match="rule|TOML|keys") as error:
        parse_mapping(text, "roles.toml")
    assert message in str(error.value)
    assert str(error.value).startswith("roles.toml")


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(MappingError, match="cannot read the role mapping"):
        load_mapping(tmp_path / "nope.toml")
    with pytest.raises(MappingError, match="FEEDBACK_OIDC_ROLE_MAPPING is not set"):
        load_mapping("")


def _app(**config):
    return create_app({"TESTING": True, "SECRET_KEY": "x", "FEEDBACK_PSEUDONYM_KEY": "y",
                       "SQLALCHEMY_DATABASE_URI": "sqlite://", **config})


def test_the_start_up_check_reads_the_mapping(tmp_path):
    good = tmp_path / "roles.toml"
    good.write_text(ROLE_MAPPING)
    broken = tmp_path / "broken.toml"
    broken.write_text('[[rule]]\ngroup = "x"\nrole = "boss"\n')
    with _app().app_context():
        assert sign_in_configured() == []  # sign-in at a provider not configured
    with _app(FEEDBACK_OIDC_ISSUER="https://login.example.dk", FEEDBACK_OIDC_CLIENT_ID="c",
              FEEDBACK_OIDC_ROLE_MAPPING=str(good)).app_context():
        assert sign_in_configured() == []
    with _app(FEEDBACK_OIDC_ISSUER="http://login.example.dk",
              FEEDBACK_OIDC_ROLE_MAPPING=str(broken)).app_context():
        problems = sign_in_configured()
    assert any("https://" in p for p in problems)
    assert any("FEEDBACK_OIDC_CLIENT_ID" in p for p in problems)
    assert any("role 'boss'" in p for p in problems)


def test_forms_may_lead_to_the_provider_only_when_it_is_configured():
    assert "form-action 'self';" in content_security_policy(_app()) + ";"
    csp = content_security_policy(_app(FEEDBACK_OIDC_ISSUER="https://login.example.dk/realms/k"))
    assert csp.endswith("form-action 'self' https://login.example.dk")
