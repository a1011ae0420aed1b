"""The route template a request is counted under, looked up without walking every route."""

from service.ops import metrics
from service.ops.middleware import _Table

TEMPLATES = dict.fromkeys([
    "/v1/clusters", "/v1/clusters/{cluster}", "/v1/missions/{mission}.ics", "/v1/missions/{mission}",
    "/v1/missions/{mission}/participants", "/{anything}/probe", "/healthz", "/{version}/clusters/{cluster}/legacy",
])


def test_paths_without_parameters_are_found_as_they_are():
    table = _Table(TEMPLATES)
    assert table.template_of("/v1/clusters") == "/v1/clusters"
    assert table.template_of("/healthz") == "/healthz"


def test_the_first_matching_template_of_a_section_wins_as_in_routing():
    table = _Table(TEMPLATES)
    assert table.template_of("/v1/missions/abc.ics") == "/v1/missions/{mission}.ics"
    assert table.template_of("/v1/missions/abc") == "/v1/missions/{mission}"
    assert table.template_of("/v1/missions/abc/participants") == "/v1/missions/{mission}/participants"
    assert table.template_of("/v1/clusters/x") == "/v1/clusters/{cluster}"


def test_templates_with_a_parameter_in_their_first_segments_are_tried_everywhere():
    table = _Table(TEMPLATES)
    assert table.template_of("/v9/probe") == "/{anything}/probe"
    assert table.template_of("/v1/clusters/x/legacy") == "/{version}/clusters/{cluster}/legacy"
    assert table.template_of("/v1/nothing-here") == metrics.UNMATCHED
    assert table.template_of("/elsewhere/entirely/deep") == metrics.UNMATCHED


def test_a_series_is_kept_only_for_real_methods(monkeypatch):
    monkeypatch.setattr(metrics, "_request_series", {})
    metrics.observe_request("BREW", "/v1/clusters", 405, 0.01)
    metrics.observe_request("GET", "/v1/clusters", 200, 0.01)
    assert list(metrics._request_series) == [("GET", "/v1/clusters", 200)]
