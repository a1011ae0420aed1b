"""The README's bulk section tells the truth about the CSV columns of every resource."""

from pathlib import Path

from service.bulk.resources import RESOURCES

README = (Path(__file__).parent.parent.parent / "README.md").read_text(encoding="utf-8")


def test_the_readme_lists_every_resource_with_its_csv_header():
    section = README.split("## Bulk loading and export", 1)[1].split("\n## ", 1)[0]
    for name, resource in RESOURCES.items():
        header = ",".join(column.name for column in resource.csv)
        assert f"| `{name}` | `{header}` |" in section, f"README: the CSV columns of {name}"
        assert f"| `{name}` | `{resource.model.__name__}`" in section or name == "target-markets"
