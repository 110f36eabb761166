"""TensorInfo.splice: the one rule behind slicing, selecting, joining, stacking and reshaping
along a dimension."""

from engine.layers.base import BATCH, TensorInfo


def test_splice_replaces_drops_and_inserts_dimensions_and_keeps_the_dtype():
    ids = TensorInfo((BATCH, 4, 6, 8), "long")
    assert ids.splice(2, 3, 3) == TensorInfo((BATCH, 4, 3, 8), "long")      # one replaced
    assert ids.splice(1, 2) == TensorInfo((BATCH, 6, 8), "long")            # one dropped
    assert ids.splice(1, 1, 5) == TensorInfo((BATCH, 5, 4, 6, 8), "long")   # one inserted
    assert ids.splice(1, 4, 192) == TensorInfo((BATCH, 192), "long")        # several merged
