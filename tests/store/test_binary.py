"""Binary arrays and COPY streams from a real PostgreSQL read into numpy: values, empty arrays, and a clear error
for what the readers cannot take (NULLs, two dimensions)."""

from __future__ import annotations

import numpy as np
import pytest
from psycopg import sql

from store.binary import COPY_HEADER_BYTES, array_loader, copy_out, read_array


def _load(pool, query: str, oid: int, value_dtype: str):
    with pool.connection() as conn:
        cur = conn.cursor(binary=True)
        cur.adapters.register_loader(oid, array_loader(value_dtype, what="probe"))
        return cur.execute(query).fetchone()[0]


def test_arrays_of_each_width_read_as_their_values(pool):
    assert _load(pool, "SELECT ARRAY[1, -2, 9000000000]::int8[]", 1016, ">i8").tolist() == [1, -2, 9000000000]
    assert _load(pool, "SELECT ARRAY[3, -4]::int4[]", 1007, ">i4").tolist() == [3, -4]
    assert _load(pool, "SELECT ARRAY[true, false, true]", 1000, "u1").tolist() == [1, 0, 1]
    np.testing.assert_array_equal(_load(pool, "SELECT ARRAY[18.5, -3.25]::real[]", 1021, ">f4"),
                                  np.array([18.5, -3.25], np.float32))


def test_an_empty_array_reads_as_no_values(pool):
    values = _load(pool, "SELECT '{}'::int4[]", 1007, ">i4")
    assert values.dtype == np.int32 and len(values) == 0


@pytest.mark.parametrize("query", ["SELECT ARRAY[1, NULL]::int4[]", "SELECT ARRAY[[1, 2], [3, 4]]::int4[]"])
def test_nulls_or_two_dimensions_are_refused_by_name(pool, query):
    with pytest.raises(ValueError, match="probe: an array came back with NULLs or more than one dimension"):
        _load(pool, query, 1007, ">i4")


def test_arrays_inside_a_copy_stream_read_at_their_offset(pool):
    with pool.connection() as conn:
        data = copy_out(conn, sql.SQL("COPY (SELECT ARRAY[7, 8, 9]::int4[]) TO STDOUT (FORMAT binary)"))
    # One row: its field count (2 bytes), the field's length (4), then the array.
    assert int.from_bytes(data[COPY_HEADER_BYTES:COPY_HEADER_BYTES + 2], "big") == 1
    assert read_array(data, ">i4", COPY_HEADER_BYTES + 6).tolist() == [7, 8, 9]
