"""One reader per raw dataset layout (DESIGN.md §6); types are in `base`."""

from data_prep.readers import bu3dfe
from data_prep.readers import bu4dfe
from data_prep.readers import ckplus
from data_prep.readers import image_folder
from data_prep.readers import oulu_casia
from data_prep.readers import sfew
from data_prep.readers.base import Item  # noqa: F401
from data_prep.readers.base import Listing  # noqa: F401
from data_prep.readers.base import ReaderOptions  # noqa: F401
from data_prep.readers.base import Rejection  # noqa: F401

READERS = {
    'ckplus': ckplus.read,
    'oulu_casia': oulu_casia.read,
    'bu3dfe': bu3dfe.read,
    'bu4dfe': bu4dfe.read,
    'sfew': sfew.read,
    'image_folder': image_folder.read,
}
