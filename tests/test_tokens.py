import hashlib
import subprocess
import sys

SCRIPT = """
import socket
def refuse(*args, **kwargs):
    raise OSError("network used")
socket.socket.connect = refuse
socket.create_connection = refuse
from rag.tokens import get_encoding
print(get_encoding("cl100k_base").encode("Mr. Putin said hello"))
"""


def test_cl100k_loads_offline_from_packaged_file(tmp_path):
    env = {"TIKTOKEN_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[12555, 13, 21810, 1071, 24748]"
    url = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
    cached = tmp_path / hashlib.sha1(url.encode()).hexdigest()
    assert (
        hashlib.sha256(cached.read_bytes()).hexdigest()
        == "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
    )
