"""Readers for attachments (photo, file, signature) and locations (geopoint).

An attachment answer is the record the tablet made when the file was captured and uploaded:
``{sha256, filename, content_type, size, captured_at}``. The file itself is stored by the engine
under its sha256; here only the record is checked.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from forms._coerce import SHA256_RE, Bad, content_type_pattern, read_datetime, read_decimal, strict_number
from forms._fields import FieldType
from forms._messages import Wording, files_message, size_text

if TYPE_CHECKING:
    from forms._model import Field

Reader = Callable[[Any], Any]
ATTACHMENT_KEYS = frozenset({"sha256", "filename", "content_type", "size", "captured_at"})
ATTACHMENT_REQUIRED = ("sha256", "filename", "content_type", "size")
GEOPOINT_KEYS = frozenset({"lat", "lon", "accuracy"})


def _describe_types(f: Field) -> str:
    if f.type is not FieldType.FILE or not f.accept:
        return "an image" if f.type is FieldType.PHOTO else "a file"
    names = [a[:-2] + " file" if a.endswith("/*") else a for a in f.accept]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def attachment_reader(f: Field, strict: bool, words: Wording) -> Reader:
    """One attachment record (a signature, or one item of a photo or file answer)."""
    images = f.type is FieldType.PHOTO
    content_type = re.compile(content_type_pattern(f.accept, images=images)).search
    limit = f.max_size
    invalid = Bad("{subject} is not a file uploaded from this form", "type")
    too_big = Bad(f"The selected file must be smaller than {size_text(limit)}" if limit else "", "max_size")
    wrong_type = Bad(f"The selected file must be {_describe_types(f)}", "file_type")

    def read(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is not dict or not value.keys() <= ATTACHMENT_KEYS:
            return invalid
        sha, name, kind, size = (value.get(k) for k in ATTACHMENT_REQUIRED)
        if type(sha) is not str or SHA256_RE.search(sha) is None or type(name) is not str or not name:
            return invalid
        if type(kind) is not str:
            return invalid
        size = strict_number(size, whole=True)
        if type(size) is not int or size < 0:
            return invalid
        if content_type(kind) is None:
            return wrong_type
        if limit is not None and size > limit:
            return too_big
        out = {"sha256": sha, "filename": name, "content_type": kind, "size": size}
        if "captured_at" in value and value["captured_at"] is not None:
            when = read_datetime(value["captured_at"], strict=True)
            if type(when) is Bad:
                return invalid
            out["captured_at"] = when
        elif "captured_at" in value and strict:
            return invalid
        return out

    return read


def attachment_list_reader(f: Field, strict: bool, words: Wording) -> Reader:
    """photo and file: a list of attachments, no more than ``max``."""
    one = attachment_reader(f, strict, words)
    most = f.max if isinstance(f.max, int) else 1
    too_many = Bad(files_message(f.type, most), "max")
    not_list = Bad("{subject} is not a file uploaded from this form", "type")

    def read(value: Any) -> Any:
        if value is None:
            return None
        if not strict and type(value) is dict:
            value = [value]
        if type(value) is not list:
            return not_list
        if not value:
            return None
        if len(value) > most:
            return too_many
        out = []
        for item in value:
            found = one(item)
            if found is None:
                return not_list
            if type(found) is Bad:
                return found
            out.append(found)
        return out

    return read


def geopoint_reader(f: Field, strict: bool, words: Wording) -> Reader:
    """geopoint: ``{lat, lon, accuracy}`` with latitude -90..90, longitude -180..180 and a
    non-negative accuracy in metres. (A fix worse than ``max_accuracy`` is only a warning.)"""
    invalid = Bad("{subject} must be a location with a latitude and longitude", "type")

    def number(value: Any) -> Any:
        if strict:
            found = strict_number(value, whole=False)
        else:
            found = read_decimal(value) if type(value) is str else strict_number(value, whole=False)
        return found if type(found) in (int, float) and math.isfinite(found) else None

    def read(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is not dict or not value.keys() <= GEOPOINT_KEYS:
            return invalid
        lat, lon = number(value.get("lat")), number(value.get("lon"))
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return invalid
        out = {"lat": lat, "lon": lon}
        if "accuracy" in value and value["accuracy"] is not None:
            accuracy = number(value["accuracy"])
            if accuracy is None or accuracy < 0:
                return invalid
            out["accuracy"] = accuracy
        elif "accuracy" in value and strict:
            return invalid
        return out

    return read
