"""PostgreSQL's binary wire format read straight into numpy: one-dimensional arrays and COPY streams.

Reading a season of hourly readings or a year of work-order facts as Python objects costs seconds; their binary
form is a run of fixed-width big-endian values that numpy reads whole.
"""
from __future__ import annotations

import numpy as np
import psycopg
from psycopg import sql

COPY_HEADER_BYTES = 19    # PGCOPY signature (11), flags (4), header extension length (4)
COPY_TRAILER_BYTES = 2    # the field count -1 that ends the stream
_ARRAY_HEADER_BYTES = 12  # ndim, has-null flag, element type
_DIMENSION_BYTES = 8      # length and lower bound of each dimension


def element_dtype(value_dtype: str) -> np.dtype:
    """One element of a binary array without NULLs: its length, then its value."""
    return np.dtype([("length", ">i4"), ("value", value_dtype)])


def read_array(data: bytes, value_dtype: str, offset: int = 0, *, what: str = "array") -> np.ndarray:
    """The values of the binary one-dimensional array without NULLs at ``offset`` of ``data``, in native order.

    An empty array (no dimensions) reads as no values; NULLs or more dimensions are an error naming ``what``.
    """
    ndim, has_null = int.from_bytes(data[offset:offset + 4], "big"), int.from_bytes(data[offset + 4:offset + 8], "big")
    if ndim == 0:
        return np.zeros(0, dtype=value_dtype.replace(">", "="))
    if ndim != 1 or has_null:
        raise ValueError(f"{what}: an array came back with NULLs or more than one dimension")
    count = int.from_bytes(data[offset + 12:offset + 16], "big", signed=True)
    start = offset + _ARRAY_HEADER_BYTES + _DIMENSION_BYTES
    values = np.frombuffer(data, dtype=element_dtype(value_dtype), count=count, offset=start)
    return values["value"].astype(value_dtype.replace(">", "="))


def array_loader(value_dtype: str, *, what: str = "array") -> type:
    """A psycopg loader of a binary one-dimensional array without NULLs as a numpy array of ``value_dtype``."""

    class Loader(psycopg.adapt.Loader):
        format = psycopg.pq.Format.BINARY

        def load(self, data) -> np.ndarray:
            return read_array(bytes(data), value_dtype, what=what)

    return Loader


def copy_out(conn: psycopg.Connection, query: sql.Composable) -> bytes:
    """The whole binary stream of ``COPY (...) TO STDOUT (FORMAT binary)``."""
    chunks = []
    with conn.cursor().copy(query) as copy:
        for data in copy:
            chunks.append(bytes(data))
    return b"".join(chunks)
