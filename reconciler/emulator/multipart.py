"""multipart/form-data parsing that keeps every part's headers.

Worker uploads identify modules by the part's filename (Python SDK: field `files`) or
field name (wrangler), with or without a Content-Type on `metadata`, in any order, so
we keep name, filename and content type of each part and decide later.
"""

from __future__ import annotations

from dataclasses import dataclass

from python_multipart.exceptions import FormParserError, MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header


class MultipartError(ValueError):
    """The body is not well-formed multipart/form-data."""


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def key(self) -> str:
        """The module name: the filename when there is one, else the field name."""
        return self.filename or self.name


def boundary_of(content_type: str) -> str | None:
    kind, opts = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        return None
    b = opts.get(b"boundary")
    return b.decode("latin-1") if b else None


def parse_multipart(body: bytes, boundary: str) -> list[Part]:
    parts: list[Part] = []
    headers: dict[str, str] = {}
    field: list[bytes] = []
    value: list[bytes] = []
    data: list[bytes] = []
    finished = False

    def on_part_begin() -> None:
        headers.clear()
        data.clear()

    def on_header_field(b: bytes, start: int, end: int) -> None:
        field.append(b[start:end])

    def on_header_value(b: bytes, start: int, end: int) -> None:
        value.append(b[start:end])

    def on_header_end() -> None:
        headers[b"".join(field).decode("latin-1").lower()] = b"".join(value).decode("utf-8")
        field.clear()
        value.clear()

    def on_part_data(b: bytes, start: int, end: int) -> None:
        data.append(b[start:end])

    def on_part_end() -> None:
        disp, opts = parse_options_header(headers.get("content-disposition", ""))
        if disp != b"form-data" or b"name" not in opts:
            raise MultipartError("a part has no Content-Disposition: form-data; name=...")
        fn = opts.get(b"filename")
        ct = headers.get("content-type")
        parts.append(
            Part(
                name=opts[b"name"].decode("utf-8"),
                filename=fn.decode("utf-8") if fn else None,
                content_type=ct.split(";")[0].strip().lower() if ct else None,
                data=b"".join(data),
            )
        )

    def on_end() -> None:
        nonlocal finished
        finished = True

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
        "on_end": on_end,
    }
    try:
        # The constructor refuses a bad boundary (e.g. longer than 256 characters).
        parser = MultipartParser(boundary, callbacks, max_header_count=32)  # type: ignore[arg-type]
        parser.write(body)
        parser.finalize()
    except (MultipartParseError, FormParserError, UnicodeDecodeError) as exc:
        raise MultipartError(f"malformed multipart body: {exc}") from None
    if not finished:
        raise MultipartError("multipart body ended before its closing boundary")
    return parts
