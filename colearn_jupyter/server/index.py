"""An index of the marketplace's models kept up to date from chain events.

Listing models then answers from memory: the first sync reads every model with paged calls (200 models a call)
and the accuracies with one log query; later syncs read only the new events and refresh just the models they
touch. A chain that went backwards (a reset devnet) is reloaded from scratch.
"""

from __future__ import annotations

import threading
from typing import Any

from ..marketplace import Event, Marketplace, ModelInfo

SORT_KEYS = {
    "id": lambda m: m["id"],
    "name": lambda m: m["name"].lower(),
    "accuracy": lambda m: -1.0 if m["accuracy"] is None else m["accuracy"],
    "rows_accepted": lambda m: m["rows_accepted"],
    "rows_pending": lambda m: m["rows_pending"],
}


def summary(info: ModelInfo, accuracy: float | None) -> dict[str, Any]:
    """A model as the REST API shows it (ModelSummary in the OpenAPI document)."""
    terms = info.terms
    return {
        "id": info.id,
        "name": info.name,
        "owner": info.owner,
        "accuracy": accuracy,
        "versions": info.version_count,
        "rows_accepted": info.rows_accepted,
        "rows_pending": info.rows_pending,
        "rows_rejected": info.rows_rejected,
        "deposit_wei": str(terms.deposit_per_row),
        "reward_wei": str(terms.reward_per_row),
        "bond_wei": str(terms.challenge_bond),
        "window_s": terms.challenge_window,
        "timeout_s": terms.owner_timeout,
        "reward_pool_wei": str(info.reward_pool),
    }


class ModelIndex:
    """Model summaries by id, synchronised from the marketplace's events."""

    def __init__(self, market: Marketplace):
        self.market = market
        self._models: dict[int, dict[str, Any]] = {}
        self._block = -1
        self._lock = threading.Lock()

    def sync(self) -> list[Event]:
        """Apply the events of the blocks mined since the last sync; returns those events."""
        w3 = self.market.chain.w3
        with self._lock:
            latest = w3.eth.block_number
            if self._block < 0 or latest < self._block:
                self._reload(latest)
                return []
            if latest == self._block:
                return []
            events = self.market.events(self._block + 1, latest)
            accuracies = {
                e.args["model_id"]: e.args["accuracy_bps"] / 10_000 for e in events if e.name == "VersionPublished"
            }
            for model_id in {m for m in (self._model_of(e) for e in events) if m}:
                accuracy = accuracies.get(model_id, self._models.get(model_id, {}).get("accuracy"))
                self._models[model_id] = summary(self.market.model(model_id), accuracy)
            self._block = latest
            return events

    def _reload(self, latest: int) -> None:
        accuracies = {
            log["args"]["modelId"]: log["args"]["accuracyBps"] / 10_000
            for log in self.market.contract.events.VersionPublished.get_logs(from_block=0, to_block=latest)
        }
        self._models = {m.id: summary(m, accuracies.get(m.id)) for m in self.market.all_models()}
        self._block = latest

    def _model_of(self, event: Event) -> int | None:
        if "model_id" in event.args:
            return event.args["model_id"]
        if "submission_id" in event.args:
            return self.market.submission(event.args["submission_id"]).model_id
        return None

    def page(
        self, offset: int = 0, limit: int = 50, search: str = "", sort: str = "id", order: str = "asc"
    ) -> tuple[int, list[dict[str, Any]]]:
        """Total matching models and one page of them, filtered by name and sorted."""
        with self._lock:
            models = [m for m in self._models.values() if search.lower() in m["name"].lower()]
        models.sort(key=SORT_KEYS[sort], reverse=order == "desc")
        return len(models), models[offset : offset + limit]

    def get(self, model_id: int) -> dict[str, Any] | None:
        with self._lock:
            return self._models.get(model_id)

    def __len__(self) -> int:
        return len(self._models)
