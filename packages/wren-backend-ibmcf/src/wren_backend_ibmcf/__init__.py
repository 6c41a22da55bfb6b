"""wren on IBM Cloud: `ibm_cf` compute (IBM Cloud Functions), `openwhisk` compute (Apache
OpenWhisk) and `ibm_cos` storage (IBM Cloud Object Storage or any S3 endpoint)."""

from wren_backend_ibmcf.__about__ import __version__
from wren_backend_ibmcf.compute import IbmCfCompute, OpenWhiskCompute
from wren_backend_ibmcf.storage import IbmCosStorage

__all__ = ["IbmCfCompute", "IbmCosStorage", "OpenWhiskCompute", "__version__"]
