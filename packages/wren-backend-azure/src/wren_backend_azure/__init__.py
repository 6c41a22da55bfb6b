"""wren on Azure: `azure_storage` (Blob Storage) and `azure_containers` (Container Apps that
consume tasks from an Azure Storage Queue, at least once)."""

from wren_backend_azure.__about__ import __version__
from wren_backend_azure.compute import AzureContainersCompute
from wren_backend_azure.consumer import Consumer
from wren_backend_azure.management import ContainerAppsManager
from wren_backend_azure.settings import ConsumerSettings
from wren_backend_azure.storage import AzureBlobStorage

__all__ = [
    "AzureBlobStorage",
    "AzureContainersCompute",
    "Consumer",
    "ConsumerSettings",
    "ContainerAppsManager",
    "__version__",
]
