#!/usr/bin/python3
"""Makes the certificates the TLS tests use, in the directory given as argv[1].

Nothing here is committed: keys are made fresh for each test run (ECDSA P-256, fast).
Uses Debian's python3-cryptography (the library python3-trustme is built on) directly,
because trustme cannot back-date a certificate and the tests need an expired one.

Files (NAME.pem is the certificate chain, NAME.key the private key):
  ca           a test CA (ca.pem is the trust anchor clients load)
  other_ca     an unrelated CA (trusting it must not verify our server)
  server       signed by ca, for localhost, a.test and 127.0.0.1
  b            signed by ca, for b.test and *.wild.test (the SNI entry)
  expired      signed by ca, for localhost and 127.0.0.1, expired a year ago
  self         self-signed, for localhost and 127.0.0.1
  client       signed by ca, a client certificate (extended key usage clientAuth)
"""
import datetime
import ipaddress
import pathlib
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

out = pathlib.Path(sys.argv[1])
now = datetime.datetime.now(datetime.timezone.utc)
day = datetime.timedelta(days=1)


def key():
    return ec.generate_private_key(ec.SECP256R1())


def save(name, cert, k):
    (out / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (out / f"{name}.key").write_bytes(
        k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn):
    k = key()
    cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn)).public_key(k.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - day).not_valid_after(now + 30 * day)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(k, hashes.SHA256()))
    return cert, k


def san(names):
    entries = []
    for n in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            entries.append(x509.DNSName(n))
    return x509.SubjectAlternativeName(entries)


def leaf(cn, names, issuer, issuer_key, before, after, usage=ExtendedKeyUsageOID.SERVER_AUTH, k=None):
    k = k or key()
    b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(issuer.subject if issuer else name(cn))
         .public_key(k.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(before).not_valid_after(after)
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
    if names:
        b = b.add_extension(san(names), critical=False)
    return b.sign(issuer_key or k, hashes.SHA256()), k


ca, ca_key = make_ca("dusty test CA")
save("ca", ca, ca_key)
other, other_key = make_ca("unrelated test CA")
save("other_ca", other, other_key)
valid = (now - day, now + 30 * day)
save("server", *leaf("localhost", ["localhost", "a.test", "127.0.0.1"], ca, ca_key, *valid))
save("b", *leaf("b.test", ["b.test", "*.wild.test"], ca, ca_key, *valid))
save("expired", *leaf("localhost", ["localhost", "127.0.0.1"], ca, ca_key, now - 400 * day, now - 365 * day))
self_key = key()
save("self", *leaf("localhost", ["localhost", "127.0.0.1"], None, None, *valid, k=self_key))
save("client", *leaf("test client", [], ca, ca_key, *valid, usage=ExtendedKeyUsageOID.CLIENT_AUTH))
(out / "garbage.pem").write_text("this is not a certificate\n")
