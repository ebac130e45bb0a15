#!/usr/bin/env python3
"""Computes the format-v2 test vectors of man/phrfs-format.5 ("TEST VECTORS", v2 part).

Written from the man page, not from phrfs's code, with Python's `cryptography` package (Debian:
python3-cryptography), so that tests/crypto/node_format_test.cc checks phrfs against values
that were reached another way. Run it with no arguments; it prints the vectors as the man page
shows them and exits non-zero if any self-check fails.

If the output ever changes, the on-disk format changed: that needs a new format version, not
new expected values.
"""

import struct
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt


def seq(first, n):
    return bytes((first + i) & 0xFF for i in range(n))


def hkdf(ikm, salt, info, length):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


# ---- fixed inputs (the v1 ones where they carry over) ----
MASTER_KEY = seq(0x00, 32)
STORE_ID = seq(0xA0, 16)
CONTENT_ID = seq(0xB0, 16)    # the v1 vectors' file id: an upgraded file keeps its id
NODE_ID = seq(0x80, 16)
ROOT_NODE_ID = bytes(16)      # the root directory
META_NONCE = seq(0x60, 12)    # the node header's nonce
ROOT_CONTENT_ID = seq(0x70, 16)
ROOT_META_NONCE = seq(0x50, 12)
BLOCK_NONCE = seq(0xD0, 12)   # the v1 vectors' block nonce
BLOCK_PLAIN = b"phrfs test vector"
PASSPHRASE = b"phrfs-test-passphrase"
SCRYPT_SALT = seq(0x40, 32)
RECOVERY_KEY = seq(0xE0, 32)
WRAP_NONCE = seq(0xD0, 12)    # the v1 vectors' nonce, for both wrappings

S_IFREG = 0o100000
S_IFDIR = 0o040000

# st_mode, uid, gid, subdirs, then (sec, nsec) for atime, mtime, ctime
FILE_META = (S_IFREG | 0o640, 1000, 1000, 0,
             (1700000000, 123456789), (1700000001, 500000000), (1700000002, 999999999))
ROOT_META = (S_IFDIR | 0o700, 0, 0, 3,
             (1700000100, 0), (1700000101, 1), (-1, 999999999))

KIND_FILE = 1
KIND_DIRECTORY = 2

# ---- the format, as the man page states it ----
MAGIC = b"PHR2"
VERSION = 2
HEADER_PLAIN = 44
META_SIZE = 64
HEADER_SIZE = 136
BLOCK = 4096
CIPHER_BLOCK = 4096 + 28


def encode_meta(meta):
    mode, uid, gid, subdirs, atime, mtime, ctime = meta
    out = struct.pack(">IIII", mode, uid, gid, subdirs)
    for sec, nsec in (atime, mtime, ctime):
        out += struct.pack(">qI", sec, nsec)   # seconds: 64-bit two's complement
    out += bytes(12)                           # reserved, zero
    assert len(out) == META_SIZE
    return out


def node_header(content_key, kind, node_id, epoch, content_id, meta, nonce):
    meta_key = hkdf(content_key, node_id, b"phrfs/v2/meta", 32)
    plain = MAGIC + bytes([VERSION, kind, 0, 0]) + node_id + struct.pack(">I", epoch) + content_id
    assert len(plain) == HEADER_PLAIN
    seal_key = hkdf(meta_key, nonce, b"phrfs/v2/meta-seal", 32)  # a key per seal
    sealed = AESGCM(seal_key).encrypt(nonce, encode_meta(meta), plain)  # ciphertext || tag
    header = plain + nonce + sealed
    assert len(header) == HEADER_SIZE
    return meta_key, header


def seal_block(file_key, content_id, index, last, nonce, plain):
    aad = content_id + struct.pack(">QB", index, 1 if last else 0)
    return nonce + AESGCM(file_key).encrypt(nonce, plain, aad)


def b64url(data):
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def store_config(version):
    """A complete store config of `version` wrapping MASTER_KEY (STORE CONFIG)."""
    lines = [f"phrfs-store {version}\n", f"store_id {STORE_ID.hex()}\n", "flags none\n",
             f"kdf scrypt n=1024 r=8 p=1 salt={SCRYPT_SALT.hex()}\n"]
    pass_kek = Scrypt(salt=SCRYPT_SALT, length=32, n=1024, r=8, p=1).derive(PASSPHRASE)
    pass_aad = "".join(lines) + "purpose passphrase\n"
    # The recovery wrapping always binds the version line "phrfs-store 1".
    rec_kek = hkdf(RECOVERY_KEY, STORE_ID, b"phrfs/v1/recovery-kek", 32)
    rec_aad = "phrfs-store 1\n" + lines[1] + lines[2] + "purpose recovery\n"
    wrapped_p = WRAP_NONCE + AESGCM(pass_kek).encrypt(WRAP_NONCE, MASTER_KEY, pass_aad.encode())
    wrapped_r = WRAP_NONCE + AESGCM(rec_kek).encrypt(WRAP_NONCE, MASTER_KEY, rec_aad.encode())
    text = "".join(lines) + f"wrapped_passphrase {b64url(wrapped_p)}\n" + f"wrapped_recovery {b64url(wrapped_r)}\n"
    return pass_kek, rec_kek, text


def hexlines(data, width=16):
    return [data[i:i + width].hex() for i in range(0, len(data), width)]


def main():
    content_key = hkdf(MASTER_KEY, STORE_ID, b"phrfs/v1/content", 32)
    # Chains to the v1 vectors (the "content" sub-key printed there).
    assert content_key.hex() == "4fb63291de61c03d56819be9cf49bb23d1b92a7e3a169f7cdadd79ea7cb7caea"

    meta_key, header = node_header(content_key, KIND_FILE, NODE_ID, 0, CONTENT_ID, FILE_META, META_NONCE)
    root_meta_key, root_header = node_header(content_key, KIND_DIRECTORY, ROOT_NODE_ID, 0, ROOT_CONTENT_ID,
                                             ROOT_META, ROOT_META_NONCE)

    file_key = hkdf(content_key, CONTENT_ID, b"phrfs/v1/file", 32)
    assert file_key.hex() == "be4f09c5ca6a80e0623b9e5a0fad748819f4ccd22b9c7f03032f32362f9cc484"
    block0 = seal_block(file_key, CONTENT_ID, 0, True, BLOCK_NONCE, BLOCK_PLAIN)
    obj = header + block0
    assert len(obj) == HEADER_SIZE + 28 + len(BLOCK_PLAIN)

    # Self-checks: what a reader does.
    seal_key = hkdf(meta_key, header[44:56], b"phrfs/v2/meta-seal", 32)
    plain = AESGCM(seal_key).decrypt(header[44:56], header[56:], header[:44])
    assert plain == encode_meta(FILE_META)
    assert AESGCM(file_key).decrypt(obj[136:148], obj[148:], CONTENT_ID + struct.pack(">QB", 0, 1)) == BLOCK_PLAIN
    # The block is the v1 vector's block 0, byte for byte: upgrade keeps blocks.
    assert block0.hex() == ("d0d1d2d3d4d5d6d7d8d9dadb" "2c80df3724d9d167862a70a010b01e5cf3"
                            "9daba142f1899458a1b5c62c8c1b0893")
    # A one-bit change anywhere in the header (AAD, nonce, sealed metadata, tag) fails.
    for bit in range(HEADER_SIZE * 8):
        bad = bytearray(header)
        bad[bit // 8] ^= 1 << (bit % 8)
        try:
            bad_key = hkdf(hkdf(content_key, bytes(bad[8:24]), b"phrfs/v2/meta", 32), bytes(bad[44:56]),
                           b"phrfs/v2/meta-seal", 32)
            AESGCM(bad_key).decrypt(bytes(bad[44:56]), bytes(bad[56:]), bytes(bad[:44]))
        except Exception:
            continue
        print(f"self-check failed: bit {bit} flipped still opens", file=sys.stderr)
        return 1

    pass_kek, rec_kek, v1_config = store_config(1)
    assert pass_kek.hex() == "6c72380c78fdd092d6be62d3ccdb71f7388e564b1af4db4519b1cc24209d51f7"
    assert rec_kek.hex() == "7087bce3032602da86dfa05eecac71aaec90d60b47e2555945d190acc4374ac9"
    # Chains to the v1 vectors: the same inputs give the documented v1 config.
    assert "wrapped_passphrase 0NHS09TV1tfY2drbAS1NZOj9Hx4Qacw4wSSaHN8dsZeVitIFDoA_vO0AyrQgpUfhJXP26Nq93IfJu8MD\n" in v1_config
    _, _, v2_config = store_config(2)
    # The recovery line is the same in both versions; the passphrase line is not.
    assert v1_config.splitlines()[5] == v2_config.splitlines()[5]
    assert v1_config.splitlines()[4] != v2_config.splitlines()[4]

    inode = int.from_bytes(NODE_ID[:8], "big")

    print("inputs")
    print(f"  content key   {content_key.hex()}")
    print(f"  node id       {NODE_ID.hex()}   (st_ino {inode} = 0x{inode:016x})")
    print(f"  content id    {CONTENT_ID.hex()}")
    print(f"  meta nonce    {META_NONCE.hex()}")
    print(f"  meta          mode 0{FILE_META[0]:o} uid {FILE_META[1]} gid {FILE_META[2]} subdirs {FILE_META[3]}")
    print(f"                atime {FILE_META[4]} mtime {FILE_META[5]} ctime {FILE_META[6]}")
    print(f"  meta plain    {encode_meta(FILE_META).hex()}")
    print(f"meta key        {meta_key.hex()}")
    print(f"seal key        {seal_key.hex()}   (HKDF(meta key, salt = meta nonce, \"phrfs/v2/meta-seal\"))")
    print("header (file, 136 bytes)")
    for line in hexlines(header):
        print(f"  {line}")
    print(f"file key        {file_key.hex()}")
    print("block 0 (last), after the header at offset 136")
    for line in hexlines(block0):
        print(f"  {line}")
    print("root directory: node id 0, content id 7071...7f, meta nonce 5051...5b")
    print(f"  meta          mode 0{ROOT_META[0]:o} uid {ROOT_META[1]} gid {ROOT_META[2]} subdirs {ROOT_META[3]}")
    print(f"                atime {ROOT_META[4]} mtime {ROOT_META[5]} ctime {ROOT_META[6]}")
    print(f"  meta plain    {encode_meta(ROOT_META).hex()}")
    print(f"root meta key   {root_meta_key.hex()}")
    print("root header (root.d, 136 bytes)")
    for line in hexlines(root_header):
        print(f"  {line}")
    print("store config, version 2 (same inputs as the v1 config vector)")
    print(v2_config, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
