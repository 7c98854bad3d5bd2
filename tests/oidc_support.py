"""A real OpenID provider for the tests (tests/oidc/provider.mjs: panva's oidc-provider under Node), started on a
free loopback port in a temporary folder, and the steps a person takes at its sign-in page.

`scripts/oidc_setup.sh` installs Node (from Debian's packages, if missing) and the provider's pinned packages; the
tests that need it are skipped, saying why, only when they are absent.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey

from service.settings import PROJECT_ROOT

PROVIDER_DIR = PROJECT_ROOT / "tests" / "oidc"
NODE = shutil.which("node")
NODE_AT_LEAST = 20  # oidc-provider 9 and jose 6 use WebCrypto as a global
CLIENT_ID = "handover"
CLIENT_SECRET = "test-client-secret-" + "s" * 24
JWT_CLIENT_ID = "handover-private-key"
KEY_ID = "handover-test-key"
TEST_BASE = "http://testserver.local"  # the Litestar test client's address

# The test group map: group ids as Entra ID would send them, mapped to the seeded teams (tests/conftest.py)
GROUP_MAP = """
[groups."g-north-workers"]
team = "North Team"
role = "worker"

[groups."g-north-managers"]
team = "North Team"
role = "manager"

[groups."g-cp-workers"]
team = "Cp Team"
role = "worker"

[groups."g-auditors"]
role = "auditor"

[groups."g-admins"]
role = "admin"
"""


def provider_missing() -> str:
    """Why the provider cannot run here ("" when it can)."""
    if NODE is None:
        return "node is not installed (bash scripts/oidc_setup.sh installs it)"
    version = subprocess.run([NODE, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    if not re.fullmatch(r"v(\d+)\..*", version) or int(version[1:].split(".")[0]) < NODE_AT_LEAST:
        return f"node {version} is too old for oidc-provider 9 ({NODE_AT_LEAST} or later is needed)"
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").exists():
        return "oidc-provider is not installed (bash scripts/oidc_setup.sh installs it)"
    return ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class OpenIdProvider:
    """The running provider: its issuer, and the test's hand on its accounts, keys and next ID token."""

    issuer: str
    folder: Path
    private_key_pem: str
    process: subprocess.Popen[bytes]
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def admin(self, what: str, body: Any) -> dict[str, Any]:
        response = httpx.post(f"{self.issuer}/test-admin/{what}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def set_accounts(self, accounts: dict[str, dict[str, Any]]) -> None:
        """The people the provider knows, by subject: name, email, email_verified, groups."""
        self.accounts = accounts
        self.admin("accounts", accounts)

    def set_groups(self, subject: str, groups: list[str]) -> None:
        self.accounts[subject] = {**self.accounts[subject], "groups": groups}
        self.admin("accounts", self.accounts)

    def rotate_keys(self) -> str:
        """A new signing key (the old one is no longer published); returns its key id."""
        return str(self.admin("rotate", {})["kid"])

    def next_id_token(self, how: dict[str, Any]) -> None:
        """The next ID token is changed: {"tamper": True}, or {"claims": {...}} signed again by the provider."""
        self.admin("id-token", how)

    def settings(self, **overrides: str) -> dict[str, str]:
        """The environment that turns on signing in with this provider (for `settings_from_env`)."""
        self.folder.joinpath("groups.toml").write_text(GROUP_MAP, encoding="utf-8")
        return {
            "HANDOVER_OIDC_ISSUER": self.issuer,
            "HANDOVER_OIDC_CLIENT_ID": CLIENT_ID,
            "HANDOVER_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "HANDOVER_OIDC_NAME": "Example Council",
            "HANDOVER_OIDC_GROUP_MAP": str(self.folder / "groups.toml"),
            **overrides,
        }


def _key_pair() -> tuple[str, dict[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    public = RSAKey.import_key(pem).as_dict(private=False)
    return pem, {**public, "kid": KEY_ID, "alg": "RS256", "use": "sig"}


def start_provider(folder: Path, redirect_bases: list[str]) -> OpenIdProvider:
    """Start the provider with two clients (a client secret; a private key JWT), each allowed to send people back to
    `<base>/sign-in/oidc/callback` and to `<base>/sign-in` after signing out, for each base."""
    missing = provider_missing()
    if missing:
        pytest.skip(missing)
    port = _free_port()
    pem, public = _key_pair()
    common = {
        "redirect_uris": [f"{base}/sign-in/oidc/callback" for base in redirect_bases],
        "post_logout_redirect_uris": [f"{base}/sign-in" for base in redirect_bases],
        "response_types": ["code"],
        "grant_types": ["authorization_code"],
    }
    clients = [
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token_endpoint_auth_method": "client_secret_basic",
         **common},
        {"client_id": JWT_CLIENT_ID, "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [public]},
         "token_endpoint_auth_signing_alg": "RS256", **common},
    ]  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "clients.json").write_text(json.dumps(clients), encoding="utf-8")
    with (folder / "provider.log").open("wb") as log:  # the child keeps its own copy of the file
        process = subprocess.Popen(
            [str(NODE), str(PROVIDER_DIR / "provider.mjs"), str(port), str(folder / "clients.json")],
            cwd=PROVIDER_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the OpenID provider did not start: " + (folder / "provider.log").read_text())
        time.sleep(0.1)
    return OpenIdProvider(issuer=issuer, folder=folder, private_key_pem=pem, process=process)


def running_provider(folder: Path, redirect_bases: list[str]) -> Iterator[OpenIdProvider]:
    """A provider for as long as the fixture that yields from this lives (one per test module)."""
    running = start_provider(folder, redirect_bases)
    try:
        yield running
    finally:
        running.process.terminate()
        running.process.wait(timeout=10)


_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*method="post"', re.IGNORECASE)


async def log_in_at_provider(authorisation_url: str, subject: str) -> str:
    """What a person does at the provider's sign-in page: open it, type their login and a password, and be sent
    back. Returns the address the provider sends the browser back to (the service's callback, with the code)."""
    origin = "/".join(authorisation_url.split("/")[:3])
    async with httpx.AsyncClient(timeout=10) as browser:
        response = await browser.get(authorisation_url)
        for _ in range(10):
            if response.status_code in (302, 303):
                location = urljoin(str(response.url), response.headers["location"])
                if not location.startswith(origin + "/"):
                    return location  # back to the service
                response = await browser.get(location)
                continue
            prompt = re.search(r'name="prompt" value="(login|consent)"', response.text)
            action = _FORM.search(response.text)
            if response.status_code != 200 or not prompt or not action:
                raise AssertionError(f"unexpected answer from the provider: {response.status_code} {response.text}")
            fields = {"prompt": prompt.group(1)}
            if prompt.group(1) == "login":
                fields |= {"login": subject, "password": "anything"}
            response = await browser.post(urljoin(str(response.url), action.group(1)), data=fields)
        raise AssertionError("the provider never sent the browser back")
