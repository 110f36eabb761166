"""The shared widget pieces: a read-only table, a file row whose label focuses its field, and
Cancel beside a dialog's action button."""

from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from designer.widgets import add_file_row, cancel_and_action, read_only_table


def test_a_file_rows_label_is_the_buddy_of_its_field(qtbot):
    dialog = QDialog()
    qtbot.addWidget(dialog)
    form = QFormLayout(dialog)
    file, browse = QLineEdit(dialog), QPushButton("Browse…", dialog)
    add_file_row(form, "&File", file, browse)
    label = form.itemAt(0, QFormLayout.ItemRole.LabelRole).widget()
    assert isinstance(label, QLabel) and label.buddy() is file
    row = form.itemAt(0, QFormLayout.ItemRole.FieldRole).layout()
    assert [row.itemAt(i).widget() for i in range(row.count())] == [file, browse]


def test_the_action_button_starts_the_work_and_cancel_rejects(qtbot):
    dialog = QDialog()
    qtbot.addWidget(dialog)
    started = []
    buttons, action = cancel_and_action(dialog, "Export", lambda: started.append(True))
    assert action.text() == "Export"
    action.click()
    assert started == [True]
    dialog.show()
    buttons.button(buttons.StandardButton.Cancel).click()
    assert dialog.result() == QDialog.DialogCode.Rejected and not dialog.isVisible()


def test_a_read_only_table_shows_its_model_flat_and_refuses_edits(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    model = QStandardItemModel()
    model.appendRow(QStandardItem("conv1"))
    table = read_only_table(parent, model)
    assert table.model() is model and table.parent() is parent
    assert not table.rootIsDecorated() and table.alternatingRowColors()
    assert table.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers
