"""The Predict tab shows the selected sample's saliency map for an image classifier (the `cnn`
template with its initial weights), follows a click on another sample, and says in one line
why a model that is not an image classifier has none. Jobs run on a thread of the test process
(the app's helper process runs the same functions)."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PySide6.QtCore import Qt
from test_runs import stored_run

from designer.training.jobs import Jobs
from designer.training.predict_saliency import LEGEND
from designer.training.predict_view import PredictView
from engine.saliency import run_saliency

WAIT = 60_000   # ms; loading the data and the model on a loaded machine


@pytest.fixture
def predict_view(qtbot):
    pool = ThreadPoolExecutor(1)
    view = PredictView(Jobs(executor=lambda: pool))
    qtbot.addWidget(view)
    view.resize(1000, 500)
    view.show()
    qtbot.waitExposed(view)
    yield view
    view.jobs.shutdown()
    pool.shutdown(wait=True)


def predict(qtbot, view, tmp_path, template):
    store, record = stored_run(tmp_path / "net.runs", template=template)
    view.set_runs(store.runs())
    view.predict_samples()
    qtbot.waitUntil(lambda: view.prediction is not None, timeout=WAIT)
    return record


def test_an_image_classifier_shows_the_selected_samples_saliency(qtbot, predict_view, tmp_path):
    view = predict_view
    record = predict(qtbot, view, tmp_path, "cnn")
    qtbot.waitUntil(lambda: view.saliency.pixels is not None, timeout=WAIT)
    inputs = view.prediction.inputs
    assert view.selected == 0 and view.result.grid.selected == 0
    assert np.array_equal(view.saliency.pixels, run_saliency(record, inputs[0]).pixels)
    assert len(view.saliency.grid.pixmaps) == 3 and view.saliency.grid.isVisible()
    assert view.saliency.legend.text() == LEGEND and view.saliency.legend.isVisible()
    assert "sample 1" in view.saliency.title.text()

    shown = view.saliency.pixels
    tile = view.result.grid.tiles()[2]
    qtbot.mouseClick(view.result.grid, Qt.MouseButton.LeftButton, pos=tile.center().toPoint())
    assert view.selected == 2 and view.result.grid.selected == 2
    qtbot.waitUntil(lambda: view.saliency.pixels is not shown
                    and view.saliency.pixels is not None, timeout=WAIT)
    assert np.array_equal(view.saliency.pixels, run_saliency(record, inputs[2]).pixels)
    assert "sample 3" in view.saliency.title.text()


def test_a_model_that_is_not_an_image_classifier_has_a_one_line_reason(qtbot, predict_view,
                                                                      tmp_path):
    view = predict_view
    predict(qtbot, view, tmp_path, "mlp")
    assert view.saliency.isVisible() and not view.saliency.grid.isVisible()
    assert "No saliency map" in view.saliency.title.text()
    assert "image inputs" in view.saliency.title.text()
    view.select_sample(1)   # a click on a sample asks for nothing
    assert view.selected is None and view.saliency.pixels is None

