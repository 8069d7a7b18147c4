"""Request and response bodies shared by the API's routers.

Request bodies refuse unknown fields (``extra="forbid"``) so a typo is a 422 naming the field
instead of a silently ignored value. Property values are checked against the schema by the
graph layer, whose errors name the field, the value and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, Union

from fastapi import Path, Query
from pydantic import (
    AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, StrictBool, StrictInt, StrictStr, StringConstraints,
    create_model, field_validator,
)

from cmdb.errors import InvalidInput
from cmdb.i18n import N_, _
from cmdb.graph import schema
from cmdb.graph.schema import (
    HARDWARE_CATEGORIES, HARDWARE_STATUSES, KEY_MAX_LENGTH, KEY_PATTERN, KINDS, LINE_PATTERN,
    NONBLANK_LINE_PATTERN, RELATIONSHIPS, TEXT_PATTERN,
)
from cmdb.graph import CI
from cmdb.graph.history import ChangeEntry as GraphChangeEntry

# --- shared types: every route takes keys, pages and closed sets through these ------------

KindName = Literal[tuple(KINDS)]  # type: ignore[valid-type]
RelationshipType = Literal[tuple(RELATIONSHIPS)]  # type: ignore[valid-type]
Status = Literal[tuple(HARDWARE_STATUSES)]  # type: ignore[valid-type]

_KEY_HELP = ("A CI's key (its asset tag): at most 128 characters, no control characters, "
             "'/' or '\\', no spaces at either end, not '.' or '..'")
Key = Annotated[str, StringConstraints(min_length=1, max_length=KEY_MAX_LENGTH, pattern=KEY_PATTERN),
                Field(description=_KEY_HELP, examples=["SRV-010"])]
KeyPath = Annotated[str, Path(min_length=1, max_length=KEY_MAX_LENGTH, pattern=KEY_PATTERN,
                              description=_KEY_HELP, examples=["SRV-010"])]
KeyQuery = Annotated[str, Query(min_length=1, max_length=KEY_MAX_LENGTH, pattern=KEY_PATTERN,
                                description=_KEY_HELP, examples=["A-101"])]

AfterKey = Annotated[str | None, Query(
    min_length=1, max_length=KEY_MAX_LENGTH, pattern=KEY_PATTERN,
    description="Keyset cursor: the page starts after the CI with this key (the previous "
                "page's next_after); offset and page are then ignored")]


def text_without(control: "re.Pattern[str]", max_length: int, *, nonblank: bool = False,
                 **field: Any) -> Any:
    """Text of at most ``max_length`` characters with none of the characters of the one-class
    regular expression ``control`` (the validator's own), and something besides spaces when
    ``nonblank`` (the server strips the ends)."""
    assert control.pattern.startswith("[") and control.pattern.endswith("]"), control.pattern
    allowed = "[^" + control.pattern[1:]
    if nonblank:
        visible = "[^" + control.pattern[1:-1] + schema.SPACE_CLASS + "]"
        pattern = f"^{allowed}*{visible}{allowed}*$"
    else:
        pattern = f"^{allowed}*$"
    PATTERN_HELP.setdefault(pattern, N_("text without control characters, with something "
                                        "besides spaces") if nonblank else
                            N_("text without control characters"))
    return Annotated[StrictStr, StringConstraints(max_length=max_length, pattern=pattern), Field(**field)]


DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# Marked for translation; describe_pattern gives them in the reader's language.
PATTERN_HELP = {
    KEY_PATTERN: N_("a key may not contain '/', '\\' or control characters, start or end with a "
                    "space, or be '.' or '..'"),
    LINE_PATTERN: N_("one line of text, without control characters"),
    NONBLANK_LINE_PATTERN: N_("one line of text with something besides spaces, without control "
                              "characters"),
    TEXT_PATTERN: N_("text without NUL characters"),
    DATE_PATTERN: N_("a date as YYYY-MM-DD"),
}


def describe_pattern(pattern: str) -> str:
    """What a pattern of this API's document allows, in words."""
    help_text = PATTERN_HELP.get(pattern)
    if help_text is None:
        return _("the text does not have the form the API documents (see /openapi.json)")
    return _(help_text)


def _real_date(value: str) -> str:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(_("%(value)s is not a date of the calendar; expected YYYY-MM-DD",
                           value=repr(value))) from None
    return value


DateText = Annotated[StrictStr, StringConstraints(pattern=DATE_PATTERN), AfterValidator(_real_date),
                     Field(json_schema_extra={"format": "date"})]


# Hardware categories belong to the users: filters take any text, with the shipped ones as examples.
CategoryQuery = Annotated[str, Query(min_length=1, max_length=64, pattern=NONBLANK_LINE_PATTERN,
                                     description="A hardware category",
                                     examples=list(HARDWARE_CATEGORIES[:3]))]
# The largest offset a page may start at; limits are bounded by the server's max_page_size,
# which the OpenAPI document states (see cmdb.api.openapi).
MAX_OFFSET = 10_000_000
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many matches to skip")]
# The OpenAPI document gives every limit the running server's max_page_size as its maximum.
MAX_PAGE_SIZE_SETTING = "x-cmdb-maximum-setting"
Limit = Annotated[int, Query(ge=1, description="Page size (at most the server's max_page_size)",
                             json_schema_extra={MAX_PAGE_SIZE_SETTING: "max_page_size"})]


def check_page(settings: Any, limit: int) -> None:
    if limit > settings.max_page_size:
        raise InvalidInput(_("limit %(limit)s is larger than the maximum page size %(max)s; "
                             "fetch further pages with offset", limit=limit,
                             max=settings.max_page_size),
                           field="limit", value=limit,
                           allowed=_("1 to %(max)s", max=settings.max_page_size))


def reject_unencodable(value: Any) -> Any:
    """Refuse text that cannot be stored as UTF-8 (lone surrogates from ``\\ud800`` escapes)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(_("text contains an unpaired surrogate (\\ud800-\\udfff); "
                               "send valid UTF-8 text")) from None
    elif isinstance(value, dict):
        for k, v in value.items():
            reject_unencodable(k)
            reject_unencodable(v)
    elif isinstance(value, list):
        for v in value:
            reject_unencodable(v)
    return value


class RequestModel(BaseModel):
    # strict: a JSON true is a boolean and 16 a number, never "true" or "16", as documented.
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _utf8_only(cls, value: Any) -> Any:
        return reject_unencodable(value)


# --- CIs -----------------------------------------------------------------------------------


class CIOut(BaseModel):
    key: str
    kind: KindName
    properties: dict[str, Any] = Field(description="Its properties, including the ones the "
                                                   "CMDB maintains (revision, timestamps)")
    revision: int = Field(description="Bumped on every change; sent as the ETag")

    @classmethod
    def of(cls, ci: CI) -> "CIOut":
        return cls(key=ci.key, kind=ci.kind, properties=dict(ci.properties), revision=ci.revision)


# --- per-kind properties, generated from the graph schema the graph layer validates with ----


def _whole_number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _value_type(prop: schema.Prop) -> Any:
    """The JSON type of one property as the API takes it (strict: 16 is not "16")."""
    bounds = {k: int(v) if float(v).is_integer() else v
              for k, v in (("ge", prop.minimum), ("le", prop.maximum)) if v is not None}
    text = Annotated[StrictStr, StringConstraints(max_length=schema.TEXT_MAX_LENGTH, pattern=TEXT_PATTERN)]
    by_type = {
        schema.STR: text,
        schema.TEXT: Annotated[StrictStr, StringConstraints(max_length=schema.LONG_TEXT_MAX_LENGTH,
                                                            pattern=TEXT_PATTERN)],
        # JSON Schema counts 16.0 as an integer, so the API does too.
        schema.INT: Annotated[int, Field(strict=True, **bounds), BeforeValidator(_whole_number)],
        schema.NUMBER: Annotated[float, Strict(), Field(allow_inf_nan=False, **bounds)],
        # Dates stay text: the graph layer reads them (and refuses 2026-02-30).
        schema.DATE: DateText,
        schema.DATETIME: Annotated[StrictStr, Field(json_schema_extra={"format": "date-time"})],
        schema.BOOL: StrictBool,
        schema.STR_LIST: Annotated[list[text], Field(max_length=schema.LIST_MAX_ITEMS)],
    }
    if prop.name == "category":
        # The register's own categories: its key, a display name or a synonym (the graph
        # layer refuses an unknown one, naming the categories there are).
        return Annotated[StrictStr, StringConstraints(min_length=1, max_length=128,
                                                      pattern=NONBLANK_LINE_PATTERN)]
    if prop.type == schema.ENUM:
        return Literal[prop.choices]  # type: ignore[valid-type]
    return by_type[prop.type]


# A custom field's value (cmdb.graph.vocabulary): text, number, true/false, or null to remove it.
CustomValue = Union[
    Annotated[StrictStr, StringConstraints(max_length=schema.TEXT_MAX_LENGTH, pattern=TEXT_PATTERN)],
    StrictInt, Annotated[float, Strict(), Field(allow_inf_nan=False)], StrictBool, None]


class PropertiesBase(RequestModel):
    """Built-in properties by name; any other name is one of the kind's custom fields (the
    graph layer refuses a name that is neither, listing what the kind takes)."""
    model_config = ConfigDict(extra="allow", strict=True)
    __pydantic_extra__: dict[str, CustomValue] = Field(init=False)  # type: ignore[assignment]


def _properties_model(name: str, props: list[schema.Prop], doc: str) -> type[BaseModel]:
    fields = {p.name: (_value_type(p) | None, Field(None, description=p.description or None))
              for p in props}
    model = create_model(name, __base__=PropertiesBase, __doc__=doc, **fields)  # type: ignore[call-overload]
    return model


PROPERTIES_MODELS: dict[str, type[BaseModel]] = {
    label: _properties_model(f"{label}Properties", [p for p in kind.properties if not p.system],
                             f"The properties a {label} takes; null removes one.")
    for label, kind in KINDS.items()
}


def _every_property() -> list[schema.Prop]:
    merged: dict[str, schema.Prop] = {}
    for kind in KINDS.values():
        for prop in kind.properties:
            if not prop.system:
                assert merged.setdefault(prop.name, prop) == prop, f"{prop.name} differs between kinds"
    return list(merged.values())


AnyProperties = _properties_model(
    "CIProperties", _every_property(),
    "Properties of any kind; each must belong to the CI's kind (409 otherwise). null removes one.")


def property_values(properties: BaseModel) -> dict[str, Any]:
    """The properties a request set, as the graph layer takes them."""
    return properties.model_dump(exclude_unset=True)


class CICreateBase(RequestModel):
    key: Key


CI_CREATE_MODELS = [
    create_model(f"{label}Create", __base__=CICreateBase,
                 kind=(Literal[label], ...),  # type: ignore[valid-type]
                 properties=(PROPERTIES_MODELS[label], Field(default_factory=PROPERTIES_MODELS[label])))
    for label in KINDS
]
CICreate = Annotated[Union[tuple(CI_CREATE_MODELS)], Field(discriminator="kind")]  # type: ignore[valid-type]


class CIPatch(RequestModel):
    properties: AnyProperties = Field(  # type: ignore[valid-type]
        default_factory=AnyProperties,
        description="Properties to set; null removes one. asset_staff may change only `status`.")
    location: Key | None = Field(
        default=None, description="Key of the Location the CI is now in (replaces its LOCATED_IN link)")


class Page(BaseModel):
    items: list[CIOut]
    total: int = Field(description="How many CIs match, over all pages")
    offset: int
    limit: int
    next_after: str | None = Field(
        None, description="Pass as ?after= for the next page (a keyset cursor, stable while "
                          "CIs are added or removed); null on the last page")


class DeleteResult(BaseModel):
    key: str
    deleted: bool = True
    removed_relationships: list["RelationshipOfCI"]


# --- relationships -------------------------------------------------------------------------


class RelationshipIn(RequestModel):
    from_key: Key = Field(alias="from", description="Key of the CI that needs the other")
    type: RelationshipType
    to_key: Key = Field(alias="to", description="Key of the CI it needs")


class Relationship(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_key: str = Field(alias="from")
    type: RelationshipType
    to_key: str = Field(alias="to")


class LinkOut(Relationship):
    created: bool = Field(description="False when the relationship already existed")
    replaced: list[Relationship] = Field(
        default_factory=list,
        description="Single-valued relationships (LOCATED_IN, RUNS_IMAGE) this one replaced")


class UnlinkOut(Relationship):
    deleted: bool = True


class RelationshipOfCI(BaseModel):
    direction: Literal["out", "in"] = Field(description="out: this CI needs the other; "
                                                        "in: the other needs this CI")
    type: str
    key: str
    kind: str | None = None
    name: str | None = None


# --- history -------------------------------------------------------------------------------


class ChangeEntry(BaseModel):
    id: str
    at: str
    actor: str
    action: str
    key: str
    kind: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    source: str | None = None

    @classmethod
    def of(cls, entry: GraphChangeEntry) -> "ChangeEntry":
        return cls(**entry.as_dict())


class HistoryPage(BaseModel):
    items: list[ChangeEntry]
    total: int
    offset: int
    limit: int


# --- errors --------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI descriptions of the error answers a route can give."""
    text = {400: "Malformed request (JSON from the app; plain text from the HTTP server)", 401: "Missing or unknown token", 403: "Role may not do this",
            404: "Unknown key", 409: "Duplicate key, or still needed by other CIs",
            412: "Changed by someone else since the If-Match version",
            413: "Request body too large", 422: "Invalid input (names the field and what is allowed)",
            503: "Graph engine unavailable, restarting (Retry-After) or out of memory",
            507: "Not enough disk space on the server; nothing was written"}
    answers: dict[int | str, dict[str, Any]] = {
        s: {"model": ErrorBody, "description": text[s]} for s in statuses}
    if 400 in answers:
        # A request the HTTP server itself cannot parse is refused before the app, in plain text.
        answers[400]["content"] = {"text/plain": {"schema": {"type": "string"}}}
    return answers


COMMON_ERRORS = error_responses(400, 401, 403, 413, 422, 503, 507)

DeleteResult.model_rebuild()
