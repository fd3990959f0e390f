"""The REST API's framework, shared by every app's ``api.py`` (docs/api.md).

- :mod:`.errors`: the one error body and the exception handler that produces it;
- :mod:`.permissions`: customers (their own objects, by selector) and staff (model permissions);
- :mod:`.pagination` and :mod:`.throttling`: page size and request rates from settings.
"""
