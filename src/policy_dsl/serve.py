"""``policy serve LIBRARY``: the library over HTTP, JSON in and JSON out, for policy calculators.

A thin layer, as the CLI is: every answer is what the library's own functions give
(``Policy.evaluate``, ``views.explain``, ``views.facts_schema``, ``Library.match``,
``diff.compare.diff_loaded`` rendered as ``policy-diff --format json``), and request bodies are read
as facts files are (``policy.read_json``: exact Decimals, a key given twice refused).

=====  =============================  ====================================================
GET    /health                        {"status": "ok", "policies": N, "title": …}
GET    /policies                      each policy's id, title, version, status, level, …
GET    /schema                        the JSON Schema of the library's facts
GET    /policies/{id}/schema          the JSON Schema of one policy's facts (404)
POST   /evaluate                      {"policy", "facts", "as_of"?, "adopted"?} → the outcome
POST   /explain                       the same → the reasoning step by step, and the outcome
POST   /match                         {"facts", "as_of"?, "adopted"?} → Library.match
POST   /diff                          {"old", "new"} → the policy-diff JSON report
GET    /openapi.json                  OpenAPI 3.1, generated from the classes below
=====  =============================  ====================================================

Every error has one shape, ``{"error": {"kind", "message", "diagnostics": [...]}}``, each
diagnostic with its ``message``, ``hint``, ``line`` / ``column`` (when it points into the request
body) and ``rendered`` (as the CLI prints it). 400 the body is not JSON; 404 no such path or
policy (did-you-mean); 405 wrong method; 413 body over ``--max-body`` (declared or streamed);
422 a field missing, unknown (did-you-mean) or of the wrong type, or facts the policy refuses
(every problem at once); 503 the computation did not finish within ``--timeout`` seconds or
``--concurrency`` computations are already running; 500 only for a fault of the server, with a
generic body (the traceback goes to the server's log).

The request and reply bodies are frozen attrs classes; :func:`json_schema` makes their JSON
Schemas from the fields' types for ``/openapi.json``, and :func:`read_request` reads a body by the
same fields, so the description and the server cannot disagree. Starlette and uvicorn are imported
when an app is made (``policy --help`` loads neither).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import sys
import threading
import time
import types
import typing
from collections import OrderedDict
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NewType, TypeVar

import attrs
import click

from policy_dsl.errors import Diagnostic, FactsError, PolicyError, did_you_mean
from policy_dsl.source import MAX_POLICY_BYTES, SourceFile, UnreadableText, decode_text

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request

    from policy_dsl.evaluate import Outcome
    from policy_dsl.library import Library
    from policy_dsl.policy import Policy

#: The most a request body may hold unless ``--max-body`` says otherwise: as much as a facts file.
MAX_BODY = MAX_POLICY_BYTES
#: Seconds a computation may take before the request is answered 503 (``--timeout``).
TIMEOUT = 30.0
#: Computations running at once (``--concurrency``); more wait, within the timeout, for a slot. The
#: GIL lets threads add no throughput, and each computation may hold its facts and outcome in memory.
CONCURRENCY = 4
#: Diagnostics listed in one error body (the message gives the count of all of them).
DIAGNOSTICS_SHOWN = 100
#: Diff reports kept (a pair of the library's policies gives the same report until restarted).
DIFFS_KEPT = 16

#: The name request bodies are given in diagnostics: ``<request>:3:17: error: …``.
REQUEST = "<request>"

T = TypeVar("T")

# ---------------------------------------------------------------- request and reply bodies

#: The facts of one enterprise for the policy named beside them (its schema: the policy's).
PolicyFacts = NewType("PolicyFacts", dict[str, Any])
#: The facts of one enterprise for the whole library (its schema: the library's).
LibraryFacts = NewType("LibraryFacts", dict[str, Any])

_AS_OF = "The day of evaluation, 2023-06-01 (2023年6月1日 is read too); left out or null: today."
_ADOPTED = "Evaluate a draft as if adopted as written (a draft has no force otherwise)."


@attrs.frozen
class EvaluateRequest:
    """One enterprise's facts under one policy of the library (POST /evaluate, /explain)."""

    policy: str = attrs.field(metadata={"doc": "The policy's id, as GET /policies lists it."})
    facts: PolicyFacts = attrs.field(metadata={"doc": "The enterprise's facts: the policy's schema."})
    as_of: dt.date | None = attrs.field(default=None, metadata={"doc": _AS_OF})
    adopted: bool = attrs.field(default=False, metadata={"doc": _ADOPTED})


@attrs.frozen
class MatchRequest:
    """One enterprise's facts under every policy of the library (POST /match)."""

    facts: LibraryFacts = attrs.field(metadata={"doc": "The enterprise's facts: the library's schema."})
    as_of: dt.date | None = attrs.field(default=None, metadata={"doc": _AS_OF})
    adopted: bool = attrs.field(default=False, metadata={"doc": _ADOPTED})


@attrs.frozen
class DiffRequest:
    """Two policies of the library, compared as ``policy-diff OLD NEW --format json`` (POST /diff)."""

    old: str = attrs.field(metadata={"doc": "The earlier version's policy id."})
    new: str = attrs.field(metadata={"doc": "The later version's policy id."})


@attrs.frozen
class Health:
    """The server is up and holds the library."""

    status: str
    policies: int = attrs.field(metadata={"doc": "How many policies the library holds."})
    title: str


@attrs.frozen
class ValidityInfo:
    """When a document is in force (its own validity, inherited by every rule without a period)."""

    start: dt.date | None
    end: dt.date | None
    draft: bool = attrs.field(metadata={"doc": "A draft has no force until adopted."})
    description: str = attrs.field(metadata={"doc": "As `policy check` says it."})


@attrs.frozen
class PolicyInfo:
    """One policy of the library, as its header declares it."""

    id: str = attrs.field(metadata={"doc": "The path of the policy file in the library's folder."})
    title: str
    version: str | None
    status: str | None = attrs.field(metadata={"doc": "draft or final, as the header says."})
    level: str | None = attrs.field(metadata={"doc": "national, provincial, city or county."})
    jurisdiction: str | None
    validity: ValidityInfo
    repeals: tuple[str, ...] = attrs.field(metadata={"doc": "The documents this one repeals."})


@attrs.frozen
class PolicyList:
    """The policies of the library."""

    title: str
    policies: tuple[PolicyInfo, ...]


@attrs.frozen
class Explanation:
    """The reasoning of ``policy explain`` (text, each step quoting its citation) and the outcome."""

    explanation: str
    outcome: dict[str, Any] = attrs.field(metadata={"doc": "The outcome, as POST /evaluate gives it."})


#: Every kind of error the server answers with, by its status.
ERROR_KINDS = {
    "invalid_json": 400,
    "not_found": 404,
    "unknown_policy": 404,
    "method_not_allowed": 405,
    "body_too_large": 413,
    "invalid_request": 422,
    "facts_error": 422,
    "internal_error": 500,
    "timeout": 503,
    "busy": 503,
}


@attrs.frozen
class DiagnosticInfo:
    """One problem, as the CLI reports it; a position only when it points into the request body."""

    message: str
    severity: str = attrs.field(metadata={"doc": "error or warning"})
    hint: str | None = attrs.field(metadata={"doc": "How to fix it: a did-you-mean, say."})
    line: int | None = attrs.field(metadata={"doc": "1-based, in the request body."})
    column: int | None = attrs.field(metadata={"doc": "1-based, in characters."})
    end_line: int | None
    end_column: int | None
    rendered: str = attrs.field(metadata={"doc": "`file:line:col: error: …`, the line and a caret."})


@attrs.frozen
class ErrorInfo:
    """What went wrong: its kind (one per status), a message, and every problem found."""

    kind: str = attrs.field(metadata={"schema": {"enum": sorted(ERROR_KINDS)}})
    message: str
    diagnostics: tuple[DiagnosticInfo, ...]


@attrs.frozen
class ErrorBody:
    """Every error the server answers with (4xx, 5xx)."""

    error: ErrorInfo


# ---------------------------------------------------------------- JSON Schema of the classes


_NONE = type(None)
_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    dt.date: {"type": "string", "format": "date"},
    Any: {},
}


def json_schema(
    tp: Any, components: dict[str, Any], named: Mapping[Any, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The JSON Schema (2020-12) of a type hint; an attrs class becomes a component of
    ``components`` and a ``$ref`` to it. ``named`` gives the schema of a NewType (the facts)."""
    named = named or {}
    if tp in named:
        return dict(named[tp])
    if isinstance(tp, type) and attrs.has(tp):
        if tp.__name__ not in components:
            components[tp.__name__] = {}  # taken before its fields are walked
            components[tp.__name__] = class_schema(tp, components, named)
        return {"$ref": f"#/components/schemas/{tp.__name__}"}
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        schemas = [json_schema(arg, components, named) for arg in args if arg is not _NONE]
        if _NONE in args:
            schemas.append({"type": "null"})
        return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    if (origin is tuple and len(args) == 2 and args[1] is Ellipsis) or origin is list:
        return {"type": "array", "items": json_schema(args[0], components, named)}
    if origin is dict:
        return {"type": "object"}
    if hasattr(tp, "__supertype__"):  # a NewType nobody named: its base type
        return json_schema(tp.__supertype__, components, named)
    if tp in _SCALARS:
        return dict(_SCALARS[tp])
    raise TypeError(f"no JSON Schema for {tp!r}")


def class_schema(
    cls: type, components: dict[str, Any], named: Mapping[Any, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """An attrs class as a closed JSON object: a property per field (its ``doc`` as description,
    its ``schema`` metadata merged in), required unless it has a default."""
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required = []
    for field in attrs.fields(cls):
        schema = json_schema(hints[field.name], components, named)
        if "doc" in field.metadata:
            schema["description"] = field.metadata["doc"]
        schema.update(field.metadata.get("schema", {}))
        properties[field.name] = schema
        if field.default is attrs.NOTHING:
            required.append(field.name)
    schema = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    if cls.__doc__:
        schema = {"description": " ".join(cls.__doc__.split()), **schema}
    return schema


def to_plain(value: Any) -> Any:
    """A reply object as JSON-ready data: attrs classes as objects, dates as ISO text."""
    if attrs.has(type(value)):
        return {field.name: to_plain(getattr(value, field.name)) for field in attrs.fields(type(value))}
    if isinstance(value, tuple | list):
        return [to_plain(each) for each in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# ---------------------------------------------------------------- errors


class ApiError(Exception):
    """An answer other than 200: its status, kind (:data:`ERROR_KINDS`) and diagnostics."""

    def __init__(
        self,
        kind: str,
        message: str,
        diagnostics: tuple[Diagnostic, ...] = (),
        headers: Mapping[str, str] | None = None,
        unlisted: int = 0,
    ) -> None:
        super().__init__(message)
        self.status = ERROR_KINDS[kind]
        self.kind = kind
        self.message = message
        self.diagnostics = diagnostics or (Diagnostic(message),)
        self.headers = dict(headers or {})
        self.unlisted = unlisted  # problems the library counted but did not list

    def reply(self) -> Reply:
        shown = self.diagnostics[:DIAGNOSTICS_SHOWN]
        more = len(self.diagnostics) - len(shown) + self.unlisted
        if more:
            shown = (*shown, Diagnostic(f"… and {more} more problems of the same request, not listed"))
        info = ErrorInfo(self.kind, self.message, tuple(diagnostic_info(d) for d in shown))
        return Reply(self.status, _dumps(to_plain(ErrorBody(info))), self.headers)


def diagnostic_info(diagnostic: Diagnostic) -> DiagnosticInfo:
    pos = diagnostic.pos
    at = pos is not None and pos.line > 0
    return DiagnosticInfo(
        diagnostic.message,
        diagnostic.severity,
        diagnostic.hint,
        pos.line if at and pos else None,
        pos.column if at and pos else None,
        pos.end_line if at and pos else None,
        pos.end_column if at and pos else None,
        diagnostic.render(),
    )


def _policy_error(kind: str, error: PolicyError) -> ApiError:
    count = len(error.diagnostics) + error.unlisted
    head = error.diagnostics[0].message if count == 1 else f"{count} problems ({error.kind})"
    return ApiError(kind, head, error.diagnostics, unlisted=error.unlisted)


# ---------------------------------------------------------------- reading a request


@attrs.frozen
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = attrs.field(factory=dict)


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _reply(data: Any) -> Reply:
    return Reply(200, _dumps(data))


def read_body_json(body: bytes) -> tuple[Any, SourceFile]:
    """The request body read as the CLI reads a facts file: one decoder, then ``read_json``."""
    from policy_dsl.policy import read_json

    try:
        text, _ = decode_text(body)
    except UnreadableText as exc:
        raise ApiError("invalid_json", f"the request body cannot be read: {exc}") from None
    source = SourceFile(REQUEST, text)
    try:
        return read_json(source, "the contents of the request body"), source
    except PolicyError as error:
        raise _policy_error("invalid_json", error) from None


_EXPECTED = {str: "text", bool: "true or false", dt.date: "a date such as 2023-06-01"}


def _field_value(tp: Any, value: Any) -> Any:
    """``value`` as the field's type, or ValueError saying what was expected."""
    from policy_dsl.values import ValueSyntaxError, parse_date

    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        if value is None and _NONE in args:
            return None
        (tp,) = (arg for arg in args if arg is not _NONE)
    if hasattr(tp, "__supertype__"):  # the facts: an object, read by the policy's own reader
        if isinstance(value, dict):
            return value
        raise ValueError("an object of facts (fact name → value)")
    if tp is bool or tp is str:
        if type(value) is tp:
            return value
        raise ValueError(_EXPECTED[tp])
    if tp is dt.date:
        if isinstance(value, str):
            try:
                return parse_date(value)
            except ValueSyntaxError as exc:
                raise ValueError(f"{_EXPECTED[tp]} ({exc})") from None
        raise ValueError(_EXPECTED[tp])
    raise TypeError(f"no reader for {tp!r}")  # pragma: no cover - a class above with a new type


def _clip(text: str, most: int = 60) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _shown(value: Any) -> str:
    """A JSON value as a message shows it: an object or a list by its kind (it may be large or
    deeply nested), a number as written, text quoted and clipped."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return _clip(str(value))
    return _clip(json.dumps(value, ensure_ascii=False))


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def read_request(cls: type[T], data: Any) -> T:
    """``data`` (the request body's JSON) as an instance of the attrs class ``cls``: every field
    missing, unknown (with did-you-mean) or of the wrong type reported at once (422)."""
    if not isinstance(data, dict):
        raise ApiError("invalid_request", f"the request body must be a JSON object, not {_shown(data)}")
    hints = _hints(typing.cast(type, cls))
    fields = attrs.fields(typing.cast(Any, cls))
    names = [field.name for field in fields]
    problems: list[Diagnostic] = []
    for key in data:
        if key not in names:
            hint = did_you_mean(key, names) or "the fields are " + ", ".join(f"`{n}`" for n in names)
            problems.append(Diagnostic(f"unknown field `{_clip(key)}` in the request body", hint=hint))
    values: dict[str, Any] = {}
    for field in fields:
        if field.name not in data:
            if field.default is attrs.NOTHING:
                problems.append(Diagnostic(f"the request body has no field `{field.name}`"))
            continue
        try:
            values[field.name] = _field_value(hints[field.name], data[field.name])
        except ValueError as exc:
            got = _shown(data[field.name])
            problems.append(Diagnostic(f"field `{field.name}`: expected {exc}, got {got}"))
    if problems:
        head = problems[0].message if len(problems) == 1 else f"{len(problems)} problems with the request"
        raise ApiError("invalid_request", head, tuple(problems))
    return cls(**values)


# ---------------------------------------------------------------- the endpoints


@attrs.frozen
class Endpoint:
    """One route: what it takes and gives, for the app and for its OpenAPI description alike."""

    method: str
    path: str  # Starlette's, with convertors: /policies/{id:path}/schema
    name: str  # the :class:`Api` method that answers it
    summary: str
    request: type | None = None
    reply: Any = None  # an attrs class, or a JSON Schema
    errors: tuple[int, ...] = ()
    #: computed in a worker thread under the time and concurrency guard (else answered at once)
    compute: bool = True

    @property
    def openapi_path(self) -> str:
        return re.sub(r"\{(\w+):\w+\}", r"{\1}", self.path)


_OUTCOME = {
    "type": "object",
    "description": "The outcome, as Outcome.to_json() and `policy eval --format json` give it: per "
    "benefit its status, amount, conditions, citations and agencies; per duty whether it applies.",
}
_SCHEMA = {"type": "object", "description": "A JSON Schema (2020-12)."}
_COMPUTE_ERRORS = (400, 413, 422, 503)

ENDPOINTS = (
    Endpoint("GET", "/health", "health", "Whether the server is up", reply=Health, compute=False),
    Endpoint("GET", "/policies", "policies", "The policies of the library", reply=PolicyList, compute=False),
    Endpoint(
        "GET",
        "/schema",
        "library_schema",
        "The JSON Schema of the library's facts (every policy's)",
        reply={"$ref": "#/components/schemas/LibraryFacts"},
        compute=False,
    ),
    Endpoint(
        "GET",
        "/policies/{id:path}/schema",
        "policy_schema",
        "The JSON Schema of one policy's facts (the policy id holds slashes)",
        reply=_SCHEMA,
        errors=(404,),
        compute=False,
    ),
    Endpoint(
        "POST",
        "/evaluate",
        "evaluate",
        "Evaluate one enterprise under one policy",
        EvaluateRequest,
        _OUTCOME,
        (*_COMPUTE_ERRORS, 404),
    ),
    Endpoint(
        "POST",
        "/explain",
        "explain",
        "The outcome with its reasoning, each step quoting its citation (`policy explain`)",
        EvaluateRequest,
        Explanation,
        (*_COMPUTE_ERRORS, 404),
    ),
    Endpoint(
        "POST",
        "/match",
        "match",
        "Evaluate one enterprise under every policy of the library",
        MatchRequest,
        {"type": "object", "description": "Library.match(…).to_json()"},
        _COMPUTE_ERRORS,
    ),
    Endpoint(
        "POST",
        "/diff",
        "diff",
        "What changed between two policies: `policy-diff OLD NEW --format json`",
        DiffRequest,
        {"type": "object", "description": "The policy-diff JSON report (docs/diff.md)."},
        (*_COMPUTE_ERRORS, 404),
    ),
    Endpoint(
        "GET", "/openapi.json", "openapi", "This description (OpenAPI 3.1)", reply=_SCHEMA, compute=False
    ),
)

_ERROR_TEXT = {
    400: "The body is not JSON (or not text): diagnostics with line and column",
    404: "No such path, or no such policy in the library (with did-you-mean)",
    405: "The path does not take this method",
    413: "The body is larger than the server takes (--max-body)",
    422: "A field missing, unknown or of the wrong type, or facts the policy refuses",
    500: "A fault of the server (never an answer to bad input)",
    503: "The computation took longer than --timeout, or --concurrency computations were running",
}


def _component_name(ident: str, taken: set[str]) -> str:
    name = "Facts." + re.sub(r"[^A-Za-z0-9._-]", "_", ident)
    base, number = name, 2
    while name in taken:
        name, number = f"{base}.{number}", number + 1
    taken.add(name)
    return name


def openapi(library: Library, policy_schemas: Mapping[str, dict[str, Any]], version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 description of :data:`ENDPOINTS`: the bodies' schemas generated from their
    classes, the facts schemas of the library and of each policy as components."""
    components: dict[str, Any] = {"LibraryFacts": library.facts_schema()}
    facts_refs = {}
    for ident, schema in policy_schemas.items():
        name = _component_name(ident, set(components))
        components[name] = schema
        facts_refs[ident] = f"#/components/schemas/{name}"
    named = {
        LibraryFacts: {"$ref": "#/components/schemas/LibraryFacts"},
        PolicyFacts: {"type": "object"},
    }
    json_schema(ErrorBody, components, named)
    if "EvaluateRequest" not in components:
        json_schema(EvaluateRequest, components, named)
    request = components["EvaluateRequest"]
    request["properties"]["policy"]["enum"] = sorted(policy_schemas)
    request["allOf"] = [  # the facts checked by the schema of the policy named
        {
            "if": {"properties": {"policy": {"const": ident}}, "required": ["policy"]},
            "then": {"properties": {"facts": {"$ref": ref}}},
        }
        for ident, ref in sorted(facts_refs.items())
    ]
    paths: dict[str, Any] = {}
    for endpoint in ENDPOINTS:
        reply = endpoint.reply
        reply_schema = json_schema(reply, components, named) if isinstance(reply, type) else reply
        responses: dict[str, Any] = {
            "200": {"description": "OK", "content": {"application/json": {"schema": reply_schema}}}
        }
        errors = sorted({*endpoint.errors, 500})
        for status in errors:
            responses[str(status)] = {
                "description": _ERROR_TEXT[status],
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
            }
        operation: dict[str, Any] = {
            "operationId": endpoint.name,
            "summary": endpoint.summary,
            "responses": responses,
        }
        if endpoint.request is not None:
            body_schema = json_schema(endpoint.request, components, named)
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": body_schema}},
            }
        parameters = re.findall(r"\{(\w+)(?::\w+)?\}", endpoint.path)
        if parameters:
            operation["parameters"] = [
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": sorted(policy_schemas)},
                    "description": "A policy id as GET /policies lists it (it holds slashes).",
                }
                for name in parameters
            ]
        paths.setdefault(endpoint.openapi_path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": f"policy serve: {library.title}",
            "version": version,
            "description": "Evaluate enterprises under the policies of one library, explain the "
            "outcomes, compare two versions. Every error: components/schemas/ErrorBody.",
        },
        "paths": paths,
        "components": {"schemas": components},
    }


class Api:
    """The answers, without HTTP: each method takes the request body (bytes) and the path's
    parameters and returns a :class:`Reply`, or raises :class:`ApiError`."""

    def __init__(self, library: Library) -> None:
        from importlib.metadata import version

        from policy_dsl.views import facts_schema

        self.library = library
        self.ids = sorted(library.policies)
        self.schemas = {ident: facts_schema(library.policies[ident].checked) for ident in self.ids}
        self.library_facts = library.facts_schema()
        self._library_schema = _dumps(self.library_facts)
        self._policy_schemas = {ident: _dumps(schema) for ident, schema in self.schemas.items()}
        self._openapi = _dumps(openapi(library, self.schemas, version("policy_dsl")))
        self._diffs: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._diffs_lock = threading.Lock()

    # -- parts

    def _policy(self, ident: str) -> Policy:
        policy = self.library.policies.get(ident)
        if policy is None:
            message = f"no policy `{_clip(ident, 200)}` in the library"
            hint = did_you_mean(ident, self.ids) or "GET /policies lists them"
            raise ApiError("unknown_policy", message, (Diagnostic(message, hint=hint),))
        return policy

    @staticmethod
    def _few_enough(facts: Mapping[str, Any], schema: Mapping[str, Any], who_declares: str) -> None:
        """A size limit, checked before the facts are read: each key names a fact at most once, so
        an object with more keys than there are facts holds unknown names — so many that finding
        each one's closest name would take the server minutes (75,000 in a MiB)."""
        declared = schema["properties"]
        if len(facts) <= len(declared):
            return
        unknown = [name for name in facts if name not in declared]
        listed = ", ".join(f"`{_clip(name, 30)}`" for name in unknown[:5])
        message = (
            f"the facts hold {len(facts)} names but {who_declares} only {len(declared)} facts: "
            f"{len(unknown)} are unknown ({listed}, …)"
        )
        hint = "GET /schema and /policies/{id}/schema list the facts"
        raise ApiError("facts_error", message, (Diagnostic(message, hint=hint),))

    def _outcome(self, body: bytes) -> tuple[Policy, Outcome]:
        data, source = read_body_json(body)
        request = read_request(EvaluateRequest, data)
        policy = self._policy(request.policy)
        self._few_enough(request.facts, self.schemas[request.policy], "the policy declares")
        try:
            outcome = policy.evaluate(request.facts, request.as_of, source=source, adopted=request.adopted)
        except FactsError as error:
            raise _policy_error("facts_error", error) from None
        return policy, outcome

    # -- the endpoints, by their names in ENDPOINTS

    def health(self, body: bytes, params: Mapping[str, str]) -> Reply:
        return _reply(to_plain(Health("ok", len(self.ids), self.library.title)))

    def policies(self, body: bytes, params: Mapping[str, str]) -> Reply:
        listed = []
        for ident in self.ids:
            checked = self.library.policies[ident].checked
            header, validity = checked.header, checked.validity
            listed.append(
                PolicyInfo(
                    ident,
                    checked.title,
                    header.version.value if header.version else None,
                    header.status.text if header.status else None,
                    validity.level,
                    header.jurisdiction.value if header.jurisdiction else None,
                    ValidityInfo(validity.start, validity.end, validity.draft, validity.describe()),
                    validity.repeals,
                )
            )
        return _reply(to_plain(PolicyList(self.library.title, tuple(listed))))

    def library_schema(self, body: bytes, params: Mapping[str, str]) -> Reply:
        return Reply(200, self._library_schema)

    def policy_schema(self, body: bytes, params: Mapping[str, str]) -> Reply:
        ident = params["id"]
        self._policy(ident)
        return Reply(200, self._policy_schemas[ident])

    def openapi(self, body: bytes, params: Mapping[str, str]) -> Reply:
        return Reply(200, self._openapi)

    def evaluate(self, body: bytes, params: Mapping[str, str]) -> Reply:
        _, outcome = self._outcome(body)
        return _reply(outcome.to_json())

    def explain(self, body: bytes, params: Mapping[str, str]) -> Reply:
        from policy_dsl.views import explain

        policy, outcome = self._outcome(body)
        return _reply(to_plain(Explanation(explain(policy.checked, outcome), outcome.to_json())))

    def match(self, body: bytes, params: Mapping[str, str]) -> Reply:
        data, source = read_body_json(body)
        request = read_request(MatchRequest, data)
        self._few_enough(request.facts, self.library_facts, "the library's policies declare")
        try:
            matched = self.library.match(request.facts, request.as_of, request.adopted, source)
        except FactsError as error:
            raise _policy_error("facts_error", error) from None
        return _reply(matched.to_json())

    def diff(self, body: bytes, params: Mapping[str, str]) -> Reply:
        from policy_dsl.diff.compare import diff_loaded
        from policy_dsl.diff.report import render

        data, _ = read_body_json(body)
        request = read_request(DiffRequest, data)
        old, new = self._policy(request.old), self._policy(request.new)
        key = (request.old, request.new)
        with self._diffs_lock:
            cached = self._diffs.get(key)
            if cached is not None:
                self._diffs.move_to_end(key)
                return Reply(200, cached)
        report = render(diff_loaded(old, new), "json").encode()  # the policies served, not re-read
        with self._diffs_lock:
            self._diffs[key] = report
            while len(self._diffs) > DIFFS_KEPT:
                self._diffs.popitem(last=False)
        return Reply(200, report)


# ---------------------------------------------------------------- guards: size, time, concurrency


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) when its declared Content-Length or the bytes actually
    streamed (a chunked body has no length) pass ``limit``."""
    from starlette.requests import ClientDisconnect

    def too_large(size: str) -> ApiError:
        return ApiError(
            "body_too_large",
            f"the request body is {size}: the most this server takes is {limit} bytes",
            (Diagnostic(f"the request body is {size}", hint=f"send at most {limit} bytes"),),
        )

    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(f"{int(declared)} bytes long")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(f"longer than {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise ApiError("invalid_json", "the client closed the connection before the body ended") from None
    return b"".join(chunks)


class _Job:
    """A computation that holds one slot of the guard until it ends, in its thread — also when
    the request stopped waiting for it; a job never started gives its slot back at once."""

    def __init__(self, work: Callable[[], T], slots: threading.BoundedSemaphore) -> None:
        self._work = work
        self._slots = slots
        self._lock = threading.Lock()
        self._state = "waiting"

    def __call__(self) -> Any:
        with self._lock:
            if self._state != "waiting":
                return None
            self._state = "running"
        try:
            return self._work()
        finally:
            self._slots.release()

    def abandon(self) -> None:
        with self._lock:
            if self._state == "waiting":
                self._state = "abandoned"
                self._slots.release()


class Guard:
    """Computations run in worker threads, at most ``concurrency`` at once; a request waits for a
    slot and its answer at most ``timeout`` seconds, else 503. Python cannot stop a thread: a
    computation past the timeout runs to its end, holding its slot, so no more than
    ``concurrency`` ever burn the CPU."""

    def __init__(self, concurrency: int, timeout: float) -> None:
        self.concurrency = concurrency
        self.timeout = timeout
        self._slots = threading.BoundedSemaphore(concurrency)

    async def run(self, work: Callable[[], T]) -> T:
        import anyio
        import anyio.to_thread

        deadline = time.monotonic() + self.timeout
        pause = 0.001
        while not self._slots.acquire(blocking=False):
            if time.monotonic() + pause > deadline:
                raise ApiError(
                    "busy",
                    f"{self.concurrency} computations were running for {self.timeout:g} s: try again",
                    headers={"Retry-After": "1"},
                )
            await anyio.sleep(pause)
            pause = min(pause * 2, 0.05)
        job = _Job(work, self._slots)
        try:
            with anyio.fail_after(max(deadline - time.monotonic(), 0)):
                result: T = await anyio.to_thread.run_sync(job, abandon_on_cancel=True)
                return result
        except TimeoutError:
            raise ApiError(
                "timeout", f"the computation took longer than {self.timeout:g} s (--timeout)"
            ) from None
        finally:
            job.abandon()


# ---------------------------------------------------------------- the app


def create_app(
    library: Library,
    max_body: int = MAX_BODY,
    timeout: float = TIMEOUT,
    concurrency: int = CONCURRENCY,
) -> Starlette:
    """The ASGI app serving ``library``: the routes of :data:`ENDPOINTS`, every error as an
    :class:`ErrorBody`."""
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.responses import Response
    from starlette.routing import BaseRoute, Route

    api = Api(library)
    guard = Guard(concurrency, timeout)

    def respond(reply: Reply) -> Response:
        return Response(reply.body, reply.status, reply.headers, media_type="application/json")

    def route(endpoint: Endpoint) -> BaseRoute:
        answer: Callable[[bytes, Mapping[str, str]], Reply] = getattr(api, endpoint.name)

        async def handle(request: Request) -> Response:
            try:
                body = await read_body(request, max_body) if endpoint.request is not None else b""
                work = functools.partial(answer, body, dict(request.path_params))
                reply = await guard.run(work) if endpoint.compute else work()
            except ApiError as error:
                reply = error.reply()
            return respond(reply)

        return Route(endpoint.path, handle, methods=[endpoint.method], name=endpoint.name)

    paths = sorted({endpoint.openapi_path for endpoint in ENDPOINTS})

    def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        where = f"{request.method} {request.url.path}"
        if status == 405:
            allowed = (exc.headers or {}).get("Allow", "") if isinstance(exc, HTTPException) else ""
            error = ApiError(
                "method_not_allowed",
                f"{where}: this path takes {allowed}",
                headers={"Allow": allowed},
            )
        elif status == 404:
            hint = did_you_mean(request.url.path, paths) or "GET /openapi.json lists the paths"
            message = f"{where}: no such path"
            error = ApiError("not_found", message, (Diagnostic(message, hint=hint),))
        else:
            return internal_error(request, exc)
        return respond(error.reply())

    def internal_error(request: Request, exc: Exception) -> Response:
        message = "an unexpected fault of the server; the server's log has it"
        return respond(ApiError("internal_error", message).reply())

    return Starlette(
        routes=[route(endpoint) for endpoint in ENDPOINTS],
        exception_handlers={HTTPException: http_error, Exception: internal_error},
    )


# ---------------------------------------------------------------- the command


@click.command("serve")
@click.argument("library", type=click.Path(file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="The port.")
@click.option(
    "--max-body",
    default=MAX_BODY,
    show_default=True,
    type=click.IntRange(min=1),
    help="The largest request body taken, in bytes (larger: 413).",
)
@click.option(
    "--timeout",
    default=TIMEOUT,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds a request may wait for its computation (longer: 503).",
)
@click.option(
    "--concurrency",
    default=CONCURRENCY,
    show_default=True,
    type=click.IntRange(min=1),
    help="Computations run at once; more wait for a slot.",
)
def serve_command(
    library: str, host: str, port: int, max_body: int, timeout: float, concurrency: int
) -> None:
    """Serve the policies of LIBRARY (a folder with library.index) as an HTTP JSON API.

    POST /evaluate, /explain, /match, /diff; GET /policies, /schema, /health; the description
    at GET /openapi.json.
    """
    import uvicorn

    from policy_dsl.library import load_library

    try:
        loaded = load_library(library)
    except PolicyError as error:
        click.echo(error.render(), err=True)
        sys.exit(2)
    for warning in loaded.warnings:
        click.echo(warning.render() + "\n", err=True)
    app = create_app(loaded, max_body=max_body, timeout=timeout, concurrency=concurrency)
    count = len(loaded.policies)
    click.echo(f"serving {loaded.title}: {count} polic{'y' if count == 1 else 'ies'}", err=True)
    uvicorn.Server(uvicorn.Config(app, host=host, port=port, lifespan="off")).run()
