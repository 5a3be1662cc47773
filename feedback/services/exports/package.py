"""A zip file written as it is sent: members one after another, constant memory."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

#: Bytes gathered before a piece of the zip is handed to the stream.
FLUSH_BYTES = 256 * 1024


class _Sink(io.RawIOBase):
    """A write-only, unseekable file: zipfile then writes data descriptors, no seeking back."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        self.size = 0
        return data


def zip_stream(members: Iterable[tuple[str, Callable[[], Iterable[bytes]]]],
               when: datetime) -> Iterator[bytes]:
    """Yield a zip of ``members`` (name, a callable giving the member's bytes) piece by piece.

    Each member's content is produced only when its turn comes, so a member
    written last (the codebook) can describe the ones before it.
    """
    sink = _Sink()
    stamp = when.timetuple()[:6]
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, produce in members:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # rw-r--r-- when unpacked
            with archive.open(info, "w", force_zip64=True) as member:
                for chunk in produce():
                    member.write(chunk)
                    if sink.size >= FLUSH_BYTES:
                        yield sink.take()
            yield sink.take()
    yield sink.take()
