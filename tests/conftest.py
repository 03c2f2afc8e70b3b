"""Test-wide settings: one torch thread (as in the app's workers), and tests/output for artefacts."""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)
