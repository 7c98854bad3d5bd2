"""The application factory: settings in, a Litestar app out."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from jinja2 import (
    BytecodeCache,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    select_autoescape,
)
from jinja2.bccache import Bucket
from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.middleware.session.server_side import ServerSideSessionBackend
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.prometheus import PrometheusConfig
from litestar.security.session_auth import SessionAuth
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from markupsafe import Markup

from service import checklist as checklist_module
from service import db, documents, logs, mail, oidc
from service.actions.checkpoints import check_signing_key, write_checkpoint
from service.core import answers, case_records, caseload, dates, telling, validation
from service.core.clock import ENGLAND
from service.core.timing import duration_words
from service.core.workflow import STATE_LABELS, State
from service.settings import Settings
from service.web import (
    api,
    auditor,
    context,
    handover,
    layout,
    notifications,
    operations,
    outgoing,
    oversight,
    search,
    security,
    session,
    speedups,
    statements,
    timeout,
)
from service.web import oidc as oidc_pages
from service.web.admin import AdminController
from service.web.allocations import FILTERS_HELP, AllocationsController
from service.web.caseload import CaseloadController
from service.web.documents import DocumentController
from service.web.errors import PAGE_ERRORS
from service.web.letters import LettersController
from service.web.records import CaseRecordsController, ViewersController
from service.web.session_store import SessionStore
from service.web.telling import AgencyLinkController, TellingController
from service.web.urgent import UrgentController

UNAUTHENTICATED = [
    "^/sign-in$",
    "^/sign-in/oidc(/callback)?$",  # signing in with the council's provider: the person is not known until its end
    "^/accessibility$",
    "^/privacy$",
    "^/agency-acknowledgements/",  # a professional's signed link from the service's e-mail: the signature is its proof
    "^/static/",
    "^/healthz$",
    "^/readyz$",
    "^/metrics$",
    "^/api/",
    "^/schema",
]
NOT_FOR_FORMS = ["^/static/", "^/healthz$", "^/readyz$", "^/metrics$", "^/api/", "^/schema"]


def _in_england(stamp: str) -> datetime:
    """A stored timestamp (ISO 8601; one without an offset is UTC, as `clock.date_in_england` reads it) as the time
    in England. Raises ValueError for text that is not a timestamp."""
    moment = datetime.fromisoformat(stamp)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(ENGLAND)


@functools.lru_cache(maxsize=4096)  # pure, and the same dates recur on every page of a list
def _format_date(value: str | None) -> str:
    """'2026-11-27', or a stored timestamp (UTC) -> '27 November 2026', its date in England; anything else as it
    is."""
    if not value:
        return ""
    try:
        parsed = _in_england(value) if "T" in value else date.fromisoformat(value)
    except ValueError:
        return value
    return f"{parsed.day} {parsed:%B %Y}"


@functools.lru_cache(maxsize=4096)
def _short_date(value: str | None) -> Markup:
    """A stored timestamp as a `<time>` element reading '27 Nov 2026' (the month cut to three letters, as GOV.UK's
    style allows where space is tight: the report's table cells); its `datetime` attribute is the timestamp."""
    words = _format_date(value).split(" ")
    if len(words) != 3:  # not a date: shown as it is, escaped
        return Markup.escape(" ".join(words))
    day, month, year = words
    return Markup('<time datetime="{}">{} {} {}</time>').format(value, day, month[:3], year)


@functools.lru_cache(maxsize=4096)
def _format_time(value: str | None) -> str:
    """A stored timestamp (UTC) -> '27 November 2026 at 14:05', in England's local time (British Summer Time in
    summer), whatever the machine's own time zone; anything else as it is."""
    if not value:
        return ""
    try:
        parsed = _in_england(value)
    except ValueError:
        return value
    return f"{parsed.day} {parsed:%B %Y} at {parsed:%H:%M}"


EVENT_WORDS = {
    "start": "started the handover",
    "save_section": "saved a section",
    "submit": "submitted the handover",
    "endorse": "endorsed it as ready to transfer",
    "return_to_outgoing": "returned it to the outgoing worker",
    "return_to_receiver": "returned it to the receiving worker",
    "confirm": "confirmed a critical item",
    "acknowledge": "acknowledged the handover",
    "approve": "approved the transfer; the case was reallocated",
    "cancel": "cancelled the handover",
    "raise_disagreement": "recorded a professional disagreement",
    "take_on": "took the handover on for the receiving team",
    "name_manager": "named another manager for a step",
    "continue_on_behalf": "took the handover on as its author",
    "disagreement_resolved": "resolved a professional disagreement",
    "disagreement_escalated": "escalated a professional disagreement",
    "authorise_urgent_transfer": "authorised an urgent transfer; the case was reallocated before sign-off",
    "record_family_told": "recorded who in the family was told of the new worker",
    "record_family_not_told": "recorded why the child and family have not been told of the new worker",
    "email_agency": "e-mailed a professional on the plan about the new worker",
    "record_agency_told": "recorded how a professional on the plan was told of the new worker",
    "record_agency_not_told": "recorded why a professional on the plan has not been told of the new worker",
    "agency_acknowledged": "a professional confirmed, through the link in their e-mail, that they were told",
    "track_agency_contact": "listed a professional on the plan, to be told of the new worker",
    "untrack_agency_contact": "took a professional off the plan, before they were told",
    "produce_document": "produced a PDF copy for the case record",
    "produce_document_failed": "was not given the PDF copy: it could not be made",
    "produce_letter": "wrote a letter about the new social worker",
}


def event_text(event: db.TimelineEvent) -> str:
    words = EVENT_WORDS.get(event.action, event.action.replace("_", " "))
    details = event.details
    if "section" in details:
        words += f" ({details['section']})"
    if "step" in details and "manager" in details:
        words += f" ({details['step']}: {details['manager']})"
    if "told" in details:
        words += f" ({details['told']})"
    if "agency" in details and "name" in details:
        words += f" ({details['name']}, {details['agency']})"
    if "reason" in details:
        words += f": “{details['reason']}”"
    if "reply" in details:
        words += f", replying to the query: “{details['reply']}”"
    if "on_behalf_name" in details:
        words += f", {caseload.on_behalf_words(details['on_behalf_name'])}"
    return words


def multiline(text: str) -> Markup:
    """Free text as typed, escaped, in a span that keeps its spaces (`app-multiline`: white-space pre-wrap), each line
    break of any kind a <br>. Not the line breaks themselves: the GOV.UK macros indent every line of an HTML value
    after the first (`indent(6)`), which showed as spaces nobody typed."""
    return Markup('<span class="app-multiline">{}</span>').format(Markup("<br>").join(text.splitlines()))


def choice_items(mapping: dict[Any, str], chosen: str, any_text: str = "") -> list[dict[str, Any]]:
    """Items for a select: an optional 'any' first, then the choices, the chosen one selected."""
    items = [{"value": "", "text": any_text}] if any_text else []
    return items + [{"value": str(v), "text": t, "selected": chosen == str(v)} for v, t in mapping.items()]


class CompiledTemplates(BytecodeCache):
    """Templates compiled once for the life of the process, shared by every app it makes (Jinja's bytecode cache,
    kept in memory). A service makes one app; the test suite and a command that starts the service make thousands, and
    compiling the GOV.UK macros and our pages again for each was most of an app's first page. Jinja checks each entry
    against its template's source (a checksum), so a changed template is compiled again."""

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        compiled = self._compiled.get(bucket.key)
        if compiled is not None:
            bucket.bytecode_from_string(compiled)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


def template_environment(settings: Settings) -> Environment:
    env = speedups.PageEnvironment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(settings.templates_dir),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja", "templates")}),
            ]
        ),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=settings.mode != "production",  # production never changes templates under a running service
        bytecode_cache=COMPILED_TEMPLATES,
    )
    env.filters["date"] = _format_date
    env.filters["datetime"] = _format_time
    env.filters["short_date"] = _short_date
    env.filters["signed_links_withheld"] = telling.signed_links_withheld
    env.globals.update(
        state_label=lambda state: STATE_LABELS.get(State(state), state),
        shown_fields=answers.shown_fields,
        shown_groups=answers.shown_groups,
        date_parts=answers.date_parts,
        date_boxes_in_error=dates.boxes_in_error,
        display_value=layout.display_value,
        answer_parts=layout.answer_parts,
        error_summary_items=layout.error_summary_items,
        event_text=event_text,
        choice_items=choice_items,
        multiline=multiline,
        limits=validation,  # the forms' maxlength is the rule's own limit
        session_timing=timeout.session_timing,
        duration_words=duration_words,
        on_behalf=lambda name: caseload.capitalize_first(caseload.on_behalf_words(name)),
        markers=case_records.markers,
        may_see_viewers=case_records.may_see_viewers,
        unread_notifications=notifications.unread_notifications,
        telling_line=telling.telling_line,
        allocation_filters_help=FILTERS_HELP,  # under the report's downloads
    )
    return env


def _provider_origin(settings: Settings) -> str:
    """The council's provider, where signing out continues (RP-initiated logout): browsers hold a form's redirect
    to `form-action` too, so the sign-out form may go on there and nowhere else."""
    if not settings.oidc_configured:
        return ""
    parts = urlsplit(settings.oidc_issuer)
    return f" {parts.scheme}://{parts.netloc}"


def _security_headers(settings: Settings) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
            f"connect-src 'self'; form-action 'self'{_provider_origin(settings)}; frame-ancestors 'none'; "
            "base-uri 'none'; object-src 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Cache-Control": "no-store",  # nothing about a child stays in a browser or proxy cache
    }
    if settings.secure_cookies:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


def create_app(settings: Settings) -> Litestar:
    checklists = checklist_module.load_all(settings.checklists_dir)  # a bad definition stops start-up here
    logs.configure(json_lines=settings.log_json)
    database = db.Database.for_settings(settings)
    security_headers = _security_headers(settings)

    async def checkpoint_now_and_then() -> None:
        while True:
            await asyncio.sleep(settings.checkpoint_minutes * 60)
            try:
                await write_checkpoint(database, settings)
            except Exception:  # the file (OSError) or the database (a lock held too long, a full disk): try again
                context.log.exception("could not write an audit checkpoint; will try again")
            try:
                await sessions.delete_expired()
            except Exception:  # the database was busy or away: expired sessions are refused anyway, and cleared later
                context.log.exception("could not clear expired sessions; will try again")

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await database.open()
        try:
            await check_signing_key(database, settings)  # a mismatched secret stops start-up, with its reason
        except BaseException:
            await database.close()
            raise
        # what start-up built lives as long as the service: out of the collector's full passes, which then stay short.
        # Only in production: a full pass over the whole process takes tens of milliseconds, and the test suite starts
        # thousands of apps in one process, each of which would pay it for nothing.
        if settings.mode == "production":
            gc.collect()
            gc.freeze()
        checkpoints = asyncio.create_task(checkpoint_now_and_then())
        try:
            async with mail.delivering(database, settings):  # the outbox's sender, when a mail server is set
                yield
        finally:
            checkpoints.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await checkpoints
            await write_checkpoint(database, settings)
            await database.close()
            documents.shutdown()  # the document worker, if a copy was made, ends with the service
            if settings.mode == "production":
                gc.unfreeze()  # a process that starts another app can free this one

    session_config = session.RotatingSessionConfig(
        max_age=round(settings.session_idle_minutes * 60),
        # no renew_on_access: the session middleware re-stores the session (and so its expiry) on every response,
        # which already makes max_age an idle timeout; renewing on read as well would write the session twice
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
        key="__Host-session" if settings.secure_cookies else "session",
        exclude=NOT_FOR_FORMS,  # probes and static files never need a session (nor leave one behind)
    )
    auth = SessionAuth[session.CurrentUser, ServerSideSessionBackend](
        retrieve_user_handler=session.retrieve_user,
        session_backend_config=session_config,
        exclude=UNAUTHENTICATED,
    )
    # an unchanged session's expiry is written again once it falls a tenth of the idle limit behind (at most a minute),
    # so a short limit still ends only when the person has been idle for it
    sessions = SessionStore(database, refresh=min(60, max(1, round(settings.session_idle_minutes * 6))))
    return Litestar(
        route_handlers=[
            session.sign_in_page,
            session.sign_in,
            session.sign_out,
            oidc_pages.start,
            oidc_pages.callback,
            timeout.keep_alive,
            search.search,
            statements.accessibility,
            statements.privacy,
            operations.healthz,
            operations.readyz,
            operations.metrics,
            operations.ping,
            api.api_router,
            outgoing.OutgoingController,
            handover.HandoverController,
            DocumentController,
            auditor.AuditorController,
            AllocationsController,
            oversight.OversightController,
            AdminController,
            CaseloadController,
            CaseRecordsController,
            ViewersController,
            UrgentController,
            LettersController,
            TellingController,
            AgencyLinkController,
            notifications.NotificationsController,
            create_static_files_router(
                path="/static",
                directories=[settings.static_dir],
                name="static",
                cache_control=None,
                include_in_schema=False,
            ),
        ],
        lifespan=[lifespan, notifications.reminders_lifespan],
        on_app_init=[auth.on_app_init],
        stores={"sessions": sessions},
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.secure_cookies,
            cookie_name="__Host-csrftoken" if settings.secure_cookies else "csrftoken",
            exclude=NOT_FOR_FORMS,
        ),
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(template_environment(settings))),
        plugins=[HTMXPlugin()],
        request_class=context.PageRequest,
        middleware=[
            logs.request_id_middleware,
            security.one_address_per_record,
            security.same_origin_only,
            PrometheusConfig(app_name="handover", prefix="handover", group_path=True, exclude=NOT_FOR_FORMS).middleware,
        ],
        logging_config=None,
        before_send=[logs.log_response, security.headers_on_every_response(security_headers)],
        exception_handlers=PAGE_ERRORS,
        request_max_body_size=settings.max_body_bytes,
        state=context.State(
            {
                "db": database,
                "checklists": checklists,
                "settings": settings,
                "absolute_timeout": settings.session_absolute_hours * 3600,
                "session_cookie": session_config.key,
                "oidc": oidc.Provider(settings) if settings.oidc_configured else None,
            }
        ),
        openapi_config=OpenAPIConfig(
            title="Handover API",
            version="1",
            description="Case management systems read and drive handovers with an API token (`handover token create`).",
            path="/schema",
            components=Components(
                security_schemes={"apiToken": SecurityScheme(type="http", scheme="bearer", description="API token")}
            ),
            render_plugins=[JsonRenderPlugin()],
        ),
        debug=False,
    )
