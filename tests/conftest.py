"""Collection rules: torch-only helpers are skipped cleanly where torch is absent."""

import importlib.util

# torch_models.py defines reference networks in torch.nn for the zoo tests.
collect_ignore = [] if importlib.util.find_spec("torch") else ["torch_models.py"]
