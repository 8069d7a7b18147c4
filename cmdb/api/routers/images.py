"""Standard images: lineage, devices on superseded images or past end of support (every
role), and the rollout to a successor image (reviewer, like the other change questions)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from cmdb.auth import GraphDep, Reviewer, Viewer
from cmdb.api.models import DateText, KeyPath, KeyQuery
from cmdb.images import lineage as images
from cmdb.impact.rollout import rollout

router = APIRouter(prefix="/images", tags=["images"])

CategoryQuery = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[a-z_]+$",
                                            description="Only devices of this category",
                                            examples=["pc"])]


class LineageImageRef(BaseModel):
    key: str
    name: str | None = None
    version: str | None = None
    end_of_support: str | None = None


class LineageOut(BaseModel):
    image: LineageImageRef
    supersedes: list[str] = Field(description="The images this one replaces directly")
    superseded_by: list[str] = Field(description="The images that replace this one directly")
    older: list[LineageImageRef] = Field(description="Every image this one replaces, directly or not")
    newer: list[LineageImageRef] = Field(description="Every image that replaces this one, directly or not")
    devices: int = Field(description="Devices built from this image")
    past_end_of_support: bool


class DeviceOnImage(BaseModel):
    key: str
    name: str | None
    category: str | None
    status: str | None
    image: str
    end_of_support: str | None
    superseded_by: list[str]
    site: str | None
    site_name: str | None


class DeviceList(BaseModel):
    devices: list[DeviceOnImage]
    total: int
    by_site: dict[str, int]
    by_category: dict[str, int]
    by_image: dict[str, int]
    site: str | None
    category: str | None
    on: str | None = Field(None, description="The day end of support is compared with")


class RolloutDevice(BaseModel):
    key: str
    name: str | None
    category: str | None
    status: str | None
    model: str | None
    applications: list[str]
    verdict: str
    reasons: list[str] = Field(description="Why it cannot (or may not) take the new image")


class MovedDevice(BaseModel):
    key: str
    name: str | None
    category: str | None
    status: str | None
    at: str
    actor: str
    source: str | None


class RolloutSummary(BaseModel):
    moved: int
    still_on_old: int
    can: int
    cannot: int
    unknown: int
    reasons: dict[str, int]
    applications_on_devices_that_cannot: list[str]


class RolloutOut(BaseModel):
    image: LineageImageRef
    new_image: LineageImageRef
    new_supersedes_old: bool
    requirements: dict[str, Any]
    moved: list[MovedDevice]
    can: list[RolloutDevice]
    cannot: list[RolloutDevice]
    unknown: list[RolloutDevice]
    summary: RolloutSummary


@router.get("/superseded-devices", response_model=DeviceList,
            summary="Devices still on an image another one supersedes")
def superseded_devices(graph: GraphDep, _: Viewer, site: KeyQuery | None = None,
                       category: CategoryQuery = None) -> dict[str, Any]:
    return images.on_superseded_images(graph, site=site, category=category)


@router.get("/past-support-devices", response_model=DeviceList,
            summary="Devices on an image past its end of support")
def past_support_devices(graph: GraphDep, _: Viewer, site: KeyQuery | None = None,
                         category: CategoryQuery = None,
                         on: Annotated[DateText | None, Query(description="Compare with this day "
                                                              "(default today)")] = None) -> dict[str, Any]:
    return images.past_end_of_support(graph, on=on, site=site, category=category)


@router.get("/{key}/lineage", response_model=LineageOut, summary="What an image supersedes and is superseded by")
def image_lineage(key: KeyPath, graph: GraphDep, _: Viewer) -> dict[str, Any]:
    return images.lineage(graph, key)


@router.get("/{key}/rollout", response_model=RolloutOut,
            summary="Devices moved to a new image, and which can or cannot move and why")
def image_rollout(key: KeyPath, to: KeyQuery, graph: GraphDep, _: Reviewer) -> dict[str, Any]:
    """``to`` is the new image. Can and cannot are the compatibility check of the devices still
    on ``key`` against it; moved are those on ``to`` whose history shows them leaving ``key``."""
    return rollout(graph, key, to)
