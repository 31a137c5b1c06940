"""The photo viewer: one photo large, fit to the window, zoom and pan, arrows walk the list."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import QLocale, QRectF, Qt, Signal
from PySide6.QtGui import QImage, QKeyEvent, QKeySequence, QPainter, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QDialog,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from db.records import MediaItem
from db.review.records import ReviewEntry
from viewer.widgets.panes.review import PhotoReviewBox

ZOOM_STEP = 1.25
ZOOM_IN = QKeySequence.StandardKey.ZoomIn
ZOOM_OUT = QKeySequence.StandardKey.ZoomOut
FULL_SCREEN = QKeySequence.StandardKey.FullScreen
SIDE_WIDTH = 280


class PhotoView(QGraphicsView):
    """Fit to the window until the user zooms; drag to pan."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(Qt.GlobalColor.black)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrows belong to the dialog
        self.fitted = True

    def set_image(self, image: QImage) -> None:
        self._item.setPixmap(QPixmap.fromImage(image))  # QPixmap: GUI thread only, here
        self.scene().setSceneRect(QRectF(self._item.pixmap().rect()))
        self.fit()

    def clear(self) -> None:
        self._item.setPixmap(QPixmap())

    def fit(self) -> None:
        self.fitted = True
        if not self._item.pixmap().isNull():
            self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)

    def zoom(self, factor: float) -> None:
        self.fitted = False
        self.scale(factor, factor)

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.zoom(ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP)

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        if self.fitted:
            self.fit()


class MediaViewer(QDialog):
    """Shows `media[index]`; asks its owner for images through `image_needed`."""

    image_needed = Signal(object)  # MediaItem

    def __init__(
        self,
        media: Sequence[MediaItem],
        index: int,
        describe: Callable[[str], str],
        item_titles: Mapping[int, str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mediaViewer")
        self.setWindowTitle(self.tr("Photo"))
        self.resize(1100, 760)
        self.media = tuple(media)
        self.index = index
        self.describe = describe  # storage key -> where the photo is, for people
        self.item_titles = dict(item_titles)
        self.view = PhotoView()
        self.view.setAccessibleName(self.tr("Photo"))
        self.message = QLabel()
        self.message.setObjectName("viewerMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #8a1c13; font-size: 14px;")
        self.position = QLabel()
        self.fields: dict[str, QLabel] = {}
        # A plain column, not a QFormLayout: wrapped values get their full height there.
        facts = QVBoxLayout()
        facts.setSpacing(2)
        for name in ("Caption", "Checklist item", "Captured", "Dimensions", "File size", "File"):
            heading = QLabel(name)
            heading.setStyleSheet("color: #707070; margin-top: 6px;")
            label = QLabel()
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[name] = label
            facts.addWidget(heading)
            facts.addWidget(label)
        side = QWidget()
        side.setFixedWidth(SIDE_WIDTH)
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.position)
        side_layout.addLayout(facts)
        side_layout.addStretch(1)
        # The photo's review flag and comment; the owner answers through review_of.
        self.review = PhotoReviewBox()
        self.review_of: Callable[[int], ReviewEntry | None] | None = None
        self.review.setVisible(False)
        side_layout.addWidget(self.review)
        hint = QLabel(
            self.tr(
                "← → previous / next · wheel or + - to zoom · 0 to fit · F11 full screen · "
                "E U W flag · Esc closes"
            )
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #707070;")
        side_layout.addWidget(hint)
        left = QVBoxLayout()
        left.addWidget(self.view, 1)
        left.addWidget(self.message)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(side)
        self.show_current()

    @property
    def current(self) -> MediaItem:
        return self.media[self.index]

    def show_current(self) -> None:
        item = self.current
        self.view.clear()
        self.message.setText(self.tr("Loading..."))
        self.message.setVisible(True)
        self.position.setText(self.tr("Photo {0} of {1}").format(self.index + 1, len(self.media)))
        where = self.describe(item.storage_key)
        values = {
            "Caption": item.caption or "-",
            "Checklist item": self.item_titles.get(item.checklist_item_id, "-"),
            "Captured": item.captured_at.strftime("%Y-%m-%d %H:%M:%S"),
            "Dimensions": f"{item.width} x {item.height}",
            "File size": _size(item.byte_size),
            # Zero-width spaces let a long path wrap at its separators.
            "File": where.replace("/", "/\u200b"),
        }
        for name, value in values.items():
            label = self.fields[name]
            label.setText(value)
            # Wrapped labels do not grow by themselves in this column: ask for their height.
            label.setMinimumHeight(label.heightForWidth(SIDE_WIDTH - 24))
        name = item.storage_key.rsplit("/", 1)[-1]
        self.setWindowTitle(f"{item.caption or name} - Inspection Viewer")
        self.show_review()
        self.image_needed.emit(item)

    def show_review(self) -> None:
        """The current photo's flag and comment (once an owner answers review_of)."""
        if self.review_of is not None:
            self.review.setVisible(True)
            self.review.show_entry(self.review_of(self.current.id))

    def show_image(self, media_id: int, image: QImage) -> None:
        if media_id != self.current.id:
            return  # an answer for a photo the user has already moved past
        self.message.setVisible(False)
        self.view.set_image(image)

    def show_failure(self, media_id: int, reason: str) -> None:
        if media_id != self.current.id:
            return
        self.view.clear()
        self.message.setText(self.tr("This photo cannot be shown: {0}").format(reason))
        self.message.setVisible(True)

    def toggle_full_screen(self) -> None:
        self.setWindowState(self.windowState() ^ Qt.WindowState.WindowFullScreen)

    def step(self, delta: int) -> None:
        target = self.index + delta
        if 0 <= target < len(self.media):
            self.index = target
            self.show_current()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_PageDown, Qt.Key.Key_Space):
            self.step(1)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_PageUp, Qt.Key.Key_Backspace):
            self.step(-1)
        elif key == Qt.Key.Key_Home:
            self.step(-self.index)
        elif key == Qt.Key.Key_End:
            self.step(len(self.media) - 1 - self.index)
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal) or event.matches(ZOOM_IN):
            self.view.zoom(ZOOM_STEP)  # + and Ctrl++ alike
        elif key == Qt.Key.Key_Minus or event.matches(ZOOM_OUT):
            self.view.zoom(1 / ZOOM_STEP)
        elif key == Qt.Key.Key_0:
            self.view.fit()
        elif key == Qt.Key.Key_F11 or event.matches(FULL_SCREEN):
            self.toggle_full_screen()
        elif self.review.isVisible() and event.text() and self.review.toggle(event.text()):
            pass
        else:
            super().keyPressEvent(event)  # Esc closes the dialog


def _size(n: int) -> str:
    """In the user's locale, with the unit it really is (KiB for 1024 bytes)."""
    return QLocale().formattedDataSize(n, 1)
