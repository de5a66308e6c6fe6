"""The SP's signed metadata, in SPID's profile (Avviso 29 v3) and in CIE's."""

from __future__ import annotations

import secrets
import warnings
from xml.sax.saxutils import escape, quoteattr

from lms.spid.saml import (
    BINDING_HTTP_POST,
    BINDING_HTTP_REDIRECT,
    CIE,
    NAMEID_FORMAT_TRANSIENT,
    REQUESTED_ATTRIBUTES,
    ServiceProvider,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from saml2.sigver import pre_signature_part
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

SERVICE_NAME = "Formazione Coesione"
_ENTITY_DESCRIPTOR = "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor"


def metadata_xml(sp: ServiceProvider, profile: str) -> bytes:
    """The metadata of *sp* for *profile* (``spid`` or ``cie``), signed with its key."""
    ident = "_" + secrets.token_hex(20)
    signature = str(
        pre_signature_part(
            ident=ident,
            public_key=sp.certificate_base64(),
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
    )
    unsigned = _unsigned(sp, profile, ident, signature)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        signed = sp.client.sec.sign_statement(
            unsigned, node_name=_ENTITY_DESCRIPTOR, key_file=sp.key_file, node_id=ident
        )
    return signed.encode() if isinstance(signed, str) else signed


def _unsigned(sp: ServiceProvider, profile: str, ident: str, signature: str) -> str:
    cie = profile == CIE
    ext_ns = (
        'xmlns:cie="https://www.cartaidentita.interno.gov.it/saml-extensions"'
        if cie
        else 'xmlns:spid="https://spid.gov.it/saml-extensions"'
    )
    cert = sp.certificate_base64()
    org = escape(sp.organization)
    attributes = list(REQUESTED_ATTRIBUTES)
    requested = "".join(f'<md:RequestedAttribute Name="{name}"/>' for name in attributes)
    url = escape(sp.base_url + "/")
    languages = ("it", "en") if cie else ("it",)
    organization = (
        "".join(
            f'<md:OrganizationName xml:lang="{lang}">{org}</md:OrganizationName>'
            for lang in languages
        )
        + "".join(
            f'<md:OrganizationDisplayName xml:lang="{lang}">{org}</md:OrganizationDisplayName>'
            for lang in languages
        )
        + "".join(
            f'<md:OrganizationURL xml:lang="{lang}">{url}</md:OrganizationURL>'
            for lang in languages
        )
    )
    phone = (
        f"<md:TelephoneNumber>{escape(sp.contact_phone)}</md:TelephoneNumber>"
        if sp.contact_phone
        else ""
    )
    email = f"<md:EmailAddress>{escape(sp.contact_email)}</md:EmailAddress>"
    if cie:
        contact = (
            '<md:ContactPerson contactType="administrative"><md:Extensions>'
            "<cie:Public/>"
            f"<cie:IPACode>{escape(sp.ipa_code)}</cie:IPACode>"
            f"<cie:Municipality>{escape(sp.municipality)}</cie:Municipality>"
            f"</md:Extensions><md:Company>{org}</md:Company>{email}{phone}</md:ContactPerson>"
        )
        service = (
            f'<md:ServiceName xml:lang="it">{SERVICE_NAME}</md:ServiceName>'
            f'<md:ServiceName xml:lang="en">{SERVICE_NAME}</md:ServiceName>'
        )
    else:
        contact = (
            '<md:ContactPerson contactType="other"><md:Extensions>'
            f"<spid:IPACode>{escape(sp.ipa_code)}</spid:IPACode><spid:Public/>"
            f"</md:Extensions>{email}{phone}</md:ContactPerson>"
        )
        service = f'<md:ServiceName xml:lang="it">{SERVICE_NAME}</md:ServiceName>'
    slo = escape(sp.slo_url)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" {ext_ns} '
        f'entityID={quoteattr(sp.entity_id)} ID="{ident}">'
        f"{signature}"
        '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" '
        'AuthnRequestsSigned="true" WantAssertionsSigned="true">'
        '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>'
        f"<ds:X509Certificate>{cert}</ds:X509Certificate>"
        "</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        f'<md:SingleLogoutService Binding="{BINDING_HTTP_REDIRECT}" Location="{slo}"/>'
        f'<md:SingleLogoutService Binding="{BINDING_HTTP_POST}" Location="{slo}"/>'
        f"<md:NameIDFormat>{NAMEID_FORMAT_TRANSIENT}</md:NameIDFormat>"
        f'<md:AssertionConsumerService Binding="{BINDING_HTTP_POST}" '
        f'Location="{escape(sp.acs_url)}" index="0" isDefault="true"/>'
        f'<md:AttributeConsumingService index="0">{service}{requested}'
        "</md:AttributeConsumingService>"
        "</md:SPSSODescriptor>"
        f"<md:Organization>{organization}</md:Organization>"
        f"{contact}"
        "</md:EntityDescriptor>"
    )
