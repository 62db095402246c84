import os

from hypothesis import HealthCheck, settings

pytest_plugins = [
    "tests.fixtures.servers",
    "tests.fixtures.specs",
    "tests.fixtures.clients",
    "tests.fixtures.admin",
    "tests.fixtures.browser",
    "pytester",
]

# Hypothesis profiles, chosen by HYPOTHESIS_PROFILE (tox passes it through), else by CI.
# `dev` draws new examples every run, so local runs keep looking for new failures. `ci` is
# derandomized, so a red CI run fails the same way when rerun; it keeps no example database
# on a throwaway machine and has no deadline or too-slow check, since a shared runner's
# timing is noise, not a failure. Tests that set `max_examples` keep their own count (sized
# to the suite's time budget); the profile's count is for the tests that set none.
settings.register_profile("dev", print_blob=True)
settings.register_profile(
    "ci",
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)
