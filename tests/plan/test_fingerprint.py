from __future__ import annotations

from reconciler.markers import format_comment, parse_comment
from reconciler.plan.fingerprint import KEY_ENV, fingerprint, load_key, marked_comment


def test_fingerprint_is_keyed_stable_and_fits_the_marker() -> None:
    fp = fingerprint(b"k1", "app", "A", "v")
    assert fp == fingerprint(b"k1", "app", "A", "v")
    assert len(fp) == 32 and all(c in "0123456789abcdef" for c in fp)
    assert fp != fingerprint(b"k2", "app", "A", "v")
    assert fp != fingerprint(b"k1", "app", "A", "w")
    assert fp != fingerprint(b"k1", "other", "A", "v")
    assert fp != fingerprint(b"k1", "app", "B", "v")
    assert parse_comment(format_comment("note", fp)) == ("note", True, fp)


def test_fingerprint_encoding_is_unambiguous() -> None:
    assert fingerprint(b"k", "ab", "c", "v") != fingerprint(b"k", "a", "bc", "v")
    assert fingerprint(b"k", "a", "b", "cv") != fingerprint(b"k", "a", "bc", "v")


def test_load_key() -> None:
    assert load_key({KEY_ENV: "s3cret"}) == b"s3cret"
    assert load_key({KEY_ENV: ""}) is None
    assert load_key({}) is None


def test_marked_comment_is_what_the_plan_reads_back() -> None:
    written = marked_comment(b"k", "app", "A", "note", "v")
    assert parse_comment(written) == ("note", True, fingerprint(b"k", "app", "A", "v"))
    assert "v" not in written.replace("reconciler", "")
    assert parse_comment(marked_comment(None, "app", "A", "", "v")) == ("", True, None)
