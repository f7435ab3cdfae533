"""``make_critic``: the one way the rest of the toolkit (training, CLI, benchmarks) gets a critic."""

from __future__ import annotations

from pathlib import Path

from fairmarket_local.common.errors import FairmarketError
from fairmarket_local.critic.amortized.config import AmortizeConfig
from fairmarket_local.critic.backends.engine import Engine
from fairmarket_local.critic.backends.table import BACKENDS
from fairmarket_local.critic.base import Critic
from fairmarket_local.critic.memo.cache import CacheMode, ScoreCache, check_cache_mode
from fairmarket_local.critic.model_critic import ModelCritic
from fairmarket_local.critic.prompting.templates import PromptTemplate, load_template
from fairmarket_local.critic.registry.manifests import ModelManifest, get_model
from fairmarket_local.critic.registry.paths import default_cache_dir
from fairmarket_local.critic.rule import RuleCritic

#: the prompt template of a model critic whose manifest names none
DEFAULT_TEMPLATE = "grounded"


def make_critic(
    model: str | ModelManifest,
    template: str | Path | None = None,
    cache_dir: str | Path | None = None,
    cache_mode: CacheMode = "use",
    seed: int = 0,
    retries: int = 2,
    max_tokens: int = 48,
    n_threads: int = 1,
    n_ctx: int | None = None,
    fbs_variant: str = "jain",
    skip_one_sided: bool = True,
    workers: int = 1,
    amortize: AmortizeConfig | None = None,
) -> Critic:
    """A critic for a registered model id (or manifest), or ``"rule"`` for the reference formulas.

    ``template`` defaults to the model's own (``template:`` in its manifest, set for distilled critics),
    else ``grounded`` (:func:`critic_template`).

    The model is loaded (and its weights verified) on the first cache miss, so ``replay`` never loads it.
    ``cache_dir`` defaults to ``$FAIRMARKET_HOME/critic-cache``; ``cache_mode`` is one of ``CACHE_MODES``.

    With ``amortize`` enabled, that critic becomes the teacher of an
    :class:`~fairmarket_local.critic.amortized.critic.AmortizedCritic` (a learned fairness model).
    """
    check_cache_mode(cache_mode)  # for every critic, though the rule critic uses no cache
    critic = _direct_critic(model, template, cache_dir, cache_mode, seed=seed, retries=retries,
                            max_tokens=max_tokens, n_threads=n_threads, n_ctx=n_ctx, fbs_variant=fbs_variant,
                            skip_one_sided=skip_one_sided, workers=workers)
    if amortize is None or not amortize.enabled:
        return critic
    from fairmarket_local.critic.amortized.critic import AmortizedCritic

    return AmortizedCritic(critic, amortize, seed=seed)


def critic_template(manifest: ModelManifest, template: str | Path | None = None) -> PromptTemplate:
    """The prompt a model critic uses: ``template`` if given, else the model's own (``template:`` in its manifest,
    set for distilled critics), else :data:`DEFAULT_TEMPLATE`.

    :raises FairmarketError: no such template.
    """
    return load_template(template or manifest.template or DEFAULT_TEMPLATE)


def takes_template(model: str) -> bool:
    """Whether ``model`` is prompted (a language model), or computes its scores itself (``rule``, a fairness model)."""
    return model != "rule" and not is_fairness_model(model)


def is_fairness_model(model: object) -> bool:
    """A critic named by the path of an exported fairness model (an amortized run's ``policies/fairness_model.pt``)."""
    return isinstance(model, (str, Path)) and str(model).endswith(".pt")


def _direct_critic(model: str | ModelManifest, template: str | Path | None, cache_dir: str | Path | None,
                   cache_mode: CacheMode, *, seed: int, retries: int, max_tokens: int, n_threads: int,
                   n_ctx: int | None, fbs_variant: str, skip_one_sided: bool, workers: int) -> Critic:
    """The rule critic, an exported fairness model, or a model critic that scores every slot it is given
    (through its memo)."""
    if model == "rule":
        return RuleCritic(fbs_variant)
    if is_fairness_model(model):
        from fairmarket_local.critic.amortized.critic import FairnessModelCritic

        return FairnessModelCritic(Path(model))  # type: ignore[arg-type]  # a path string, not a manifest
    if fbs_variant != "jain":
        raise FairmarketError("fbs_variant only applies to the rule critic (fallbacks use the Jain index)")
    manifest = model if isinstance(model, ModelManifest) else get_model(model)
    prompt = critic_template(manifest, template)
    engine = _make_engine(manifest, prompt, max_tokens=max_tokens, n_threads=n_threads, n_ctx=n_ctx, workers=workers)
    cache = ScoreCache(Path(cache_dir) if cache_dir is not None else default_cache_dir(), cache_mode)
    return ModelCritic(engine, prompt, cache, model_id=manifest.id, seed=seed, retries=retries,
                       skip_one_sided=skip_one_sided)


def _make_engine(manifest: ModelManifest, prompt: PromptTemplate, *, max_tokens: int, n_threads: int,
                 n_ctx: int | None, workers: int) -> Engine:
    """The engine of ``manifest.backend``, given the settings its row of :data:`BACKENDS` names (``workers``,
    for one, only applies to llama_cpp: the others batch)."""
    spec = BACKENDS.get(manifest.backend)
    if spec is None:
        raise FairmarketError(f"model {manifest.id!r}: back-end {manifest.backend!r} is not available")
    settings = {"n_threads": n_threads, "n_ctx": n_ctx, "workers": workers}
    return spec.engine_class()(manifest, rationale=prompt.rationale, max_tokens=max_tokens,
                               **{name: settings[name] for name in spec.settings})
