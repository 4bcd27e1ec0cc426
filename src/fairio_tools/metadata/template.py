"""Fill-in templates of a profile: YAML for people who edit text, xlsx for facilities."""

from __future__ import annotations

import json
from pathlib import Path

from fairio_tools.atomic import atomic_path
from fairio_tools.metadata.documents import COLUMNS, LIST_SEPARATOR, SHEET
from fairio_tools.metadata.model import REQUIRED, Field, load_model


def template_yaml(profile: str) -> str:
    """A YAML document with every field of ``profile`` empty, each explained above itself."""
    model = load_model()
    model.check_profile(profile)
    title = model.profiles[profile]["title"]
    lines = [
        f"# Study metadata: {title} profile ({profile}).",
        f"# {model.profiles[profile]['description']}",
        "# Fill in the values. [required] fields must be filled, [recommended] ones should be.",
        "# Ontology terms are CURIEs such as NCBITaxon:9606 (prefixes: "
        + ", ".join(model.prefixes)
        + ").",
        f"# Check it with: fairio validate-metadata THIS_FILE --profile {profile}",
        f"profile: {profile}",
    ]
    for section in model.sections:
        fields = section.in_profile(profile)
        if not fields:
            continue
        lines += ["", f"{section.name}:  # {section.title}"]
        for field in fields:
            lines.append(f"  # [{field.tier(profile)}] {field.description}")
            lines.append(f"  # example: {_yaml_example(field)}")
            lines.append(f"  {field.name}:" + (" []" if field.multiple else ""))
    return "\n".join(lines) + "\n"


def _yaml_example(field: Field) -> str:
    return json.dumps(field.example, ensure_ascii=False) if field.multiple else str(field.example)


def write_template_xlsx(profile: str, path: Path) -> None:
    """A workbook with one row per field: what it means, an example, and a cell to fill in."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    model = load_model()
    model.check_profile(profile)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    for section in model.sections:
        for field in section.in_profile(profile):
            example = field.example
            if isinstance(example, list):
                example = f"{LIST_SEPARATOR} ".join(str(v) for v in example)
            tier = field.tier(profile)
            description = field.description
            if field.multiple:
                description += f" Several values: separate them with '{LIST_SEPARATOR}'."
            sheet.append([section.name, field.name, tier, description, str(example), None])
            if tier == REQUIRED:
                sheet.cell(sheet.max_row, 6).fill = required_fill
    for column, width in zip("ABCDEF", (18, 26, 12, 70, 45, 45), strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=2):
        row[3].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    about = workbook.create_sheet("about")
    about.append([f"Study metadata template, {model.profiles[profile]['title']} profile"])
    about.append(["Fill in the 'value' column of the 'metadata' sheet (yellow: required)."])
    about.append([f"Check it with: fairio validate-metadata THIS_FILE --profile {profile}"])
    with atomic_path(path) as tmp:
        workbook.save(tmp)
