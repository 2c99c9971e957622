"""Reading an attendee's encrypted notes as one of their devices does: the notebook keys from the app's IndexedDB,
the frames from the real server, decrypted with AES-GCM (the ``cryptography`` package) and merged with pycrdt."""

from __future__ import annotations

import base64
import re
import tarfile
from pathlib import Path
from typing import Any

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from playwright.sync_api import Page, expect
from pycrdt import Doc, Map, Text

from tests.e2e.conftest import RunningServer, h1, main

LINK_CODE = re.compile(r"[0-9A-Z]{5}-[0-9A-Z]{5}")

#: A value of the app's IndexedDB "private" store, with binary values as arrays of numbers.
_PRIVATE = """async (key) => {
    const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open("kumpul");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
    try {
        if (![...db.objectStoreNames].includes("private")) return null;
        const value = await new Promise((resolve, reject) => {
            const request = db.transaction("private").objectStore("private").get(key);
            request.onsuccess = () => resolve(request.result ?? null);
            request.onerror = () => reject(request.error);
        });
        return JSON.parse(JSON.stringify(value, (_, v) => (v instanceof Uint8Array ? Array.from(v) : v)));
    } finally {
        db.close();
    }
}"""


def private_value(page: Page, key: str) -> Any:
    return page.evaluate(_PRIVATE, key)


def identity(page: Page) -> dict[str, str]:
    found: dict[str, str] | None = private_value(page, "identity")
    assert found, "the app stored no attendee identity"
    return found


def vault_keys(page: Page) -> dict[int, bytes]:
    """The raw notebook keys this device holds, by key id."""
    vault = private_value(page, "vault")
    if not vault:
        return {}
    return {int(key_id): bytes(raw) for key_id, raw in vault["keys"].items()}


def frame_key_id(frame: bytes) -> int:
    assert len(frame) >= 33, "not a vault frame: too short"
    assert frame[0] == 1, "not a vault frame: unknown format"
    return int.from_bytes(frame[1:5], "big")


def open_frame(keys: dict[int, bytes], doc_id: str, kind: str, frame: bytes) -> bytes:
    """Decrypt a frame as the PWA does; KeyError without its key, InvalidTag when it does not authenticate."""
    key = keys[frame_key_id(frame)]
    return AESGCM(key).decrypt(frame[5:17], frame[17:], f"kumpul-vault/1|{doc_id}|{kind}".encode())


def server_answer(server: RunningServer, token: str, key_id: int = 0) -> dict[str, Any]:
    """Everything the server gives this token from the start: plaintext docs and every log's entries."""
    docs: list[dict[str, Any]] = []
    logs: dict[str, list[dict[str, Any]]] = {}
    cursor = None
    for _ in range(50):
        response = httpx.post(
            f"{server.url}/api/me/sync",
            json={"cursor": cursor, "docs": [], "keyId": key_id, "logs": []},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        docs.extend(answer["docs"])
        for log in answer.get("logs", []):
            logs.setdefault(log["id"], []).extend(log["entries"])
        cursor = answer["cursor"]
        if not answer.get("more"):
            break
    return {"docs": docs, "logs": logs}


def server_docs(server: RunningServer, token: str, keys: dict[int, bytes]) -> dict[str, Doc[Any]]:
    """Every private document of the attendee: the plaintext profile, and each log decrypted with ``keys``."""
    answer = server_answer(server, token, max(keys, default=0))
    result: dict[str, Doc[Any]] = {}
    for item in answer["docs"]:
        doc: Doc[Any] = Doc()
        doc.apply_update(base64.b64decode(item["update"]))
        result[item["id"]] = doc
    for doc_id, entries in answer["logs"].items():
        doc = result.setdefault(doc_id, Doc())
        for entry in entries:
            doc.apply_update(open_frame(keys, doc_id, entry["kind"], base64.b64decode(entry["frame"])))
    return result


def note_bodies(docs: dict[str, Doc[Any]]) -> list[str]:
    return [str(doc.get("body", type=Text)) for doc_id, doc in docs.items() if doc_id.startswith("note:")]


def bookmarked(docs: dict[str, Doc[Any]]) -> set[str]:
    profile = docs.get("profile")
    if profile is None:
        return set()
    return {key for key, value in profile.get("bookmarks", type=Map).items() if value}


def show_link(page: Page) -> str:
    """On this device: Devices and data → Show a link code; returns the link shown with the QR code."""
    page.goto("/device")
    expect(h1(page, "Devices and data")).to_be_visible()
    page.get_by_role("button", name="Show a link code").click()
    qr = page.get_by_role("img", name=re.compile(r"^QR code for the link code "))
    expect(qr).to_be_visible()
    code = LINK_CODE.search(qr.get_attribute("aria-label") or "")
    assert code
    link = main(page).locator(".link-code-url code").inner_text()
    assert re.fullmatch(rf".*/device\?code={code.group(0)}#k=[A-Za-z0-9_-]{{48}}", link), link
    return link


def follow_link(page: Page, link: str, *, copy_notes: bool = False) -> None:
    """Open a link on this device, read whose notebook it is, and link (the notes copied only if asked)."""
    page.goto(link)
    confirm = page.get_by_role("group", name="Link this device to this notebook?")
    expect(confirm).to_be_visible()
    if copy_notes:
        confirm.get_by_role("checkbox", name=re.compile("copy the notes")).check()
    confirm.get_by_role("button", name="Link this device").click()
    expect(page.get_by_role("status").filter(has_text="This device is linked")).to_be_visible()


def leaked(paths: list[Path], markers: list[str]) -> dict[str, list[str]]:
    """Which markers appear in which files, as bytes (what ``strings`` would find)."""
    found: dict[str, list[str]] = {}
    for path in paths:
        if not path.exists():
            continue
        data = path.read_bytes()
        hits = [marker for marker in markers if marker.encode() in data or marker.encode("utf-16-le") in data]
        if hits:
            found[str(path)] = hits
    return found


def backup_files(server: RunningServer, tmp_path: Path) -> list[Path]:
    """``kumpul backup`` of the running server, unpacked: every file it holds."""
    archive = tmp_path / "vault-backup.tar"
    result = server.kumpul("backup", str(archive))
    assert result.returncode == 0, result.stderr
    out = tmp_path / "vault-backup"
    out.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(out, filter="data")
    return [archive, *(path for path in out.rglob("*") if path.is_file())]


__all__ = ["InvalidTag"]
