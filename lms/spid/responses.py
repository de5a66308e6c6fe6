"""An identity provider's Response, checked as AgID's technical rules ask.

Two independent passes must both accept it:

1. :func:`check_structure` reads the document (with a parser that resolves no
   entity and fetches nothing) and applies SPID's rules that SAML 2 core leaves
   open: one Response with one Assertion, the Issuer and its Format, the NameID,
   the times (no earlier than the request, not in the future, not expired), the
   addresses (Destination, Recipient, Audience), the level of assurance;
2. pysaml2 (:func:`verify_signatures`) verifies the signatures of the Response and
   of the Assertion against the identity provider's certificate in its metadata,
   with xmlsec1, and its own checks of the conditions.

Requiring exactly one Response and one Assertion, each with its own ID, each
signed, refuses the signature wrapping attacks (XSW): there is no second element
for a signature to point away to.
"""

from __future__ import annotations

import base64
import binascii
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from lms.spid.saml import (
    BINDING_HTTP_POST,
    CIE,
    LEVELS,
    NAMEID_FORMAT_ENTITY,
    NAMEID_FORMAT_TRANSIENT,
    ServiceProvider,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from saml2 import SAMLError

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
#: xs:dateTime in UTC as SPID writes it, with or without fractions of a second.
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
#: Clock differences tolerated between the SP and an identity provider.
SKEW = timedelta(seconds=60)
#: The largest response accepted (SPID responses are a few kilobytes).
MAX_BYTES = 256 * 1024


class ResponseRefused(Exception):
    """The response is refused; *code* names the reason (see views.REFUSALS)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Envelope:
    """What the SP reads of a response before verifying it: the request it answers."""

    xml: bytes
    document: Any
    in_response_to: str


@dataclass(frozen=True)
class Identity:
    """What an accepted response says: who, by which identity provider, which session."""

    idp_entity_id: str
    name_id: str
    name_id_format: str
    session_index: str | None
    fiscal_number: str | None
    level: str


def decode(form_value: str | None) -> Envelope:
    """The posted ``SAMLResponse``: base64 XML, parsed safely; its InResponseTo."""
    if not form_value:
        raise ResponseRefused("malformed", "no SAMLResponse")
    try:
        xml = base64.b64decode(form_value, validate=False)
    except (binascii.Error, ValueError):
        raise ResponseRefused("malformed", "not base64") from None
    if len(xml) > MAX_BYTES:
        raise ResponseRefused("malformed", "too large")
    if b"<!DOCTYPE" in xml.upper() or b"<!ENTITY" in xml.upper():
        raise ResponseRefused("malformed", "DTDs are not accepted")
    try:
        document = fromstring(xml, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError):
        raise ResponseRefused("malformed", "not XML") from None
    if document.tag != f"{{{NS['samlp']}}}Response":
        raise ResponseRefused("malformed", "not a Response")
    return Envelope(xml=xml, document=document, in_response_to=document.get("InResponseTo") or "")


def _parse_time(value: str | None, what: str) -> datetime:
    if not value or not _TIME.match(value):
        raise ResponseRefused("invalid", f"{what}: missing or not a UTC dateTime")
    whole = value[:19]
    return datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)


def _one(parent: Any, path: str, what: str) -> Any:
    found = parent.findall(path, NS)
    if len(found) != 1:
        raise ResponseRefused("invalid", f"{what}: {len(found)} found, one expected")
    return found[0]


def _text(element: Any, what: str) -> str:
    text = (element.text or "").strip()
    if not text:
        raise ResponseRefused("invalid", f"{what}: empty")
    return text


def check_structure(
    envelope: Envelope,
    sp: ServiceProvider,
    *,
    idp_entity_id: str,
    profile: str,
    requested_level: str,
    request_issued_at: datetime,
    now: datetime,
) -> Identity:
    """Apply SPID's rules to the response; return what it says. Raises ResponseRefused."""
    response = envelope.document
    if response.get("Version") != "2.0":
        raise ResponseRefused("invalid", "Response Version")
    if not response.get("ID"):
        raise ResponseRefused("invalid", "Response ID")
    _check_instant(response.get("IssueInstant"), "Response IssueInstant", request_issued_at, now)
    if response.get("Destination") != sp.acs_url:
        raise ResponseRefused("invalid", "Response Destination")
    issuer = _one(response, "saml:Issuer", "Response Issuer")
    if _text(issuer, "Response Issuer") != idp_entity_id:
        raise ResponseRefused("invalid", "Response Issuer is not the identity provider asked")
    if issuer.get("Format") not in {None, NAMEID_FORMAT_ENTITY}:
        raise ResponseRefused("invalid", "Response Issuer Format")

    status = _one(response, "samlp:Status", "Status")
    code = _one(status, "samlp:StatusCode", "StatusCode")
    if not code.get("Value"):
        raise ResponseRefused("invalid", "StatusCode Value")
    if code.get("Value") != SUCCESS:
        message = status.findtext("samlp:StatusMessage", default="", namespaces=NS)
        anomaly = re.search(r"ErrorCode nr\s*(\d+)", message or "")
        raise ResponseRefused(f"anomaly-{anomaly.group(1)}" if anomaly else "idp-error")

    if response.findall(".//saml:EncryptedAssertion", NS):
        raise ResponseRefused("invalid", "encrypted assertions are not expected")
    if len(response.findall(".//saml:Assertion", NS)) != 1:
        raise ResponseRefused("invalid", "exactly one Assertion expected")
    assertion = _one(response, "saml:Assertion", "Assertion")
    return _check_assertion(
        assertion,
        sp,
        idp_entity_id=idp_entity_id,
        profile=profile,
        requested_level=requested_level,
        request_id=envelope.in_response_to,
        request_issued_at=request_issued_at,
        now=now,
    )


def _check_instant(
    value: str | None, what: str, request_issued_at: datetime, now: datetime
) -> None:
    moment = _parse_time(value, what)
    if moment < request_issued_at.replace(microsecond=0) - SKEW:
        raise ResponseRefused("invalid", f"{what} before the request")
    if moment > now + SKEW:
        raise ResponseRefused("invalid", f"{what} in the future")


def _check_assertion(
    assertion: Any,
    sp: ServiceProvider,
    *,
    idp_entity_id: str,
    profile: str,
    requested_level: str,
    request_id: str,
    request_issued_at: datetime,
    now: datetime,
) -> Identity:
    if not assertion.get("ID"):
        raise ResponseRefused("invalid", "Assertion ID")
    if assertion.get("Version") != "2.0":
        raise ResponseRefused("invalid", "Assertion Version")
    _check_instant(assertion.get("IssueInstant"), "Assertion IssueInstant", request_issued_at, now)
    issuer = _one(assertion, "saml:Issuer", "Assertion Issuer")
    if _text(issuer, "Assertion Issuer") != idp_entity_id:
        raise ResponseRefused("invalid", "Assertion Issuer is not the identity provider asked")
    issuer_format = issuer.get("Format")
    if issuer_format != NAMEID_FORMAT_ENTITY and not (profile == CIE and issuer_format is None):
        raise ResponseRefused("invalid", "Assertion Issuer Format")

    name_id_text = _check_subject(assertion, sp, request_id, now)
    _check_conditions(assertion, sp, now)
    statement = _one(assertion, "saml:AuthnStatement", "AuthnStatement")
    context = _one(statement, "saml:AuthnContext", "AuthnContext")
    level = _text(_one(context, "saml:AuthnContextClassRef", "AuthnContextClassRef"), "ACR")
    if level not in LEVELS:
        raise ResponseRefused("invalid", "AuthnContextClassRef")
    if LEVELS.index(level) < LEVELS.index(requested_level):
        raise ResponseRefused("level", "a lower level than asked")
    return Identity(
        idp_entity_id=idp_entity_id,
        name_id=name_id_text,
        name_id_format=NAMEID_FORMAT_TRANSIENT,
        session_index=statement.get("SessionIndex") or None,
        fiscal_number=_fiscal_number(assertion),
        level=level,
    )


def _check_subject(assertion: Any, sp: ServiceProvider, request_id: str, now: datetime) -> str:
    """The Subject's checks (NameID, bearer confirmation); the NameID."""
    subject = _one(assertion, "saml:Subject", "Subject")
    name_id = _one(subject, "saml:NameID", "NameID")
    name_id_text = _text(name_id, "NameID")
    if name_id.get("Format") != NAMEID_FORMAT_TRANSIENT:
        raise ResponseRefused("invalid", "NameID Format")
    if not name_id.get("NameQualifier"):
        raise ResponseRefused("invalid", "NameID NameQualifier")
    confirmation = _one(subject, "saml:SubjectConfirmation", "SubjectConfirmation")
    if confirmation.get("Method") != BEARER:
        raise ResponseRefused("invalid", "SubjectConfirmation Method")
    data = _one(confirmation, "saml:SubjectConfirmationData", "SubjectConfirmationData")
    if data.get("Recipient") != sp.acs_url:
        raise ResponseRefused("invalid", "SubjectConfirmationData Recipient")
    if not data.get("InResponseTo") or data.get("InResponseTo") != request_id:
        raise ResponseRefused("invalid", "SubjectConfirmationData InResponseTo")
    if _parse_time(data.get("NotOnOrAfter"), "SubjectConfirmationData NotOnOrAfter") <= now - SKEW:
        raise ResponseRefused("expired", "SubjectConfirmationData NotOnOrAfter")
    return name_id_text


def _check_conditions(assertion: Any, sp: ServiceProvider, now: datetime) -> None:
    conditions = _one(assertion, "saml:Conditions", "Conditions")
    if _parse_time(conditions.get("NotBefore"), "Conditions NotBefore") > now + SKEW:
        raise ResponseRefused("invalid", "Conditions NotBefore in the future")
    if _parse_time(conditions.get("NotOnOrAfter"), "Conditions NotOnOrAfter") <= now - SKEW:
        raise ResponseRefused("expired", "Conditions NotOnOrAfter")
    restriction = _one(conditions, "saml:AudienceRestriction", "AudienceRestriction")
    audience = _one(restriction, "saml:Audience", "Audience")
    if _text(audience, "Audience") != sp.entity_id:
        raise ResponseRefused("invalid", "Audience is another SP")


def _fiscal_number(assertion: Any) -> str | None:
    fiscal_number = None
    for attributes in assertion.findall("saml:AttributeStatement", NS):
        found = attributes.findall("saml:Attribute", NS)
        if not found:
            raise ResponseRefused("invalid", "AttributeStatement without attributes")
        for attribute in found:
            if not attribute.get("Name"):
                raise ResponseRefused("invalid", "Attribute without a Name")
            if attribute.get("Name") == "fiscalNumber":
                fiscal_number = attribute.findtext("saml:AttributeValue", default="", namespaces=NS)
    return (fiscal_number or "").strip() or None


def verify_signatures(envelope: Envelope, sp: ServiceProvider, request_id: str) -> None:
    """pysaml2's verification: both signatures by the IdP's key, conditions, InResponseTo."""
    encoded = base64.b64encode(envelope.xml).decode()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = sp.client.parse_authn_request_response(
                encoded, BINDING_HTTP_POST, outstanding={request_id: "/"}
            )
    except (SAMLError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise ResponseRefused("signature", type(error).__name__) from None
    except Exception as error:  # noqa: BLE001 - pysaml2 raises many kinds; all are a refusal
        raise ResponseRefused("signature", type(error).__name__) from None
    if parsed is None or parsed.assertion is None:
        raise ResponseRefused("signature", "no verified assertion")
    if not parsed.response.signature or not parsed.assertion.signature:
        raise ResponseRefused("signature", "Response and Assertion must both be signed")
    verified_ids = {parsed.response.id, parsed.assertion.id}
    document_ids = {
        envelope.document.get("ID"),
        envelope.document.find("saml:Assertion", NS).get("ID"),
    }
    if verified_ids != document_ids:
        raise ResponseRefused("signature", "the verified elements are not the ones read")
