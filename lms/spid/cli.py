"""``lms spid certificate``: the SP's key and self-signed certificate."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from lms.spid.certificate import CertificateSettingsError, subject, write_key_and_certificate

spid_cli = AppGroup("spid", help="SPID and CIE sign-in (docs/spid.md).")


@spid_cli.command("certificate")
@click.option(
    "--key", "key_path", required=True, type=click.Path(path_type=Path), help="PEM key to write"
)
@click.option(
    "--cert",
    "cert_path",
    required=True,
    type=click.Path(path_type=Path),
    help="PEM certificate to write",
)
@click.option("--days", default=3650, show_default=True, type=click.IntRange(1, 36500))
def certificate_command(key_path: Path, cert_path: Path, days: int) -> None:
    """Write a key and a self-signed certificate for a public SP (Avviso SPID 29 v3).

    The subject comes from LMS_SPID_ORGANIZATION, LMS_SPID_IPA_CODE, the entity
    ID (LMS_SPID_ENTITY_ID or LMS_BASE_URL/spid/metadata) and LMS_SPID_LOCALITY.
    """
    config = current_app.config
    entity_id = (
        config.get("SPID_ENTITY_ID") or f"{str(config['BASE_URL']).rstrip('/')}/spid/metadata"
    )
    try:
        name = subject(
            organization=config.get("SPID_ORGANIZATION") or "",
            ipa_code=config.get("SPID_IPA_CODE") or "",
            entity_id=entity_id,
            locality=config.get("SPID_LOCALITY") or "",
        )
        certificate = write_key_and_certificate(key_path, cert_path, name, days=days)
    except CertificateSettingsError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"key: {key_path} (mode 0600)")
    click.echo(f"certificate: {cert_path}, valid until {certificate.not_valid_after_utc:%Y-%m-%d}")
    click.echo(f"subject: {certificate.subject.rfc4514_string()}")
