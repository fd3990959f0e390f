"""A customer's clicks in the store, for tests: add a plan to the cart, check out."""

import uuid


def add(client, cycle="monthly", quantity=1):
    return client.post("/plans/vpn-100/", {"cycle": cycle, "quantity": quantity})


def check_out(client, token=None, **fields):
    data = {"checkout_token": token or uuid.uuid4(), "accept_terms": "on", **fields}
    return client.post("/checkout/", data)
