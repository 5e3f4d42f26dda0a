"""Stubs of the native module ``ballista._native`` (rust/ballista-python).

Checked against the built module by ``stubtest`` in the tests.
"""

from typing import final

__all__ = ["EmbeddedCluster", "FILE_DESCRIPTOR_SET", "__version__"]

#: The encoded ``FileDescriptorSet`` of every file in ``proto/``.
FILE_DESCRIPTOR_SET: bytes
#: The version of the native crate.
__version__: str

@final
class EmbeddedCluster:
    """A scheduler and executors serving Flight on loopback in this process."""

    def __new__(
        cls,
        executors: int = 2,
        slots_per_executor: int | None = None,
        memory_limit: int | None = None,
    ) -> EmbeddedCluster: ...
    @property
    def scheduler_url(self) -> str:
        """The scheduler's URL, ``grpc://127.0.0.1:PORT``."""
    @property
    def executor_urls(self) -> list[str]:
        """The executors' Flight URLs."""
    @property
    def running(self) -> bool:
        """Whether the cluster is still running."""
    def shutdown(self) -> None:
        """Stops the executors, then the scheduler; a no-op once stopped."""
