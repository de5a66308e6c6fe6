"""A key and a self-signed certificate for a public SP, as AgID's Avviso SPID n. 29 v3 asks.

RSA 3072, SHA-256; the subject names the administration (organizationName,
commonName), its IndicePA code (organizationIdentifier ``PA:IT-<code>``), the
SP's entity ID (uri), the country and the seat's locality; keyUsage (critical)
digitalSignature and nonRepudiation; basicConstraints CA:FALSE; the policies
agIDcert and cert_SP_Pub. AgID checks a public SP's certificate against these.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from lms.core.types import utcnow

KEY_SIZE = 3072
#: Long enough for a deployment's life; AgID allows any validity for SP certificates.
DAYS = 3650
OID_URI = x509.ObjectIdentifier("2.5.4.83")
OID_ORGANIZATION_IDENTIFIER = x509.ObjectIdentifier("2.5.4.97")
_IPA_CODE = re.compile(r"^\S{1,11}$")


class CertificateSettingsError(ValueError):
    """A setting the certificate needs is missing or malformed."""


def subject(*, organization: str, ipa_code: str, entity_id: str, locality: str) -> x509.Name:
    """The subject AgID asks of a public SP's certificate."""
    if not organization:
        raise CertificateSettingsError("LMS_SPID_ORGANIZATION is not set")
    if not _IPA_CODE.match(ipa_code or ""):
        raise CertificateSettingsError("LMS_SPID_IPA_CODE must be an IndicePA code (1-11 chars)")
    if not entity_id.startswith(("https://", "http://")):
        raise CertificateSettingsError("the SP's entity ID must be a URL")
    if not locality:
        raise CertificateSettingsError("LMS_SPID_LOCALITY is not set")
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, organization),
            x509.NameAttribute(OID_URI, entity_id),
            x509.NameAttribute(OID_ORGANIZATION_IDENTIFIER, f"PA:IT-{ipa_code}"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "IT"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, locality),
        ]
    )


def write_key_and_certificate(
    key_path: Path, cert_path: Path, name: x509.Name, *, days: int = DAYS
) -> x509.Certificate:
    """Write a new RSA key (mode 0600) and its self-signed certificate; refuse to overwrite."""
    for path in (key_path, cert_path):
        if path.exists():
            raise CertificateSettingsError(f"{path} exists: not overwritten")
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    now = utcnow()
    policies = x509.CertificatePolicies(
        [
            x509.PolicyInformation(x509.ObjectIdentifier("1.3.76.16.6"), ["agIDcert"]),
            x509.PolicyInformation(x509.ObjectIdentifier("1.3.76.16.4.2.1"), ["cert_SP_Pub"]),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(policies, critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key_bytes)
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return certificate
