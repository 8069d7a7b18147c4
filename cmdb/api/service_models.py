"""Request and response bodies of the service records' routers (contracts, repairs, spares)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from cmdb.api.models import DATE_PATTERN, DateText, Key, RequestModel, text_without
from cmdb.errors import InvalidInput
from cmdb.i18n import _
from cmdb.graph.schema import KEY_MAX_LENGTH, KEY_PATTERN
from cmdb.service.contracts import CONTRACT_TYPES, COVERAGE
from cmdb.service.repairs import OUTCOMES, PARTY_LIMIT, STATUSES, TEXT_LIMIT

# What the service records refuse in text: control characters (tab and line breaks allowed in
# multi-line text) and the two non-characters XML cannot carry.
TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f\ufffe\uffff]")

LongText = text_without(TEXT_CONTROL, TEXT_LIMIT, nonblank=True)
OptionalText = text_without(TEXT_CONTROL, TEXT_LIMIT)
Party = text_without(LINE_CONTROL, PARTY_LIMIT, nonblank=True, examples=["Lenovo service centre"])
Line = text_without(LINE_CONTROL, 2000)
ContractType = Literal[CONTRACT_TYPES]  # type: ignore[valid-type]
Coverage = Literal[COVERAGE]  # type: ignore[valid-type]
Hours = Annotated[float, Field(ge=0, le=10_000)]


def whole_number(value: Any) -> Any:
    """JSON Schema counts 240.0 as an integer, so the API does too."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Minimum = Annotated[int, Field(strict=True, ge=0, le=100_000), BeforeValidator(whole_number)]
Cost = Annotated[float, Field(ge=0, le=1_000_000_000)]

RECORD_ID_PATTERN = r"^(RO|SI)-[0-9]{8}-[0-9a-f]{6}$"
RepairId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^RO-[0-9]{8}-[0-9a-f]{6}$",
                               description="A repair order's id", examples=["RO-20261129-0a1b2c"])]
IssueId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^SI-[0-9]{8}-[0-9a-f]{6}$",
                              description="A spare issue's id", examples=["SI-20261129-0a1b2c"])]
ContractNumber = Annotated[str, Path(min_length=1, max_length=KEY_MAX_LENGTH, pattern=KEY_PATTERN,
                                     description="The contract's number",
                                     examples=["LEN-WR-2024-0388"])]
AsOf = Annotated[str | None, Query(pattern=DATE_PATTERN, json_schema_extra={"format": "date"},
                                   description="Answer for this day instead of today (YYYY-MM-DD)")]


def as_of_day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("as_of %(value)s is not a date", value=repr(value)), field="as_of",
                           value=value, allowed="YYYY-MM-DD") from None


# --- contracts ----------------------------------------------------------------------------


class ContractFields(RequestModel):
    title: Line | None = None  # type: ignore[valid-type]
    coverage: list[Coverage] | None = Field(None, max_length=len(COVERAGE))
    response_hours: Hours | None = None
    repair_hours: Hours | None = None
    contacts: OptionalText | None = None  # type: ignore[valid-type]
    notes: OptionalText | None = None  # type: ignore[valid-type]


class ContractIn(ContractFields):
    number: Key = Field(..., description="The contract number (unique)")
    vendor: Party  # type: ignore[valid-type]
    type: ContractType
    start: DateText
    end: DateText = Field(..., description="Not before start")
    covers: list[Key] = Field(default_factory=list, max_length=5000,
                              description="Keys of the CIs it covers")


class ContractPatch(ContractFields):
    # Sent or not; a contract always has these, so null is not accepted for them.
    vendor: Party = None  # type: ignore[valid-type,assignment]
    type: ContractType = None  # type: ignore[assignment]
    start: DateText = None  # type: ignore[assignment]
    end: DateText = None  # type: ignore[assignment]


class CoversIn(RequestModel):
    keys: list[Key] = Field(..., min_length=1, max_length=5000)
    remove: StrictBool = Field(False, description="No longer cover them")


class ContractOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    number: str
    vendor: str
    type: str
    start: str
    end: str
    coverage: list[str] | None = None
    covers: list[str] = []
    covered: int | None = None
    in_force: bool | None = None


class WarrantyContract(BaseModel):
    number: str
    vendor: str | None
    type: str | None
    start: str | None
    end: str | None
    coverage: list[str] | None = None
    response_hours: float | None = None
    repair_hours: float | None = None


class WarrantyOut(BaseModel):
    key: str
    under_warranty: bool
    until: str | None
    source: Literal["contract", "warranty_end"] | None
    contract: WarrantyContract | None


class WarrantyItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    key: str
    warranty_end: str
    days_left: int
    contract: str | None


class WarrantyReport(BaseModel):
    as_of: str
    within_days: int
    until: str
    total: int
    items: list[WarrantyItem]
    counts: dict[str, dict[str, int]]


# --- repairs --------------------------------------------------------------------------------


class RepairIn(RequestModel):
    key: Key = Field(..., description="The faulty hardware")
    fault: LongText  # type: ignore[valid-type]
    send_to: Party | None = Field(None, description="Send it out at once to this vendor or repairer")  # type: ignore[valid-type]


class RepairNoteIn(RequestModel):
    text: LongText  # type: ignore[valid-type]


class SendIn(RequestModel):
    to: Party  # type: ignore[valid-type]


class ReturnIn(RequestModel):
    cost: Cost | None = None
    note: OptionalText | None = None  # type: ignore[valid-type]


class RepairCloseIn(ReturnIn):
    outcome: Literal[OUTCOMES]  # type: ignore[valid-type]


class Note(BaseModel):
    at: str
    on: str
    by: str
    text: str


class RepairOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    key: str
    fault: str
    status: Literal[STATUSES]  # type: ignore[valid-type]
    opened_at: str
    opened_by: str
    under_warranty: bool
    contract: str | None = None
    warranty_until: str | None = None
    sent_to: str | None = None
    due_back: str | None = None
    progress_due: str | None = None
    notes: list[Note]
    overdue: bool
    overdue_reasons: list[Literal["progress", "return"]]


# --- spares ---------------------------------------------------------------------------------


class SpareIn(RequestModel):
    key: Key
    location: Key | None = Field(None, description="Stock location (default: where it is)")
    model: Line | None = Field(None, description="Model it is a spare for (default: its own)")  # type: ignore[valid-type]


class SpareOut(BaseModel):
    key: str
    name: str | None
    model: str | None
    spare_model: str | None
    status: str | None
    location: str | None
    location_name: str | None


class MinimumIn(RequestModel):
    model: Party  # type: ignore[valid-type]
    location: Key
    minimum: Minimum


class MinimumOut(BaseModel):
    model: str
    location: str
    minimum: int
    updated_at: str
    updated_by: str


class StockOut(BaseModel):
    model: str
    location: str
    location_name: str | None
    in_stock: int
    issued: int
    minimum: int | None
    short: int
    keys: list[str]


class IssueIn(RequestModel):
    repair: Annotated[str, Field(pattern=r"^RO-[0-9]{8}-[0-9a-f]{6}$", max_length=64,
                                 examples=["RO-20261129-0a1b2c"])]
    spare: Key


class IssueOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    repair: str
    spare: str
    unit: str
    model: str | None = None
    from_location: str | None = None
    to_location: str | None = None
    issued_at: str
    issued_by: str
    returned_at: str | None = None


def public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}
