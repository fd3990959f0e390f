"""A stand-alone fake of the PUQVPNCP panel REST API (see docs/simulator.md).

It behaves like a panel rather than a mock: state in SQLite that survives restarts, real WireGuard
keys, IP pools and licence slots that run out, single-use links, traffic that grows, and knobs under
``/_sim/`` that inject the faults a real panel and its network produce.
"""
