"""Impact analysis for change reviewers: what breaks, why, and is the change compatible."""

from __future__ import annotations

from typing import Any, Literal, Optional

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from cmdb.auth import GraphDep, allowed_to
from cmdb.api.models import PROPERTIES_MODELS, Key, KindName, RequestModel, property_values
from cmdb.impact.compatibility import check_hardware_change, check_image_change
from cmdb.impact.picture import render_svg
from cmdb.impact.service import MAX_DEPTH, MAX_KEYS
from cmdb.impact.service import impact as run
from cmdb.i18n import _

# Even at 128 four-byte characters each, this many keys fit the HTTP server's request line
# (about 64 KB); POST /impact takes more.
PICTURE_MAX_KEYS = 32
router = APIRouter(prefix="/impact", tags=["impact"], dependencies=[Depends(allowed_to("impact"))])


HardwareProperties = PROPERTIES_MODELS["Hardware"]


class ImageRequirements(RequestModel):
    """Requirements to check instead of the image's own."""
    min_cpu_cores: PROPERTIES_MODELS["SoftwareImage"].model_fields["min_cpu_cores"].annotation = None  # type: ignore
    min_ram_gb: PROPERTIES_MODELS["SoftwareImage"].model_fields["min_ram_gb"].annotation = None  # type: ignore
    min_disk_gb: PROPERTIES_MODELS["SoftwareImage"].model_fields["min_disk_gb"].annotation = None  # type: ignore
    supported_models: PROPERTIES_MODELS["SoftwareImage"].model_fields["supported_models"].annotation = None  # type: ignore


class ImpactRequest(RequestModel):
    keys: list[Key] = Field(..., min_length=1, max_length=MAX_KEYS,
                            description="The CIs that change or go away")
    depth: Optional[int] = Field(None, ge=1, le=MAX_DEPTH, description="Follow at most this many steps")
    kinds: Optional[list[KindName]] = Field(None, max_length=4,
                                            description="Only list affected CIs of these kinds")


class ChangedCI(BaseModel):
    key: str
    kind: str
    name: Optional[str] = None


class AffectedCI(BaseModel):
    key: str
    kind: str
    name: Optional[str] = None
    state: str = Field(description="down or degraded")
    distance: int = Field(description="Steps to the nearest changed CI")
    path: list[dict[str, str]] = Field(description="One shortest explanation, from this CI to a changed "
                                                   "CI: [{key}, {type}, {key}, ...]")
    criticality: Optional[str] = None


class PlaceRef(BaseModel):
    key: str
    name: Optional[str] = None


class LocationCount(BaseModel):
    site: Optional[PlaceRef] = None
    building: Optional[PlaceRef] = None
    count: int
    down: int
    degraded: int


class AffectedApplication(BaseModel):
    key: str
    name: Optional[str] = None
    criticality: Optional[str] = None
    state: str
    distance: int


class ImpactSummary(BaseModel):
    total: int
    by_kind: dict[str, int]
    by_state: dict[str, int]
    by_location: list[LocationCount]
    by_criticality: dict[str, int]
    applications: list[AffectedApplication] = Field(description="Sorted by criticality: vip, high, "
                                                                "standard, low, unset")


class OpenFault(BaseModel):
    key: str = Field(description="The changed or affected CI the fault is on")
    id: str
    severity: Literal["A", "B", "C", "D"]
    title: str
    status: str
    reported_at: str


class ImpactResponse(BaseModel):
    changed: list[ChangedCI]
    depth: Optional[int] = None
    affected: list[AffectedCI]
    stand_ins: dict[str, list[str]] = Field(
        default_factory=dict, description="Hosts with a spare or loaner standing in for them "
                                          "(STANDS_IN_FOR): their applications keep running")
    summary: ImpactSummary
    open_faults: list[OpenFault] = Field(default_factory=list, description="Fault records not yet "
                                         "closed on the changed and affected CIs, grade A first")


class ImageChangeRequest(RequestModel):
    image: Key = Field(..., description="The SoftwareImage the devices run now")
    new_image: Optional[Key] = Field(None, description="The SoftwareImage to roll out instead")
    requirements: Optional[ImageRequirements] = Field(
        None, description="Requirements to use instead of the (new) image's own")


class Check(BaseModel):
    requirement: str
    property: str
    required: Any = None
    actual: Any = None
    result: str = Field(description="pass, fail, unknown or not_required")


class DeviceCheck(BaseModel):
    key: str
    name: Optional[str] = None
    category: Optional[str] = None
    status: Optional[str] = None
    model: Optional[str] = None
    applications: list[str]
    checks: list[Check]
    verdict: str


class ImageRef(BaseModel):
    key: str
    name: Optional[str] = None
    version: Optional[str] = None


class ImageChangeSummary(BaseModel):
    devices: int
    pass_: int = Field(alias="pass")
    fail: int
    unknown: int
    applications_on_failing_devices: list[str]

    model_config = ConfigDict(populate_by_name=True)


class ImageChangeResponse(BaseModel):
    image: ImageRef
    new_image: Optional[ImageRef] = None
    requirements: dict[str, Any]
    devices: list[DeviceCheck]
    summary: ImageChangeSummary


class HardwareChangeRequest(RequestModel):
    key: Key = Field(..., description="The Hardware that changes")
    properties: HardwareProperties = Field(  # type: ignore[valid-type]
        ..., description="The new configuration, e.g. {\"ram_gb\": 8}",
        json_schema_extra={"minProperties": 1})

    @field_validator("properties")
    @classmethod
    def _not_empty(cls, value: BaseModel) -> BaseModel:
        if not value.model_fields_set:
            raise ValueError(_("give at least one new hardware property, e.g. ram_gb"))
        return value


class ImageCheck(BaseModel):
    key: str
    name: Optional[str] = None
    version: Optional[str] = None
    requirements: dict[str, Any]
    verdict_before: str
    verdict: str
    no_longer_satisfied: bool
    checks: list[Check]


class ApplicationCheck(BaseModel):
    key: str
    name: Optional[str] = None
    criticality: Optional[str] = None
    verdict: str
    images: list[str]


class HardwareChangeSummary(BaseModel):
    images: int
    images_failing: list[str]
    images_no_longer_satisfied: list[str]
    applications_affected: list[str]
    verdict: str


class HardwareChangeResponse(BaseModel):
    hardware: PlaceRef
    before: dict[str, Any]
    after: dict[str, Any]
    changes: dict[str, Any]
    images: list[ImageCheck]
    applications: list[ApplicationCheck]
    summary: HardwareChangeSummary


@router.post("", response_model=ImpactResponse)
def impact(request: ImpactRequest, graph: GraphDep) -> dict[str, Any]:
    """Everything that needs the given CIs, directly or through others, with its state
    (down / degraded), its distance and one shortest path explaining it."""
    return run(graph, request.keys, depth=request.depth, kinds=request.kinds)


@router.post("/image-change", response_model=ImageChangeResponse)
def image_change(request: ImageChangeRequest, graph: GraphDep) -> dict[str, Any]:
    """Can every device built from `image` carry `new_image` (or the given requirements)?"""
    requirements = None if request.requirements is None else property_values(request.requirements)
    return check_image_change(graph, request.image, request.new_image, requirements)


@router.post("/hardware-change", response_model=HardwareChangeResponse)
def hardware_change(request: HardwareChangeRequest, graph: GraphDep) -> dict[str, Any]:
    """Which images and applications on the hardware would the new configuration no longer fit?"""
    return check_hardware_change(graph, request.key, property_values(request.properties))


@router.get("/graph.svg", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}, "description": "The impact drawn as SVG"}})
def impact_graph(graph: GraphDep,
                 keys: list[Key] = Query(..., min_length=1, max_length=PICTURE_MAX_KEYS,
                                         description="Changed CIs: repeat the parameter or "
                                                     "separate keys with commas"),
                 depth: Optional[int] = Query(None, ge=1, le=MAX_DEPTH)) -> Response:
    """A picture of the impact: the changed CIs, the affected CIs coloured by state, and the
    explanation paths between them (the nearest ~300 CIs)."""
    svg = render_svg(run(graph, _split_keys(graph, keys), depth=depth))
    return Response(svg, media_type="image/svg+xml", headers={
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        "X-Content-Type-Options": "nosniff"})


def _split_keys(graph: GraphDep, values: list[str]) -> list[str]:
    """``keys=A,B`` means two keys unless ``A,B`` itself is a CI's key (keys may hold commas)."""
    existing = graph.get_cis([v for v in values if "," in v])
    keys: list[str] = []
    for value in values:
        if "," in value and value not in existing:
            keys += [k.strip() for k in value.split(",") if k.strip()] or [value]
        else:
            keys.append(value)
    return keys
