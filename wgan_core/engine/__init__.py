"""The engine: data sets, networks, objectives, optimizers, hand-written gradients, stacked training,
snapshots and metrics. Imports nothing of the other layers and no streamlit; usable from a notebook."""
