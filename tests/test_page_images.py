"""Images under AppTest: the page runs, Start trains digits in a worker, lr acts live, bad links warn; MNIST
from the server's files or an upload (fake ones written here)."""
import gzip
import struct

import numpy as np
import pytest
from apptest_util import assert_bad_link_warns, open_page, page_path, started
from apptest_util import worker_snapshot as _worker_snapshot

from ui import session
from wgan_core.files import mnist
from wgan_core.presets import for_page

IMAGE_PRESETS = {n: p.config for n, p in for_page("images").items()}

PAGE = page_path("images")


def worker_snapshot(at, cond, timeout=40.0):
    """The newest snapshot of this session's digits run that satisfies cond."""
    return _worker_snapshot(at, "img.rid", lambda s: s["config"]["data"] == "digits" and cond(s), timeout)


@pytest.fixture
def at():
    app = started(PAGE)
    yield app
    pause = [b for b in app.button if b.label == "Pause"]   # AppTests of one process share the run handle
    if pause:
        pause[0].click().run()


def test_page_runs_and_shows_digits(at):
    snap = worker_snapshot(at, lambda s: True)
    at.run()
    assert not at.exception
    assert snap["fake"].shape == (64, 64) and snap["config"] == IMAGE_PRESETS["digits-fast"].to_dict()
    assert "Images" in at.title[0].value
    labels = [m.label for m in at.metric]
    assert "Generator step" in labels and "Recognisable" in labels


def test_start_makes_the_generator_step(at):
    worker_snapshot(at, lambda s: True)
    next(b for b in at.button if "Start" in b.label).click().run()
    assert not at.exception
    worker_snapshot(at, lambda s: s["gen_steps"] >= 3)
    at.run()
    assert at.session_state["img.gen_steps"] >= 3
    assert any("Pause" in b.label for b in at.button)


def test_learning_rate_is_a_live_change(at):
    serial = worker_snapshot(at, lambda s: True)["serial"]
    at.select_slider(key="img.lr").set_value(1e-4).run()
    assert not at.exception
    assert at.session_state["img.change"] == "live"
    snap = worker_snapshot(at, lambda s: s["config"]["lr_c"] == 1e-4)
    assert snap["config"]["lr_g"] == 1e-4 and snap["serial"] == serial    # the same run goes on
    assert at.query_params["lr"] in ("0.0001", ["0.0001"])


def test_seed_and_preset_start_a_new_run(at):
    serial = worker_snapshot(at, lambda s: True)["serial"]
    at.number_input(key="img.seed").set_value(3).run()
    assert at.session_state["img.change"] == "restart"
    serial = worker_snapshot(at, lambda s: s["config"]["seed"] == 3 and s["serial"] != serial)["serial"]
    at.radio(key="img.preset").set_value("digits-seed").run()
    assert at.session_state["img.change"] == "restart"                    # a preset starts afresh
    assert at.session_state["img.lr"] == IMAGE_PRESETS["digits-seed"].lr_c      # and brings its learning rate
    snap = worker_snapshot(at, lambda s: s["config"]["lr_c"] == IMAGE_PRESETS["digits-seed"].lr_c and s["serial"] != serial)
    assert snap["config"]["seed"] == 3


def test_settings_from_the_url():
    at = open_page(PAGE, {"preset": "digits-seed", "lr": "0.0002", "n_critic": "3"})
    assert not at.exception and not at.warning
    assert at.session_state["img.preset"] == "digits-seed" and at.session_state["img.lr"] == 2e-4
    assert at.session_state["img.n_critic"] == 3


@pytest.mark.parametrize("bad", [{"lr": "nan"}, {"lam": "-1"}, {"preset": "huge"}, {"n_critic": "2.5"},
                                 {"seed": "x" * 100}])
def test_bad_url_parameter_falls_back_with_a_warning(bad):
    assert_bad_link_warns(PAGE, bad)


def test_a_diverged_run_shows_its_message_and_resume(at):
    snap = worker_snapshot(at, lambda s: True)
    fake = dict(snap, status="diverged", message="Training diverged near generator step 7.", version=-1)
    session.pool().snaps[at.session_state["img.rid"]] = fake        # as the worker would publish it
    at.run()
    assert not at.exception
    assert any("diverged near generator step 7" in e.value for e in at.error)
    next(b for b in at.button if b.label == "Resume").click().run()
    assert not at.exception
    worker_snapshot(at, lambda s: s["status"] == "ok")


# --------------------------------------------------------------------------- MNIST (issue #16)

def small_mnist(seed=0) -> dict[str, bytes]:
    """A fake MNIST small enough to train on in a test: 200 training and 150 test pictures, as IDX files."""
    rng = np.random.default_rng(seed)

    def idx(a):
        return b"\0\0\x08" + bytes([a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()
    out = {}
    for prefix, n in (("train", 200), ("t10k", 150)):
        out[f"{prefix}-images-idx3-ubyte"] = idx((rng.random((n, 28, 28)) < 0.15).astype(np.uint8) * 255)
        out[f"{prefix}-labels-idx1-ubyte"] = idx(rng.integers(0, 10, n).astype(np.uint8))
    return out


def mnist_snapshot(at, cond=lambda s: True, timeout=60.0):
    return _worker_snapshot(at, "img.rid", lambda s: s["config"]["data"] == "mnist" and cond(s), timeout)


def test_an_mnist_preset_without_mnist_says_how_to_give_it(monkeypatch):
    monkeypatch.delenv(mnist.ENV, raising=False)
    at = open_page(PAGE, {"preset": "mnist-fast"})
    assert not at.exception and at.session_state["img.preset"] == "mnist-fast"
    assert any("never downloads" in i.value and mnist.ENV in i.value for i in at.info)
    assert not at.metric                                                # no run is shown


def test_the_servers_mnist_trains_28_by_28_pictures(monkeypatch, tmp_path):
    for name, data in small_mnist().items():
        (tmp_path / name).write_bytes(gzip.compress(data))
    monkeypatch.setenv(mnist.ENV, str(tmp_path))
    at = open_page(PAGE, {"preset": "mnist-fast"})
    assert not at.exception
    snap = mnist_snapshot(at)
    at.run()
    assert not at.exception and snap["fake"].shape == (64, 784)
    assert "784 coordinates" in at.markdown[0].value and "a 28×28 picture" in at.markdown[0].value
    labels = [m.label for m in at.metric]
    assert {"Recognisable", "Classes", "Variety", "Too close", "W estimate", "Exact W1"} <= set(labels)
    at.radio(key="img.preset").set_value("digits-fast").run()            # back to the shipped digits
    assert not at.exception
    worker_snapshot(at, lambda s: s["fake"].shape == (64, 64))


def test_an_upload_trains_this_session_only(monkeypatch):
    monkeypatch.delenv(mnist.ENV, raising=False)
    at = open_page(PAGE, {"preset": "mnist-fast"})
    at.file_uploader(key="img.upload0").set_value([(n, b, "application/octet-stream")
                                                   for n, b in small_mnist(1).items()]).run()
    assert not at.exception and not at.error
    assert at.session_state["img.mine"].points.shape == (200, 784)
    assert [u.key for u in at.file_uploader] == ["img.upload1"]         # a fresh uploader: the files are let go
    assert any("200 training pictures from your upload" in c.value for c in at.sidebar.caption)
    snap = mnist_snapshot(at)
    assert snap["fake"].shape == (64, 784)
    other = open_page(PAGE, {"preset": "mnist-fast"})                   # another student's session
    assert not other.exception and any("never downloads" in i.value for i in other.info)


def test_a_broken_upload_says_what_is_wrong_in_one_sentence(monkeypatch):
    monkeypatch.delenv(mnist.ENV, raising=False)
    at = open_page(PAGE, {"preset": "mnist-fast"})
    files = small_mnist()
    files["train-labels-idx1-ubyte"] = files["train-labels-idx1-ubyte"][:-3]
    at.file_uploader(key="img.upload0").set_value([(n, b, "application/octet-stream") for n, b in files.items()]).run()
    assert not at.exception
    assert any("truncated" in e.value for e in at.error)
    assert "img.mine" not in at.session_state
