"""What `pip install seoga` carries: every folder of Python code is a package the project's
package search finds (a folder without `__init__.py` would be left out of the wheel, though an
editable install and these tests would still import it)."""

from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def test_every_source_folder_is_a_package_the_wheel_carries():
    found = set(find_packages(str(ROOT), include=["seoga*"]))
    folders = {
        ".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "seoga").rglob("*.py")
    }
    assert folders - found == set()
