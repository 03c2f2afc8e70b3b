"""`python -m wgan_core ...`: see `wgan_core.cli`."""
from .cli import main

raise SystemExit(main())
