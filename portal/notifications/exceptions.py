class DeliveryRetry(Exception):
    """A delivery failed and is due again in ``countdown`` seconds (the task retries then)."""

    def __init__(self, reason: str, *, countdown: float) -> None:
        super().__init__(reason)
        self.countdown = countdown


class PermanentFailure(Exception):
    """A delivery no retry can make succeed (the backend took no message)."""
