"""Ways in: spec files (YAML/JSON), PyTorch modules (``from_torch``) and the built-in zoo.
Each only builds networks out of layers; torch is imported only when a torch model is converted."""
