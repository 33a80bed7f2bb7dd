"""The files a marketplace and a colearn home refer to: what garbage collection must never remove.

The chain names files by CID (every model's metadata, every version's model and evaluation, every submission's
data, every revealed test set); a model's metadata names its training data; the home's secrets name the sealed
test sets of the models it published, needed to reveal them. :func:`referenced_files` gathers them all, to be
passed as ``keep`` to :meth:`Storage.gc <colearn_jupyter.storage.base.Storage.gc>`, as ``colearn storage gc``
does.

>>> from colearn_jupyter import Chain, Marketplace                     # doctest: +SKIP
>>> from colearn_jupyter.storage import open_storage                   # doctest: +SKIP
>>> store = open_storage()                                             # doctest: +SKIP
>>> store.gc(keep=referenced_files(Marketplace.connect(Chain()), store))  # doctest: +SKIP
[]
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ColearnError
from ..formats.jsonsafe import load_json
from .base import Storage

if TYPE_CHECKING:
    from ..marketplace import Marketplace, ModelInfo

_METADATA_LIMIT = 1024 * 1024  # the bound a client reads metadata to (formats.metadata.MAX_METADATA_BYTES)


def chain_files(market: Marketplace, models: Sequence[ModelInfo] | None = None) -> set[str]:
    """Every CID the marketplace records: models' metadata, versions' models and evaluations, submissions'
    files and revealed test sets (one paged call for the models unless given, then one per model for versions
    and submissions)."""
    cids: set[str] = set()
    for model in market.all_models() if models is None else models:
        cids.update((model.metadata_cid, model.test_set_cid))
        for version in market.versions(model.id):
            cids.update((version.model_cid, version.evaluation_cid))
        cids.update(submission.data_cid for submission in market.all_submissions(model.id))
    cids.discard("")
    return cids


def training_files(storage: Storage, metadata_cids: set[str]) -> set[str]:
    """The training data files that the metadata documents held in ``storage`` name (never fetched from
    elsewhere; a document that cannot be read names nothing)."""
    cids: set[str] = set()
    for cid in metadata_cids:
        if not storage.holds(cid):
            continue
        try:
            lineage = load_json(storage.cat(cid, limit=_METADATA_LIMIT)).get("lineage", {})  # nesting bounded
            cids.update(c for c in lineage.get("training_data_cids", []) if isinstance(c, str))
        except (ColearnError, MemoryError, ValueError, AttributeError, RecursionError):
            continue
    return cids


def secret_files(home: str | os.PathLike[str]) -> set[str]:
    """The sealed test sets of the models this home published (named by its secrets), needed for their reveal."""
    cids: set[str] = set()
    for path in (Path(home) / "secrets").glob("*.json"):
        try:
            cid = json.loads(path.read_text()).get("test_cid")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(cid, str):
            cids.add(cid)
    return cids


def referenced_files(market: Marketplace, storage: Storage, home: str | os.PathLike[str] | None = None) -> set[str]:
    """Everything :func:`chain_files`, :func:`training_files` and :func:`secret_files` name."""
    models = market.all_models()
    metadata = {model.metadata_cid for model in models}
    return chain_files(market, models) | training_files(storage, metadata) | secret_files(home or market.chain.home)
