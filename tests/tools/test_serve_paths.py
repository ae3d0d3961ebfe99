"""`dialin serve` matches declared paths with {parameters} as API Gateway does."""

from __future__ import annotations

from dialin_tools.commands.serve.server import match_path


def test_declared_parameters_are_filled_and_decoded():
    assert match_path("/admin/pins/{pin_id}", "/admin/pins/abc") == {"pin_id": "abc"}
    assert match_path("/admin/routes/{number}", "/admin/routes/%2B15551230000") == {"number": "+15551230000"}
    assert match_path("/admin/pins", "/admin/pins") == {}


def test_other_paths_do_not_match():
    assert match_path("/admin/pins/{pin_id}", "/admin/pins") is None
    assert match_path("/admin/pins/{pin_id}", "/admin/pins/") is None
    assert match_path("/admin/pins/{pin_id}", "/admin/pins/a/b") is None
    assert match_path("/admin/pins/{pin_id}", "/admin/routes/abc") is None
