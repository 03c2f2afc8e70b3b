"""Files in and out: exports (PNG, GIF, CSV), checkpoints, uploaded points. Imports the engine and draw."""
