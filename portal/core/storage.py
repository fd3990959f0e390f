from django.contrib.staticfiles.storage import HashedFilesMixin
from whitenoise.storage import CompressedManifestStaticFilesStorage


def _without_source_maps(patterns: tuple) -> tuple:
    return tuple(
        (glob, tuple(p for p in rules if "sourceMappingURL" not in str(p)))
        for glob, rules in patterns
    )


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """whitenoise's hashed, compressed static files, not following ``sourceMappingURL`` comments.

    Vendored minified files name source maps they do not ship (Chart.js); Django would refuse the
    whole ``collectstatic`` for the missing map. CSS ``url()`` and ``@import`` are still rewritten
    to the hashed names; a map that is shipped is served under its plain name.
    """

    patterns = _without_source_maps(HashedFilesMixin.patterns)
