"""Route guards by role. Guards are coroutines: Litestar would run a plain function on a worker thread, a hand-off
on every request. Which handover or case a person may see is asked of `actions.visible` per object, not here."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import BaseRouteHandler

from service.core.report import NOT_AN_OVERSEER, may_oversee


def _preflight(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """An OPTIONS request: the framework answers it for every route (which methods it takes) before anyone is
    signed in, and a guard placed on a whole controller is asked about it too; it shows and does nothing."""
    return connection.scope.get("method") == "OPTIONS"


async def workers_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if _preflight(connection):
        return
    if not connection.user.actor.worker_teams:
        raise PermissionDeniedException("Only social workers can do this")


async def handover_authors_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Pages of a person's own handovers: social workers, and team managers (who continue a handover on behalf of a
    worker who left, and so become its author); auditors and administrators have none (403)."""
    if _preflight(connection):
        return
    actor = connection.user.actor
    if not actor.worker_teams and not actor.manager_teams:
        raise PermissionDeniedException("Only social workers and team managers have handovers of their own")


async def managers_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if _preflight(connection):
        return
    if not connection.user.actor.manager_teams:
        raise PermissionDeniedException("Only team managers can do this")


async def auditors_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if _preflight(connection):
        return
    if not connection.user.actor.is_auditor:
        raise PermissionDeniedException("Only auditors can see handovers across teams")


async def overseers_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The report, the oversight page and their downloads are for people `report_scope` gives a scope: auditors,
    team managers, service managers and the head of service; anyone else is refused (403)."""
    if _preflight(connection):
        return
    if not may_oversee(connection.user.actor):
        raise PermissionDeniedException(NOT_AN_OVERSEER)


async def admins_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if _preflight(connection):
        return
    if not connection.user.actor.is_admin:
        raise PermissionDeniedException("Only an administrator account can do this")


async def writers_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """API tokens are scoped read or write."""
    if _preflight(connection):
        return
    if connection.auth.scope != "write":
        raise PermissionDeniedException("This API token is read-only")
