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


def iter_files(archive: Path):
    """Yields (name, bytes) of every regular file in a .tar/.tar.gz, after checking every member.

    A truncated or corrupt archive raises ValueError naming the file.
    """
    with open_tar(archive) as tar:
        try:
            for member in tar:
                check_member(archive, member)
                if member.isfile():
                    handle = tar.extractfile(member)
                    yield member.name, handle.read()
        except (tarfile.TarError, EOFError, OSError, ValueError) as error:
            if isinstance(error, UnsafeArchiveError):
                raise
            raise UserError(f"{archive}: truncated or corrupt archive ({error})") from error

