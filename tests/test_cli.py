"""The command line (`python -m wgan_core`), run as a subprocess as people run it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wgan_core import presets

ROOT = Path(__file__).resolve().parent.parent
NUMBER = (int, float)


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "wgan_core", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def last_json(out: str) -> dict:
    lines = out.strip().splitlines()
    assert lines, "no output on stdout"
    return json.loads(lines[-1])


def test_train_prints_one_json_line_with_the_metrics():
    p = cli("train", "--preset", "classroom-gp", "--steps", "20", "--seed", "1", "--device", "cpu", "--json")
    assert p.returncode == 0, p.stderr
    assert len(p.stdout.strip().splitlines()) == 1                  # progress goes to stderr
    s = last_json(p.stdout)
    types = {"modes_covered": int, "modes_visited": int, "modes_total": int, "hq_fraction": NUMBER,
             "exact_w1": NUMBER, "exact_w1_n": int, "exact_w1_floor": list, "critic_w1_estimate": NUMBER,
             "lipschitz_bound": NUMBER, "w_corrected": NUMBER, "w_over_lipschitz": NUMBER,
             "largest_slope_seen": NUMBER,
             "max_grad_norm": NUMBER, "w_batch_estimate": NUMBER,
             "gen_steps": int, "critic_steps": int, "critic_steps_per_s": NUMBER, "seconds": NUMBER,
             "device": str, "status": str, "config": dict}
    for key, t in types.items():
        assert isinstance(s[key], t), (key, s[key])
    assert s["status"] == "ok" and s["device"] == "cpu" and s["preset"] == "classroom-gp"
    assert s["gen_steps"] == 20
    cfg = presets.get("classroom-gp").config
    assert s["critic_steps"] == 20 * cfg.n_critic
    assert s["config"] == {**cfg.to_dict(), "seed": 1}
    assert s["modes_total"] == 3 and 0 <= s["modes_covered"] <= 3 and 0.0 <= s["hq_fraction"] <= 1.0
    assert s["exact_w1"] > 0 and s["seconds"] > 0 and s["critic_steps_per_s"] > 0
    assert s["modes_covered"] <= s["modes_visited"] <= 3 and s["precision"] is None   # seed3 has modes


def test_the_json_names_its_honest_figures():
    """exact W1 at n = 400 with the floor band of seed3 at that n; the c-transform bound below it (on the
    same points); the evaluation-set estimate divided by the spectral bound; the sampled slope (below the
    bound); the batch estimate under its own name."""
    from wgan_core.engine.metrics_floor import table_floor
    p = cli("train", "--preset", "classroom-gp", "--steps", "30", "--seed", "2", "--json")
    assert p.returncode == 0, p.stderr
    s = last_json(p.stdout)
    mean, lo, hi = table_floor("seed3", 400)
    assert s["exact_w1_n"] == 400 and s["exact_w1_floor"] == [lo, hi]
    assert s["w_corrected"] <= s["exact_w1"] + 1e-9                 # the c-transform bound: any critic
    assert s["w_over_lipschitz"] == pytest.approx(s["critic_w1_estimate"] / s["lipschitz_bound"], rel=1e-9)
    assert s["lipschitz_bound"] >= s["largest_slope_seen"] == s["max_grad_norm"] > 0
    assert abs(s["w_over_lipschitz"]) <= abs(s["critic_w1_estimate"]) * max(1.0, 1 / s["lipschitz_bound"])
    assert isinstance(s["w_batch_estimate"], float) and s["w_batch_estimate"] != s["critic_w1_estimate"]


def test_flags_override_the_preset():
    p = cli("train", "--preset", "classroom-8g", "--steps", "3", "--lr", "0.002", "--lr-g", "0.0005",
            "--n-critic", "2", "--width", "32", "--lambda", "0.5", "--optimizer", "rmsprop", "--json")
    assert p.returncode == 0, p.stderr
    s = last_json(p.stdout)
    c = s["config"]
    assert (c["lr_c"], c["lr_g"], c["n_critic"], c["width"], c["lam"], c["optimizer"]) == (
        0.002, 0.0005, 2, 32, 0.5, "rmsprop")
    assert c["data"] == "8gaussians" and s["modes_total"] == 8
    assert s["gen_steps"] == 3 and s["critic_steps"] == 6


def test_without_a_preset_the_flags_build_the_config():
    p = cli("train", "--loss", "wgan-clip", "--data", "moons", "--steps", "4", "--clip", "0.05", "--json")
    assert p.returncode == 0, p.stderr
    s = last_json(p.stdout)
    assert s["config"]["loss"] == "wgan-clip" and s["config"]["clip"] == 0.05
    assert s["modes_total"] is None and s["modes_covered"] is None        # moons has no modes
    assert s["modes_visited"] is None and 0 <= s["precision"] <= 1 and 0 <= s["recall"] <= 1   # but a quality
    assert isinstance(s["exact_w1"], float)


def test_naming_only_the_objective_and_data_gives_the_tuned_settings():
    """No preset: the settings tuned for the pair (recipes.tuned_config); flags still win; --untuned gives
    TrainConfig's plain defaults."""
    from wgan_core.engine.config import TrainConfig
    from wgan_core.engine.recipes import tuned_config
    p = cli("train", "--data", "25gaussians", "--steps", "2", "--json")
    assert p.returncode == 0, p.stderr
    assert last_json(p.stdout)["config"] == tuned_config("wgan-gp", "25gaussians").to_dict()
    p = cli("train", "--loss", "nsgan", "--data", "8gaussians", "--steps", "2", "--lr-g", "0.0001", "--ema", "0",
            "--json")
    assert p.returncode == 0, p.stderr
    want = tuned_config("nsgan", "8gaussians").replace(lr_g=1e-4, ema=0.0)
    assert last_json(p.stdout)["config"] == want.to_dict() and want.ema == 0 and want.batch == 128
    p = cli("train", "--data", "8gaussians", "--untuned", "--steps", "2", "--json")
    assert p.returncode == 0, p.stderr
    assert last_json(p.stdout)["config"] == TrainConfig(data="8gaussians").to_dict()
    p = cli("train", "--preset", "classroom-gp", "--untuned", "--steps", "2")
    assert p.returncode == 2 and p.stderr.startswith("error:")


def test_readable_summary_without_json():
    p = cli("train", "--preset", "seed-wgan-clip", "--steps", "5")
    assert p.returncode == 0, p.stderr
    assert "status" in p.stdout and "modes" in p.stdout and "exact W1" in p.stdout
    assert "visited" in p.stdout and "two real samples" in p.stdout and "Lipschitz bound" in p.stdout
    assert "c-transform bound" in p.stdout


def test_until_covered_stops_once_every_mode_is_covered():
    p = cli("train", "--preset", "classroom-gp", "--steps", "3000", "--until-covered", "--json")
    assert p.returncode == 0, p.stderr
    s = last_json(p.stdout)
    assert s["covered_at"] is not None and s["covered_at"]["gen_steps"] == s["gen_steps"] < 3000
    assert s["modes_covered"] == s["modes_total"] == 3


def test_a_diverged_run_is_a_result_not_an_error():
    p = cli("train", "--loss", "wgan-clip", "--clip", "10", "--optimizer", "sgd", "--lr", "1",
            "--steps", "50", "--json")
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    s = last_json(p.stdout)
    assert s["status"] == "diverged" and "diverged" in s["message"]
    assert s["gen_steps"] < 50


@pytest.mark.parametrize("args", [
    ["train", "--loss", "wasserstein", "--steps", "3"],
    ["train", "--data", "spiral", "--steps", "3"],
    ["train", "--seconds", "-1"],
    ["train", "--seconds", "0"],
    ["train", "--steps", "0"],
    ["train", "--steps", "3", "--lr", "5"],
    ["train", "--steps", "3", "--lr-c", "0"],
    ["train", "--steps", "3", "--lambda", "-1"],
    ["train", "--steps", "3", "--width", "2"],
    ["train", "--steps", "3", "--n-critic", "0"],
    ["train", "--steps", "3", "--preset", "nope"],
    ["train", "--seconds", "1", "--steps", "3"],
    ["train"],
    ["train", "--steps", "many"],
    ["train", "--steps", "3", "--data", "ring", "--until-covered"],
    ["frobnicate"],
    [],
])
def test_bad_arguments_exit_2_with_one_error_line(args):
    p = cli(*args, timeout=60)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    assert p.stdout == ""


def test_the_error_names_the_flag():
    p = cli("train", "--steps", "3", "--lr-g", "2")
    assert p.returncode == 2 and "--lr-g" in p.stderr and "outside" in p.stderr


def test_presets_lists_every_preset_with_its_sentence():
    p = cli("presets")
    assert p.returncode == 0, p.stderr
    for preset in presets.PRESETS.values():
        assert preset.name in p.stdout and preset.watch in p.stdout
