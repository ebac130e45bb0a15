#!/usr/bin/env python3
"""Computes the identity, recipient-wrap and owner-record test vectors of man/phrfs-format.5
("IDENTITIES", "RECIPIENT WRAP", "OWNER RECORDS").

Written from the man page, not from phrfs's code, with Python's `cryptography` package (Debian:
python3-cryptography), so that tests/crypto/identity_test.cc and recipient_wrap_test.cc check
phrfs against values reached another way (owner_record_test.cc for the record). Run it by hand with no arguments; it prints the
vectors (pinned in those tests) and exits non-zero if a self-check fails.

If the output ever changes, the format changed: that needs a new version, not new expected values.
"""

import base64
import hashlib
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def seq(first, n):
    return bytes((first + i) & 0xFF for i in range(n))


RAW = dict(encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw)

# ---- fixed inputs ----
RECIPIENT_X25519_PRIVATE = seq(0x10, 32)
RECIPIENT_ED25519_PRIVATE = seq(0x30, 32)
EPHEMERAL_PRIVATE = seq(0x50, 32)
SECRET = seq(0x00, 32)               # a folder data key
AAD = b"phrfs test grant header"

WRAP_INFO = b"phrfs/v2/x25519-wrap"
IDENTITY_VERSION = 1


def public_identity_text(x_pub, ed_pub):
    payload = bytes([IDENTITY_VERSION]) + x_pub + ed_pub
    checksum = hashlib.sha256(payload).digest()[:4]
    return "phrfs1" + base64.b32encode(payload + checksum).decode().lower().rstrip("=")


def fingerprint(x_pub, ed_pub):
    return hashlib.sha256(x_pub + ed_pub).digest()[:16].hex()


def wrap(secret, recipient_pub, aad, ephemeral_private):
    eph = X25519PrivateKey.from_private_bytes(ephemeral_private)
    epk = eph.public_key().public_bytes(**RAW)
    ss = eph.exchange(X25519PublicKey.from_public_bytes(recipient_pub))
    assert ss != bytes(32)
    wk = HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + recipient_pub, info=WRAP_INFO).derive(ss)
    return epk + AESGCM(wk).encrypt(bytes(12), secret, aad)


def unwrap(stanza, recipient_private, aad):
    me = X25519PrivateKey.from_private_bytes(recipient_private)
    r = me.public_key().public_bytes(**RAW)
    epk = stanza[:32]
    ss = me.exchange(X25519PublicKey.from_public_bytes(epk))
    wk = HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + r, info=WRAP_INFO).derive(ss)
    return AESGCM(wk).decrypt(bytes(12), stanza[32:], aad)


# The owner record: the identity above owns it.
RECORD_STORE_ID = seq(0x70, 16)
RECORD_MASTER_KEY = seq(0x80, 32)
RECORD_NAME = b"alice"
RECORD_EPHEMERAL_PRIVATE = seq(0x90, 32)


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def owner_record(x_pub, ed_pub):
    bound = ("phrfs-record 2\n" + "store_id " + RECORD_STORE_ID.hex() + "\n" +
             "owner " + public_identity_text(x_pub, ed_pub) + "\n")
    stanza = wrap(RECORD_MASTER_KEY + RECORD_NAME, x_pub, (bound + "purpose owner\n").encode(),
                  RECORD_EPHEMERAL_PRIVATE)
    lines = bound + "wrapped_owner " + b64url(stanza) + "\n"
    signer = Ed25519PrivateKey.from_private_bytes(RECIPIENT_ED25519_PRIVATE)
    signature = signer.sign(("phrfs-record-signature\n" + lines).encode())
    return lines + "signature " + b64url(signature) + "\n"


def main():
    x_pub = X25519PrivateKey.from_private_bytes(RECIPIENT_X25519_PRIVATE).public_key().public_bytes(**RAW)
    ed_pub = Ed25519PrivateKey.from_private_bytes(RECIPIENT_ED25519_PRIVATE).public_key().public_bytes(**RAW)
    text = public_identity_text(x_pub, ed_pub)
    stanza = wrap(SECRET, x_pub, AAD, EPHEMERAL_PRIVATE)

    ok = len(text) == 117 and len(stanza) == 32 + len(SECRET) + 16
    ok = ok and unwrap(stanza, RECIPIENT_X25519_PRIVATE, AAD) == SECRET
    signature = Ed25519PrivateKey.from_private_bytes(RECIPIENT_ED25519_PRIVATE).sign(AAD)

    print("recipient x25519 public:", x_pub.hex())
    print("recipient ed25519 public:", ed_pub.hex())
    print("public identity:", text)
    print("fingerprint:", fingerprint(x_pub, ed_pub))
    print("ed25519 signature of the aad:", signature.hex())
    print("ephemeral public:", stanza[:32].hex())
    print("stanza:", stanza.hex())
    record = owner_record(x_pub, ed_pub)
    print("owner record (phrfs.record):")
    print(record, end="")
    if not ok:
        print("self-check FAILED", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
