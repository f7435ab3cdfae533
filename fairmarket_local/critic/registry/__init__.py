"""Registered models: manifests (``manifests.py``), finding and checking weights (``weights.py``), GGUF →
safetensors conversion (``convert.py``) and the user's state folder (``paths.py``)."""
