"""Why a file could not be read or written, in Chinese.

The operating system explains itself in English (``[Errno 13] Permission denied``); a
clerk reads the reason in Chinese, with the path, and no traceback.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

_REASONS = {
    errno.ENOENT: "找不到文件或目录",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.EISDIR: "这是一个目录，不是文件",
    errno.ENOTDIR: "路径中有一段不是目录",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "文件系统只读",
    errno.EEXIST: "已存在",
    errno.ENAMETOOLONG: "文件名过长",
    errno.EMFILE: "打开的文件过多",
    errno.EBUSY: "文件正被占用",
    errno.EDQUOT: "超出磁盘配额",
    errno.EIO: "读写出错（输入输出错误）",
}


def reason(err: OSError) -> str:
    """The reason of an ``OSError`` in Chinese (the error number when it has no wording)."""
    if err.errno in _REASONS:
        return _REASONS[err.errno]
    return f"系统错误（错误号 {err.errno}）" if err.errno else "系统错误"


def unwritable(path: Path) -> str | None:
    """Why ``path`` cannot be written as a new or replaced file, or ``None`` if it can.

    Checked before the work starts, so nobody waits for a year of claims to be settled to
    learn that the output directory does not exist."""
    if path.is_dir():
        return "这是一个目录，不是文件"
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        return f"目录 {parent} 不存在"
    if not parent.is_dir():
        return f"{parent} 不是目录"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"没有权限在目录 {parent} 中写入"
    if path.exists() and not os.access(path, os.W_OK):
        return "没有权限改写此文件"
    return None
