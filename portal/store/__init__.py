"""The storefront at /: the public catalogue (for now a page listing the plans)."""
