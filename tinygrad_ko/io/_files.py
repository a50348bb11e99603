"""Opening files to read and replacing files atomically, with files treated as data only.

``open_regular`` opens a path for reading only if it is a regular file (a symbolic link
to one is fine): a FIFO, a device or a socket is refused at once, without blocking and
without reading a byte. ``write_atomically`` writes a new file beside the destination
and moves it into place in one step; it refuses a destination that is a directory, a
device, a FIFO or a symbolic link, keeps the permission bits of a file it replaces, and
names the destination, never its temporary file, in errors.
"""

import errno
import os
import secrets
import stat

__all__ = ["open_regular", "write_atomically"]


# --- reading ---

def _kind(mode):
    """What a non-regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _refuse_unless_regular(path, mode, action):
    if stat.S_ISREG(mode):
        return
    what = _kind(mode)
    if os.path.islink(path):
        what = f"a symbolic link to {os.readlink(path)!r}, which is {what}"
    message = f"{action}: it is {what}, not a regular file; pass a data file's path"
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(message)
    raise ValueError(message)


def open_regular(path, action=None):
    """Open ``path`` for reading in binary mode, only if it is a regular file.

    A directory raises ``IsADirectoryError``; a FIFO, a device, a socket, or a symbolic
    link to one of them raises ``ValueError`` at once (the file is opened with
    O_NONBLOCK, so a FIFO with no writer cannot make this wait). ``action`` starts the
    message and names the file (``"cannot load 'model.npz'"``; by default
    ``"cannot read '<path>'"``).

    >>> import os, tempfile
    >>> from tinygrad_ko.io._files import open_regular
    >>> folder = tempfile.mkdtemp()
    >>> with open(os.path.join(folder, "data.bin"), "wb") as f:
    ...     _ = f.write(b"abc")
    >>> with open_regular(os.path.join(folder, "data.bin")) as f:
    ...     f.read()
    b'abc'
    >>> open_regular(os.devnull)
    Traceback (most recent call last):
    ...
    ValueError: cannot read '/dev/null': it is a character device, not a regular file; pass a data file's path
    """
    path = os.fspath(path)
    action = f"cannot read {path!r}" if action is None else action
    # Look before opening, so that a device is never even opened (opening some has effects).
    _refuse_unless_regular(path, os.stat(path).st_mode, action)
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    nonblocking = getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags | nonblocking)
    try:
        # Look again at what was opened: the path may have been swapped in between.
        _refuse_unless_regular(path, os.fstat(fd).st_mode, action)
        if nonblocking:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


# --- writing ---

def _check_destination(path):
    """Refuse a destination that is not a regular file or a new path; return the
    permission bits of the file to be replaced, or None for a new path."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        raise ValueError(
            f"cannot write {path!r}: it is a symbolic link to {os.readlink(path)!r}; pass the real "
            f"path (os.path.realpath gives it) to write the file it points to, or delete the link "
            f"first. A symbolic link is never replaced or written through silently")
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(f"cannot write {path!r}: it is a directory; pass a file path")
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(
            f"cannot write {path!r}: it is {_kind(info.st_mode)}, not a regular file; "
            f"pass the path of a regular file or a new one")
    return stat.S_IMODE(info.st_mode)


# Errors of the storage itself: they name the destination even when raised inside ``write``
# (OSError(errno, ...) picks the subclass, e.g. PermissionError, by itself).
_STORAGE_ERRORS = {errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EROFS,
                   getattr(errno, "EDQUOT", errno.ENOSPC)}


def write_atomically(path, write):
    """Call ``write(file)`` on a temporary file in path's folder, then move it to ``path`` in one step.

    Readers, and a crash or Ctrl-C at any moment, see the old file or the new
    one, never half of one; the temporary file never outlives a failure.
    ``tk.save`` uses it, and so do the dataset downloads and the files
    ``tinygrad-ko train`` writes.

    ``path`` must be a new path or a regular file, whose permission bits the new
    file keeps. A directory (``IsADirectoryError``), a device, a FIFO or a symbolic
    link (``ValueError``) is refused before anything is written: a link is never
    replaced or written through silently. Errors name ``path``, never the
    temporary file.

    >>> import os, tempfile
    >>> from tinygrad_ko.io import write_atomically
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> write_atomically(path, lambda f: f.write(b"epoch 1: 0.91"))
    >>> open(path, "rb").read()
    b'epoch 1: 0.91'
    """
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    mode = _check_destination(path)
    folder = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    temp_name, step = None, "prepare"
    try:
        fd = _open_anonymous_temp(folder)
        if fd is None:  # no O_TMPFILE here: fall back to a named, hidden temporary file
            fd, temp_name = _open_named_temp(folder, base)
        with os.fdopen(fd, "wb") as f:
            step = "write"
            write(f)
            step = "finish"
            f.flush()
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)  # the replaced file's permissions stay
            os.fsync(f.fileno())  # the data is on disk before it gets its real name
            if temp_name is None:
                # Give the anonymous file a name; it becomes visible only now.
                temp_name = _link_anonymous_temp(f.fileno(), folder, base)
        _check_destination(path)  # again, just before replacing: it may have changed meanwhile
        os.replace(temp_name, path)  # atomic: readers see the old file or the new one
        temp_name = None
    except OSError as exc:
        _remove(temp_name)
        # The caller's own errors (a dropped connection while downloading) pass unchanged;
        # errors of the file system name the destination, not the temporary file.
        if exc.errno is None or (step == "write" and exc.errno not in _STORAGE_ERRORS):
            raise
        raise OSError(exc.errno, exc.strerror, path) from None
    except BaseException:  # also KeyboardInterrupt: never leave a half-written file
        _remove(temp_name)
        raise
    _fsync_folder(folder)  # make the rename itself durable


def _remove(temp_name):
    if temp_name is not None:
        try:
            os.unlink(temp_name)
        except OSError:
            pass


def _open_anonymous_temp(folder):
    """An fd to a nameless file in ``folder`` (Linux O_TMPFILE), or None where unsupported.

    A nameless file disappears by itself when the process dies, so even a
    SIGKILL in the middle of a save leaves no temporary file behind.
    """
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd") or os.link not in os.supports_dir_fd:
        return None
    try:
        return os.open(folder, flag | os.O_WRONLY, 0o666)  # 0o666 & ~umask, like open()
    except OSError:  # a filesystem without O_TMPFILE, or an old kernel
        return None


def _link_anonymous_temp(fd, folder, base):
    """Give the O_TMPFILE file ``fd`` a hidden name in ``folder`` and return it."""
    proc_fd = os.open("/proc/self/fd", os.O_RDONLY)
    try:
        while True:
            name = os.path.join(folder, f".{base}.{secrets.token_hex(4)}.tmp")
            try:
                # linkat(.., AT_SYMLINK_FOLLOW) on /proc/self/fd/N, as open(2) shows;
                # a plain link() would not follow the /proc link.
                os.link(str(fd), name, src_dir_fd=proc_fd, follow_symlinks=True)
                return name
            except FileExistsError:
                continue
    finally:
        os.close(proc_fd)


def _open_named_temp(folder, base):
    """Create a new hidden file ``.<base>.<random>.tmp`` in ``folder``; return (fd, name)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        name = os.path.join(folder, f".{base}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(name, flags, 0o666), name  # 0o666 & ~umask, like open()
        except FileExistsError:
            continue


def _fsync_folder(folder):
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems cannot fsync a folder; the data itself is safe
        pass
    finally:
        os.close(fd)
