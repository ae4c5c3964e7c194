import pytest

from projects.folders import (
    UNTITLED,
    folder_name_sanitize,
    folder_name_unique,
)


@pytest.mark.parametrize(
    "name", ["Iceland July 2025 (2)", "p1", "a", "x" * 240, "Wedding - Anna & Ben"]
)
def test_canonical_names_are_kept_as_they_are(name):
    assert folder_name_sanitize(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "/",
        "\\",
        "../project",
        "<>",
        "|",
        "",
        "   ",
        "test//project",
        "test::project",
        "test  project",
        "x" * 241,
        ".hidden",
        "..",
    ],
)
def test_non_canonical_names_are_changed(name):
    assert folder_name_sanitize(name) != name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a/b\\c:d", "a-b-c-d"),
        ("what? *now* <x> |y|", "what_ _now_ _x_ _y_"),
        ('say "cheese"', "say 'cheese'"),
        ("tab\there\x00nul\x1f", "tab herenul"),
        ("  many   spaces  ", "many spaces"),
        ("dash---run", "dash-run"),
        ("test//project", "test-project"),
        ("", UNTITLED),
        ("   ", UNTITLED),
        ("..", UNTITLED),
        (".hidden", "hidden"),
        (" .profile", "profile"),
        ("...", UNTITLED),
        ("x" * 300, "x" * 240),
    ],
)
def test_sanitize(raw, expected):
    assert folder_name_sanitize(raw) == expected


def test_unique_adds_numbered_suffixes():
    taken = {"Shoot", "Shoot (2)"}
    assert folder_name_unique("Shoot", taken=taken) == "Shoot (3)"
    assert folder_name_unique("Other", taken=taken) == "Other"


def test_unique_is_case_insensitive():
    assert folder_name_unique("shoot", taken={"Shoot"}) == "shoot (2)"


def test_own_folder_counts_as_free():
    assert folder_name_unique("Shoot", taken={"Shoot"}, own_folder="Shoot") == "Shoot"


def test_suffix_keeps_length_limit():
    name = "y" * 240
    result = folder_name_unique(name, taken={name})
    assert len(result) == 240
    assert result.endswith(" (2)")
