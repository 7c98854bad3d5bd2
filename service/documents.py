"""Turning a whole HTML document into a tagged PDF, in a worker process of its own.

WeasyPrint (with Pango, fontconfig and its fonts) costs a process tens of megabytes once imported, and a long
document holds more while it is laid out. The service's own process must stay small (under 150 MB resident, see the
README), so it never imports WeasyPrint: each conversion is sent to one worker process, started with "spawn" (a
fresh interpreter, not a copy of the service) on the first conversion, replaced after `RENDERS_PER_WORKER`
conversions so that whatever the library keeps between documents is given back, and shut down with the service
(`shutdown`, from the app's lifespan).

This module imports only the standard library at its top: the worker imports it too, by name, to find `_convert`.
A spawned worker also re-imports the program's main module, so every entry point starts the service only under
`if __name__ == "__main__":` (the `handover` command and `python -m service.cli` do).

One worker makes one document at a time; others wait their turn, within the same time limit. A worker ended because
its conversion took too long takes the conversions waiting on it down with it: those answer 503 too, and the next
request starts a new worker.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

STATIC = Path(__file__).resolve().parent / "static"

# Seconds one conversion may take, waiting for the worker included. The longest handover (every section, group rows,
# a long history) converts in well under two seconds here; a conversion still running after this is stuck.
RENDER_SECONDS = 60.0
# Conversions a worker makes before it is replaced by a fresh one.
RENDERS_PER_WORKER = 25

# What a person (page) or a caller (API) is told when the document could not be made. Said once, here.
UNAVAILABLE = (
    "The document could not be made just now. Nothing has been changed. Try again in a few minutes; if it keeps "
    "happening, tell your IT service desk."
)


class DocumentUnavailable(Exception):
    """The conversion failed, took longer than `RENDER_SECONDS`, or its worker stopped: no PDF, not even part of one.
    The message says why, for the log; people are shown `UNAVAILABLE`."""


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()  # the pool is started and stopped from the event loop and from the lifespan alike


def _started() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=1,  # one document at a time: a second waits rather than doubling the memory
                mp_context=multiprocessing.get_context("spawn"),
                max_tasks_per_child=RENDERS_PER_WORKER,
            )
        return _pool


def shutdown(*, kill: bool = False) -> None:
    """Stop the worker (waiting for a conversion under way, unless `kill`); the next conversion starts a new one."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is None:
        return
    if kill:
        # A stuck conversion never returns: its process is ended, not waited for. The executor offers no public way
        # to do this before Python 3.14 (`terminate_workers`), hence its table of processes.
        processes: dict[int, Any] = getattr(pool, "_processes", None) or {}
        for process in list(processes.values()):
            process.kill()
    pool.shutdown(wait=not kill, cancel_futures=True)


async def render_pdf(html: str, *, title: str, language: str = "en-GB", stylesheets: Sequence[str] = ()) -> bytes:
    """The PDF of one whole HTML document: tagged (PDF/UA-1: a structure tree and real text, not images), with the
    document's title and language (a BCP 47 tag) set in its metadata.

    `html` is the complete document, with its own CSS inline; `stylesheets` are further CSS files by their path under
    `service/static` ("document.css"). Nothing is fetched from the network: images and stylesheets the document links
    are read only from `service/static`, and fonts are the system's (installed by scripts/pdf_setup.sh).

    Raises `DocumentUnavailable` when the conversion fails or takes longer than `RENDER_SECONDS` (seconds, waiting
    for the worker included); a stuck worker is ended and the next conversion starts a new one.
    """
    sheets = tuple(str(_static_file(name)) for name in stylesheets)
    try:
        future = _started().submit(_convert, html, title, language, sheets)
    except (BrokenProcessPool, RuntimeError) as exc:  # its worker died, or it was shut down since it was started
        shutdown(kill=True)
        raise DocumentUnavailable(f"the document worker could not take the conversion: {exc}") from exc
    try:
        pdf = await asyncio.wait_for(asyncio.wrap_future(future), RENDER_SECONDS)
    except TimeoutError as exc:
        shutdown(kill=True)
        raise DocumentUnavailable(f"the conversion took longer than {RENDER_SECONDS:g} seconds") from exc
    except BrokenProcessPool as exc:
        shutdown(kill=True)
        raise DocumentUnavailable("the document worker stopped during the conversion") from exc
    except Exception as exc:  # whatever the library raised in the worker, with its own words for the log
        raise DocumentUnavailable(f"the conversion failed: {type(exc).__name__}: {exc}") from exc
    if not (pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-32:]):
        raise DocumentUnavailable("the conversion gave something that is not a whole PDF")
    return pdf


def _static_file(name: str) -> Path:
    """A file under service/static by its relative path; ValueError for any other place."""
    path = (STATIC / name).resolve()
    if not path.is_relative_to(STATIC) or not path.is_file():
        raise ValueError(f"{name!r} is not a file of service/static")
    return path


# ---------------------------------------------------------------- in the worker process


def _convert(html: str, title: str, language: str, stylesheets: tuple[str, ...]) -> bytes:
    import weasyprint  # here only: the worker's import, never the service's

    document = weasyprint.HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=_fetcher()).render(
        stylesheets=[_stylesheet(sheet) for sheet in stylesheets], pdf_variant="pdf/ua-1"
    )
    document.metadata.title = title
    document.metadata.lang = language
    pdf: bytes = document.write_pdf(pdf_variant="pdf/ua-1")
    return pdf


@functools.lru_cache(maxsize=1)
def _fetcher() -> Any:
    """Reads `data:` addresses and files under service/static; refuses every other address (no network)."""
    import weasyprint

    class StaticOnly(weasyprint.URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme == "file" and Path(unquote(parts.path)).resolve().is_relative_to(STATIC):
                return super().fetch(url, headers)
            raise ValueError(f"not read: {url[:80]}")

    return StaticOnly()


@functools.lru_cache(maxsize=16)
def _stylesheet(path: str) -> Any:
    """A stylesheet parsed once per worker (the GOV.UK one takes about 0.2 s to parse; a worker makes many copies)."""
    import weasyprint

    return weasyprint.CSS(filename=path, url_fetcher=_fetcher())
