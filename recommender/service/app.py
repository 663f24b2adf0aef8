"""The HTTP scoring service (FastAPI): the same call as ``recommender score``, over HTTP.

Endpoints
---------
``GET  /v1/health``       liveness (no authentication)
``GET  /v1/version``      package, result-schema, knowledge-base and model-bundle versions (no authentication)
``POST /v1/score``        multipart form: ``patient`` (JSON text of our schema or a Phenopacket; or
                          ``patient_file``), optional ``vcf`` (+ ``vcf_index``) upload, ``sample``,
                          ``treatments`` (comma-separated or a JSON list), optional ``tumour`` upload
                          (VCF/MAF); ``?format=html`` returns the HTML report instead of JSON
``POST /v1/score/json``   JSON body ``{"patient": {...}, "treatments": [...]}`` (no files)

Every ``/v1/score*`` call needs ``Authorization: Bearer <token>`` (hashes in a file or the environment,
:mod:`recommender.service.auth`). Requests above the size limit get 413; errors are JSON
(:meth:`genomics.errors.RecommenderError.to_dict` + ``request_id``); access logs hold method, path,
status, duration and request id only -- never patient identifiers or bodies. File paths named inside a
record are never read by the service (only uploads are).
"""


import json
import logging
import os
import re
import threading
import time
import uuid
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from genomics.errors import InputFileError, KnowledgeBaseError, ModelError, RecommenderError, UsageError
from recommender.recommendation import RECOMMENDATION_SCHEMA_VERSION, Recommendation, package_version
from recommender.service.auth import TokenSet, load_token_hashes

__all__ = ["DEFAULT_MAX_REQUEST_BYTES", "ScoreRequest", "create_app"]

#: Default request size limit (a gzipped single-sample panel VCF is far smaller; a whole-genome VCF is not
#: meant for this endpoint: call PGx positions first or use the CLI).
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024
ACCESS_LOG = logging.getLogger("recommender.service.access")
ERROR_LOG = logging.getLogger("recommender.service")


class ScoreRequest(BaseModel):
    """Body of ``POST /v1/score/json``."""

    model_config = ConfigDict(extra="forbid")

    patient: dict[str, Any] = Field(description="a patient record (schema patient/1.0) or a GA4GH Phenopacket v2")
    treatments: list[str] | None = Field(default=None, description="regimens to compare (default: the record's)")
    allow_avoid_first: bool = False
    covariates: dict[str, str | float | bool | None] | None = Field(
        default=None, description="clinical covariates a bundle trained on a real cohort needs, NAME -> VALUE "
                                  "(as `recommender score --covariates`)")
    fill_missing_covariates: bool = Field(
        default=False, description="score even when a covariate the bundle needs is missing (imputed; reported)")


class _TooLarge(Exception):
    pass


class _LimitAndLog:
    """ASGI middleware: request-size limit (413), request id, access log without identifiers."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:12]
        scope.setdefault("state", {})["request_id"] = request_id
        start = time.perf_counter()
        status = {"code": 500, "started": False}

        async def send_wrapper(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["started"] = True
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        seen = {"n": 0, "over": False}

        async def guarded_send(message: dict) -> None:
            if seen["over"]:  # the body went over the limit: whatever the app answers, the client gets 413
                return
            await send_wrapper(message)

        try:
            if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
                raise _TooLarge

            async def receive_wrapper() -> dict:
                message = await receive()
                if message["type"] == "http.request":
                    seen["n"] += len(message.get("body", b""))
                    if seen["n"] > self.max_bytes:  # e.g. chunked: no Content-Length to check up front
                        seen["over"] = True
                        raise _TooLarge
                return message

            try:
                await self.app(scope, receive_wrapper, guarded_send)
            except Exception:
                if not seen["over"]:
                    raise
            if seen["over"]:
                raise _TooLarge
        except _TooLarge:
            if not status["started"]:
                body = json.dumps({"error": "RequestTooLarge", "message": f"request body above {self.max_bytes} bytes",
                                   "file": None, "record": None, "field": None,
                                   "fix": "send a smaller file (a VCF restricted to the pharmacogenes) or use the CLI",
                                   "request_id": request_id}).encode()
                await send_wrapper({"type": "http.response.start", "status": 413,
                                    "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": body})
        finally:
            ACCESS_LOG.info("%s %s %s %.1fms id=%s", scope.get("method"), scope.get("path"), status["code"],
                            1000 * (time.perf_counter() - start), request_id)


def _request_id(request: Request) -> str:
    return request.scope.get("state", {}).get("request_id", "-")


def _status_for(err: RecommenderError) -> int:
    if isinstance(err, UsageError):
        return 400
    if isinstance(err, InputFileError):
        return 422
    if isinstance(err, (ModelError, KnowledgeBaseError)):
        return 503
    return 400


#: Longest text of one error-body field; longer values (they may quote the input) are cut.
MAX_ECHO_CHARS = 300


def _cap(value: Any, limit: int = MAX_ECHO_CHARS) -> Any:
    """``value`` with any text cut to ``limit`` characters (an error never echoes a large input back)."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + f"... ({len(value) - limit} more characters not shown)"
    if isinstance(value, dict):
        return {k: _cap(v, limit) for k, v in list(value.items())[:20]}
    if isinstance(value, (list, tuple)):
        return [_cap(v, limit) for v in list(value)[:20]]
    return value


def _error_body(err: RecommenderError, request: Request) -> dict[str, Any]:
    from recommender.inputs import public_error

    body = _cap(public_error(err))
    body["request_id"] = _request_id(request)
    return body


class _State:
    def __init__(self, bundle: Any) -> None:
        self._bundle_arg = bundle
        self._ctx: Any = None
        self._lock = threading.Lock()

    def context(self) -> Any:
        from recommender.scoring import ScoringContext

        with self._lock:
            if self._ctx is None:
                self._ctx = ScoringContext(self._bundle_arg)
                if self._ctx.bundle_error:  # never reveal server folders in responses
                    self._ctx.bundle_error = re.sub(r"(?:/[^\s/:]+)+/", "", self._ctx.bundle_error)
            return self._ctx


def _parse_patient(text: str | bytes) -> Any:
    from recommender.inputs import read_patient

    return read_patient(text)  # the one patient reader of the CLI, the service and the app


def _patient_from_data(data: Any) -> Any:
    from recommender.inputs import read_patient

    return read_patient(data)


def _treatments(text: str | None) -> list[str] | None:
    if text is None or not text.strip():
        return None
    text = text.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            raise UsageError("treatments is not a valid JSON list", field="treatments",
                             fix='send ["FOLFOX", "CAPOX"] or FOLFOX,CAPOX') from None
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            raise UsageError("treatments must be a list of regimen names", field="treatments")
        return items
    return [t.strip() for t in text.split(",") if t.strip()]


#: Most covariates one request may carry.
MAX_COVARIATES = 200


def _covariates(data: Any) -> dict[str, Any] | None:
    """The ``covariates`` of a request: a JSON object text (form field) or a parsed mapping (JSON body)."""
    if data is None or (isinstance(data, str) and not data.strip()):
        return None
    if isinstance(data, str):
        from genomics.fileio import parse_json_strict

        data = parse_json_strict(data, file=None, error=UsageError)
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise UsageError("covariates must be a JSON object NAME -> VALUE", field="covariates",
                         fix='send e.g. {"positive_nodes": 3, "grade": "G2"}')
    if len(data) > MAX_COVARIATES:
        raise UsageError(f"more than {MAX_COVARIATES} covariates", field="covariates", fix="send the bundle's only")
    if not all(v is None or isinstance(v, (str, int, float, bool)) for v in data.values()):
        raise UsageError("each covariate value must be a number, text, true/false or null", field="covariates",
                         fix='send e.g. {"positive_nodes": 3}')
    return dict(data)


def _stage(upload: UploadFile, stem: str, allowed: tuple[str, ...], staged: list[Any]) -> Any:
    from recommender.inputs import StagedUpload

    item = StagedUpload(upload.filename, upload.file, stem=stem, suffixes=allowed, default_suffix=allowed[-1])
    staged.append(item)
    return item


def _client(request: Request) -> str:
    """The client's address (the limiter's key; behind a proxy, the proxy's unless it passes the address)."""
    return request.client.host if request.client is not None else "-"


def _offline_docs(app: FastAPI) -> None:
    """``/docs`` and ``/redoc`` with Swagger UI / ReDoc served from this service (no CDN, no Google Fonts)."""
    from pathlib import Path

    import fastapi_offline
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
    from fastapi.staticfiles import StaticFiles

    static = Path(fastapi_offline.__file__).resolve().parent / "static"
    prefix = "/static-offline-docs"
    # ReDoc's menu footer shows its logo from cdn.redoc.ly: served with that one URL pointed at a local icon
    redoc_js = (static / "redoc.standalone.js").read_text(encoding="utf-8").replace(
        "https://cdn.redoc.ly/redoc/logo-mini.svg", f"{prefix}/favicon.png")

    @app.get(f"{prefix}/redoc.local.js", include_in_schema=False)
    async def redoc_script() -> Response:
        return Response(redoc_js, media_type="application/javascript")

    app.mount(prefix, StaticFiles(directory=str(static)), name="static-offline-docs")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - Swagger UI",
                                   oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
                                   swagger_js_url=f"{root}{prefix}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{root}{prefix}/swagger-ui.css",
                                   swagger_favicon_url=f"{root}{prefix}/favicon.png")

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - ReDoc",
                              redoc_js_url=f"{root}{prefix}/redoc.local.js",
                              redoc_favicon_url=f"{root}{prefix}/favicon.png", with_google_fonts=False)


def _store_user(engine: Any, token: str) -> Any:
    from recommender.store import user_for_token

    return user_for_token(engine, token)


def create_app(*, token_hashes: Any = None, tokens_file: str | os.PathLike[str] | None = None, bundle: Any = None,
               max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES, db: Any = None, limiter: Any = None) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    token_hashes
        Accepted token hashes (``sha256:<hex>``); default: :func:`~recommender.service.auth.load_token_hashes`
        of ``tokens_file`` and ``$RECOMMENDER_API_TOKENS``. With no hash at all every scoring call gets 401.
    bundle
        As for :func:`recommender.scoring.score_patient` (loaded once, on the first scoring call).
    max_request_bytes
        Larger requests get 413.
    db
        Review-store database (URL, path or SQLAlchemy engine): tokens issued per user with
        ``recommender admin create-token`` are accepted too (revoked tokens and disabled users refused).
    limiter
        A :class:`~recommender.service.ratelimit.ClientLimiter` (default: 120 requests per minute per client;
        back-off after 5 bad tokens). Over the limit or locked: 429 with ``Retry-After``.

    ``/docs`` (Swagger UI) and ``/redoc`` load their scripts and styles from this service
    (``/static-offline-docs``, the files of the ``fastapi-offline`` package): nothing comes from a CDN.
    """
    from recommender.service.ratelimit import ClientLimiter

    limiter = limiter if limiter is not None else ClientLimiter()
    tokens = TokenSet(token_hashes if token_hashes is not None else load_token_hashes(tokens_file))
    store_engine = None
    if db is not None:
        from recommender.store import open_database

        store_engine = db if hasattr(db, "connect") else open_database(db)
    state = _State(bundle)
    def rate_limit(request: Request) -> None:
        if request.url.path == "/v1/health":
            return
        wait = limiter.hit(_client(request))
        if wait > 0:
            raise StarletteHTTPException(status_code=429, detail="too many requests from this client",
                                         headers={"Retry-After": str(max(1, int(wait + 0.999)))})

    app = FastAPI(
        title="Genomics-aware treatment recommender",
        version=package_version(),
        description="Research use only; not a medical device. Scores a patient's treatment options with "
                    "pharmacogenomic guidance (CPIC/DPWG, verbatim), tumour biomarker evidence and model numbers.",
        docs_url=None, redoc_url=None, dependencies=[Depends(rate_limit)],
    )
    _offline_docs(app)
    bearer = HTTPBearer(auto_error=False)

    def require_token(request: Request,
                      creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        client = _client(request)
        locked = limiter.locked(client)
        if locked > 0:
            raise StarletteHTTPException(status_code=429, detail="too many bad bearer tokens from this client",
                                         headers={"Retry-After": str(max(1, int(locked + 0.999)))})
        ok = creds is not None and creds.scheme.lower() == "bearer" and (
            tokens.check(creds.credentials)
            or (store_engine is not None and _store_user(store_engine, creds.credentials) is not None))
        if not ok:
            if limiter.failure(client) > 0:
                ERROR_LOG.warning("bearer-token back-off: client locked after repeated bad tokens")
            raise StarletteHTTPException(status_code=401, detail="missing, unknown or revoked bearer token",
                                         headers={"WWW-Authenticate": "Bearer"})
        limiter.success(client)

    @app.exception_handler(RecommenderError)
    async def _recommender_error(request: Request, err: RecommenderError) -> JSONResponse:
        return JSONResponse(_error_body(err, request), status_code=_status_for(err))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {}
        field = ".".join(str(x) for x in first.get("loc", ()) if x not in ("body", "query", "form"))
        return JSONResponse({"error": "RequestValidationError",
                             "message": _cap(str(first.get("msg", "invalid request"))),
                             "file": None, "record": None, "field": _cap(field) or None,
                             "fix": "see the OpenAPI schema at /openapi.json", "request_id": _request_id(request)},
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        fix = "send Authorization: Bearer <token> (create one with `recommender serve --create-token`)" \
            if err.status_code == 401 else ("wait the Retry-After seconds" if err.status_code == 429 else None)
        kind = "TooManyRequests" if err.status_code == 429 else "HTTPError"
        return JSONResponse({"error": kind, "message": _cap(str(err.detail)), "file": None, "record": None,
                             "field": None, "fix": fix, "request_id": _request_id(request)},
                            status_code=err.status_code, headers=getattr(err, "headers", None))

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, err: Exception) -> JSONResponse:
        rid = _request_id(request)
        ERROR_LOG.error("internal error %s id=%s", type(err).__name__, rid)  # no message: it may hold patient data
        return JSONResponse({"error": "InternalError", "message": f"internal error (request id {rid})", "file": None,
                             "record": None, "field": None, "fix": "report the request id to the operator",
                             "request_id": rid}, status_code=500)

    @app.get("/v1/health", tags=["service"])
    def health() -> dict[str, str]:
        """Liveness check."""
        return {"status": "ok"}

    @app.get("/v1/version", tags=["service"])
    def version() -> dict[str, Any]:
        """Versions of the package, the result schema and the knowledge bases."""
        from genomics.biomarkers import load_knowledge_base
        from genomics.pgx import active_knowledge_base

        kb = active_knowledge_base().provenance()
        bm = load_knowledge_base()
        ctx = state._ctx
        b = getattr(ctx, "bundle", None) if ctx is not None else None
        return {"package": "genomics-treatment-recommender", "package_version": package_version(),
                "recommendation_schema": RECOMMENDATION_SCHEMA_VERSION, "genome_build": "GRCh38",
                "pgx_knowledge_base": kb, "biomarker_table": {"name": bm.name, "version": bm.version},
                "model_bundle": None if b is None else getattr(b, "bundle_id", None),
                "model_bundle_loaded": ctx is not None}

    def _respond(rec: Recommendation, fmt: str) -> Any:
        if fmt == "html":
            from recommender.report import render_report

            return HTMLResponse(render_report(rec))
        return JSONResponse(rec.to_dict())

    @app.post("/v1/score", tags=["scoring"], response_model=Recommendation,
              responses={200: {"content": {"text/html": {}}}}, dependencies=[Depends(require_token)])
    def score(
        patient: Annotated[str | None, Form(description="patient JSON (our schema or a Phenopacket)")] = None,
        patient_file: Annotated[UploadFile | None, File(description="patient JSON file instead of `patient`")] = None,
        vcf: Annotated[UploadFile | None, File(description="germline VCF/BCF, GRCh38 (.vcf, .vcf.gz, .bcf)")] = None,
        vcf_index: Annotated[UploadFile | None, File(description="its .tbi/.csi index (optional)")] = None,
        sample: Annotated[str | None, Form(description="sample of the VCF (default: the record's)")] = None,
        treatments: Annotated[str | None, Form(description="regimens, comma-separated or a JSON list")] = None,
        tumour: Annotated[UploadFile | None, File(description="tumour somatic VCF or MAF (optional)")] = None,
        allow_avoid_first: Annotated[bool, Form()] = False,
        cyp2d6_without_copy_number: Annotated[bool, Form(
            description="use a CYP2D6 call from SNVs/indels alone for guidance (default: provisional, not used; "
                        "recorded in the result)")] = False,
        covariates: Annotated[str | None, Form(
            description="clinical covariates a bundle trained on a real cohort needs: a JSON object NAME -> VALUE "
                        "(as `recommender score --covariates`)")] = None,
        fill_missing_covariates: Annotated[bool, Form(
            description="score even when a covariate the bundle needs is missing (imputed; reported)")] = False,
        format: Annotated[str, Query(pattern="^(json|html)$")] = "json",
    ) -> Any:
        """Score one patient (multipart form). Same inputs and result as ``recommender score``."""
        from recommender.requests import PatientInputs, RankingOptions
        from recommender.scoring import score_patient

        if (patient is None) == (patient_file is None):
            raise UsageError("give exactly one of `patient` (form field) or `patient_file` (upload)", field="patient",
                             fix="send the patient JSON once")
        text = patient if patient is not None else patient_file.file.read()
        record = _parse_patient(text)
        cov = _covariates(covariates)
        staged: list[Any] = []
        try:
            vcf_path = tumour_path = None
            if vcf is not None:
                germline = _stage(vcf, "germline", (".vcf.gz", ".bcf", ".vcf"), staged)
                vcf_path = germline.path
                if vcf_index is not None:
                    idx_suffix = ".csi" if (vcf_index.filename or "").lower().endswith(".csi") else ".tbi"
                    germline.write_sibling(idx_suffix, vcf_index.file)
            if tumour is not None:
                tumour_path = _stage(tumour, "tumour", (".vcf.gz", ".maf.gz", ".maf", ".vcf"), staged).path
            rec = score_patient(record, _treatments(treatments),
                                inputs=PatientInputs(germline_vcf=vcf_path, sample=sample, tumour=tumour_path,
                                                     allow_record_paths=False,
                                                     cyp2d6_without_copy_number=cyp2d6_without_copy_number,
                                                     covariates=cov,
                                                     fill_missing_covariates=fill_missing_covariates),
                                ranking=RankingOptions(allow_avoid_first=allow_avoid_first),
                                context=state.context())
            return _respond(rec, format)
        finally:
            for item in staged:
                item.discard()

    @app.post("/v1/score/json", tags=["scoring"], response_model=Recommendation,
              responses={200: {"content": {"text/html": {}}}}, dependencies=[Depends(require_token)])
    def score_json(body: ScoreRequest, format: Annotated[str, Query(pattern="^(json|html)$")] = "json") -> Any:
        """Score one patient from a JSON body (no files: guidance needs the multipart form with a VCF)."""
        from recommender.requests import PatientInputs, RankingOptions
        from recommender.scoring import score_patient

        record = _patient_from_data(body.patient)
        rec = score_patient(record, body.treatments,
                            inputs=PatientInputs(allow_record_paths=False, covariates=_covariates(body.covariates),
                                                 fill_missing_covariates=body.fill_missing_covariates),
                            ranking=RankingOptions(allow_avoid_first=body.allow_avoid_first),
                            context=state.context())
        return _respond(rec, format)

    @app.post("/v1/notes/extract", tags=["notes"], dependencies=[Depends(require_token)])
    def notes_extract(
        note: Annotated[str | None, Form(description="note text (plain text)")] = None,
        note_file: Annotated[UploadFile | None, File(description="note file: .txt, .pdf (text layer) or FHIR "
                                                                   "DocumentReference/Bundle .json")] = None,
        patient: Annotated[str | None, Form(description="patient JSON to compare with (conflicts shown)")] = None,
    ) -> Any:
        """Propose history fields from a clinical note (masked text, values with evidence, excluded mentions).

        Nothing is stored and nothing is applied: the caller shows the proposals to a physician, who decides
        (``recommender.notes.apply_decisions``). Identifiers are masked before anything is returned.
        """
        from recommender.notes import extract_note, propose, read_note_bytes

        if (note is None) == (note_file is None):
            raise UsageError("give exactly one of `note` (form field) or `note_file` (upload)", field="note",
                             fix="send the note once")
        data = note.encode("utf-8") if note is not None else note_file.file.read()
        record = _parse_patient(patient) if patient is not None else None
        out = []
        for item in read_note_bytes(data, name="uploaded note"):
            extraction = extract_note(item.text)
            out.append({"source": item.kind, "title": item.title, **extraction.model_dump(mode="json"),
                        "proposals": [p.model_dump(mode="json") for p in propose(record, extraction)]})
        return JSONResponse({"notes": out})

    app.add_middleware(_LimitAndLog, max_bytes=max_request_bytes)
    return app
