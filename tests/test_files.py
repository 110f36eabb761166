"""Save, Save As, Open, Open Recent and New from the template gallery."""

from test_app_support import ScriptedDialogs, make_window

from designer.undo_commands import SetParams
from designer.panels.template_gallery import BLANK, TemplateGallery
from engine import load_design, save_design
from templates import load_template, template_names


def edit(window, value=4):
    document = window.document
    document.push(SetParams(document.design, document.design.find("conv1"),
                            {"out_channels": value}))


def test_save_as_then_save_then_reopen_gives_the_same_design(qtbot, tmp_path):
    dialogs = ScriptedDialogs(save_path=tmp_path / "my net")
    window = make_window(qtbot, tmp_path, dialogs=dialogs)
    edit(window)
    window.actions_by_name["save"].trigger()  # no path yet: Save asks where
    target = tmp_path / "my net.ncnet"
    assert window.document.path == target and target.is_file()
    assert window.document.design.name == "my net"
    assert not window.isWindowModified()
    assert window.windowTitle() == "NeuralCanvas \u2014 my net[*]"
    edit(window, 7)
    dialogs.asked.clear()
    window.actions_by_name["save"].trigger()
    assert dialogs.asked == []  # has a path: no question
    assert load_design(target) == window.document.design

    other = make_window(qtbot, tmp_path, dialogs=ScriptedDialogs(open_path=target))
    other.actions_by_name["open"].trigger()
    assert other.document.design == window.document.design
    assert other.document.path == target.resolve()
    assert not other.isWindowModified() and other.document.undo_stack.count() == 0


def test_failed_save_keeps_the_changes_marked(qtbot, tmp_path):
    dialogs = ScriptedDialogs(save_path=tmp_path / "no-such-folder" / "x.ncnet")
    window = make_window(qtbot, tmp_path, dialogs=dialogs)
    edit(window)
    assert not window.save()
    assert dialogs.errors[-1][0] == "Cannot save design"
    assert window.isWindowModified()


def test_open_refuses_a_bad_file_without_touching_the_open_design(qtbot, tmp_path):
    bad = tmp_path / "bad.ncnet"
    bad.write_text("{ not json")
    dialogs = ScriptedDialogs(open_path=bad)
    window = make_window(qtbot, tmp_path, dialogs=dialogs)
    before = window.document.design.to_dict()
    window.actions_by_name["open"].trigger()
    assert "bad.ncnet" in dialogs.errors[-1][1] and "line 1" in dialogs.errors[-1][1]
    assert window.document.design.to_dict() == before


def test_recent_files_most_recent_first_and_missing_ones_dropped(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    paths = []
    for name in ("mlp", "rnn", "gan"):
        path = tmp_path / f"{name}.ncnet"
        save_design(load_template(name), path)
        assert window.open_path(path)
        paths.append(path.resolve())
    assert window.settings.recent_files() == paths[::-1]
    window.open_path(paths[0])
    assert window.settings.recent_files()[0] == paths[0]
    paths[1].unlink()
    assert paths[1] not in window.settings.recent_files()

    window._fill_recent_menu()
    names = [a.text() for a in window.recent_menu.actions() if a.text()]
    assert names[:2] == ["mlp.ncnet", "gan.ncnet"]
    window.recent_menu.actions()[1].trigger()
    assert window.document.path == paths[2]
    assert window.document.design == load_template("gan")

    again = make_window(qtbot, tmp_path)  # same settings file: remembered across runs
    assert again.settings.recent_files() == window.settings.recent_files()


def test_new_from_the_gallery(qtbot, tmp_path):
    dialogs = ScriptedDialogs(template=load_template("gan"))
    window = make_window(qtbot, tmp_path, dialogs=dialogs)
    window.actions_by_name["new"].trigger()
    assert window.document.design == load_template("gan")
    assert window.document.path is None
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == \
        ["generator", "discriminator"]


def test_gallery_shows_every_template_with_picture_and_description(qtbot):
    gallery = TemplateGallery()
    qtbot.addWidget(gallery)
    assert [gallery.list.item(i).text() for i in range(gallery.list.count())] == \
        [BLANK, *template_names()]
    for row in range(gallery.list.count()):
        assert not gallery.list.item(row).icon().isNull()
    gallery.select("gan")
    design = load_template("gan")
    assert gallery.description.text() == design.description
    assert "generator, discriminator" in gallery.facts.text()
    image = gallery.preview.pixmap().toImage()
    background = image.pixelColor(1, 1)
    drawn = sum(image.pixelColor(x, y) != background
                for x in range(0, image.width(), 4) for y in range(0, image.height(), 4))
    assert drawn > 100  # boxes and arrows
    chosen = gallery.chosen()
    assert chosen == design and chosen is not gallery.designs["gan"]
