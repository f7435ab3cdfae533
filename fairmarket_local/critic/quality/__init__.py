"""Judging a critic's quality: ``critic compare`` (``compare.py`` measures, ``report.py`` tables and plots,
``permute.py`` relabelled slots) and, without assuming a formula, ``critic audit`` (consistent slot variants
and metamorphic relations: ``relations.py``, ``consistency.py``, ``audit.py``, ``audit_report.py``)."""
