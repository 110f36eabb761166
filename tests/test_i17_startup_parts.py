"""Issue 17, start-up: what the window builds empty before its first paint needs no numpy (the
live buffers reserve their arrays at the first value, an empty picture grid holds no array),
and reads as it did once values come."""

from __future__ import annotations

import numpy as np

from designer.training.buffers import Series, SmoothedSeries
from designer.training.pictures import ImageGrid


def test_an_empty_series_reads_as_empty_arrays_and_fills_as_before():
    series = SmoothedSeries(capacity=2)
    series.extend([], [])
    for empty in (series, series.smooth):
        assert len(empty) == 0 and empty.last() is None
        assert empty.x.dtype == np.float64 and empty.x.size == empty.y.size == 0
    series.extend([1.0, 2.0, 3.0], [4.0, 4.0, 4.0])
    assert series.x.tolist() == [1.0, 2.0, 3.0] and series.last() == 4.0
    assert np.allclose(series.smooth.y, 4.0)
    lr = Series()
    lr.append(5, 0.1)
    assert lr.x.tolist() == [5.0] and lr.y.dtype == np.float64


def test_a_cleared_grid_is_the_empty_grid_it_started_as(qtbot):
    grid = ImageGrid()
    qtbot.addWidget(grid)
    empty = dict(vars(grid))
    grid.set_images(np.ones((2, 3, 4, 8)), ["a", "b"], row_titles=["input"], columns=2)
    grid.select(1)
    assert len(grid.pixmaps) == 2 and grid.aspect == 2.0
    grid.clear()
    assert vars(grid) == empty
