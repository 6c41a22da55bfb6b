"""Build the `ibm_boto3` S3 client for `ibm_cos`, and turn its errors into wren's.

Credentials: HMAC keys (`access_key_id` / `secret_access_key`, SigV4 against any S3
endpoint: IBM COS, Ceph, MinIO) win over an IAM API key (`api_key` or `iam_api_key`, IBM COS
only). Retries are the SDK's `standard` mode: exponential backoff with jitter on 5xx answers,
throttling and connection errors, `max_retries` attempts in all. An error the service returns
becomes a `StorageError` that says what is wrong and which config key fixes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wren import ConfigError, StorageError, StorageNoSuchKeyError

SECTION = "ibm_cos"
_NOT_FOUND = ("NoSuchKey", "404", "NotFound")
_AUTH_HINTS = {
    "SignatureDoesNotMatch": "the request signature does not match: `secret_access_key` is "
                             "wrong for `access_key_id`",
    "InvalidAccessKeyId": "the service does not know `access_key_id`",
    "AccessDenied": "access denied: the credentials lack permission for this bucket",
    "InvalidToken": "the IAM token was rejected: check `api_key` / `iam_api_key`",
    "403": "access denied (HTTP 403): the credentials are wrong or lack permission",
}


def resolve_endpoint(config: Mapping[str, Any]) -> str:
    endpoint = config.get("endpoint")
    region = config.get("region")
    if not endpoint and region:
        endpoint = f"https://s3.{region}.cloud-object-storage.appdomain.cloud"
    if not endpoint:
        raise ConfigError("set `endpoint` (any S3 URL) or `region` (an IBM COS region such as "
                          "us-south) in the `ibm_cos` config section")
    endpoint = str(endpoint)
    return endpoint if "://" in endpoint else "https://" + endpoint


def hmac_keys(config: Mapping[str, Any]) -> tuple[str, str] | None:
    key_id = config.get("access_key_id") or config.get("access_key")
    secret = config.get("secret_access_key") or config.get("secret_key")
    if bool(key_id) != bool(secret):
        raise ConfigError("the `ibm_cos` section needs both `access_key_id` and "
                          "`secret_access_key` (HMAC keys), or neither")
    return (str(key_id), str(secret)) if key_id else None


def make_client(config: Mapping[str, Any]) -> Any:
    """An S3 client for the section's endpoint and credentials."""
    import ibm_boto3
    from ibm_botocore.client import Config

    endpoint = resolve_endpoint(config)
    options = dict(connect_timeout=float(config.get("connect_timeout") or 10.0),
                   read_timeout=float(config.get("read_timeout") or 120.0),
                   max_pool_connections=int(config.get("max_pool_connections") or 64),
                   retries={"mode": "standard",
                            "max_attempts": int(config.get("max_retries") or 6)})
    keys = hmac_keys(config)
    if keys is not None:
        return ibm_boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=keys[0],
                                aws_secret_access_key=keys[1],
                                region_name=config.get("region") or "us-east-1",
                                config=Config(signature_version="s3v4", **options))
    api_key = config.get("api_key") or config.get("iam_api_key")
    if not api_key:
        raise ConfigError("no credentials for `ibm_cos`: set `access_key_id` and "
                          "`secret_access_key` (HMAC), or `api_key` (IAM), in the `ibm_cos` "
                          "section, or `iam_api_key` in the `ibm` section")
    return ibm_boto3.client("s3", endpoint_url=endpoint, ibm_api_key_id=str(api_key),
                            ibm_service_instance_id=config.get("service_instance_id"),
                            ibm_auth_endpoint=config.get("iam_endpoint"),
                            config=Config(signature_version="oauth", **options))


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or "")


def translate(exc: Exception, operation: str, bucket: str, key: str | None,
              endpoint: str) -> Exception:
    """The wren error for an exception of the SDK (returned, for the caller to raise)."""
    from ibm_botocore.exceptions import (
        BotoCoreError,
        ClientError,
        CredentialRetrievalError,
        NoCredentialsError,
    )

    where = f"{bucket}/{key}" if key is not None else bucket
    if isinstance(exc, ClientError):
        code = error_code(exc)
        if code in _NOT_FOUND and key is not None:
            return StorageNoSuchKeyError(bucket, key)
        if code == "NoSuchBucket":
            return StorageError(f"bucket {bucket!r} does not exist at {endpoint}: create it, "
                                "or set `storage_bucket` in the `ibm_cos` config section to "
                                "an existing bucket")
        if code in _AUTH_HINTS:
            return StorageError(f"{endpoint} refused {operation} {where}: {_AUTH_HINTS[code]} "
                                f"({code}). Fix the credentials in the `ibm_cos` config "
                                "section")
        message = exc.response.get("Error", {}).get("Message") or str(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return StorageError(f"{operation} {where} failed at {endpoint}: {code or status}: "
                            f"{message}")
    if isinstance(exc, (CredentialRetrievalError, NoCredentialsError)):
        return StorageError(f"{operation} {where} failed: no IAM token for the API key ({exc}). "
                            "Fix `api_key` in the `ibm_cos` section (or `iam_api_key` in "
                            "`ibm`), or `iam_endpoint`")
    if isinstance(exc, BotoCoreError):
        return StorageError(f"{operation} {where} failed: cannot reach {endpoint} ({exc}); "
                            "check `endpoint` in the `ibm_cos` config section and that the "
                            "service is up")
    return exc
