"""Encryption at rest: Parquet modular encryption for the warehouse and the stage tables.

The master key (256 bits) comes from outside the repository, in this order:

1. an explicit key file (run parameter ``encryption.key_file``, notebook parameter
   ``encryption_key_file``, ``saleslab keys new``);
2. the environment: ``SALESLAB_KEY_FILE`` (a path) or ``SALESLAB_KEY`` (the key, base64).

With neither, nothing is encrypted (as before). A key file holds one line: the key in base64
(``new_key_file`` writes it with 0600 permissions); ``0600`` or stricter is required on read.

Parquet files are written with pyarrow's modular encryption: AES_GCM_V1, 256-bit data keys, the
footer and every column encrypted, key material inside the file (double wrapping: data keys are
wrapped by key-encryption keys, which the KMS client wraps with the master key). The KMS client is
pyarrow's :class:`pyarrow.parquet.encryption.KmsClient`; :class:`LocalKmsClient` wraps with
AES-256-GCM under the local master key, in parquet-mr's ``LocalWrapKmsClient`` format
(``{"masterKeyVersion": "NO_VERSION", "encryptedKey": base64(nonce | ciphertext | tag)}``, the
master key id as AAD), so a real key service is a class of the same shape
(``encryption.kms_client: "package.module:Class"``) and Java readers can use a local-wrap client.

The master key id written into every file is ``saleslab-<first 12 hex digits of sha256(key)>``:
a :class:`KeyRing` can hold several keys (the current one writes; all of them read), which is
what makes :func:`rotate` resumable after a crash (every file is readable by the old or the new
key at every moment: a file is re-encrypted into a temporary file, synced, then renamed over).

Files other than Parquet (if any need it) use :func:`encrypt_file` / :func:`decrypt_file`: an
AES-256-GCM envelope with a data key wrapped by the same KMS client.

Readers: DuckDB cannot decrypt these files; the engine registers a :func:`dataset` (pyarrow's
``ParquetDecryptionConfig``) in DuckDB instead, whose footers are opened in the calling thread first
(see there). Spark reads the same files with parquet-mr's ``PropertiesDrivenCryptoFactory`` and
:data:`SPARK_KMS_CLASS`, a ``LocalWrapKmsClient`` compiled on first use (needs ``javac``); its
master keys are put in the session's Hadoop configuration (:func:`spark_hadoop_conf`).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import importlib
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pyarrow.parquet.encryption as pe

from .errors import SalesLabError
from .files import atomic_write

ENV_KEY_FILE = "SALESLAB_KEY_FILE"
ENV_KEY = "SALESLAB_KEY"
KEY_BYTES = 32
#: the magic at the end of a Parquet file: plaintext footer / encrypted footer
PLAIN_MAGIC, ENCRYPTED_MAGIC = b"PAR1", b"PARE"
#: the magic at the start of a file encrypted by :func:`encrypt_file`
ENVELOPE_MAGIC = b"SLENC1\n"
_NONCE = 12
#: how long pyarrow caches the keys it unwrapped; long, because a read must never call the (Python)
#: KMS client from a scan thread: see :func:`dataset`
_LIFETIME = dt.timedelta(hours=24)


class EncryptionKeyError(SalesLabError):
    """A key is missing, malformed, or does not open a file (one clear line)."""


# ---- keys --------------------------------------------------------------------------------------
def key_id(key: bytes) -> str:
    """The master key identifier written into files encrypted under ``key`` (not secret)."""
    return "saleslab-" + hashlib.sha256(key).hexdigest()[:12]


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise EncryptionKeyError(f"{where}: not a base64 key (expected one line written by "
                                 f"`saleslab keys new`)") from None
    if len(key) != KEY_BYTES:
        raise EncryptionKeyError(f"{where}: the key has {len(key) * 8} bits; a 256-bit key is required")
    return key


def read_key_file(path: str | Path) -> bytes:
    """The 256-bit key in ``path``; refuses a file others can read (permissions looser than 0600)."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise EncryptionKeyError(f"key file {p} does not exist (create one with `saleslab keys new --params P`)")
    mode = stat.S_IMODE(p.stat().st_mode)
    if mode & 0o077:
        raise EncryptionKeyError(f"key file {p} is readable by others (mode {mode:04o}); run: chmod 600 {p}")
    return _decode_key(p.read_text(encoding="ascii", errors="replace"), f"key file {p}")


def new_key_file(path: str | Path, overwrite: bool = False) -> Path:
    """Write a fresh random 256-bit key to ``path`` (mode 0600, parent folder created 0700)."""
    p = Path(path).expanduser()
    if p.exists() and not overwrite:
        raise EncryptionKeyError(f"key file {p} already exists; refusing to overwrite a key (data encrypted with it "
                        f"would be lost) — use `saleslab keys rotate` to change the key")
    p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, base64.b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, p)
    return p


# ---- the KMS client ----------------------------------------------------------------------------
def _gcm():
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM


def wrap_locally(key: bytes, master_key: bytes, master_key_id: str) -> str:
    """AES-256-GCM wrap of ``key`` under ``master_key`` (AAD: the master key id), base64."""
    nonce = secrets.token_bytes(_NONCE)
    return base64.b64encode(nonce + _gcm()(master_key).encrypt(nonce, key, master_key_id.encode())).decode()


def unwrap_locally(wrapped: str, master_key: bytes, master_key_id: str) -> bytes:
    from cryptography.exceptions import InvalidTag

    raw = base64.b64decode(wrapped)
    try:
        return _gcm()(master_key).decrypt(raw[:_NONCE], raw[_NONCE:], master_key_id.encode())
    except InvalidTag:
        raise EncryptionKeyError(f"the key {master_key_id} does not open this file's key "
                                 f"(wrong or tampered key)") from None


class LocalKmsClient(pe.KmsClient):
    """A KMS client holding the master keys locally: wraps data keys with AES-256-GCM.

    A real key service is a class with the same two methods (``wrap_key(key_bytes, master_key_id)
    -> str``, ``unwrap_key(wrapped, master_key_id) -> bytes``), built from the
    :class:`pyarrow.parquet.encryption.KmsConnectionConfig`.
    """

    def __init__(self, keys: dict[str, bytes]):
        super().__init__()
        self._keys = dict(keys)

    def _key(self, master_key_id: str) -> bytes:
        if master_key_id not in self._keys:
            raise EncryptionKeyError(f"this file was encrypted with key {master_key_id}, which the configured key "
                            f"({', '.join(self._keys) or 'none'}) is not")
        return self._keys[master_key_id]

    def wrap_key(self, key_bytes, master_key_identifier):
        wrapped = wrap_locally(bytes(key_bytes), self._key(master_key_identifier), master_key_identifier)
        return json.dumps({"masterKeyVersion": "NO_VERSION", "encryptedKey": wrapped})

    def unwrap_key(self, wrapped_key, master_key_identifier):
        text = wrapped_key.decode() if isinstance(wrapped_key, bytes) else wrapped_key
        try:
            wrapped = json.loads(text)["encryptedKey"]
        except (ValueError, KeyError, TypeError):
            wrapped = text
        return unwrap_locally(wrapped, self._key(master_key_identifier), master_key_identifier)


def _import(path: str):
    mod, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(mod), name)
    except (ImportError, AttributeError) as e:
        raise EncryptionKeyError(f"KMS client {path!r} cannot be imported ({e}); "
                                 f"expected 'package.module:Class'") from None


@dataclass
class KeyRing:
    """The keys of a warehouse / run: ``write_key`` encrypts, every key in ``keys`` decrypts.

    ``keys`` holds local master keys by id; with ``kms_client`` (an import path
    ``package.module:Class`` of a :class:`pyarrow.parquet.encryption.KmsClient` taking the
    connection config) the master keys stay in the key service and ``write_key`` is its key id.
    Picklable (ingest workers get it); the pyarrow crypto factory is built lazily per process.
    """

    write_key: str
    keys: dict[str, bytes] = field(default_factory=dict, repr=False)
    kms_client: str | None = None
    kms_instance_id: str = "local"
    kms_instance_url: str = ""
    kms_conf: dict = field(default_factory=dict)
    source: str = ""  # where the key came from (for messages)
    _factory: object = field(default=None, repr=False, compare=False)

    # construction -------------------------------------------------------------------------
    @classmethod
    def from_keys(cls, *keys: bytes, source: str = "") -> "KeyRing":
        """A local key ring; the first key writes."""
        ids = {key_id(k): k for k in keys}
        return cls(key_id(keys[0]), ids, source=source)

    @classmethod
    def from_file(cls, path: str | Path, *more: str | Path) -> "KeyRing":
        return cls.from_keys(read_key_file(path), *[read_key_file(m) for m in more], source=f"key file {path}")

    def with_keys(self, *others: "KeyRing") -> "KeyRing":
        """This ring (still writing with its key) that also reads with ``others``' keys."""
        keys = dict(self.keys)
        for o in others:
            keys.update(o.keys)
        return KeyRing(self.write_key, keys, self.kms_client, self.kms_instance_id, self.kms_instance_url,
                       dict(self.kms_conf), self.source)

    def __getstate__(self):
        d = dict(self.__dict__)
        d["_factory"] = None
        return d

    # pyarrow -------------------------------------------------------------------------------
    def _client(self, config):
        if self.kms_client:
            return _import(self.kms_client)(config)
        return LocalKmsClient(self.keys)

    @property
    def factory(self) -> pe.CryptoFactory:
        if self._factory is None:
            self._factory = pe.CryptoFactory(self._client)
        return self._factory

    @property
    def kms_config(self) -> pe.KmsConnectionConfig:
        return pe.KmsConnectionConfig(kms_instance_id=self.kms_instance_id, kms_instance_url=self.kms_instance_url,
                                      custom_kms_conf={k: str(v) for k, v in self.kms_conf.items()})

    def encryption_config(self) -> pe.EncryptionConfiguration:
        return pe.EncryptionConfiguration(
            footer_key=self.write_key, uniform_encryption=True, encryption_algorithm="AES_GCM_V1",
            plaintext_footer=False, double_wrapping=True, internal_key_material=True, data_key_length_bits=256,
            cache_lifetime=_LIFETIME)

    def encryption_properties(self):
        """Fresh properties (new data keys) for one file."""
        return self.factory.file_encryption_properties(self.kms_config, self.encryption_config())

    def decryption_properties(self):
        return self.factory.file_decryption_properties(self.kms_config, pe.DecryptionConfiguration(
            cache_lifetime=_LIFETIME))

    def dataset_decryption(self) -> ds.ParquetDecryptionConfig:
        return ds.ParquetDecryptionConfig(self.factory, self.kms_config,
                                          pe.DecryptionConfiguration(cache_lifetime=_LIFETIME))

    # envelopes (non-Parquet files) ---------------------------------------------------------
    def wrap(self, data_key: bytes) -> str:
        return self._client(self.kms_config).wrap_key(data_key, self.write_key)

    def unwrap(self, wrapped: str, master_key_id: str) -> bytes:
        return bytes(self._client(self.kms_config).unwrap_key(wrapped, master_key_id))


def keyring_from(key_file: str | Path | None = None, environ: dict | None = None) -> KeyRing | None:
    """The key ring from an explicit key file, else the environment (``SALESLAB_KEY_FILE``,
    ``SALESLAB_KEY``); None when no key is configured (everything stays plaintext)."""
    env = os.environ if environ is None else environ
    if key_file:
        return KeyRing.from_file(key_file)
    if env.get(ENV_KEY_FILE):
        return KeyRing.from_file(env[ENV_KEY_FILE])
    if env.get(ENV_KEY):
        return KeyRing.from_keys(_decode_key(env[ENV_KEY], f"environment variable {ENV_KEY}"),
                                 source=f"environment variable {ENV_KEY}")
    return None


def resolve(keyring: "KeyRing | str | Path | None") -> KeyRing | None:
    """A :class:`KeyRing` given a ring, a key file path, or None (then the environment)."""
    if isinstance(keyring, KeyRing):
        return keyring
    return keyring_from(keyring or None)


# ---- Parquet -----------------------------------------------------------------------------------
def is_encrypted(path: str | Path) -> bool:
    """Whether ``path`` is a Parquet file with an encrypted footer (read from its last 4 bytes)."""
    with open(path, "rb") as fh:
        fh.seek(-4, os.SEEK_END)
        tail = fh.read(4)
    return tail == ENCRYPTED_MAGIC


def _no_key(path) -> EncryptionKeyError:
    return EncryptionKeyError(f"{path} is encrypted and no key is configured (set encryption.key_file in the run "
                     f"parameters, the notebook parameter encryption_key_file, or {ENV_KEY_FILE})")


def _opened(path, fn):
    """Run ``fn`` and turn pyarrow's key and tag errors into one clear line."""
    try:
        return fn()
    except EncryptionKeyError:
        raise
    except (OSError, pa.ArrowException, ValueError) as e:
        text = str(e)
        if any(s in text for s in ("decrypt", "Decrypt", "AES", "key", "tag", "encrypt")):
            first = text.strip().splitlines()[0] if text.strip() else type(e).__name__
            raise EncryptionKeyError(f"{path} cannot be decrypted with the configured key ({first[:200]})") from None
        raise


def parquet_writer(path: str | Path, schema: pa.Schema, keyring: KeyRing | None = None, **kw) -> pq.ParquetWriter:
    """A :class:`pyarrow.parquet.ParquetWriter`, encrypting when ``keyring`` is given."""
    if keyring is not None:
        kw["encryption_properties"] = keyring.encryption_properties()
    return pq.ParquetWriter(str(path), schema, **kw)


def write_table(table: pa.Table, path: str | Path, keyring: KeyRing | None = None, **kw) -> None:
    """:func:`pyarrow.parquet.write_table`, encrypting when ``keyring`` is given."""
    if keyring is not None:
        kw["encryption_properties"] = keyring.encryption_properties()
    pq.write_table(table, str(path), **kw)


def write_batches(batches: Iterable[pa.RecordBatch] | pa.RecordBatchReader, path: str | Path,
                  keyring: KeyRing | None = None, schema: pa.Schema | None = None) -> int:
    """Stream record batches (e.g. a DuckDB result) into one Parquet file; returns the rows."""
    if schema is None:
        schema = batches.schema
    n = 0
    with parquet_writer(path, schema, keyring) as w:
        for b in batches:
            if b.num_rows:
                w.write_batch(b)
                n += b.num_rows
    return n


def parquet_file(path: str | Path, keyring: KeyRing | None = None) -> pq.ParquetFile:
    """A :class:`pyarrow.parquet.ParquetFile`, plaintext or encrypted."""
    if is_encrypted(path):
        if keyring is None:
            raise _no_key(path)
        return _opened(path, lambda: pq.ParquetFile(str(path), decryption_properties=keyring.decryption_properties()))
    return pq.ParquetFile(str(path))


def read_table(path: str | Path, keyring: KeyRing | None = None, **kw) -> pa.Table:
    """One Parquet file as an Arrow table, plaintext or encrypted."""
    if is_encrypted(path):
        if keyring is None:
            raise _no_key(path)
        return _opened(path, lambda: pq.read_table(str(path), decryption_properties=keyring.decryption_properties(),
                                                   **kw))
    return pq.read_table(str(path), **kw)


def read_schema(path: str | Path, keyring: KeyRing | None = None) -> pa.Schema:
    return parquet_file(path, keyring).schema_arrow


def num_rows(path: str | Path, keyring: KeyRing | None = None) -> int:
    """Rows of one Parquet file (from its footer)."""
    return parquet_file(path, keyring).metadata.num_rows


def dataset(paths: list[str | Path], keyring: KeyRing | None = None, schema: pa.Schema | None = None) -> ds.Dataset:
    """A :mod:`pyarrow.dataset` over Parquet files, decrypting the encrypted ones.

    Files of one table are normally all encrypted or all plaintext; a mix (a warehouse part of an
    older, plaintext ingest) is read as a union of the two groups.
    """
    paths = [str(p) for p in paths]
    enc = [p for p in paths if is_encrypted(p)]
    plain = [p for p in paths if p not in set(enc)]
    if enc and keyring is None:
        raise _no_key(enc[0])
    if schema is None and paths:
        schema = read_schema(enc[0] if enc else plain[0], keyring)
    parts = []
    if plain:
        parts.append(ds.dataset(plain, format="parquet", schema=schema))
    if enc:
        # open every footer here, in the calling thread: the key-encryption keys are then cached and the
        # scan threads never call the Python KMS client (a scan thread waiting for the GIL that a DuckDB
        # query holds deadlocks; measured on the medium demo, whose files carry several such keys)
        for p in enc:
            parquet_file(p, keyring)
        opts = ds.ParquetFragmentScanOptions(decryption_config=keyring.dataset_decryption())
        fmt = ds.ParquetFileFormat(default_fragment_scan_options=opts)
        parts.append(_opened(enc[0], lambda: ds.dataset(enc, format=fmt, schema=schema)))
    if not parts:
        return ds.dataset(pa.table({}, schema=schema) if schema is not None else pa.table({}))
    return parts[0] if len(parts) == 1 else ds.dataset(parts)


# ---- other files -------------------------------------------------------------------------------
def encrypt_bytes(data: bytes, keyring: KeyRing) -> bytes:
    """An AES-256-GCM envelope: magic, a JSON header line (master key id, wrapped data key), then
    nonce | ciphertext | tag (AAD: the header)."""
    dk = secrets.token_bytes(KEY_BYTES)
    header = json.dumps({"kid": keyring.write_key, "wrapped": keyring.wrap(dk)}).encode() + b"\n"
    nonce = secrets.token_bytes(_NONCE)
    return ENVELOPE_MAGIC + header + nonce + _gcm()(dk).encrypt(nonce, data, ENVELOPE_MAGIC + header)


def decrypt_bytes(blob: bytes, keyring: KeyRing | None, where: str = "data") -> bytes:
    from cryptography.exceptions import InvalidTag

    if not blob.startswith(ENVELOPE_MAGIC):
        return blob  # plaintext
    if keyring is None:
        raise _no_key(where)
    end = blob.index(b"\n", len(ENVELOPE_MAGIC)) + 1
    header = blob[len(ENVELOPE_MAGIC):end]
    meta = json.loads(header)
    dk = keyring.unwrap(meta["wrapped"], meta["kid"])
    body = blob[end:]
    try:
        return _gcm()(dk).decrypt(body[:_NONCE], body[_NONCE:], ENVELOPE_MAGIC + header)
    except InvalidTag:
        raise EncryptionKeyError(f"{where} cannot be decrypted: it was altered") from None


def is_envelope(path: str | Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(ENVELOPE_MAGIC)) == ENVELOPE_MAGIC


def encrypt_file(src: str | Path, dst: str | Path, keyring: KeyRing) -> None:
    atomic_write(Path(dst), encrypt_bytes(Path(src).read_bytes(), keyring))


def decrypt_file(src: str | Path, dst: str | Path, keyring: KeyRing | None) -> None:
    atomic_write(Path(dst), decrypt_bytes(Path(src).read_bytes(), keyring, str(src)))


# ---- rotation ----------------------------------------------------------------------------------
def encrypted_files(*folders: str | Path) -> Iterator[Path]:
    """Every encrypted file (Parquet or envelope) under ``folders`` (links to folders not followed)."""
    for folder in folders:
        folder = Path(folder)
        if not folder.exists():
            continue
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for f in sorted(files):
                p = Path(root) / f
                if p.is_symlink() or not p.is_file() or f.endswith(".tmp"):
                    continue
                try:
                    if (f.endswith(".parquet") and p.stat().st_size >= 8 and is_encrypted(p)) or is_envelope(p):
                        yield p
                except OSError:
                    continue


def _file_key_id(path: Path, keyring: KeyRing) -> str | None:
    """The master key id a file was written with (None when ``keyring`` does not open it)."""
    if str(path).endswith(".parquet") and not is_envelope(path):
        for kid in keyring.keys:
            ring = KeyRing(kid, {kid: keyring.keys[kid]})
            try:
                parquet_file(path, ring)
                return kid
            except (EncryptionKeyError, OSError, pa.ArrowException):
                continue
        return None
    with open(path, "rb") as fh:
        fh.readline()
        return json.loads(fh.readline()).get("kid")


def rotate(folders: Iterable[str | Path], old: KeyRing, new: KeyRing, progress=None) -> dict:
    """Re-encrypt every encrypted file under ``folders`` from ``old``'s keys to ``new``'s write key.

    Each file is rewritten into a temporary file beside it, synced, and renamed over the original,
    so at every moment a file is readable by the old key or by the new one. Files already under the
    new key are skipped: after a crash, run it again with the same two rings (``saleslab keys
    rotate`` keeps the new key in ``<key file>.new`` until every file is done). Returns counts.
    """
    reader = new.with_keys(old)
    done = skipped = 0
    for p in list(encrypted_files(*folders)):
        kid = _file_key_id(p, reader)
        if kid == new.write_key:
            skipped += 1
            continue
        if kid is None:
            raise EncryptionKeyError(f"{p} opens with neither the old nor the new key; rotation stopped (nothing lost: "
                            f"the files done so far are under the new key, the others under the old)")
        tmp = p.with_name(f".{p.name}.rotate.tmp")
        if str(p).endswith(".parquet") and not is_envelope(p):
            pf = parquet_file(p, reader)
            with parquet_writer(tmp, pf.schema_arrow, new) as w:
                for i in range(pf.num_row_groups):
                    w.write_table(pf.read_row_group(i))
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        else:
            atomic_write(tmp, encrypt_bytes(decrypt_bytes(p.read_bytes(), reader, str(p)), new))
        os.chmod(tmp, stat.S_IMODE(p.stat().st_mode))
        os.replace(tmp, p)
        done += 1
        if progress and done % 200 == 0:
            progress(f"  {done:,} files re-encrypted")
    return {"reencrypted": done, "already_new": skipped}


def rotate_key_file(key_file: str | Path, folders: Iterable[str | Path], progress=None) -> dict:
    """Rotate the key in ``key_file``: a new key is written to ``<key_file>.new`` (or the one an
    interrupted rotation left there is reused), every encrypted file under ``folders`` is
    re-encrypted under it, then the old key file is kept as ``<key_file>.old`` and the new one takes
    its name. Safe to run again after a crash at any point."""
    kf = Path(key_file).expanduser()
    nxt = kf.with_name(kf.name + ".new")
    backup = kf.with_name(kf.name + ".old")
    if not kf.exists() and nxt.exists() and backup.exists():
        os.replace(nxt, kf)  # a crash between the two renames below: only the last step was left
        return {"reencrypted": 0, "already_new": 0, "key_file": str(kf), "old_key_file": str(backup),
                "key_id": KeyRing.from_file(kf).write_key, "old_key_id": KeyRing.from_file(backup).write_key}
    if not nxt.exists():
        new_key_file(nxt)
    old, new = KeyRing.from_file(kf), KeyRing.from_file(nxt)
    counts = rotate(folders, old, new, progress)
    with contextlib.suppress(FileNotFoundError):
        os.replace(kf, backup)
    os.replace(nxt, kf)
    return {**counts, "key_file": str(kf), "old_key_file": str(backup), "key_id": new.write_key,
            "old_key_id": old.write_key}


# ---- Spark (parquet-mr reads the same files) -----------------------------------------------------
#: the Java KMS client Spark's PropertiesDrivenCryptoFactory uses: parquet-mr's LocalWrapKmsClient
#: (the same wrap format as :class:`LocalKmsClient`) with the master keys from a Hadoop property
SPARK_KMS_CLASS = "saleslab.LocalKeyFileKms"
SPARK_KEYS_PROPERTY = "saleslab.master.keys"
_JAVA_KMS = """package saleslab;

import java.util.Base64;
import org.apache.parquet.crypto.KeyAccessDeniedException;
import org.apache.parquet.crypto.keytools.LocalWrapKmsClient;

/** SalesLab's local KMS for parquet-mr: master keys from the Hadoop property %(prop)s ("id:base64,..."). */
public class LocalKeyFileKms extends LocalWrapKmsClient {
  @Override
  protected void initializeInternal() {}

  @Override
  protected byte[] getMasterKeyFromServer(String id) throws KeyAccessDeniedException {
    for (String entry : hadoopConfiguration.getTrimmed("%(prop)s", "").split(",")) {
      int i = entry.indexOf(':');
      if (i > 0 && entry.substring(0, i).trim().equals(id)) {
        return Base64.getDecoder().decode(entry.substring(i + 1).trim());
      }
    }
    throw new KeyAccessDeniedException("this file was encrypted with key " + id + ", which the configured key is not");
  }
}
""" % {"prop": SPARK_KEYS_PROPERTY}


def spark_kms_classes(spark_jars: str | Path) -> Path:
    """A folder holding the compiled :data:`SPARK_KMS_CLASS` (compiled once with ``javac`` against
    ``spark_jars``, the pyspark jars folder, into ``.tmp/java/<hash>/``)."""
    import shutil
    import subprocess

    digest = hashlib.sha256(_JAVA_KMS.encode()).hexdigest()[:12]
    out = Path(__file__).resolve().parents[2] / ".tmp" / "java" / digest
    if (out / "saleslab" / "LocalKeyFileKms.class").is_file():
        return out
    javac = shutil.which("javac")
    if javac is None:
        raise EncryptionKeyError("the pyspark engine reads an encrypted warehouse through a small Java KMS client "
                                 "that is compiled on first use, and no javac (a JDK) is installed")
    src = out.with_name(digest + "-src") / "saleslab"
    src.mkdir(parents=True, exist_ok=True)
    (src / "LocalKeyFileKms.java").write_text(_JAVA_KMS, encoding="utf-8")
    tmp = out.with_name(f"{digest}.{os.getpid()}.tmp")
    res = subprocess.run([javac, "-nowarn", "-cp", str(Path(spark_jars) / "*"), "-d", str(tmp),
                          str(src / "LocalKeyFileKms.java")], capture_output=True, text=True)
    if res.returncode != 0:
        raise EncryptionKeyError(f"compiling the Spark KMS client failed: {res.stderr.strip().splitlines()[:1]}")
    with contextlib.suppress(OSError):
        os.replace(tmp, out)
    return out


def spark_hadoop_conf(keyring: KeyRing) -> dict[str, str]:
    """Hadoop properties for Spark's Parquet modular decryption with ``keyring``'s local keys."""
    if keyring.kms_client:
        raise EncryptionKeyError("the pyspark engine supports local keys only (a key service needs its own Java "
                                 "KmsClient class)")
    return {"parquet.crypto.factory.class": "org.apache.parquet.crypto.keytools.PropertiesDrivenCryptoFactory",
            "parquet.encryption.kms.client.class": SPARK_KMS_CLASS,
            SPARK_KEYS_PROPERTY: ",".join(f"{k}:{base64.b64encode(v).decode()}" for k, v in keyring.keys.items())}
