"""
moto_server, with KMS Sign as AWS documents it for what moto 5.x leaves out:
MessageType DIGEST signs the digest given (moto hashes every message again,
so a digest-signed document never verifies), and a RAW message is at most
4096 bytes (moto takes any size). Everything else is moto's own.
Usage: python3 moto-kms-digest.py -H 127.0.0.1 -p PORT
"""
import base64
import json

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from moto.kms import responses
from moto.kms.exceptions import ValidationException
from moto.server import main

RAW_LIMIT = 4096
DIGEST_HASH = {"ECDSA_SHA_256": hashes.SHA256(), "ECDSA_SHA_384": hashes.SHA384(), "ECDSA_SHA_512": hashes.SHA512()}
moto_sign = responses.KmsResponse.sign


def sign(self):
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

if __name__ == "__main__":
    main()
