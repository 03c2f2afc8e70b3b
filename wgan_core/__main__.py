"""`python -m wgan_core ...`: see `wgan_core.cli`."""
from wgan_core.cli import main

raise SystemExit(main())
