"""Counted nouns: "1 photo", "3 photos", never "photo(s)"."""
from engine.wording import count


def test_count_takes_the_noun_in_its_number():
    assert count(1, "photo") == "1 photo"
    assert [count(n, "photo") for n in (0, 2, 12)] == ["0 photos", "2 photos", "12 photos"]
    assert count(1, "new photo") == "1 new photo" and count(3, "JPEG/HEIF file") == "3 JPEG/HEIF files"


def test_count_takes_an_irregular_plural():
    assert count(1, "library", "libraries") == "1 library"
    assert count(2, "library", "libraries") == "2 libraries"
