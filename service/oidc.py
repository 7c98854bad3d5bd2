"""The council's OpenID Connect provider, spoken to through Authlib (none of the protocol is written here).

- Discovery: `<issuer>/.well-known/openid-configuration`, read once and kept; its `issuer` must be the configured one.
- The authorisation-code flow with PKCE (S256), `state` and `nonce` (Authlib makes all three).
- The token request authenticated by a client secret (`client_secret_basic`) or a signed JWT (`private_key_jwt`,
  Authlib's `PrivateKeyJWT`).
- The ID token checked by Authlib and joserfc (Authlib's own `authlib.jose` is deprecated in favour of joserfc):
  signature against the provider's JWKS (fetched again once for a key id it does not know, so a rotated key is
  followed), issuer, audience (this client), expiry (`LEEWAY_SECONDS` of clock skew), issued-at, nonce, `azp`.
- RP-initiated logout: the provider's `end_session_endpoint` with `id_token_hint` and `post_logout_redirect_uri`.

What passes between the start and the callback (state, nonce, PKCE verifier) is the caller's to keep: the web layer
keeps it in a signed, short-lived cookie, so nothing is stored before the person is known.
"""

from __future__ import annotations

import hmac
from typing import Any

import httpx2
import msgspec
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import BaseApp
from authlib.integrations.base_client.async_app import AsyncOAuth2Mixin
from authlib.integrations.base_client.async_openid import AsyncOpenIDMixin
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from service.core.directory import ProviderIdentity, claimed_groups
from service.settings import Settings

LEEWAY_SECONDS = 60  # clock skew allowed on the ID token's times
TIMEOUT_SECONDS = 10.0  # the longest one request to the provider may take


class ProviderError(Exception):
    """The sign-in could not be completed: the provider refused (`refused` True: an `error` in the callback), or
    what came back did not check out (state, code, token). The message is for the log, never for the person."""

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


class Pending(msgspec.Struct, frozen=True):
    """What the callback needs from the start of a sign-in: kept by the browser in a signed cookie."""

    state: str
    nonce: str
    code_verifier: str


class Started(msgspec.Struct, frozen=True):
    url: str  # where to send the browser: the provider's authorisation endpoint with the request
    pending: Pending


class Completed(msgspec.Struct, frozen=True):
    person: ProviderIdentity
    id_token: str  # kept in the session for RP-initiated logout's `id_token_hint`


class _Client(AsyncOAuth2Mixin, AsyncOpenIDMixin, BaseApp):  # type: ignore[misc]
    """Authlib's framework-neutral asynchronous OpenID client (what its Starlette integration is made of)."""

    client_cls = AsyncOAuth2Client


class Provider:
    """One council provider, for the life of the service (discovery and keys are kept between sign-ins)."""

    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self.redirect_uri = settings.oidc_redirect_uri
        self.groups_claim = settings.oidc_groups_claim
        client_kwargs: dict[str, Any] = {
            "scope": settings.oidc_scopes,
            "code_challenge_method": "S256",
            "timeout": TIMEOUT_SECONDS,
        }
        auth_methods = []
        secret: Any = settings.oidc_client_secret
        if settings.oidc_private_key:
            secret = RSAKey.import_key(settings.oidc_private_key)
            headers = {"kid": settings.oidc_key_id} if settings.oidc_key_id else None
            auth_methods.append(PrivateKeyJWT(headers=headers))
            client_kwargs["token_endpoint_auth_method"] = "private_key_jwt"
        else:
            client_kwargs["token_endpoint_auth_method"] = "client_secret_basic"
        self._client = _Client(
            framework=None,
            name="council",
            client_id=self.client_id,
            client_secret=secret,
            server_metadata_url=f"{self.issuer}/.well-known/openid-configuration",
            client_kwargs=client_kwargs,
            client_auth_methods=auth_methods,
        )

    async def _metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = await self._client.load_server_metadata()
        if metadata.get("issuer") != self.issuer:
            # OpenID Connect Discovery 1.0, section 4.3: a document for another issuer is not this provider's
            raise ProviderError(f"discovery names issuer {metadata.get('issuer')!r}, not {self.issuer!r}")
        return metadata

    async def start(self) -> Started:
        """The address of the provider's sign-in, with fresh state, nonce and PKCE verifier. `ProviderError` if the
        provider cannot be reached or its discovery document is not its own."""
        try:
            await self._metadata()
            made = await self._client.create_authorization_url(self.redirect_uri)
        except (httpx2.HTTPError, ValueError, AuthlibBaseError) as exc:
            raise ProviderError(f"could not start sign-in: {exc!r}") from exc
        return Started(url=made["url"], pending=Pending(made["state"], made["nonce"], made["code_verifier"]))

    async def complete(self, query: dict[str, str], pending: Pending | None) -> Completed:
        """The person, from the callback's query and what the start kept: the state must match, the code is
        exchanged (with the PKCE verifier), and the ID token checked. `ProviderError` otherwise."""
        if query.get("error"):
            raise ProviderError(f"provider said {query.get('error')!r}", refused=True)
        given = query.get("state", "").encode("utf-8", "surrogateescape")  # as bytes: any text may be sent
        if pending is None or not hmac.compare_digest(given, pending.state.encode()):
            raise ProviderError("state does not match this browser's sign-in")
        if not query.get("code"):
            raise ProviderError("no code in the callback")
        try:
            await self._metadata()
            token = await self._client.fetch_access_token(
                redirect_uri=self.redirect_uri, code=query["code"], code_verifier=pending.code_verifier
            )
            if "id_token" not in token:
                raise ProviderError("the token response has no ID token")
            claims = await self._client.parse_id_token(
                token,
                nonce=pending.nonce,
                claims_options={
                    "iss": {"essential": True, "value": self.issuer},
                    "aud": {"essential": True, "value": self.client_id},
                    "exp": {"essential": True},
                    "sub": {"essential": True},
                },
                leeway=LEEWAY_SECONDS,
            )
        except (httpx2.HTTPError, ValueError, KeyError, AuthlibBaseError, JoseError) as exc:
            raise ProviderError(f"could not complete sign-in: {exc!r}") from exc
        person = ProviderIdentity(
            issuer=self.issuer,
            subject=str(claims["sub"]),
            name=_text(claims.get("name")),
            email=_text(claims.get("email")),
            email_verified=claims.get("email_verified") is True,
            preferred_username=_text(claims.get("preferred_username")),
            groups=claimed_groups(claims, self.groups_claim),
            groups_sent=self.groups_claim in claims,
        )
        return Completed(person=person, id_token=str(token["id_token"]))

    async def logout_url(self, id_token: str, after: str) -> str | None:
        """The provider's end-session address for RP-initiated logout, or None if it offers none (or cannot be
        reached: signing out here still happens)."""
        try:
            metadata = await self._metadata()
            if not metadata.get("end_session_endpoint"):
                return None
            made = await self._client.create_logout_url(post_logout_redirect_uri=after, id_token_hint=id_token)
        except (httpx2.HTTPError, ValueError, AuthlibBaseError, ProviderError):
            return None
        return str(made["url"])


def _text(value: Any) -> str:
    return value.strip()[:254] if isinstance(value, str) else ""
