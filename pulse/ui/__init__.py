"""The live local page: `pulse ui` (and `pulse demo`) serve it on loopback."""
