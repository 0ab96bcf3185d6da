"""What one billable request to a deployment costs, held in memory for the meter."""

from __future__ import annotations

from decimal import Decimal

from mcp_console.schemas.catalog import PriceModel

_ZERO = Decimal(0)


def request_price(price_model: str, price_per_request: Decimal | None) -> Decimal:
    """The price of one request to a service priced so.

    A FREE service costs nothing whatever its ``price_per_request`` says; PAID and FREEMIUM
    services cost their ``price_per_request`` (a free allowance is billing's to deduct).
    """
    if price_model == PriceModel.FREE or price_per_request is None:
        return _ZERO
    return Decimal(price_per_request)


class PriceBook:
    """The request price of every routed deployment, by deployment id.

    The route feed sets a deployment's price whenever it reads the deployment (on each of
    its changes and on the controller's tick), so a new price applies within one tick. The
    meter calls the book once per billable request: a dictionary read, never a query.
    """

    def __init__(self) -> None:
        self._prices: dict[int, Decimal] = {}

    def __call__(self, deployment_id: int) -> Decimal:
        """The price of one request to the deployment (0 for one never priced)."""
        return self._prices.get(deployment_id, _ZERO)

    def set(self, deployment_id: int, price_model: str, price_per_request: Decimal | None) -> None:
        """Price the deployment's requests as its service is priced."""
        self._prices[deployment_id] = request_price(price_model, price_per_request)

    def forget(self, deployment_id: int) -> None:
        """Drop a deployment that is gone."""
        self._prices.pop(deployment_id, None)
