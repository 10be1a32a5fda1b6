"""Web API of Open311 GeoReport v2, in JSON or XML by the path's suffix (``services.json``, ``requests.xml``)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from backend.catalog.schemas import Catalog
from backend.catalog.views import get_catalog
from backend.clients import client_address
from backend.config import Settings
from backend.database.core import get_session
from backend.open311 import service
from backend.open311.service import Open311Error
from backend.ratelimit import RateLimiter

router = APIRouter(prefix="/open311/v2", tags=["open311"])

FORMATS = ("json", "xml")
# Characters XML 1.0 cannot hold even escaped: dropped from XML answers.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# The element that wraps each item of a list, by the list's element name.
_ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
}


def _split(filename: str) -> tuple[str, str]:
    """Return the name and format of ``NAME.FORMAT``, or raise a 404 when the format is not json or xml."""
    name, dot, fmt = filename.rpartition(".")
    if not dot or fmt not in FORMATS:
        raise Open311Error(404, "Not found: use the .json or .xml suffix.")
    return name, fmt


def _xml_text(value: Any) -> str:
    """Return a scalar as XML text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _xml_fill(element: ET.Element, value: Any) -> None:
    """Write `value` (dict, list or scalar) into `element`."""
    if isinstance(value, dict):
        for key, item in value.items():
            _xml_fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        item_name = _ITEM_NAMES.get(element.tag, "item")
        for item in value:
            _xml_fill(ET.SubElement(element, item_name), item)
    else:
        element.text = _xml_text(value)


def _render(fmt: str, root: str, content: Any, status_code: int = 200) -> Response:
    """Return `content` as JSON, or as XML under the element `root`."""
    if fmt == "xml":
        element = ET.Element(root)
        _xml_fill(element, content)
        body = ET.tostring(element, encoding="utf-8", xml_declaration=True)
        return Response(body, status_code=status_code, media_type="application/xml")
    return JSONResponse(content, status_code=status_code)


def _error(fmt: str, exc: Open311Error) -> Response:
    """Return the Open311 error list for `exc`."""
    response = _render(fmt, "errors", [{"code": exc.code, "description": exc.description}], exc.code)
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _check_read_limit(request: Request) -> None:
    """Raise a 429 `Open311Error` when the client has made too many public reads lately."""
    settings: Settings = request.app.state.settings
    limiter: RateLimiter = request.app.state.open311_read_limiter
    wait = limiter.acquire(client_address(request, settings.trusted_proxies))
    if wait:
        unit = "second" if wait == 1 else "seconds"
        raise Open311Error(
            429, f"Too many requests from your address. Please wait {wait} {unit} and try again.", retry_after=wait
        )


def _answer(request: Request, filename: str, root: str, build: Callable[[str], Any]) -> Response:
    """Run `build` with the requested format and render its result, or the Open311 error it raises.

    Every public read counts against the client's rate limit, whatever it asks for.
    """
    fmt = filename.rpartition(".")[2] if filename.rpartition(".")[2] in FORMATS else "json"
    try:
        _check_read_limit(request)
        name, fmt = _split(filename)
        return _render(fmt, root, build(name))
    except Open311Error as exc:
        return _error(fmt, exc)


@router.get("/{filename}")
def read_collection(
    filename: str,
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    catalog: Annotated[Catalog, Depends(get_catalog)],
) -> Response:
    """Return the service list (``services.FMT``) or the service requests (``requests.FMT``)."""

    def build(name: str) -> Any:
        if name == "services":
            return service.service_list(catalog)
        if name == "requests":
            params = request.query_params
            cases = service.get_requests(
                session=session,
                service_request_ids=params.get("service_request_id"),
                service_code=params.get("service_code"),
                start_date=params.get("start_date"),
                end_date=params.get("end_date"),
                status=params.get("status"),
            )
            return [service.to_public(case, catalog) for case in cases]
        raise Open311Error(404, "Not found.")

    root = "services" if filename.startswith("services.") else "service_requests"
    return _answer(request, filename, root, build)


@router.get("/services/{filename}")
def read_service_definition(
    filename: str, request: Request, catalog: Annotated[Catalog, Depends(get_catalog)]
) -> Response:
    """Return the attributes of one service."""
    return _answer(
        request,
        filename,
        "service_definition",
        lambda code: service.service_definition(service.find_service(catalog=catalog, service_code=code)),
    )


@router.get("/requests/{filename}")
def read_request(
    filename: str,
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    catalog: Annotated[Catalog, Depends(get_catalog)],
) -> Response:
    """Return one service request, as a list of one (as the specification shows)."""
    return _answer(
        request,
        filename,
        "service_requests",
        lambda request_id: [
            service.to_public(service.get_request(session=session, service_request_id=request_id), catalog)
        ],
    )


@router.post("/{filename}")
async def create_request(
    filename: str,
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    catalog: Annotated[Catalog, Depends(get_catalog)],
) -> Response:
    """Create a service request from form fields and return its service_request_id."""
    fmt = filename.rpartition(".")[2] if filename.rpartition(".")[2] in FORMATS else "json"
    try:
        name, fmt = _split(filename)
        if name != "requests":
            raise Open311Error(404, "Not found.")
        try:
            form_data = await request.form()
        except Exception:  # malformed bodies of any kind are the client's mistake
            raise Open311Error(400, "The body must be form-encoded.") from None
        form: dict[str, list[str]] = {}
        for key, value in form_data.multi_items():
            if not isinstance(value, str):
                raise Open311Error(400, "File uploads are not accepted.")
            form.setdefault(key, []).append(value)
        settings: Settings = request.app.state.settings
        api_keys = form.get("api_key") or [""]
        service.check_api_key(api_key=api_keys[-1], allowed=settings.open311_api_keys)
        # The session is synchronous: run the blocking work in the thread pool, as FastAPI does for def views.
        case = await run_in_threadpool(service.create_request, session=session, catalog=catalog, form=form)
    except Open311Error as exc:
        return _error(fmt, exc)
    answer = [{"service_request_id": case.reference, "service_notice": service.SERVICE_NOTICE, "account_id": None}]
    return _render(fmt, "service_requests", answer, 201)
