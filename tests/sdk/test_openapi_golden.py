"""The golden documents of `crates/openapi/tests/golden/export` (what the writer must produce for
a fixed set of APIs, compared byte for byte by `cargo test`) are valid Swagger 2.0 / OpenAPI 3.0
for openapi-spec-validator, the validator users run on exported files."""

import json
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

GOLDEN = Path(__file__).resolve().parents[2] / "crates" / "openapi" / "tests" / "golden" / "export"
FILES = sorted(GOLDEN.glob("*.json")) + sorted(GOLDEN.glob("*.yaml"))


def test_there_are_golden_exports_for_both_versions_and_formats():
    names = {f.name for f in FILES}
    assert any(n.endswith(".swagger.json") for n in names) and any(n.endswith(".openapi.yaml") for n in names), names


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_golden_export_is_valid(path):
    text = path.read_text()
    doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    validate(doc)
