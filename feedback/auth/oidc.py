"""The OpenID Connect protocol, through Authlib: code flow with PKCE, state and nonce.

Authlib keeps the state, the nonce and the PKCE verifier in the staff session
cookie between the redirect and the callback, checks the state and the
nonce, fetches the provider's keys from its discovery document (and fetches
them again when a token names a key it does not know, so the provider can
rotate keys), and checks the ID token's signature, issuer, audience and
expiry. What the claims mean for the service is decided in
:mod:`feedback.services.identity`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app, session

from feedback.models import User

#: How long the service waits for the provider's token and key endpoints.
TIMEOUT_SECONDS = 10
#: Seconds of clock difference with the provider tolerated on ``exp`` and ``iat``.
LEEWAY_SECONDS = 60
_EXTENSION = "feedback.oidc"


def enabled() -> bool:
    """Whether sign-in through the organisation's provider is configured."""
    config = current_app.config
    return bool(config.get("FEEDBACK_OIDC_ISSUER") and config.get("FEEDBACK_OIDC_CLIENT_ID"))


def provider_name() -> str:
    """The name on the button: "Sign in with <name>"."""
    return (current_app.config.get("FEEDBACK_OIDC_NAME")
            or current_app.config["FEEDBACK_ORGANISATION"])


def issuer() -> str:
    """The configured issuer: the only one whose tokens are accepted."""
    return current_app.config["FEEDBACK_OIDC_ISSUER"]


def client():
    """This app's Authlib client for the provider (created on first use; no I/O here)."""
    found = current_app.extensions.get(_EXTENSION)
    if found is None:
        # Authlib and requests are imported here, when a provider is configured and
        # first used: every process (a CLI call too) would otherwise pay ~0.2 s for them.
        from authlib.integrations.flask_client import OAuth

        config = current_app.config
        oauth = OAuth(current_app)
        found = oauth.register(
            "provider",
            client_id=config["FEEDBACK_OIDC_CLIENT_ID"],
            client_secret=config["FEEDBACK_OIDC_CLIENT_SECRET"] or None,
            server_metadata_url=f"{issuer()}/.well-known/openid-configuration",
            client_kwargs={"scope": config["FEEDBACK_OIDC_SCOPES"],
                           "code_challenge_method": "S256",
                           "default_timeout": TIMEOUT_SECONDS},
        )
        current_app.extensions[_EXTENSION] = found
    return found


def authorization_redirect_url(redirect_uri: str, purpose: str, back: str | None = None,
                               **params) -> str:
    """The provider's authorisation URL; state, nonce and PKCE verifier saved in the session.

    ``purpose`` (``sign_in`` or ``unlock``) and the wall-clock time of asking
    are kept with the state, so the callback knows what it completes.
    """
    app = client()
    found = app.create_authorization_url(redirect_uri, **params)
    app.save_authorize_data(redirect_uri=redirect_uri, purpose=purpose, back=back,
                            # The provider's timestamps are on the wall clock, not ours.
                            asked_at=int(time.time()), **found)
    return found["url"]


@dataclass(frozen=True)
class Callback:
    """A completed callback: the verified claims and what the request was for."""

    claims: dict
    id_token: str
    purpose: str
    back: str | None
    asked_at: int


class CallbackRefused(Exception):
    """The callback cannot be trusted; ``reason`` is for the audit log, never the page."""

    def __init__(self, reason: str, unreachable: bool = False):
        super().__init__(reason)
        self.reason = reason
        #: The provider could not be reached (rather than answering wrongly).
        self.unreachable = unreachable


def _claims_options() -> dict:
    # Authlib checks the audience only when told which one to expect (its default
    # options name the issuer alone), so both are spelled out.
    return {"iss": {"essential": True, "values": [issuer()]},
            "aud": {"essential": True,
                    "values": [current_app.config["FEEDBACK_OIDC_CLIENT_ID"]]}}


def complete(state: str | None) -> Callback:
    """Check the provider's answer on the callback and return the ID token's claims.

    Raises :class:`CallbackRefused` for a state this browser did not start, an
    error from the provider, a code the provider refuses (used before, or
    expired), and an ID token with a bad signature, another issuer or
    audience, a wrong nonce, or past its expiry.
    """
    import joserfc.errors
    import requests
    from authlib.common.errors import AuthlibBaseError
    from authlib.integrations.base_client import MismatchingStateError

    app = client()
    data = app.framework.get_state_data(session, state) if state else None
    try:
        token = app.authorize_access_token(claims_options=_claims_options(),
                                           leeway=LEEWAY_SECONDS)
    except MismatchingStateError as exc:
        raise CallbackRefused("state does not match") from exc
    except requests.RequestException as exc:
        raise CallbackRefused(f"provider unreachable: {type(exc).__name__}",
                              unreachable=True) from exc
    except (AuthlibBaseError, joserfc.errors.JoseError) as exc:
        error = getattr(exc, "error", None) or type(exc).__name__
        description = getattr(exc, "description", None) or str(exc)
        raise CallbackRefused(f"{error}: {description}"[:300]) from exc
    claims = token.get("userinfo")
    if not claims or "id_token" not in token:
        raise CallbackRefused("no ID token in the provider's answer")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise CallbackRefused("the ID token has no subject")
    if len(claims["sub"]) > User.SUBJECT_MAX:
        raise CallbackRefused("the subject is longer than the standard allows")
    return Callback(claims=dict(claims), id_token=token["id_token"],
                    purpose=(data or {}).get("purpose", "sign_in"),
                    back=(data or {}).get("back"), asked_at=int((data or {}).get("asked_at", 0)))


def logout_url(id_token: str | None, post_logout_redirect_uri: str) -> str | None:
    """Where to end the session at the provider too, if it offers that; else ``None``."""
    import requests

    app = client()
    try:
        metadata = app.load_server_metadata()
    except (requests.RequestException, ValueError):
        return None
    if not metadata.get("end_session_endpoint"):
        return None
    return app.create_logout_url(post_logout_redirect_uri=post_logout_redirect_uri,
                                 id_token_hint=id_token,
                                 client_id=current_app.config["FEEDBACK_OIDC_CLIENT_ID"])["url"]
