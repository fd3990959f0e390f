"""VAT and tax ids on a customer's billing details, checked with python-stdnum.

In an EU member state the id must be a well-formed EU VAT id (``stdnum.eu.vat``: checksum and
format) of *that* state: billing reverse-charges on it, so it must not be a typo or another
country's number. Greece's VAT prefix is EL, and a UK customer may hold a Northern Irish XI
number. Anywhere else a tax id is kept as the customer typed it (trimmed, bounded in length).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

VAT_ID_MAX_LENGTH = 32
EU_COUNTRIES = frozenset(code.upper() for code in eu_vat.MEMBER_STATES if code != "xi")
#: The EU VAT prefix of a country where it is not the ISO code.
VAT_PREFIXES = {"GR": "EL"}
#: Countries whose customers may hold an EU VAT id of another prefix (Northern Ireland).
EXTRA_PREFIXES = {"GB": "XI"}


def vat_prefix(country: str) -> str:
    return VAT_PREFIXES.get(country, country)


def is_eu_vat_id(vat_id: str) -> bool:
    """A checksum-valid EU VAT id (prefix included), as billing's reverse charge needs."""
    try:
        eu_vat.validate(vat_id)
    except StdnumError:
        return False
    return True


def vat_id_clean(*, country: str, vat_id: str) -> str:
    """The id to store for a customer in ``country``, or ``ValidationError`` saying what is wrong.

    An EU id typed without its country prefix gets it; it is stored compact (``DE136695976``).
    """
    vat_id = vat_id.strip()
    if not vat_id:
        return ""
    country = country.upper()
    if country in EU_COUNTRIES:
        return _eu_vat_id(vat_prefix(country), vat_id)
    extra = EXTRA_PREFIXES.get(country)
    if extra and _compact(vat_id).startswith(extra):
        return _eu_vat_id(extra, vat_id)
    if len(vat_id) > VAT_ID_MAX_LENGTH:
        raise ValidationError(
            "A tax id has at most %(max)d characters.",
            code="max_length",
            params={"max": VAT_ID_MAX_LENGTH},
        )
    return vat_id


def _compact(vat_id: str) -> str:
    return re.sub(r"[\s\-./,]", "", vat_id).upper()


def _eu_vat_id(prefix: str, vat_id: str) -> str:
    compact = _compact(vat_id)
    if compact[:2].isalpha() and not compact.startswith(prefix):
        raise ValidationError(
            "This VAT id belongs to another country: a VAT id for the country you chose "
            "starts with %(prefix)s.",
            code="vat_country",
            params={"prefix": prefix},
        )
    if not compact.startswith(prefix):
        compact = prefix + compact
    if not is_eu_vat_id(compact):
        raise ValidationError(
            "This is not a valid VAT id: please check it against your VAT registration "
            "(it starts with %(prefix)s, e.g. %(prefix)s123456789).",
            code="vat_invalid",
            params={"prefix": prefix},
        )
    return compact
