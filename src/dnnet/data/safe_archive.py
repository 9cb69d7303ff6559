"""Reading archives from outside without trusting them."""

from __future__ import annotations

import tarfile
from pathlib import Path, PurePosixPath

from dnnet.errors import UserError


class UnsafeArchiveError(UserError):
    """An archive member that could write outside the target or is not a plain file or folder."""


def check_member(archive: Path, member: tarfile.TarInfo) -> None:
    """Refuses absolute paths, `..`, links, devices and FIFOs, naming the archive and the member."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or member.name.startswith(("/", "\\")) or ".." in path.parts:
        raise UnsafeArchiveError(f"{archive}: refusing member {member.name!r}: path leaves the extraction folder")
    if member.issym() or member.islnk():
        raise UnsafeArchiveError(f"{archive}: refusing member {member.name!r}: links are not extracted")
    if not (member.isfile() or member.isdir()):
        raise UnsafeArchiveError(f"{archive}: refusing member {member.name!r}: not a regular file or folder")


def open_tar(archive: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(archive, "r:*")
    except (tarfile.TarError, EOFError, OSError) as error:
        raise UserError(f"{archive}: not a readable tar archive ({error})") from error


def iter_files(archive: Path, wanted=lambda name: True, max_member_bytes: int | None = None):
    """Yields (name, bytes) of every regular file in a .tar/.tar.gz that `wanted(name)` accepts, after checking every
    member; the others are never read. A wanted member larger than `max_member_bytes` (by its header, before it is
    read) is refused by name. A truncated or corrupt archive raises UserError naming the file.
    """
    with open_tar(archive) as tar:
        try:
            for member in tar:
                check_member(archive, member)
                if not (member.isfile() and wanted(member.name)):
                    continue
                if max_member_bytes is not None and member.size > max_member_bytes:
                    raise UserError(f"{archive}: member {member.name!r} holds {member.size:,} bytes, more than the "
                                    f"{max_member_bytes:,} an image may have")
                yield member.name, tar.extractfile(member).read()
        except (tarfile.TarError, EOFError, OSError, ValueError) as error:
            if isinstance(error, UserError):
                raise
            raise UserError(f"{archive}: truncated or corrupt archive ({error})") from error
