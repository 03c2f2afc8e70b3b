"""Wasserstein in 1D under AppTest: the numbers shown follow the sliders and agree with scipy and the closed forms."""

import pytest
from apptest_util import assert_bad_link_warns, page_path, started
from scipy.stats import wasserstein_distance

from wgan_core.lessons import dist1d
from wgan_core.lessons import lessons1d as L

PAGE = page_path("wasserstein_1d")


def metric(at, label: str) -> float:
    return float(next(m.value for m in at.metric if m.label.startswith(label)))


def sides(at) -> tuple:
    """The page's two laws, from the values it saved at the end of its last run."""
    v = at.session_state["w1d.__saved"]
    return tuple(L.side(**{k: v[f"{s}_{k}"] for k in ("kind", "mu", "sd", "mu2", "w", "width")}) for s in "pq")


@pytest.fixture
def at():
    return started(PAGE)


def test_default_page_agrees_with_the_closed_form(at):
    p, q = sides(at)
    assert metric(at, "Shaded area") == pytest.approx(dist1d.closed_form_w1(p, q), abs=1e-4)
    assert metric(at, "Closed form") == pytest.approx(dist1d.w1_between(p, q), abs=1e-4)
    assert metric(at, "Gap of the optimal critic") == metric(at, "Shaded area")
    assert not at.error and not at.warning


@pytest.mark.parametrize("mu", [1.0, -2.3, 4.0])
def test_mean_slider_changes_w1_and_it_matches_scipy(at, mu):
    before = metric(at, "Shaded area")
    at.slider(key="w1d.q_mu").set_value(mu).run()
    p, q = sides(at)
    w1 = metric(at, "Shaded area")
    assert w1 != before and w1 == pytest.approx(dist1d.w1_between(p, q), abs=1e-4)
    xp, xq = L.draw(p, q, at.session_state["w1d.n"], at.session_state["w1d.seed"])
    assert metric(at, "scipy on") == pytest.approx(wasserstein_distance(xp, xq), abs=1e-4)
    assert abs(metric(at, "scipy on") - w1) < 5 / at.session_state["w1d.n"] ** 0.5    # sampling error ~ 1/sqrt(n)
    assert at.query_params["q_mu"] in (f"{mu:g}", [f"{mu:g}"])


def test_samples_mode_area_is_scipys_number(at):
    at.radio(key="w1d.mode").set_value("samples").run()
    at.select_slider(key="w1d.n").set_value(50).run()
    assert metric(at, "Shaded area (empirical") == metric(at, "scipy on 50")
    first = metric(at, "scipy on 50")
    at.number_input(key="w1d.seed").set_value(7).run()
    assert metric(at, "scipy on 50") != first


def test_mixture_and_uniform_controls(at):
    at.radio(key="w1d.q_kind").set_value("mixture").run()
    assert at.slider(key="w1d.q_mu2") and at.slider(key="w1d.q_w")
    assert next(m.value for m in at.metric if m.label == "Closed form") == "—"
    p, q = sides(at)
    assert metric(at, "Shaded area") == pytest.approx(dist1d.w1_between(p, q), abs=1e-4)
    at.radio(key="w1d.p_kind").set_value("uniform").run()
    at.radio(key="w1d.q_kind").set_value("uniform").run()
    at.slider(key="w1d.p_width").set_value(2.0).run()
    at.slider(key="w1d.q_width").set_value(2.0).run()
    p, q = sides(at)
    assert metric(at, "Closed form") == pytest.approx(abs(p.locs[0] - q.locs[0]), abs=1e-4)   # equal widths: a shift


def test_the_trained_critic_replays_and_ends_near_w1(at):
    at.toggle(key="w1d.dual").set_value(True).run()
    assert not at.exception and not at.error
    for _ in range(15):                                          # the replay advances one moment per run
        at.run()
    w1, adjusted = metric(at, "W1 (the target)"), metric(at, "penalty-adjusted gap")
    assert w1 == pytest.approx(metric(at, "Shaded area"), abs=1e-4)
    assert abs(adjusted - w1) <= 0.05 * w1
    assert metric(at, "raw gap") > w1                            # the soft penalty's inflation
    assert any("Why the raw gap overshoots" in m.value for m in at.markdown)


@pytest.mark.parametrize("bad", [{"q_mu": "nan"}, {"p_kind": "cauchy"}, {"n": "7"}, {"seed": "-1"},
                                 {"dual": "maybe"}, {"p_sd": "0"}])
def test_bad_url_parameters_fall_back_with_a_note(bad):
    assert_bad_link_warns(PAGE, bad)


def test_hidden_sliders_keep_their_values(at):
    at.slider(key="w1d.q_sd").set_value(1.3).run()
    at.radio(key="w1d.q_kind").set_value("uniform").run()
    at.run()
    at.radio(key="w1d.q_kind").set_value("gaussian").run()
    assert at.slider(key="w1d.q_sd").value == pytest.approx(1.3)
    assert at.query_params["q_sd"] in ("1.3", ["1.3"])
