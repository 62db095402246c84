pytest_plugins = [
    "tests.fixtures.servers",
    "tests.fixtures.specs",
    "tests.fixtures.clients",
    "tests.fixtures.admin",
    "pytester",
]
