"""Save and load parameters: ``.npz`` files of plain arrays, and the book's pickle files read safely.

``save(state_dict, path)`` writes a name -> array mapping (``net.state_dict()``,
the book's ``net.params``) and ``load(path)`` reads it back as a dict of
ndarrays::

    tk.save(net.state_dict(), "model.npz")
    net.load_state_dict(tk.load("model.npz"))

The file is an ordinary NumPy ``.npz`` (a zip archive of ``.npy`` files), so
``np.load(path)`` reads it too. ``load_book_params`` reads the book's own weight
files (``params.pkl``: pickles) without running anything in them, and
``save_book_params`` writes that format for the book's code. The promises:

- **Saving is atomic.** The data goes to a temporary file in the same folder,
  is flushed to disk, and only then replaces ``path`` in one step. An
  interrupted save (an exception, Ctrl-C, even a killed process) leaves an
  existing file at ``path`` as it was. Only a regular file or a new path is
  written: a directory, a device or a symbolic link is refused, never replaced
  or written through; a replaced file keeps its permission bits.
- **Loading trusts nothing in the file.** Only a regular file is opened (a
  FIFO or a device is refused at once). Only plain numeric and bool arrays are
  read. Pickled Python objects are refused without unpickling anything, the
  book's pickles go through a restricted unpickler, and every size the file
  declares (array headers, zip entries, ``max_bytes`` in all) is checked against
  the bytes actually stored before any memory is allocated.
"""

from ._book import UnsafePickleError, load_book_params, save_book_params
from ._files import write_atomically
from ._npz import DEFAULT_MAX_BYTES, load, save

__all__ = ["save", "load", "load_book_params", "save_book_params", "UnsafePickleError",
           "write_atomically", "DEFAULT_MAX_BYTES"]
