"""The exchange envelope of credit files (outputs.md 2.0 §3): a plain ``.txt`` file is compressed and
encrypted into the ``.enc`` file that is exchanged, and a received ``.enc`` is opened back.

``Envelope`` is the interface; two implementations:

- ``Sm4Envelope`` (the default): a ZIP archive holding the one ``.txt`` member (deflate), encrypted
  with SM4 (GB/T 32907-2016) in CBC mode under a random 16-byte IV with PKCS#7 padding; the ``.enc``
  is the IV followed by the ciphertext. The 128-bit key comes from ``DANBAO_PBOC_SM4_KEY`` (32 hex
  digits). SM4 is OpenSSL's, through ``cryptography``.
- ``CommandEnvelope``: the PBOC-supplied compression/encryption tool, run as a command for each file
  (``DANBAO_PBOC_ENVELOPE=command`` with ``DANBAO_PBOC_SEAL_CMD`` and ``DANBAO_PBOC_OPEN_CMD``, each
  with ``{in}`` and ``{out}`` placeholders for the input and output paths).

``ABF000`` (cannot be decrypted) and ``ABF001`` (cannot be decompressed) are the receiver's codes for
an envelope it cannot open; ``EnvelopeError.code`` carries which.
"""

from __future__ import annotations

import io
import os
import shlex
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from connectors.local_secret import local_secret_hex

ENV_KIND = "DANBAO_PBOC_ENVELOPE"
ENV_KEY = "DANBAO_PBOC_SM4_KEY"
ENV_SEAL = "DANBAO_PBOC_SEAL_CMD"
ENV_OPEN = "DANBAO_PBOC_OPEN_CMD"
SUFFIX = ".enc"
MAX_PLAIN = 1 << 31  # a member that inflates past 2 GiB is refused (ABF001)


class EnvelopeError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Envelope(Protocol):
    def seal(self, name: str, plain: bytes) -> bytes:
        """The ``.enc`` bytes of the plain file ``name`` (``….txt``)."""
        ...

    def open(self, name: str, sealed: bytes) -> bytes:
        """The plain file inside ``sealed`` (raises ``EnvelopeError`` ABF000/ABF001)."""
        ...


class Sm4Envelope:
    """ZIP (deflate) then SM4-CBC, the IV in front."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 16:
            raise ValueError("an SM4 key is 16 bytes (32 hex digits)")
        self._key = key

    def __repr__(self) -> str:  # never print a key
        return "Sm4Envelope(key=set)"

    def seal(self, name: str, plain: bytes) -> bytes:
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
            info = zipfile.ZipInfo(_member(name), date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, plain)
        padder = padding.PKCS7(128).padder()
        data = padder.update(archive.getvalue()) + padder.finalize()
        iv = os.urandom(16)
        encryptor = Cipher(algorithms.SM4(self._key), modes.CBC(iv)).encryptor()
        return iv + encryptor.update(data) + encryptor.finalize()

    def open(self, name: str, sealed: bytes) -> bytes:
        if len(sealed) < 32 or len(sealed) % 16:
            raise EnvelopeError("ABF000", "the file cannot be decrypted: not a whole number of SM4 blocks")
        decryptor = Cipher(algorithms.SM4(self._key), modes.CBC(sealed[:16])).decryptor()
        data = decryptor.update(sealed[16:]) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        try:
            data = unpadder.update(data) + unpadder.finalize()
        except ValueError:
            raise EnvelopeError("ABF000", "the file cannot be decrypted (wrong key or damaged)") from None
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                members = z.infolist()
                if len(members) != 1 or members[0].filename != _member(name):
                    raise EnvelopeError("ABF001", f"the archive must hold exactly {_member(name)}")
                if members[0].file_size > MAX_PLAIN:
                    raise EnvelopeError("ABF001", "the archive's member is too large")
                return z.read(members[0])
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
            raise EnvelopeError("ABF001", f"the file cannot be decompressed: {type(exc).__name__}") from None


class CommandEnvelope:
    """The PBOC-supplied tool: ``seal`` and ``open`` run a command with ``{in}``/``{out}`` paths."""

    def __init__(self, seal_cmd: str, open_cmd: str, timeout: float = 300.0) -> None:
        self.seal_cmd, self.open_cmd, self.timeout = seal_cmd, open_cmd, timeout

    def seal(self, name: str, plain: bytes) -> bytes:
        return self._run(self.seal_cmd, _member(name), plain, name.rsplit(".", 1)[0] + SUFFIX, "ABF000")

    def open(self, name: str, sealed: bytes) -> bytes:
        return self._run(self.open_cmd, name.rsplit(".", 1)[0] + SUFFIX, sealed, _member(name), "ABF000")

    def _run(self, template: str, in_name: str, data: bytes, out_name: str, code: str) -> bytes:
        with tempfile.TemporaryDirectory(prefix="danbao-envelope-") as tmp:
            source, target = Path(tmp) / in_name, Path(tmp) / "out" / out_name
            target.parent.mkdir()
            source.write_bytes(data)
            argv = [part.replace("{in}", str(source)).replace("{out}", str(target)) for part in shlex.split(template)]
            done = subprocess.run(argv, capture_output=True, timeout=self.timeout, check=False)
            if done.returncode != 0 or not target.exists():
                raise EnvelopeError(code, f"the envelope tool failed (exit {done.returncode})")
            return target.read_bytes()


def _member(name: str) -> str:
    return name.rsplit(".", 1)[0] + ".txt"


def envelope_from_env(environ: Mapping[str, str] | None = None, local_key_file: Path | None = None) -> Envelope:
    """The configured envelope: SM4 with ``$DANBAO_PBOC_SM4_KEY`` unless ``$DANBAO_PBOC_ENVELOPE`` is
    ``command``. Without the variable, the embedded setup's random key in ``local_key_file`` when one is
    given (the same file for the sender and the local reference receiver), else a refusal."""
    env = os.environ if environ is None else environ
    kind = (env.get(ENV_KIND) or "sm4").lower()
    if kind == "command":
        seal, open_ = env.get(ENV_SEAL), env.get(ENV_OPEN)
        if not seal or not open_:
            raise LookupError(f"{ENV_KIND}=command needs {ENV_SEAL} and {ENV_OPEN}")
        return CommandEnvelope(seal, open_)
    if kind != "sm4":
        raise LookupError(f"{ENV_KIND} must be sm4 or command, not {kind!r}")
    key = env.get(ENV_KEY)
    if not key and local_key_file is not None:
        key = local_secret_hex(local_key_file, 16)
    if not key:
        raise LookupError(f"no SM4 key: set {ENV_KEY} (32 hex digits)")
    try:
        return Sm4Envelope(bytes.fromhex(key))
    except ValueError:
        raise LookupError(f"{ENV_KEY} must be 32 hex digits") from None
