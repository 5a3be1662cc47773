"""OpenID providers for the sign-in tests, on loopback.

* :func:`mock_provider`: the real ``oidc-provider-mock`` process (Authlib's server
  side): discovery, keys, an authorisation form, single-use codes, end of session.
* :class:`CraftedProvider`: a small provider in a thread whose token endpoint
  answers with ID tokens a test crafted (another audience, expired, another
  key…), to show that the service refuses them.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

VENV_BIN = Path(__file__).resolve().parents[1] / ".venv" / "bin"

#: The mapping the tests configure: a team lead of Team Nord, caseworkers, an analyst.
ROLE_MAPPING = """\
[[rule]]
group = "fb-nord-leads"
role = "team_lead"
teams = ["Team Nord"]

[[rule]]
group = "fb-caseworkers"
role = "caseworker"

[[rule]]
group = "fb-syd"
teams = ["Team Syd"]

[[rule]]
claim = "roles"
value = "feedback-analyst"
role = "analyst"
"""

CLIENT_ID = "feedback-test"
CLIENT_SECRET = "feedback-test-secret"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen | None = None, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the provider exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the provider did not answer at {url}")


class MockProvider:
    """A running ``oidc-provider-mock``: its issuer URL and a few helpers."""

    def __init__(self, issuer: str):
        self.issuer = issuer

    def set_user(self, sub: str, **claims) -> None:
        """Give ``sub`` these claims at their next sign-in (as the provider's admin would)."""
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{self.issuer}/users/{sub}", data=json.dumps(claims).encode(), method="PUT",
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - loopback
            pass

    def authorize(self, authorize_url: str, sub: str) -> str:
        """Sign in as ``sub`` on the provider's form; returns the redirect to the callback."""
        request = urllib.request.Request(  # noqa: S310 - loopback
            authorize_url, data=f"sub={sub}".encode(), method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            opener.open(request, timeout=5)
        except urllib.error.HTTPError as answer:
            if answer.code in (301, 302, 303):
                return answer.headers["Location"]
            raise
        raise AssertionError("the provider did not redirect back")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@contextmanager
def mock_provider(log_dir: Path, token_max_age: int = 3600) -> Iterator[MockProvider]:
    """Start ``oidc-provider-mock`` on a free loopback port; stopped afterwards."""
    port = free_port()
    log = open(log_dir / "oidc-provider-mock.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(VENV_BIN / "oidc-provider-mock"), "--host", "127.0.0.1", "--port", str(port),
         "--require-nonce", "true", "--token-max-age", str(token_max_age)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    # The provider names itself after the host it is asked on: localhost, always.
    issuer = f"http://localhost:{port}"
    try:
        _wait_for(f"{issuer}/.well-known/openid-configuration", proc)
        yield MockProvider(issuer)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


class CraftedProvider:
    """A provider whose token endpoint returns the ID token the test queued.

    It publishes one signing key at a time; :meth:`rotate` replaces it (the
    old one is forgotten), as a provider rotating its keys does.
    """

    def __init__(self):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig"})
        self.next_claims: dict | None = None
        self.next_key: RSAKey | None = None
        self.jwks_requests = 0
        self.used_codes: set[str] = set()
        self._server = make_server("127.0.0.1", self.port, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> CraftedProvider:
        self._thread.start()
        _wait_for(f"{self.issuer}/.well-known/openid-configuration")
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._thread.join(5)

    def rotate(self, kid: str) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"})

    def queue(self, claims: dict, key: RSAKey | None = None) -> None:
        """The claims (and optionally the key) of the next ID token issued."""
        self.next_claims, self.next_key = claims, key

    def claims_for(self, sent_nonce: str, sub: str = "crafted-1", **changes) -> dict:
        """Valid claims for this client and the nonce sent; ``changes`` break one of them."""
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": sub, "aud": CLIENT_ID, "iat": now,
                  "exp": now + 300, "auth_time": now, "nonce": sent_nonce,
                  "name": "Crafted Person", "groups": ["fb-caseworkers"]}
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    @Request.application
    def _app(self, request: Request) -> Response:
        if request.path == "/.well-known/openid-configuration":
            return _json({
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            })
        if request.path == "/jwks":
            self.jwks_requests += 1
            return _json(KeySet([self.key]).as_dict(private=False))
        if request.path == "/token" and request.method == "POST":
            code = request.form.get("code", "")
            if code in self.used_codes or self.next_claims is None:
                return _json({"error": "invalid_grant"}, 400)
            self.used_codes.add(code)
            key = self.next_key or self.key
            id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, self.next_claims, key)
            return _json({"access_token": "at-" + code, "token_type": "Bearer",
                          "expires_in": 300, "id_token": id_token})
        return Response("not found", status=404)


def _json(data: dict, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def query(url: str) -> dict[str, str]:
    """The query parameters of a URL, one value each."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
