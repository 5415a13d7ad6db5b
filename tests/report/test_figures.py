"""The summary figure: coverage numbers per group and language, and a real PNG."""

import io
import math

import matplotlib.image as mpimg

from kgqa.report import build_report_view
from kgqa.report.figures import coverage_table, png_data_uri, summary_png


def test_coverage_per_group_and_language(notes, facts, concepts):
    report = build_report_view(notes, facts, concepts)
    groups, langs, matrix = coverage_table(report)
    assert groups == ["admission", "treatment", "history", "discharge"]
    assert langs == ["bg", "cs", "el", "en", "es", "pl", "ro"]
    cell = {(g, l): matrix[i, j] for i, g in enumerate(groups) for j, l in enumerate(langs)}
    # a fixture note: admission 2 of 3 found (no onset), discharge 1 of 2 (mRS only rejected)
    assert math.isclose(cell["admission", "bg"], 2 / 3) and cell["discharge", "bg"] == 0.5
    # English: note-en as above, plus "clean-en" (nothing) and the hostile note (stroke type only)
    assert math.isclose(cell["admission", "en"], (2 + 0 + 1) / 9)
    assert math.isclose(cell["treatment", "en"], 2 / 6)


def test_summary_png_is_an_image(notes, facts, concepts):
    png = summary_png(build_report_view(notes, facts, concepts), dpi=50)
    image = mpimg.imread(io.BytesIO(png), format="png")
    assert image.shape[0] > 100 and image.shape[1] > 400
    assert png_data_uri(png).startswith("data:image/png;base64,iVBORw0KGgo")


def test_summary_png_without_notes(concepts):
    assert summary_png(build_report_view([], [], concepts), dpi=40).startswith(b"\x89PNG")
