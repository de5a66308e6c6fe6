"""SPID and CIE sign-in: metadata, AuthnRequest, Assertion Consumer Service, single logout.

Enabled when ``LMS_SPID_IDP_METADATA`` is set; otherwise every URL here is a 404
and the sign-in page shows the password form only. A success signs in and
redirects to the home page; every refusal is a 4xx page that says why.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import warnings
import zlib
from datetime import date, datetime, timedelta
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import delete, select, update
from werkzeug.wrappers import Response as BaseResponse
from wtforms import ValidationError

from lms.auth.models import SignInMethod
from lms.auth.sessions import (
    SamlLink,
    current_session,
    end_current_session,
    end_saml_sessions,
    start_session,
)
from lms.core.sql import rowcount
from lms.core.types import today_in_italy, utcnow
from lms.extensions import csrf, db
from lms.spid.identity import IdentityRefused, account_for
from lms.spid.metadata import metadata_xml
from lms.spid.models import RequestKind, SamlRequest
from lms.spid.responses import (
    NS,
    Identity,
    ResponseRefused,
    check_structure,
    decode,
    verify_signatures,
)
from lms.spid.saml import (
    CIE,
    SPID,
    IdentityProvider,
    ServiceProvider,
    enabled,
    service_provider,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from saml2.sigver import verify_redirect_signature

bp = Blueprint("spid", __name__)
log = logging.getLogger(__name__)

#: Requests older than this are deleted when a new one is made.
KEEP_REQUESTS = timedelta(days=1)

#: The cookie that ties a sign-in to the browser that started it (login CSRF):
#: a random nonce, its SHA-256 kept with each request (``SamlRequest.browser_hash``).
#: Without it anyone could start a sign-in, have the identity provider answer
#: for their own identity, and make another person's browser post that answer:
#: the victim would then work, unknowingly, in the attacker's account. The
#: identity provider posts the answer from its own site, so the session cookie
#: (SameSite=Lax) does not come with it: this one is SameSite=None where cookies
#: are Secure (over HTTPS, as SPID requires), and Lax over plain HTTP in
#: development, where browsers refuse SameSite=None without Secure. Over HTTPS
#: its name has the ``__Host-`` prefix: browsers then take it only from this
#: host itself, Secure, for the whole site (Path=/), so a sibling site of the same
#: domain cannot plant its own nonce in the victim's browser (cookie tossing).
BROWSER_COOKIE = "lms_saml_browser"
SECURE_BROWSER_COOKIE = "__Host-" + BROWSER_COOKIE
_NONCE = re.compile(r"[A-Za-z0-9_-]{43}")


def _secure_cookies() -> bool:
    """Whether the app's cookies are Secure (HTTPS), as its session cookie is."""
    return bool(current_app.config["SESSION_COOKIE_SECURE"])


def _cookie_name() -> str:
    """The nonce cookie's name: ``__Host-`` prefixed where cookies are Secure."""
    return SECURE_BROWSER_COOKIE if _secure_cookies() else BROWSER_COOKIE


def _browser_nonce() -> str:
    """The browser's nonce: the one its cookie holds (two tabs share it), or a new one."""
    given = request.cookies.get(_cookie_name(), "")
    return given if _NONCE.fullmatch(given) else secrets.token_urlsafe(32)


def _nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _same_browser(pending: SamlRequest) -> bool:
    """Whether the posting browser holds the nonce of the browser that started *pending*."""
    given = request.cookies.get(_cookie_name(), "")
    if pending.browser_hash is None or not _NONCE.fullmatch(given):
        return False
    return hmac.compare_digest(pending.browser_hash, _nonce_hash(given))


def _sp() -> ServiceProvider:
    if not enabled():
        abort(404)
    return service_provider()


@bp.app_context_processor
def _login_options() -> dict[str, Any]:
    """``spid_login_options()`` for the sign-in page: the identity providers, or None."""

    def options() -> dict[str, list[IdentityProvider]] | None:
        if not enabled():
            return None
        sp = service_provider()
        return {"spid": sp.listed(SPID), "cie": sp.listed(CIE)}

    return {"spid_login_options": options}


# Metadata ---------------------------------------------------------------------------


def _metadata(profile: str) -> Response:
    body = metadata_xml(_sp(), profile)
    response = Response(body, mimetype="application/samlmetadata+xml")
    response.headers["Content-Disposition"] = f'inline; filename="{profile}-metadata.xml"'
    return response


@bp.get("/spid/metadata")
def spid_metadata() -> Response:
    """The SP's signed metadata (SPID profile, public SP)."""
    return _metadata(SPID)


@bp.get("/cie/metadata")
def cie_metadata() -> Response:
    """The same SP's signed metadata in CIE's profile."""
    return _metadata(CIE)


# Sign-in ----------------------------------------------------------------------------


def _new_id() -> str:
    return "_" + secrets.token_hex(20)


@bp.get("/spid/login")
def login() -> BaseResponse | tuple[str, int]:
    """Start an AuthnRequest to the identity provider ``?idp=``; HTTP-Redirect, signed.

    A GET, as the button is a link: it changes no data of anyone, it only records
    the request the answer must name.
    """
    sp = _sp()
    idp = sp.idps.get(request.args.get("idp", ""))
    if idp is None:
        return _refusal(
            _("Gestore dell'identità sconosciuto: scegline uno dalla pagina di accesso."), 400
        )
    now = utcnow().replace(microsecond=0)
    db.session.execute(delete(SamlRequest).where(SamlRequest.issued_at < now - KEEP_REQUESTS))
    nonce = _browser_nonce()
    row = SamlRequest(
        id=_new_id(),
        kind=RequestKind.AUTHN,
        profile=idp.profile,
        idp_entity_id=idp.entity_id,
        level=sp.level,
        issued_at=now,
        browser_hash=_nonce_hash(nonce),
    )
    db.session.add(row)
    db.session.flush()
    message = sp.authn_request(row.id, idp, now, sp.level)
    log.info("SAML AuthnRequest %s to %s", row.id, idp.entity_id)
    response = redirect(
        sp.redirect_url(idp.sso_url, message, secrets.token_urlsafe(16), kind="SAMLRequest")
    )
    secure = _secure_cookies()
    response.set_cookie(
        _cookie_name(),
        nonce,
        max_age=sp.request_minutes * 60,
        # __Host- needs Path=/; over plain HTTP only the sign-in's own pages get it.
        path="/" if secure else f"{request.script_root}/spid/",
        secure=secure,
        httponly=True,
        samesite="None" if secure else "Lax",
    )
    return response


def _refusal(message: str, status: int, *, title: str | None = None) -> tuple[str, int]:
    return (
        render_template(
            "spid/refused.html", message=message, title=title or _("Accesso non riuscito")
        ),
        status,
    )


def _anomaly_messages() -> dict[str, str]:
    """AgID's messages for the user anomalies an identity provider reports (codes 19-25)."""
    return {
        "anomaly-19": _(
            "Accesso non riuscito: hai inserito credenziali errate troppe volte. Riprova più tardi."
        ),
        "anomaly-20": _(
            "Accesso non riuscito: le tue credenziali non sono del livello di sicurezza "
            "richiesto da questo servizio."
        ),
        "anomaly-21": _("Accesso non riuscito: il tempo per l'autenticazione è scaduto."),
        "anomaly-22": _(
            "Accesso non riuscito: hai negato il consenso all'invio dei tuoi dati al servizio."
        ),
        "anomaly-23": _(
            "Accesso non riuscito: la tua identità digitale risulta sospesa o revocata, "
            "oppure le tue credenziali sono bloccate."
        ),
        "anomaly-25": _("Accesso annullato: hai interrotto l'autenticazione."),
    }


def _refused_response(error: ResponseRefused) -> tuple[str, int]:
    log.info("SAML response refused: %s", error)
    if error.code == "malformed":
        return _refusal(_("La risposta del gestore dell'identità non è leggibile."), 400)
    if error.code in _anomaly_messages():
        return _refusal(_anomaly_messages()[error.code], 403)
    messages = {
        "idp-error": _(
            "Il gestore dell'identità non ha concluso l'accesso. Riprova dalla pagina di accesso."
        ),
        "expired": _(
            "La richiesta di accesso è scaduta o è già stata usata: riprova dalla pagina di "
            "accesso."
        ),
        "level": _(
            "Il livello di sicurezza usato è inferiore a quello richiesto da questo servizio: "
            "accedi con credenziali di livello più alto."
        ),
        "browser": _(
            "Questo accesso non è stato avviato da questo browser, o il browser non ha "
            "conservato il suo cookie tecnico: riprova dalla pagina di accesso, nello stesso "
            "browser, con i cookie attivi."
        ),
    }
    return _refusal(
        messages.get(
            error.code,
            _(
                "La risposta del gestore dell'identità non è valida (firma, destinatario, "
                "tempi o contenuto): l'accesso non è avvenuto. Riprova dalla pagina di accesso."
            ),
        ),
        403,
    )


def _identity_message(error: IdentityRefused) -> str:
    if error.reason == "left" and error.left_on is not None:
        return _access_ended_message(error.left_on)
    if error.reason == "inactive":
        return _(
            "Il tuo account è disattivato: rivolgiti all'ufficio del personale della tua "
            "amministrazione o all'amministratore della piattaforma."
        )
    return _(
        "Nessun dipendente registrato con questo codice fiscale: rivolgiti all'ufficio del "
        "personale."
    )


def _access_ended_message(left_on: date) -> str:
    # The same text as the password sign-in's (lms.auth.views), so one translation.
    return _(
        "Il tuo accesso è terminato: dal %(day)s non risulti più in servizio presso il tuo "
        "ente. Se è un errore, rivolgiti all'ufficio del personale della tua amministrazione.",
        day=left_on.strftime("%d/%m/%Y"),
    )


def _accepted(sp: ServiceProvider, now: datetime) -> tuple[SamlRequest, Identity]:
    """The request a posted response answers and what it says; raises ResponseRefused."""
    envelope = decode(request.form.get("SAMLResponse"))
    pending = db.session.get(SamlRequest, envelope.in_response_to or "")
    if (
        pending is None
        or pending.kind != RequestKind.AUTHN
        or pending.answered_at is not None
        or pending.issued_at < now - timedelta(minutes=sp.request_minutes)
    ):
        raise ResponseRefused("expired", "no such request awaiting an answer")
    if not _same_browser(pending):
        raise ResponseRefused("browser", "the request was started by another browser")
    identity = check_structure(
        envelope,
        sp,
        idp_entity_id=pending.idp_entity_id,
        profile=pending.profile,
        requested_level=pending.level,
        request_issued_at=pending.issued_at,
        now=now,
    )
    verify_signatures(envelope, sp, pending.id)
    # Once: of two posts of one response, the second finds the request answered.
    answered = db.session.execute(
        update(SamlRequest)
        .where(SamlRequest.id == pending.id, SamlRequest.answered_at.is_(None))
        .values(answered_at=now)
    )
    if rowcount(answered) != 1:
        raise ResponseRefused("expired", "answered already")
    return pending, identity


@bp.post("/spid/acs")
@csrf.exempt
def acs() -> BaseResponse | tuple[str, int]:
    """Assertion Consumer Service (HTTP-POST): check the response, sign the person in."""
    sp = _sp()
    try:
        pending, identity = _accepted(sp, utcnow())
    except ResponseRefused as error:
        return _refused_response(error)
    try:
        user = account_for(identity.fiscal_number, today_in_italy())
    except IdentityRefused as error:
        log.info("SPID sign-in refused (%s) for request %s", error.reason, pending.id)
        return _refusal(_identity_message(error), 403)
    start_session(
        user,
        method=SignInMethod.CIE if pending.profile == CIE else SignInMethod.SPID,
        saml=SamlLink(
            idp_entity_id=identity.idp_entity_id,
            name_id=identity.name_id,
            name_id_format=identity.name_id_format,
            session_index=identity.session_index,
        ),
    )
    log.info("sign-in by %s: user %s", pending.profile, user.id)
    return redirect(url_for("site.home"))


# Single logout ----------------------------------------------------------------------


def _inflate(value: str) -> bytes:
    try:
        return zlib.decompress(base64.b64decode(value), -15)
    except (ValueError, zlib.error):
        abort(400)


def _redirect_message(kind: str) -> tuple[Any, IdentityProvider]:
    """The message of an HTTP-Redirect (``kind`` SAMLRequest/SAMLResponse), signature checked."""
    sp = _sp()
    xml = _inflate(request.args.get(kind, ""))
    document = _parse(xml)
    idp = _issuer_idp(sp, document)
    query = {
        key: request.args[key]
        for key in (kind, "RelayState", "SigAlg", "Signature")
        if key in request.args
    }
    if "Signature" not in query or "SigAlg" not in query:
        abort(403)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        verified = any(_safe_verify(query, sp, cert) for cert in sp.idp_certificates(idp.entity_id))
    if not verified:
        abort(403)
    return document, idp


def _safe_verify(query: dict[str, str], sp: ServiceProvider, cert: str) -> bool:
    try:
        return verify_redirect_signature(query, sp.client.sec.sec_backend, cert=cert)
    except Exception:  # noqa: BLE001 - an unverifiable signature is a refusal
        return False


def _post_message(kind: str) -> tuple[Any, IdentityProvider]:
    """The message of an HTTP-POST, its enveloped signature checked by pysaml2/xmlsec1."""
    sp = _sp()
    try:
        xml = base64.b64decode(request.form.get(kind, ""))
    except ValueError:
        abort(400)
    document = _parse(xml)
    idp = _issuer_idp(sp, document)
    node = (
        "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest"
        if kind == "SAMLRequest"
        else "urn:oasis:names:tc:SAML:2.0:protocol:LogoutResponse"
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ok = sp.client.sec.verify_signature(
                xml.decode(), node_name=node, node_id=document.get("ID"), cert_file=None
            )
    except Exception:  # noqa: BLE001 - an unverifiable signature is a refusal
        ok = False
    if not ok or len(document.findall("ds:Signature", NS)) != 1:
        abort(403)
    return document, idp


def _parse(xml: bytes) -> Any:
    if b"<!DOCTYPE" in xml.upper():
        abort(400)
    try:
        return fromstring(xml, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError):
        abort(400)


def _issuer_idp(sp: ServiceProvider, document: Any) -> IdentityProvider:
    issuer = (document.findtext("saml:Issuer", default="", namespaces=NS) or "").strip()
    idp = sp.idps.get(issuer)
    if idp is None:
        abort(403)
    return idp


@bp.route("/spid/logout", methods=["GET", "POST"])
@csrf.exempt
def logout() -> BaseResponse | str | tuple[str, int]:
    """Single logout, the SP's side.

    - a POST from the sign-out button (CSRF token): ends this session and sends a
      LogoutRequest to the identity provider that opened it;
    - a LogoutResponse from the identity provider (HTTP-Redirect or POST): the
      logout is complete, back to the sign-in page;
    - a LogoutRequest from the identity provider: ends the sessions it names and
      answers with a LogoutResponse.
    """
    sp = _sp()
    source = request.args if request.method == "GET" else request.form
    if "SAMLResponse" in source:
        return _logout_response(redirected=request.method == "GET")
    if "SAMLRequest" in source:
        return _logout_request(sp, redirected=request.method == "GET")
    if request.method == "GET":
        return _refusal(_("Per uscire usa il pulsante «Esci»."), 400, title=_("Uscita"))
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (ValidationError, CSRFError):
        return _refusal(_("Il modulo è scaduto: ricarica la pagina e riprova."), 400)
    return _start_logout(sp)


def _start_logout(sp: ServiceProvider) -> BaseResponse | str:
    row = current_session()
    idp = sp.idps.get(row.saml_idp or "") if row is not None else None
    ended = end_current_session()
    if ended is None or idp is None or not idp.slo_url or not ended.saml_name_id:
        flash(_("Sei uscito dal servizio."), "info")
        return redirect(url_for("auth.login"))
    now = utcnow().replace(microsecond=0)
    pending = SamlRequest(
        id=_new_id(),
        kind=RequestKind.LOGOUT,
        profile=idp.profile,
        idp_entity_id=idp.entity_id,
        level="",
        issued_at=now,
    )
    db.session.add(pending)
    message = sp.logout_request(
        pending.id,
        idp,
        now,
        ended.saml_name_id,
        ended.saml_name_id_format or "",
        ended.saml_session_index,
    )
    target = sp.redirect_url(idp.slo_url, message, secrets.token_urlsafe(16), kind="SAMLRequest")
    # A page that goes on by itself, not a redirect: after a form's POST the browser
    # would check the redirect against this site's form-action 'self' policy.
    page = Response(render_template("spid/leaving.html", target=target, idp=idp))
    page.headers["Refresh"] = f"0; url={target}"
    return page


def _logout_response(*, redirected: bool) -> BaseResponse | tuple[str, int]:
    document, idp = (
        _redirect_message("SAMLResponse") if redirected else _post_message("SAMLResponse")
    )
    answered = db.session.execute(
        update(SamlRequest)
        .where(
            SamlRequest.id == (document.get("InResponseTo") or ""),
            SamlRequest.kind == RequestKind.LOGOUT,
            SamlRequest.idp_entity_id == idp.entity_id,
            SamlRequest.answered_at.is_(None),
        )
        .values(answered_at=utcnow())
    )
    if rowcount(answered) != 1:
        return _refusal(_("Risposta di uscita non attesa o già usata."), 403, title=_("Uscita"))
    flash(_("Sei uscito dal servizio e dal gestore dell'identità."), "info")
    return redirect(url_for("auth.login"))


def _logout_request(sp: ServiceProvider, *, redirected: bool) -> BaseResponse | tuple[str, int]:
    document, idp = _redirect_message("SAMLRequest") if redirected else _post_message("SAMLRequest")
    if document.tag != f"{{{NS['samlp']}}}LogoutRequest" or not document.get("ID"):
        abort(400)
    if document.get("Destination") not in {None, sp.slo_url}:
        abort(403)
    name_id = (document.findtext("saml:NameID", default="", namespaces=NS) or "").strip()
    if not name_id:
        abort(400)
    index = document.findtext("samlp:SessionIndex", default=None, namespaces=NS)
    index = (index or "").strip() or None
    mine = current_session() if current_user.is_authenticated else None
    if (
        mine is not None
        and mine.saml_idp == idp.entity_id
        and mine.saml_name_id == name_id
        and index in {None, mine.saml_session_index}
    ):
        end_current_session()  # this browser is one of them: clear its cookie now
    ended = end_saml_sessions(idp.entity_id, name_id, index)
    log.info("SAML logout request from %s ended %d session(s)", idp.entity_id, ended)
    if not idp.slo_url:
        return redirect(url_for("auth.login"))
    message = sp.logout_response(_new_id(), idp, utcnow(), document.get("ID"))
    relay = request.values.get("RelayState", "")
    return redirect(sp.redirect_url(idp.slo_url, message, relay, kind="SAMLResponse"))


def pending_request(request_id: str) -> SamlRequest | None:
    """The request *request_id* (for tests and the CLI)."""
    return db.session.scalar(select(SamlRequest).where(SamlRequest.id == request_id))
