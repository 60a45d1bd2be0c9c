"""
moto_server, with KMS as AWS documents it where moto 5.x falls short:
MessageType DIGEST signs the digest given (moto hashes every message again,
so a digest-signed document never verifies); a RAW message is at most 4096
bytes (moto takes any size); a disabled key neither signs nor gives its
public key (DisabledException; moto does both); and Ed25519 keys (KeySpec
ECC_NIST_EDWARDS25519, SigningAlgorithm ED25519_SHA_512 over a RAW message),
which moto refuses to create. Everything else is moto's own.
Usage: python3 moto-kms.py -H 127.0.0.1 -p PORT
"""
import base64
import json

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils
from moto.kms import models, responses
from moto.core.exceptions import JsonRESTError
from moto.kms.exceptions import ValidationException
from moto.server import main

RAW_LIMIT = 4096
DIGEST_HASH = {"ECDSA_SHA_256": hashes.SHA256(), "ECDSA_SHA_384": hashes.SHA384(), "ECDSA_SHA_512": hashes.SHA512()}
moto_sign = responses.KmsResponse.sign
moto_get_public_key = responses.KmsResponse.get_public_key


class DisabledException(JsonRESTError):
    def __init__(self, key_arn):
        super().__init__("DisabledException", f"{key_arn} is disabled.")


def ensure_enabled(self):
    try:
        key = self.kms_backend.describe_key(self._get_param("KeyId"))
    except Exception:
        return  # an unknown key: moto's own answer (NotFoundException)
    if not key.enabled:
        raise DisabledException(key.arn)


def get_public_key(self):
    ensure_enabled(self)
    return moto_get_public_key(self)


def sign(self):
    ensure_enabled(self)
    message = self._get_param("Message")
    if isinstance(message, str):
        message = message.encode("utf-8")
    message_type = self._get_param("MessageType") or "RAW"
    algorithm = self._get_param("SigningAlgorithm")
    if message_type == "RAW" and len(message) > RAW_LIMIT:
        raise ValidationException(f"Message is {len(message)} bytes; RAW messages can be 0-{RAW_LIMIT} bytes. To sign a larger message, provide a message digest.")
    if message_type != "DIGEST":
        return moto_sign(self)
    key = self.kms_backend.describe_key(self._get_param("KeyId"))
    hash_algorithm = DIGEST_HASH.get(algorithm)
    if hash_algorithm is None or algorithm not in key.signing_algorithms:
        raise ValidationException(f"DIGEST signing with {algorithm} is not supported for this key")
    if len(message) != hash_algorithm.digest_size:
        raise ValidationException(f"Digest is {len(message)} bytes; {algorithm} takes {hash_algorithm.digest_size}")
    signature = key.private_key.private_key.sign(message, ec.ECDSA(utils.Prehashed(hash_algorithm)))
    return json.dumps({"KeyId": key.arn, "Signature": base64.b64encode(signature).decode("utf-8"), "SigningAlgorithm": algorithm})


responses.KmsResponse.sign = sign
responses.KmsResponse.get_public_key = get_public_key

EDWARDS = "ECC_NIST_EDWARDS25519"
ED25519_ALGORITHMS = ["ED25519_SHA_512", "ED25519_PH_SHA_512"]


class Ed25519PrivateKey:
    def __init__(self):
        self.private_key = ed25519.Ed25519PrivateKey.generate()

    def sign(self, message, signing_algorithm):
        # ED25519_SHA_512 is PureEdDSA over the message (RFC 8032); ED25519_PH_SHA_512 (a DIGEST) is not offered here.
        if signing_algorithm != "ED25519_SHA_512":
            raise ValidationException(f"{signing_algorithm} is not supported for this key here; ED25519_SHA_512 signs a RAW message")
        return self.private_key.sign(message)

    def public_key(self):
        return self.private_key.public_key().public_bytes(encoding=serialization.Encoding.DER, format=serialization.PublicFormat.SubjectPublicKeyInfo)


moto_key_specs = models.KeySpec.key_specs.__func__
models.KeySpec.key_specs = classmethod(lambda cls: sorted(moto_key_specs(cls) + [EDWARDS]))
moto_generate_private_key = models.generate_private_key
models.generate_private_key = lambda key_spec: Ed25519PrivateKey() if key_spec == EDWARDS else moto_generate_private_key(key_spec)
moto_signing_algorithms = models.Key.signing_algorithms
models.Key.signing_algorithms = property(lambda key: ED25519_ALGORITHMS if key.key_spec == EDWARDS and key.key_usage == "SIGN_VERIFY" else moto_signing_algorithms.fget(key))

if __name__ == "__main__":
    main()
