"""The service provider: settings, identity providers, and pysaml2 bound to them.

pysaml2 (the library of the Italian reference implementations) loads the
identity providers' metadata, verifies the signatures of what they send (through
Debian's ``xmlsec1``) and signs the SP's metadata. The messages the SP sends
(AuthnRequest, LogoutRequest, LogoutResponse) are written here, as AgID's
technical rules draw them, and signed for the HTTP-Redirect binding.
"""

from __future__ import annotations

import base64
import shutil
import warnings
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from xml.sax.saxutils import escape, quoteattr

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import Flask, current_app

with warnings.catch_warnings():
    # pysaml2 7.5 imports a cipher mode that cryptography has moved (a warning, not a
    # use: SPID signs with RSA-SHA256 and encrypts nothing).
    warnings.simplefilter("ignore")
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.client import Saml2Client
    from saml2.config import SPConfig
    from saml2.s_utils import UnsupportedBinding
    from saml2.saml import NAME_FORMAT_BASIC, NAMEID_FORMAT_ENTITY, NAMEID_FORMAT_TRANSIENT
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

__all__ = [
    "BINDING_HTTP_POST",
    "BINDING_HTTP_REDIRECT",
    "CIE",
    "LEVELS",
    "NAMEID_FORMAT_ENTITY",
    "NAMEID_FORMAT_TRANSIENT",
    "SPID",
    "IdentityProvider",
    "ServiceProvider",
    "SpidNotConfiguredError",
    "enabled",
    "service_provider",
]

SPID = "spid"
CIE = "cie"
LEVELS = (
    "https://www.spid.gov.it/SpidL1",
    "https://www.spid.gov.it/SpidL2",
    "https://www.spid.gov.it/SpidL3",
)
#: The attributes asked for: the codice fiscale finds the account; the name is shown.
REQUESTED_ATTRIBUTES = ("fiscalNumber", "name", "familyName")
#: CIE's identity provider (production and pre-production): its button is "Entra con CIE".
CIE_ENTITY_IDS = frozenset(
    {
        "https://idserver.servizicie.interno.gov.it/idp/profile/SAML2/POST/SSO",
        "https://preproduzione.idserver.servizicie.interno.gov.it/idp/profile/SAML2/POST/SSO",
    }
)
#: AgID's registry of SPID identity providers, in its order (the button lists them so;
#: others, such as a test IdP, follow by name).
AGID_ORDER = (
    "https://loginspid.aruba.it",
    "https://id.eht.eu",
    "https://identity.infocert.it",
    "https://idp.infocamere.it",
    "https://spid.intesa.it",
    "https://id.lepida.it/idp/shibboleth",
    "https://idp.namirialtsp.com/idp",
    "https://posteid.poste.it",
    "https://identity.sieltecloud.it",
    "https://spid.register.it",
    "https://spid.teamsystem.com/idp",
    "https://login.id.tim.it/affwebservices/public/saml2sso",
)
_MD = "urn:oasis:names:tc:SAML:2.0:metadata"


class SpidNotConfiguredError(RuntimeError):
    """SPID is enabled but its settings are incomplete or wrong (said at start-up)."""


@dataclass(frozen=True)
class IdentityProvider:
    """One identity provider of the metadata configured."""

    entity_id: str
    name: str
    profile: str
    sso_url: str
    slo_url: str | None
    slo_binding: str | None


@dataclass
class ServiceProvider:
    """The SP's settings and pysaml2's client over the identity providers configured."""

    entity_id: str
    base_url: str
    key_file: str
    cert_file: str
    organization: str
    ipa_code: str
    contact_email: str
    contact_phone: str
    municipality: str
    level: str
    request_minutes: int
    client: Any
    idps: dict[str, IdentityProvider] = field(default_factory=dict)

    @property
    def acs_url(self) -> str:
        """Where identity providers post their responses."""
        return f"{self.base_url}/spid/acs"

    @property
    def slo_url(self) -> str:
        """The SP's single logout endpoint."""
        return f"{self.base_url}/spid/logout"

    def listed(self, profile: str) -> list[IdentityProvider]:
        """The identity providers of *profile*, in AgID's order (then by name)."""
        rank = {entity: n for n, entity in enumerate(AGID_ORDER)}
        found = [idp for idp in self.idps.values() if idp.profile == profile]
        return sorted(found, key=lambda i: (rank.get(i.entity_id, len(rank)), i.name.lower()))

    def certificate_base64(self) -> str:
        """The SP's certificate as the base64 body of its PEM (for the metadata)."""
        pem = Path(self.cert_file).read_text(encoding="ascii")
        return "".join(line for line in pem.splitlines() if line and "-----" not in line)

    # Messages -----------------------------------------------------------------

    def issuer(self) -> str:
        """The Issuer element SPID asks for (entity format, NameQualifier)."""
        entity = quoteattr(self.entity_id)
        return (
            f'<saml:Issuer NameQualifier={entity} Format="{NAMEID_FORMAT_ENTITY}">'
            f"{escape(self.entity_id)}</saml:Issuer>"
        )

    def authn_request(
        self, request_id: str, idp: IdentityProvider, now: datetime, level: str
    ) -> str:
        """An AuthnRequest to *idp* (HTTP-POST back to the ACS, index 0 of the attributes)."""
        force = ' ForceAuthn="true"' if level != LEVELS[0] else ""
        return (
            '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
            'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
            f'ID="{request_id}" Version="2.0" IssueInstant="{saml_time(now)}" '
            f"Destination={quoteattr(idp.sso_url)}{force} "
            f"AssertionConsumerServiceURL={quoteattr(self.acs_url)} "
            f'ProtocolBinding="{BINDING_HTTP_POST}" AttributeConsumingServiceIndex="0">'
            f"{self.issuer()}"
            f'<samlp:NameIDPolicy Format="{NAMEID_FORMAT_TRANSIENT}"/>'
            '<samlp:RequestedAuthnContext Comparison="minimum">'
            f"<saml:AuthnContextClassRef>{escape(level)}</saml:AuthnContextClassRef>"
            "</samlp:RequestedAuthnContext>"
            "</samlp:AuthnRequest>"
        )

    def logout_request(
        self,
        request_id: str,
        idp: IdentityProvider,
        now: datetime,
        name_id: str,
        name_id_format: str,
        session_index: str | None,
    ) -> str:
        """A LogoutRequest to *idp* for the session it opened (NameID, SessionIndex)."""
        index = (
            f"<samlp:SessionIndex>{escape(session_index)}</samlp:SessionIndex>"
            if session_index
            else ""
        )
        return (
            '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
            'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
            f'ID="{request_id}" Version="2.0" IssueInstant="{saml_time(now)}" '
            f"Destination={quoteattr(idp.slo_url or '')}>"
            f"{self.issuer()}"
            f"<saml:NameID NameQualifier={quoteattr(idp.entity_id)} "
            f"Format={quoteattr(name_id_format)}>{escape(name_id)}</saml:NameID>"
            f"{index}"
            "</samlp:LogoutRequest>"
        )

    def logout_response(
        self, response_id: str, idp: IdentityProvider, now: datetime, in_response_to: str
    ) -> str:
        """The LogoutResponse to an identity provider's LogoutRequest (success)."""
        return (
            '<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
            'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
            f'ID="{response_id}" Version="2.0" IssueInstant="{saml_time(now)}" '
            f"Destination={quoteattr(idp.slo_url or '')} "
            f"InResponseTo={quoteattr(in_response_to)}>"
            f"{self.issuer()}"
            '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
            "</samlp:Status></samlp:LogoutResponse>"
        )

    def redirect_url(self, destination: str, message: str, relay_state: str, *, kind: str) -> str:
        """*message* for the HTTP-Redirect binding, signed (RSA-SHA256), as the URL to go to.

        *kind* is ``SAMLRequest`` or ``SAMLResponse``. The signature covers the
        query exactly as sent (SAML bindings, 3.4.4.1).
        """
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        deflated = compressor.compress(message.encode()) + compressor.flush()
        query = urlencode(
            [
                (kind, base64.b64encode(deflated).decode()),
                ("RelayState", relay_state),
                ("SigAlg", SIG_RSA_SHA256),
            ]
        )
        key = serialization.load_pem_private_key(Path(self.key_file).read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise SpidNotConfiguredError("the SPID key must be an RSA key")
        signature = key.sign(query.encode(), padding.PKCS1v15(), hashes.SHA256())
        separator = "&" if "?" in destination else "?"
        signed = urlencode({"Signature": base64.b64encode(signature).decode()})
        return f"{destination}{separator}{query}&{signed}"

    def idp_certificates(self, entity_id: str) -> list[str]:
        """The signing certificates (base64) of *entity_id* in its metadata."""
        return [cert for _name, cert in self.client.metadata.certs(entity_id, "idpsso", "signing")]


def saml_time(moment: datetime) -> str:
    """A SAML dateTime in UTC, to the second ("2026-12-02T10:00:00Z")."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def enabled(app: Flask | None = None) -> bool:
    """Whether SPID/CIE sign-in is configured (``LMS_SPID_IDP_METADATA`` set)."""
    app = app or current_app
    return bool(app.config.get("SPID_IDP_METADATA"))


def service_provider(app: Flask | None = None) -> ServiceProvider:
    """The app's service provider, built once from its settings."""
    app = app or current_app
    built = app.extensions.get("lms_spid")
    if built is None:
        built = app.extensions["lms_spid"] = _build(app)
    return built


def _metadata_files(setting: str) -> list[str]:
    path = Path(setting)
    if path.is_dir():
        files = sorted(str(p) for p in path.glob("*.xml"))
    elif path.is_file():
        files = [str(path)]
    else:
        files = []
    if not files:
        raise SpidNotConfiguredError(
            f"LMS_SPID_IDP_METADATA={setting}: no metadata file (a file, or a folder of *.xml)"
        )
    return files


def _build(app: Flask) -> ServiceProvider:
    config = app.config
    base_url = str(config["BASE_URL"]).rstrip("/")
    entity_id = config.get("SPID_ENTITY_ID") or f"{base_url}/spid/metadata"
    key_file, cert_file = config.get("SPID_KEY", ""), config.get("SPID_CERT", "")
    for name, value in (("LMS_SPID_KEY", key_file), ("LMS_SPID_CERT", cert_file)):
        if not value or not Path(value).is_file():
            raise SpidNotConfiguredError(f"{name} must name a PEM file (lms spid certificate)")
    level = config.get("SPID_LEVEL") or LEVELS[1]
    if level not in LEVELS:
        raise SpidNotConfiguredError(f"LMS_SPID_LEVEL must be one of {', '.join(LEVELS)}")
    xmlsec = config.get("SPID_XMLSEC_BINARY") or shutil.which("xmlsec1")
    if not xmlsec:
        raise SpidNotConfiguredError("xmlsec1 is not installed (scripts/install-xmlsec.sh)")
    files = _metadata_files(str(config["SPID_IDP_METADATA"]))
    sp_config = SPConfig()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sp_config.load(
            {
                "entityid": entity_id,
                "xmlsec_binary": xmlsec,
                "key_file": key_file,
                "cert_file": cert_file,
                "metadata": {"local": files},
                "accepted_time_diff": 0,
                "allow_unknown_attributes": True,
                "service": {
                    "sp": {
                        "endpoints": {
                            "assertion_consumer_service": [
                                (f"{base_url}/spid/acs", BINDING_HTTP_POST)
                            ],
                            "single_logout_service": [
                                (f"{base_url}/spid/logout", BINDING_HTTP_REDIRECT),
                                (f"{base_url}/spid/logout", BINDING_HTTP_POST),
                            ],
                        },
                        "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                        "authn_requests_signed": True,
                        "logout_requests_signed": True,
                        "want_assertions_signed": True,
                        "want_response_signed": True,
                        "allow_unsolicited": False,
                        "requested_attribute_name_format": NAME_FORMAT_BASIC,
                        "signing_algorithm": SIG_RSA_SHA256,
                        "digest_algorithm": DIGEST_SHA256,
                    }
                },
            }
        )
        client = Saml2Client(config=sp_config)
    sp = ServiceProvider(
        entity_id=entity_id,
        base_url=base_url,
        key_file=key_file,
        cert_file=cert_file,
        organization=config.get("SPID_ORGANIZATION") or "",
        ipa_code=config.get("SPID_IPA_CODE") or "",
        contact_email=config.get("SPID_CONTACT_EMAIL") or "",
        contact_phone=config.get("SPID_CONTACT_PHONE") or "",
        municipality=config.get("SPID_MUNICIPALITY") or "",
        level=level,
        request_minutes=int(config.get("SPID_REQUEST_MINUTES") or 15),
        client=client,
    )
    cie_ids = CIE_ENTITY_IDS | {
        e.strip() for e in str(config.get("SPID_CIE_IDPS") or "").split(",") if e.strip()
    }
    sp.idps = _identity_providers(client, cie_ids)
    if not sp.idps:
        raise SpidNotConfiguredError("LMS_SPID_IDP_METADATA names no identity provider")
    return sp


def _identity_providers(
    client: Any, cie_ids: frozenset[str] | set[str]
) -> dict[str, IdentityProvider]:
    metadata = client.metadata
    found: dict[str, IdentityProvider] = {}
    for entity_id in metadata.identity_providers():
        sso = _services(metadata.single_sign_on_service, entity_id, BINDING_HTTP_REDIRECT)
        if not sso:
            continue  # the SP sends AuthnRequests by HTTP-Redirect only
        slo_binding = slo_url = None
        for binding in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST):
            services = _services(metadata.single_logout_service, entity_id, binding, "idpsso")
            if services:
                slo_binding, slo_url = binding, services[0]["location"]
                break
        found[entity_id] = IdentityProvider(
            entity_id=entity_id,
            name=_display_name(metadata, entity_id),
            profile=CIE if entity_id in cie_ids else SPID,
            sso_url=sso[0]["location"],
            slo_url=slo_url,
            slo_binding=slo_binding,
        )
    return found


def _services(lookup: Any, *args: str) -> list[dict[str, str]]:
    """A metadata lookup's services, none when the binding is not offered."""
    try:
        return list(lookup(*args) or [])
    except UnsupportedBinding:
        return []


def _display_name(metadata: Any, entity_id: str) -> str:
    """The identity provider's name as its metadata writes it (Italian first)."""
    try:
        organization = metadata[entity_id].get("organization") or {}
    except KeyError:
        organization = {}
    for key in ("organization_display_name", "organization_name"):
        names = organization.get(key) or []
        by_lang = {n.get("lang", ""): n.get("text", "") for n in names}
        for lang in ("it", "en", ""):
            if by_lang.get(lang):
                return by_lang[lang]
        if names:
            return names[0].get("text", "")
    return urlsplit(entity_id).hostname or entity_id
