"""The model back-ends of the critic: what an engine provides (``engine.py``), one module per back-end, and
the one table of back-ends (``table.py``) that the factory, the manifest validation and ``doctor`` read."""
