"""Live curves with pyqtgraph, built to stay smooth with a million points.

One PlotDataItem per curve, fed with views of growing float64 buffers; each curve downsamples
(peak) and clips to the visible range, and only curves whose data changed are set again.
The log scale clamps values to a small epsilon (log of zero is not a number), and a crosshair
reads out every curve's value under the mouse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPalette
from PySide6.QtWidgets import QWidget

EPSILON = 1e-8
READOUT_RATE = 30  # crosshair updates per second at most
TEXT_FILL = [(0, 0.9)]
LEFT_AXIS_WIDTH = 52
MINIMUM_SIZE = QSize(120, 48)  # a short dock still fits the panel; plots just get small


@dataclass(frozen=True)
class CurveStyle:
    colour: str
    width: float = 1.6
    dashed: bool = False
    faint: bool = False
    symbol: str | None = None
    step: bool = False   # hold each value until the next point (a learning rate)


def themed(widget: pg.PlotWidget, palette: QPalette) -> None:
    """Plot colours from the application palette (light and dark themes)."""
    background = palette.color(QPalette.ColorRole.Base)
    ink = palette.color(QPalette.ColorRole.Text)
    widget.setBackground(background)
    item = widget.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(ink))
        axis.setTextPen(pg.mkPen(ink))
    item.titleLabel.setText(item.titleLabel.text, color=ink.name())
    if item.legend is not None:
        item.legend.setLabelTextColor(ink)
        veil = QColor(background)
        veil.setAlpha(200)  # curves stay visible under the legend
        item.legend.setBrush(pg.mkBrush(veil))


class CurvePlot(pg.PlotWidget):
    """A plot of named curves, set by key; `set_log` switches the y axis to log scale."""

    def __init__(self, title: str, y_label: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(MINIMUM_SIZE)
        item = self.getPlotItem()
        item.setTitle(title, size="9pt")
        # No grid: it triples the cost of each repaint; the crosshair reads values exactly.
        item.setLabel("left", y_label)
        item.getAxis("left").setStyle(textFillLimits=TEXT_FILL)
        item.getAxis("left").setWidth(LEFT_AXIS_WIDTH)   # aligned plots; room for 0.0015
        item.setMenuEnabled(False)
        item.hideButtons()
        self.legend = item.addLegend(offset=(-6, 6), labelTextSize="8pt")
        self.curves: dict[object, pg.PlotDataItem] = {}
        self._data: dict[object, tuple[np.ndarray, np.ndarray]] = {}
        self.log = False
        self._crosshair = (pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(
            "#888888", style=Qt.PenStyle.DashLine)), pg.InfiniteLine(
            angle=0, movable=False, pen=pg.mkPen("#888888", style=Qt.PenStyle.DashLine)))
        self.readout = pg.TextItem(anchor=(0, 0), color="#888888")
        for part in (*self._crosshair, self.readout):
            part.setZValue(20)
            part.hide()
            item.addItem(part, ignoreBounds=True)
        self._mouse = pg.SignalProxy(self.scene().sigMouseMoved, rateLimit=READOUT_RATE,
                                     slot=self._on_mouse)
        themed(self, self.palette())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and self.getPlotItem() is not None:
            themed(self, self.palette())
        super().changeEvent(event)

    def place_legend(self) -> None:
        """Move the legend to the corner of the plot that covers the fewest data points."""
        box = self.getPlotItem().vb
        box.updateAutoRange()   # the range new data gets is otherwise settled at paint time
        view = box.viewRect()
        if not self._data or box.width() <= 0 or box.height() <= 0 or not view.isValid():
            return
        size = self.legend.boundingRect()
        margin = 24   # pixels of clearance around the legend
        width = (size.width() + margin) / box.width() * view.width()
        height = (size.height() + margin) / box.height() * view.height()
        points = [curve.getData() for curve in self.curves.values() if curve.name()]
        xs = np.concatenate([x[::max(1, len(x) // 2000)] for x, _y in points if x is not None])
        ys = np.concatenate([y[::max(1, len(y) // 2000)] for x, y in points if x is not None])

        def crowd(left: bool, top: bool) -> int:
            x0 = view.left() if left else view.right() - width
            y0 = view.bottom() - height if top else view.top()   # view y grows upwards
            return int(np.count_nonzero((xs >= x0) & (xs <= x0 + width)
                                        & (ys >= y0) & (ys <= y0 + height)))

        left, top = min(((False, True), (False, False), (True, True), (True, False)),
                        key=lambda corner: crowd(*corner))
        anchor = (0 if left else 1, 0 if top else 1)
        self.legend.anchor(anchor, anchor, offset=(6 if left else -6, 6 if top else -6))

    def set_x_label(self, text: str) -> None:
        self.getPlotItem().setLabel("bottom", text)

    # ------------------------------------------------------------------ curves
    def set_curve(self, key: object, x: np.ndarray, y: np.ndarray, style: CurveStyle,
                  name: str | None = None) -> None:
        """Create or update one curve (x and y are float64; views are fine)."""
        curve = self.curves.get(key)
        if curve is None:
            curve = self._new_curve(style, name)
            self.curves[key] = curve
        self._data[key] = (x, y)
        curve.setData(x, self._shown(y))

    def _new_curve(self, style: CurveStyle, name: str | None) -> pg.PlotDataItem:
        colour = QColor(style.colour)
        if style.faint:
            colour.setAlpha(70)
        pen = pg.mkPen(colour, width=style.width,
                       style=Qt.PenStyle.DashLine if style.dashed else Qt.PenStyle.SolidLine)
        options = {"pen": pen, "name": name}
        if style.step:
            options["stepMode"] = "right"
        if style.symbol:
            options.update(symbol=style.symbol, symbolSize=6, symbolBrush=colour,
                           symbolPen=None)
        curve = pg.PlotDataItem(**options)
        self.getPlotItem().addItem(curve)  # adding applies the plot's modes: set ours after
        curve.setDownsampling(auto=True, method="peak")
        curve.setClipToView(True)
        return curve

    def remove_curves(self, keep: set[object]) -> None:
        """Drop every curve whose key is not in `keep`."""
        for key in [k for k in self.curves if k not in keep]:
            curve = self.curves.pop(key)
            self._data.pop(key, None)
            self.getPlotItem().removeItem(curve)
            self.legend.removeItem(curve)

    def clear_curves(self) -> None:
        self.remove_curves(set())

    def set_log(self, log: bool) -> None:
        if log == self.log:
            return
        self.log = log
        self.getPlotItem().setLogMode(y=log)
        for key, (x, y) in self._data.items():
            self.curves[key].setData(x, self._shown(y))

    def _shown(self, y: np.ndarray) -> np.ndarray:
        return np.maximum(y, EPSILON) if self.log else y

    # ------------------------------------------------------------------ crosshair
    def _on_mouse(self, arguments: tuple) -> None:
        position = arguments[0]
        item = self.getPlotItem()
        inside = item.sceneBoundingRect().contains(position) and bool(self._data)
        for part in (*self._crosshair, self.readout):
            part.setVisible(inside)
        if not inside:
            return
        point = item.vb.mapSceneToView(position)
        self._crosshair[0].setPos(point.x())
        self._crosshair[1].setPos(point.y())
        self.readout.setText(self.readout_text(point.x(), point.y()))
        (left, _right), (_bottom, top) = item.vb.viewRange()
        self.readout.setPos(QPointF(left, top))

    def readout_text(self, x: float, y: float) -> str:
        """The values of every named curve nearest to x, and y under the mouse."""
        value = 10 ** y if self.log else y
        lines = [f"x {x:.4g}   y {value:.4g}"]
        for key, (xs, ys) in self._data.items():
            name = self.curves[key].name()
            if not name or not len(xs):
                continue
            index = int(np.clip(np.searchsorted(xs, x), 0, len(xs) - 1))
            if index > 0 and abs(xs[index - 1] - x) < abs(xs[index] - x):
                index -= 1
            lines.append(f"{name}: {ys[index]:.4g} at {xs[index]:.4g}")
        return "\n".join(lines)


class GradientStrip(pg.PlotWidget):
    """Per-layer gradient norms as a heat strip: one row per layer, one column per report,
    coloured by log10 of the norm; hovering names the layer, the epoch and the norm."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(MINIMUM_SIZE)
        item = self.getPlotItem()
        item.setTitle("Gradient norm per layer (log10)", size="9pt")
        item.setMenuEnabled(False)
        item.hideButtons()
        item.invertY(True)
        self.tick_font = self.font()
        self.tick_font.setPointSizeF(max(6.0, self.tick_font.pointSizeF() * 0.8))
        item.getAxis("left").setStyle(tickFont=self.tick_font, textFillLimits=TEXT_FILL)
        item.setMouseEnabled(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        item.addItem(self.image)
        self.colour_bar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), width=12,
                                          interactive=False)
        self.colour_bar.setImageItem(self.image, insert_in=item)
        self.names: list[str] = []
        self.epochs: list[int] = []
        self.norms = np.zeros((0, 0))
        self.flagged: set[str] = set()
        self.setMouseTracking(True)
        themed(self, self.palette())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and self.getPlotItem() is not None:
            themed(self, self.palette())
        super().changeEvent(event)

    def set_history(self, names: list[str], epochs: list[int], norms: np.ndarray,
                    flagged: set[str] = frozenset()) -> None:
        self.names, self.epochs, self.norms, self.flagged = names, epochs, norms, set(flagged)
        item = self.getPlotItem()
        if not norms.size:   # no run yet: no layer names either (they may be another design's)
            self.image.clear()
            item.getAxis("left").setTicks([[]])
            item.getAxis("bottom").setTicks([[]])
            return
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(np.where(norms > 0, norms, np.nan))
        finite = logs[np.isfinite(logs)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if high - low < 1e-6:
            low, high = low - 0.5, high + 0.5
        self.image.setImage(np.nan_to_num(logs, nan=low), levels=(low, high))
        self.colour_bar.setLevels((low, high))
        rows, columns = norms.shape
        labels = [("\u26a0 " if n in self.flagged else "") + n for n in names]
        metrics = QFontMetricsF(self.tick_font)
        item.getAxis("left").setWidth(max(metrics.horizontalAdvance(t) for t in labels) + 14)
        item.getAxis("left").setTicks([[(i + 0.5, label) for i, label in enumerate(labels)]])
        step = max(1, columns // 8)
        item.getAxis("bottom").setTicks([[(i + 0.5, str(e)) for i, e in
                                          enumerate(epochs) if i % step == 0]])
        item.setLabel("bottom", "epoch")
        item.setXRange(0, columns, padding=0)
        item.setYRange(0, rows, padding=0)

    def mouseMoveEvent(self, event) -> None:
        super().mouseMoveEvent(event)
        if not self.norms.size:
            return
        point = self.getPlotItem().vb.mapSceneToView(self.mapToScene(event.position().toPoint()))
        row, column = int(point.y()), int(point.x())
        if 0 <= row < self.norms.shape[0] and 0 <= column < self.norms.shape[1]:
            self.setToolTip(f"{self.names[row]}, epoch {self.epochs[column]}: gradient norm "
                            f"{self.norms[row, column]:.3g}")
        else:
            self.setToolTip("")
