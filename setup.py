"""Package mapping that pyproject.toml cannot say declaratively.

The core lives under ``src/``; the dashboard (``tui/``) and the loopback fake
servers (``fixtures/``) keep the top-level folders the architecture names, but
install as ``hvc_tui`` and ``hvc_fixtures`` so their import names cannot clash
with anything else on a school's machine.
"""

from setuptools import find_packages, setup


def _mapped(name: str, root: str) -> list[str]:
    return [name] + [f"{name}.{sub}" for sub in find_packages(root)]


setup(
    packages=find_packages("src") + _mapped("hvc_tui", "tui") + _mapped("hvc_fixtures", "fixtures"),
    package_dir={"": "src", "hvc_tui": "tui", "hvc_fixtures": "fixtures"},
)
