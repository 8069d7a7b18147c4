"""Request and response bodies shared by the API's routers.

Request bodies refuse unknown fields (``extra="forbid"``) so a typo is a 422 naming the field
instead of a silently ignored value. Property values are checked against the schema by the
graph layer, whose errors name the field, the value and what is allowed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cmdb.graph.schema import KEY_MAX_LENGTH, KINDS, RELATIONSHIPS
from cmdb.graph.store import CI
from cmdb.graph.history import ChangeEntry as GraphChangeEntry

KindName = Literal[tuple(KINDS)]  # type: ignore[valid-type]
RelationshipType = Literal[tuple(RELATIONSHIPS)]  # type: ignore[valid-type]
Key = Field(min_length=1, max_length=KEY_MAX_LENGTH, description="The CI's key (its asset tag)")


def reject_unencodable(value: Any) -> Any:
    """Refuse text that cannot be stored as UTF-8 (lone surrogates from ``\\ud800`` escapes)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text contains an unpaired surrogate (\\ud800-\\udfff); "
                             "send valid UTF-8 text") from None
    elif isinstance(value, dict):
        for k, v in value.items():
            reject_unencodable(k)
            reject_unencodable(v)
    elif isinstance(value, list):
        for v in value:
            reject_unencodable(v)
    return value


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

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


class CICreate(RequestModel):
    key: str = Key
    kind: KindName
    properties: dict[str, Any] = Field(default_factory=dict,
                                       description="Property name -> value; see the schema")


class CIPatch(RequestModel):
    properties: dict[str, Any] = Field(
        default_factory=dict,
        description="Properties to set; null removes one. asset_staff may change only `status`.")
    location: str | None = Field(
        default=None, min_length=1, max_length=KEY_MAX_LENGTH,
        description="Key of the Location the CI is now in (replaces its LOCATED_IN link)")


class Page(BaseModel):
    items: list[CIOut]
    total: int = Field(description="How many CIs match, over all pages")
    offset: int
    limit: int


class DeleteResult(BaseModel):
    key: str
    deleted: bool = True
    removed_relationships: list["RelationshipOfCI"]


# --- relationships -------------------------------------------------------------------------


class RelationshipIn(RequestModel):
    from_key: str = Field(alias="from", min_length=1, max_length=KEY_MAX_LENGTH,
                          description="Key of the CI that needs the other")
    type: RelationshipType
    to_key: str = Field(alias="to", min_length=1, max_length=KEY_MAX_LENGTH,
                        description="Key of the CI it needs")


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
    text = {400: "Malformed request", 401: "Missing or unknown token", 403: "Role may not do this",
            404: "Unknown key", 409: "Duplicate key, or still needed by other CIs",
            412: "Changed by someone else since the If-Match version",
            413: "Request body too large", 422: "Invalid input (names the field and what is allowed)",
            503: "Graph engine unavailable"}
    return {s: {"model": ErrorBody, "description": text[s]} for s in statuses}


COMMON_ERRORS = error_responses(400, 401, 403, 413, 422, 503)

DeleteResult.model_rebuild()
