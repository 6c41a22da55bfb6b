"""`code_engine` compute: wren jobs as IBM Code Engine batch job runs (REST API v2, IAM).

It lives in the IBM package because it shares the `ibm:` config section, IAM
(`wren_backend_ibmcf.auth`) and `ibm_cos` storage with `ibm_cf`; adapters may not import each
other, so a separate package would have to copy them.
"""

from wren_backend_ibmcf.code_engine.api import CodeEngineError
from wren_backend_ibmcf.code_engine.compute import CodeEngineCompute

__all__ = ["CodeEngineCompute", "CodeEngineError"]
