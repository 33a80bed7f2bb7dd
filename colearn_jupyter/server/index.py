"""The server's face of the market index (:mod:`colearn_jupyter.index`): model summaries as the REST API shows them.

The index lives in the colearn home and is shared with every kernel of it, so a server started on a home whose
kernels already synced lists at once; each request syncs the index first (one block query when nothing was mined,
one log query for what was).
"""

from __future__ import annotations

from typing import Any

from ..index import SORT_COLUMNS, MarketIndex, market_index, summary
from ..marketplace import Marketplace

__all__ = ["SORT_COLUMNS", "ModelIndex", "summary"]


class ModelIndex:
    """Model summaries by id, from the home's market index of ``market``."""

    def __init__(self, market: Marketplace):
        self.market = market
        self.core: MarketIndex = market_index(market)

    def sync(self) -> int:
        """Apply what was mined since the last sync of any process of the home; returns the latest block."""
        return self.core.sync()

    def page(
        self, offset: int = 0, limit: int = 50, search: str = "", sort: str = "id", order: str = "asc"
    ) -> tuple[int, list[dict[str, Any]]]:
        """Total matching models and one page of them, filtered by name and sorted (as synced last)."""
        return self.core.page(offset, limit, search, sort, order, sync=False)

    def get(self, model_id: int) -> dict[str, Any] | None:
        """A model's summary as synced last, or None."""
        return self.core.summary(model_id, sync=False)

    def __len__(self) -> int:
        return len(self.core)
