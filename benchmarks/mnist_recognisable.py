"""How long WGAN-GP takes to draw recognisable MNIST digits: generator steps and seconds on this machine.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/mnist_recognisable.py PATH [--preset mnist-fast]
        [--set width=256 --set lr_c=5e-4 ...] [--seconds 600] [--every 100] [--png out-STEP.png]

PATH is an mnist.npz or a folder of IDX files (`wgan_core.files.mnist`). The run trains as the app's
worker does (one torch thread, `datasets.from_points` on the kept training pictures); every ``--every``
generator steps the generator draws 500 pictures from fixed noise and `image_quality.quality` scores them
against the test pictures. An independent judge, an MLP classifier trained here on the training pictures
(`judge`), says how many it classifies with >= 90 % confidence (its share for real test pictures is printed
first). Prints one line per check: step, training seconds (checks excluded), the load average, the app's
figures, the judge's share and the effective number of classes among them. "Recognisable digits": the first
check where the judge is confident of at least half as many generated pictures as of real ones, spread over
at least 9 effective classes.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wgan_core import presets  # noqa: E402
from wgan_core.engine.device import configure_threads  # noqa: E402
from wgan_core.engine.stack import Stack  # noqa: E402
from wgan_core.engine.trainer import Run  # noqa: E402
from wgan_core.files import mnist  # noqa: E402
from wgan_core.lessons import image_quality as iq  # noqa: E402
from wgan_core.lessons import images  # noqa: E402


def load(path: str) -> mnist.MnistData:
    return mnist.from_env({mnist.ENV: path})


def judge(data: mnist.MnistData, epochs: int = 30):
    """An independent judge of recognisability: an MLP classifier (784-256-10) trained on the training
    pictures; returns (the share of pictures it classifies with >= 90 % confidence, as a function; its test
    accuracy; that share for the real test pictures)."""
    x = torch.as_tensor(data.pixels() / 255.0, dtype=torch.float32)
    y = torch.as_tensor(data.y_train, dtype=torch.long)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    for _ in range(epochs):
        for i in torch.randperm(len(x)).split(64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x[i]), y[i]).backward()
            opt.step()

    def confident(pics) -> tuple[float, float]:
        """(share classified with >= 90 % confidence, effective number of classes among those)."""
        with torch.no_grad():
            p = net(torch.as_tensor(np.asarray(pics).reshape(len(pics), -1), dtype=torch.float32)).softmax(1)
        ok = p.max(1).values >= 0.9
        return float(ok.float().mean()), iq.effective_classes(p.argmax(1)[ok].numpy()) if ok.any() else 0.0
    xt = data.x_test.reshape(len(data.x_test), -1) / 255.0
    with torch.no_grad():
        acc = float((net(torch.as_tensor(xt, dtype=torch.float32)).argmax(1).numpy() == data.y_test).mean())
    return confident, acc, confident(xt)[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--preset", default="mnist-fast")
    ap.add_argument("--set", action="append", default=[], help="field=value over the preset's config")
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--every", type=int, default=100)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--png", default="")
    args = ap.parse_args()
    configure_threads(1)
    data = load(args.path)
    cfg = presets.get(args.preset).config
    over = dict(kv.split("=", 1) for kv in args.set)
    cfg, notes = type(cfg).from_dict({**cfg.to_dict(), **over})
    assert not notes, notes
    ref = iq.Reference.build("mnist", data.x_train / 255.0, data.y_train, data.x_test / 255.0, data.y_test)
    scale = images.Standardised.of(data.pixels())
    confident, acc, real_conf = judge(data)
    run = Run(cfg, dataset=mnist.dataset(data), device="cpu")
    z = torch.randn(args.n, cfg.z_dim, generator=torch.Generator().manual_seed(123))
    print(json.dumps({"config": cfg.to_dict(), "train": len(data.x_train), "test": len(data.x_test),
                      "judge_test_accuracy": round(acc, 3), "judge_confident_real": round(real_conf, 3)}), flush=True)
    trained, found = 0.0, None
    while trained < args.seconds:
        t0 = time.perf_counter()
        run.step(args.every)
        trained += time.perf_counter() - t0
        with torch.no_grad():
            fake = Stack([run]).G(z[None])[0].numpy()
        pics = np.clip((scale.to_vectors(fake) + 1) / 2, 0, 1)
        q = iq.quality(pics, ref)
        conf, conf_classes = confident(pics)
        ok = conf >= 0.5 * real_conf and conf_classes >= 9
        q["flags"] = q["flags"] or []
        if ok and found is None:
            found = (run.gen_steps, trained)
        print(f"step {run.gen_steps:6d}  {trained:7.1f} s  load {os.getloadavg()[0]:4.1f}  "
              f"recognisable {q['recognisable']:.2f}+-{q['recognisable_se']:.2f}  classes {q['classes']:.1f} "
              f"(real {q['real']['classes'][0]:.1f})  variety {q['variety']:.2f}  too close {q['too_close']:.3f}  "
              f"flags {','.join(q['flags']) or '-'}  judge {conf:.2f} ({conf_classes:.1f} classes)", flush=True)
        if args.png:
            out = Path(args.png.replace("STEP", f"{run.gen_steps:06d}"))
            out.write_bytes(images.png(images.grid_image(scale.to_vectors(fake[:64]), scale=3)))
        if run.status != "ok":
            break
    print(json.dumps({"recognisable_at_step": found and found[0], "seconds": found and round(found[1], 1)}))


if __name__ == "__main__":
    main()
