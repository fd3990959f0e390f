"""The admin index's dashboard: figures from the store, billing and provisioning on one page.

It reads from several apps, so it sits above all of them; none of them imports it.
"""
