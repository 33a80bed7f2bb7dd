"""A real IPFS node over the kubo HTTP RPC API (``/api/v0/...``), as kubo and js-ipfs serve it.

Files are uploaded as a streamed multipart body with ``cid-version=1`` (raw leaves, 256 KiB chunks, balanced
DAG), while the same CID is computed locally from the bytes sent: a node that answers with another CID (other
chunking settings, or a tampering proxy) is refused. Reading fetches block by block (``block/get``) and checks
every block against its CID before returning any of its data.

The RPC calls are plain HTTP POSTs made with ``requests``. ``ipfshttpclient`` 0.7.0, the last release, refuses
every daemon newer than 0.8 (current kubo and js-ipfs), so it is not used.

>>> store = IpfsStorage("http://127.0.0.1:5001")   # doctest: +SKIP
>>> store.version()                                 # doctest: +SKIP
'0.18.1'
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import requests

from ..errors import ColearnError
from .base import Source, Storage, iter_chunks
from .cid import decode_cid
from .unixfs import FileBuilder, IntegrityError, MissingContentError

_UPLOAD_PIECE = 1024 * 1024


class IpfsError(ColearnError):
    """The IPFS node cannot be reached or refused a request."""


class IpfsStorage(Storage):
    """Storage on an IPFS node reached at ``api_url`` (e.g. ``http://127.0.0.1:5001``)."""

    name = "ipfs"

    def __init__(self, api_url: str, *, timeout: float = 120.0):
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    # ------------------------------------------------------------------------------------------------ rpc
    def _post(self, command: str, *, stream: bool = False, **params: Any) -> requests.Response:
        url = f"{self.api_url}/api/v0/{command}"
        try:
            response = self._session.post(url, params=params, timeout=self.timeout, stream=stream)
        except requests.RequestException as error:
            raise IpfsError(
                f"the IPFS node at {self.api_url} does not answer ({error.__class__.__name__}); start it, or unset "
                "COLEARN_IPFS_URL to use the embedded store"
            ) from None
        if response.status_code != 200:
            raise IpfsError(f"the IPFS node refused {command}: {_message(response)}")
        return response

    def version(self) -> str:
        """The node's version string."""
        return self._post("version").json()["Version"]

    # ------------------------------------------------------------------------------------------------ blocks
    def get_block(self, cid: str) -> bytes:
        try:
            # js-ipfs waits forever for a block it lacks: bound the wait on the node's side too.
            return self._post("block/get", arg=str(decode_cid(cid)), timeout=f"{int(self.timeout)}s").content
        except IpfsError as error:
            raise MissingContentError(f"block {cid} is not available from the IPFS node: {error}") from None

    def has_block(self, cid: str) -> bool:
        try:
            self._post("block/stat", arg=str(decode_cid(cid)), offline="true", timeout="2s")
        except IpfsError:
            return False
        return True

    # ------------------------------------------------------------------------------------------------ files
    def add(self, source: Source, *, pin: bool = True) -> str:
        expected = FileBuilder()
        boundary = uuid.uuid4().hex

        def body() -> Iterator[bytes]:
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="blob"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            for piece in iter_chunks(source, _UPLOAD_PIECE):
                expected.write(piece)
                yield piece
            yield f"\r\n--{boundary}--\r\n".encode()

        params = {
            "cid-version": "1",
            "raw-leaves": "true",
            "chunker": "size-262144",
            "pin": "true" if pin else "false",
            "progress": "false",
            "cid-base": "base32",
        }
        try:
            response = self._session.post(
                f"{self.api_url}/api/v0/add",
                params=params,
                data=body(),
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise IpfsError(f"uploading to the IPFS node at {self.api_url} failed: {error}") from None
        if response.status_code != 200:
            raise IpfsError(f"the IPFS node refused the upload: {_message(response)}")
        lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
        answered = str(decode_cid(lines[-1]["Hash"]))
        computed, _ = expected.finish()
        if answered != computed:
            if pin:
                self.unpin(answered)
            raise IntegrityError(
                f"the IPFS node stored the file as {answered}, but its bytes give {computed}: the node uses other "
                "chunking settings or altered the data"
            )
        return computed

    # ------------------------------------------------------------------------------------------------ pins
    def pin(self, cid: str) -> None:
        self._post("pin/add", arg=str(decode_cid(cid)))

    def unpin(self, cid: str) -> None:
        try:
            self._post("pin/rm", arg=str(decode_cid(cid)))
        except IpfsError as error:
            if "not pinned" not in str(error):
                raise

    def pins(self) -> set[str]:
        keys = self._post("pin/ls", type="recursive").json().get("Keys", {})
        return {str(decode_cid(key)) for key in keys}

    def gc(self, keep: Iterable[str] = ()) -> list[str]:
        """Run the node's garbage collection, keeping pinned files and the files of ``keep`` the node holds whole.

        The node's ``repo/gc`` knows only pins, so every file of ``keep`` that is not pinned yet and whose blocks
        are all on the node is pinned first (and stays pinned: what the chain references is worth keeping, and a
        node that collects garbage on its own would otherwise remove it later). A file of ``keep`` the node holds
        only in part is not pinned, since pinning it would make the node look for the missing blocks: its blocks
        may be removed. Returns the removed CIDs the node reports.
        """
        pinned = self.pins()
        for cid in set(keep):
            try:
                key = str(decode_cid(cid))
            except ValueError:
                continue
            if key not in pinned and self.holds(key):
                self.pin(key)
        response = self._post("repo/gc", stream=True)
        removed = []
        for line in response.iter_lines():
            if line:
                entry = json.loads(line)
                key = entry.get("Key")
                if isinstance(key, dict):
                    key = key.get("/")
                if key:
                    removed.append(key)
        return removed

    @property
    def location(self) -> str:
        return self.api_url


def _message(response: requests.Response) -> str:
    try:
        return response.json().get("Message", response.text)
    except ValueError:
        return response.text[:300] or f"HTTP {response.status_code}"
