"""The download path, against a server on 127.0.0.1 that the test starts (no internet here)."""

import hashlib
import http.server
import threading
from functools import partial

import pytest
from data_files import tar_folder, write_cifar10

import dnnet.data.download as download
from dnnet.data import load_data


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()

    class ShortHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path.endswith("short.bin"):  # promises 1000 bytes, sends 10
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.write(b"0123456789")
                return
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(ShortHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_download_checks_the_checksum_then_reads(tmp_path, server, monkeypatch):
    root, base = server
    write_cifar10(tmp_path / "build" / "cifar-10-batches-py")
    archive = tar_folder(tmp_path / "build" / "cifar-10-batches-py", root / "cifar-10-python.tar.gz", "cifar-10-batches-py")
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    monkeypatch.setitem(download.SOURCES, "cifar10", [("https://example.invalid/cifar-10-python.tar.gz", md5)])
    monkeypatch.setenv("DNNET_DATA_MIRROR", base)
    data = load_data("cifar10", data_dir=tmp_path / "data", cache_dir=tmp_path / "cache", download=True, val_count=4)
    assert (len(data.train), len(data.val), len(data.test)) == (16, 4, 4)
    assert (tmp_path / "data" / "cifar-10-python.tar.gz").read_bytes() == archive.read_bytes()


def test_bad_checksum_keeps_nothing(tmp_path, server):
    root, base = server
    (root / "file.bin").write_bytes(b"not what was published")
    with pytest.raises(ValueError, match="checksum mismatch"):
        download.fetch(f"{base}/file.bin", tmp_path / "out" / "file.bin", md5="0" * 32)
    assert list((tmp_path / "out").iterdir()) == []


def test_short_transfer_keeps_nothing(tmp_path, server):
    _, base = server
    with pytest.raises(ValueError, match=r"download cut short \(10 of 1000 bytes\)"):
        download.fetch(f"{base}/short.bin", tmp_path / "out" / "short.bin", md5="0" * 32)
    assert list((tmp_path / "out").iterdir()) == []


def test_nothing_is_fetched_unless_asked(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "fetch", lambda *a, **k: pytest.fail("fetched without --download"))
    with pytest.raises(FileNotFoundError, match="--download"):
        load_data("cifar100", data_dir=tmp_path)


@pytest.mark.parametrize("path", ["missing.bin", None], ids=["404", "refused"])
def test_a_failed_download_is_one_line_and_keeps_nothing(tmp_path, server, path, capsys):
    _, base = server
    url = f"{base}/{path}" if path else "http://127.0.0.1:9/file.bin"  # port 9: nothing listens
    with pytest.raises(download.UserError, match=rf"{url}: download failed \(.+\); nothing was kept"):
        download.fetch(url, tmp_path / "out" / "file.bin", md5="0" * 32)
    assert list((tmp_path / "out").iterdir()) == []
