"""Unit tests of the declarative schema: kinds, validation, generated Cypher."""

import pytest

from cmdb.errors import ForbiddenRelationship, InvalidInput, InvalidProperty
from cmdb.graph import schema
from cmdb.graph.ci import list_keys_query
from cmdb.graph.writer import create_cis_query, create_links_query, existing_links_query


def test_the_four_kinds_and_six_relationship_types_are_the_closed_sets():
    assert set(schema.KINDS) == {"Location", "Hardware", "SoftwareImage", "Application"}
    assert set(schema.RELATIONSHIPS) == {"LOCATED_IN", "RUNS_ON", "RUNS_IMAGE", "DEPENDS_ON", "CONNECTED_TO",
                                         "SUPERSEDES"}


def test_relationship_pairs_follow_the_design():
    pairs = {t: set(r.pairs) for t, r in schema.RELATIONSHIPS.items()}
    assert pairs == {
        "LOCATED_IN": {("Hardware", "Location"), ("Location", "Location")},
        "RUNS_ON": {("Application", "Hardware")},
        "RUNS_IMAGE": {("Hardware", "SoftwareImage")},
        "DEPENDS_ON": {("Application", "Application")},
        "CONNECTED_TO": {("Hardware", "Hardware")},
        "SUPERSEDES": {("SoftwareImage", "SoftwareImage")},
    }


def test_generated_statements_use_only_schema_labels():
    statements = schema.schema_statements()
    assert "CREATE CONSTRAINT ci_key_unique IF NOT EXISTS FOR (n:CI) REQUIRE n.key IS UNIQUE" in statements
    assert all("IF NOT EXISTS" in s for s in statements)
    assert create_cis_query("Hardware") == "UNWIND $rows AS r CREATE (n:CI:Hardware) SET n = r"
    assert "[x:RUNS_ON]" in create_links_query("RUNS_ON")
    with pytest.raises(KeyError):
        create_cis_query("Hardware) DETACH DELETE n //")
    with pytest.raises(KeyError):
        create_links_query("RUNS_ON]->() DELETE x //")
    with pytest.raises(KeyError):
        existing_links_query("RUNS_ON]->() DELETE x //")
    assert "-[x:RUNS_ON]->" in existing_links_query("RUNS_ON")
    with pytest.raises(KeyError):
        list_keys_query("CI) DETACH DELETE n //", False)
    with pytest.raises(KeyError):
        list_keys_query("Hardware", False, ["status = 1 DETACH DELETE n //"])
    assert list_keys_query("Hardware", False) == "MATCH (n:Hardware)\nRETURN collect(n.key) AS keys"


def test_keys_stay_text_and_bad_keys_are_refused():
    assert schema.validate_key("000123") == "000123"
    assert schema.validate_key("  资产-01 ") == "资产-01"
    assert schema.validate_key(123) == "123"
    assert schema.validate_key("...") == "..."
    assert schema.validate_key(".hidden") == ".hidden"
    for bad in ["", "   ", None, "a/b", "../etc", "a\\b", "tab\there", "x" * 129, 1.5, True, ".", "..", " .. "]:
        with pytest.raises(InvalidInput):
            schema.validate_key(bad)


def test_kind_and_relationship_lookup_say_what_is_allowed():
    assert schema.kind_of("hardware").label == "Hardware"
    with pytest.raises(InvalidInput) as err:
        schema.kind_of("Server")
    assert "Location, Hardware, SoftwareImage, Application" in err.value.message
    assert schema.relationship_of("runs on").type == "RUNS_ON"
    with pytest.raises(InvalidInput) as err:
        schema.relationship_of("OWNS")
    assert "LOCATED_IN" in err.value.message


@pytest.mark.parametrize("name,value,expected", [
    ("ram_gb", "16", 16), ("ram_gb", 16.0, 16), ("ram_gb", "16.5", 16.5), ("cpu_cores", "8", 8),
    ("status", "In Use", "in_use"), ("purchase_date", "2026-01-05", "2026-01-05"),
    ("name", "服务器 一号", "服务器 一号"), ("serial", 123, "123"),
    ("name", '"}) DETACH DELETE n //', '"}) DETACH DELETE n //'),
])
def test_values_are_converted_to_the_property_type(name, value, expected):
    hardware = schema.KINDS["Hardware"]
    assert schema.validate_properties(hardware, {name: value}) == {name: expected}


@pytest.mark.parametrize("name,value,fragment", [
    ("ram_gb", "lots", "expected a number"),
    ("cpu_cores", "2.5", "not a whole number"),
    ("cpu_cores", -1, "too small"),
    ("status", "broken", "one of: planned, in_stock"),
    ("purchase_date", "2026-13-01", "YYYY-MM-DD"),
    ("name", "x" * 10_000, "10000 characters long"),
    ("colour", "red", "Hardware has no property 'colour'"),
    ("revision", 5, "Hardware has no property 'revision'"),
])
def test_bad_values_name_the_field_and_what_is_allowed(name, value, fragment):
    with pytest.raises(InvalidProperty) as err:
        schema.validate_properties(schema.KINDS["Hardware"], {name: value})
    assert fragment in err.value.message
    assert err.value.field == name


def test_lists_and_images():
    image = schema.KINDS["SoftwareImage"]
    assert schema.validate_properties(image, {"supported_models": "R750; R650、SR650"}) == {
        "supported_models": ["R750", "R650", "SR650"]}
    assert schema.validate_properties(image, {"version": "2026.1"}) == {"version": "2026.1"}


def test_relationship_checks():
    rel = schema.RELATIONSHIPS["RUNS_ON"]
    schema.check_relationship(rel, "Application", "Hardware", "A", "H")
    with pytest.raises(ForbiddenRelationship) as err:
        schema.check_relationship(rel, "Hardware", "Application", "H", "A")
    assert "Application → Hardware" in err.value.message
    with pytest.raises(ForbiddenRelationship):
        schema.check_relationship(schema.RELATIONSHIPS["DEPENDS_ON"], "Application", "Application", "A", "A")
