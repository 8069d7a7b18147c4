"""The register's vocabulary: categories, the words for the fixed statuses, custom fields.

Everyone may read it; changing it is the policy's ``vocabulary`` action (registrar, admin).
Renaming or merging a category rewrites the CIs that use it, with history, in one transaction.
"""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field, StringConstraints

from cmdb.auth import GraphDep, Principal, Viewer, allowed_to
from cmdb.api.models import COMMON_ERRORS, KindName, RequestModel, error_responses
from cmdb.graph import categories as vocab
from cmdb.graph.schema import NONBLANK_LINE_PATTERN
from cmdb.graph.vocabulary import FIELD_TYPES, CustomField, Term

router = APIRouter(tags=["vocabulary"], responses=COMMON_ERRORS)
VocabularyEditor = Annotated[Principal, Depends(allowed_to("vocabulary"))]

Word = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=NONBLANK_LINE_PATTERN)]
CategoryKey = Annotated[str, Path(min_length=1, max_length=128, pattern=NONBLANK_LINE_PATTERN,
                                  description="A category's key (or a name or synonym of it)",
                                  examples=["server"])]
FieldType = Annotated[str, StringConstraints(pattern="^(" + "|".join(FIELD_TYPES) + ")$")]


class Names(RequestModel):
    en: Optional[Word] = None
    zh_CN: Optional[Word] = Field(None, alias="zh-CN")
    zh_TW: Optional[Word] = Field(None, alias="zh-TW")

    def given(self) -> dict[str, str]:
        return {lang: v for lang, v in (("en", self.en), ("zh-CN", self.zh_CN),
                                        ("zh-TW", self.zh_TW)) if v is not None}


class NamesOut(BaseModel):
    en: str
    zh_CN: str = Field(alias="zh-CN")
    zh_TW: str = Field(alias="zh-TW")


class CategoryOut(BaseModel):
    key: str
    names: NamesOut
    synonyms: list[str]
    network_gear: bool = Field(description="Carries other devices' traffic")
    takes_image: bool = Field(description="Built from a standard software image")

    @classmethod
    def of(cls, term: Term) -> "CategoryOut":
        return cls.model_validate(term.as_dict())


class StatusOut(BaseModel):
    key: str
    names: NamesOut
    synonyms: list[str] = Field(description="Words (other tools' labels) that mean this status")

    @classmethod
    def of(cls, term: Term) -> "StatusOut":
        d = term.as_dict()
        return cls(key=d["key"], names=NamesOut.model_validate(d["names"]), synonyms=d["synonyms"])


class CategoryIn(RequestModel):
    key: Word = Field(description="The key CIs carry, e.g. ornamental_railings")
    names: Names = Field(default_factory=Names)
    synonyms: list[Word] = Field(default_factory=list, max_length=200)
    network_gear: bool = False
    takes_image: bool = False


class CategoryChange(RequestModel):
    key: Optional[Word] = Field(None, description="A new key: every CI with the old one changes "
                                                  "(with history); the old key stays a synonym")
    names: Names = Field(default_factory=Names)
    synonyms: Optional[list[Word]] = Field(None, max_length=200, description="Replaces the synonyms")
    network_gear: Optional[bool] = None
    takes_image: Optional[bool] = None


class CategoryMerge(RequestModel):
    into: Word = Field(description="The category that takes over the CIs and words")


class CategoryChanged(BaseModel):
    category: CategoryOut
    cis_changed: list[str] = Field(description="Keys of the CIs rewritten")


class CategoryDeleted(BaseModel):
    deleted: str


class StatusWords(RequestModel):
    words: list[Word] = Field(min_length=1, max_length=200,
                              description="Labels (e.g. another tool's) that mean this status")


class FieldIn(RequestModel):
    kind: KindName
    name: Word = Field(description="Its name, also its column heading in imports and exports")
    type: FieldType = Field(description="text, integer, decimal, date, boolean or choice")
    names: Names = Field(default_factory=Names)
    choices: list[Word] = Field(default_factory=list, max_length=500)


class FieldOut(BaseModel):
    kind: str
    name: str
    type: str
    names: NamesOut
    choices: list[str]

    @classmethod
    def of(cls, f: CustomField) -> "FieldOut":
        return cls.model_validate(f.as_dict())


def _flags(network_gear: bool | None, takes_image: bool | None) -> dict[str, bool]:
    return {k: v for k, v in (("network_gear", network_gear), ("takes_image", takes_image))
            if v is not None}


@router.get("/categories", response_model=list[CategoryOut], summary="The register's categories")
def list_categories(graph: GraphDep, _: Viewer) -> list[CategoryOut]:
    return [CategoryOut.of(t) for t in graph.vocabulary().categories.values()]


@router.post("/categories", response_model=CategoryOut, status_code=201, summary="Add a category",
             responses=error_responses(409))
def add_category(body: CategoryIn, graph: GraphDep, _: VocabularyEditor) -> CategoryOut:
    term = vocab.new_term(body.key, body.names.given(), body.synonyms,
                          _flags(body.network_gear, body.takes_image))
    return CategoryOut.of(vocab.add_category(graph, term))


@router.patch("/categories/{key}", response_model=CategoryChanged,
              summary="Rename a category or change its names, synonyms and flags",
              responses=error_responses(404, 409))
def change_category(key: CategoryKey, body: CategoryChange, graph: GraphDep,
                    principal: VocabularyEditor) -> CategoryChanged:
    term, changed = vocab.rename_category(graph, key, body.key, names=body.names.given(),
                                          synonyms=body.synonyms,
                                          flags=_flags(body.network_gear, body.takes_image),
                                          actor=principal.actor)
    return CategoryChanged(category=CategoryOut.of(term), cis_changed=changed)


@router.post("/categories/{key}/merge", response_model=CategoryChanged,
             summary="Merge a category into another (its CIs and words move over)",
             responses=error_responses(404))
def merge_category(key: CategoryKey, body: CategoryMerge, graph: GraphDep,
                   principal: VocabularyEditor) -> CategoryChanged:
    term, changed = vocab.merge_categories(graph, key, body.into, actor=principal.actor)
    return CategoryChanged(category=CategoryOut.of(term), cis_changed=changed)


@router.delete("/categories/{key}", response_model=CategoryDeleted,
               summary="Delete a category no CI uses (409 while CIs have it: merge it instead)",
               responses=error_responses(404, 409))
def delete_category(key: CategoryKey, graph: GraphDep, _: VocabularyEditor) -> CategoryDeleted:
    return CategoryDeleted(deleted=vocab.remove_category(graph, key).key)


@router.get("/statuses", response_model=list[StatusOut],
            summary="The fixed hardware statuses and the words that mean them")
def list_statuses(graph: GraphDep, _: Viewer) -> list[StatusOut]:
    return [StatusOut.of(t) for t in graph.vocabulary().statuses.values()]


@router.post("/statuses/{key}/words", response_model=StatusOut,
             summary="Let other words (another tool's labels) mean a status",
             responses=error_responses(404, 409))
def add_status_words(key: Annotated[str, Path(min_length=1, max_length=128,
                                                pattern=NONBLANK_LINE_PATTERN, examples=["in_repair"])],
                     body: StatusWords, graph: GraphDep, _: VocabularyEditor) -> StatusOut:
    return StatusOut.of(vocab.add_status_words(graph, key, body.words))


@router.get("/fields", response_model=list[FieldOut], summary="Custom fields")
def list_fields(graph: GraphDep, _: Viewer,
                kind: Annotated[Optional[KindName], Query(description="Only this kind's")] = None
                ) -> list[FieldOut]:
    words = graph.vocabulary()
    return [FieldOut.of(f) for k, fields in sorted(words.fields.items()) if kind in (None, k)
            for f in fields.values()]


@router.post("/fields", response_model=FieldOut, status_code=201, summary="Declare a custom field",
             responses=error_responses(409))
def add_field(body: FieldIn, graph: GraphDep, _: VocabularyEditor) -> FieldOut:
    return FieldOut.of(vocab.add_field(graph, body.kind, body.name, body.type,
                                       names=body.names.given(), choices=body.choices))
