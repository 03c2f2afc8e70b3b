"""Drawing from plain arrays: Pillow frames for exports, the rasteriser, Vega-Lite chart specs.
Imports nothing else of wgan_core (no torch, no streamlit)."""
