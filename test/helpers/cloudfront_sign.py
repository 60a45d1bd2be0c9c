"""Signs CloudFront URLs with botocore's CloudFrontSigner: an independent signer for serve --private.

usage: cloudfront_sign.py KEY_FILE KEY_PAIR_ID URL DATE_LESS_THAN [--resource PATTERN] [--date-greater-than EPOCH] [--ip CIDR]
Without --resource, --date-greater-than and --ip it makes a canned-policy URL; with any, a custom policy.
Prints the signed URL.
"""
import argparse
import datetime
import sys

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

parser = argparse.ArgumentParser()
parser.add_argument("key_file")
parser.add_argument("key_pair_id")
parser.add_argument("url")
parser.add_argument("date_less_than", type=int)
parser.add_argument("--resource")
parser.add_argument("--date-greater-than", type=int)
parser.add_argument("--ip")
args = parser.parse_args()

with open(args.key_file, "rb") as key_file:
    private_key = serialization.load_pem_private_key(key_file.read(), password=None)


def rsa_signer(message):
    return private_key.sign(message, padding.PKCS1v15(), hashes.SHA1())


def utc(epoch):
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).replace(tzinfo=None)


signer = CloudFrontSigner(args.key_pair_id, rsa_signer)
if args.resource is None and args.date_greater_than is None and args.ip is None:
    print(signer.generate_presigned_url(args.url, date_less_than=utc(args.date_less_than)))
else:
    policy = signer.build_policy(
        args.resource or args.url,
        utc(args.date_less_than),
        date_greater_than=utc(args.date_greater_than) if args.date_greater_than is not None else None,
        ip_address=args.ip,
    )
    print(signer.generate_presigned_url(args.url, policy=policy))
sys.exit(0)
