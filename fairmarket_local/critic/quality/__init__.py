"""Judging a critic's quality without assuming its formula: consistent slot variants and metamorphic audits."""
