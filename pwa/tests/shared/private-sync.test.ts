import "fake-indexeddb/auto";
import { IDBFactory } from "fake-indexeddb";
import { beforeEach, describe, expect, it } from "vitest";
import * as Y from "yjs";

import { addBookmark, closeDb, db } from "../../src/shared/db";
import type { Fetch } from "../../src/shared/http";
import { IdentityLostError, eraseOnServer, fromBase64, groupCode, normaliseCode, toBase64 } from "../../src/shared/private-api";
import { linkWithCode } from "../../src/shared/vault-link";
import { getIdentity, getPrivate, listDocRecords, needsSync, setPrivate } from "../../src/shared/private-store";
import { syncPrivateDocs, type SyncRequestBody, type SyncResponseBody } from "../../src/shared/private-sync";
import { frameKeyId, importNotebookKey, newRawKey, openFrame, sealFrame, vaultAad, verifyProof } from "../../src/shared/vault-crypto";
import { PrivateDocs, sessionNoteId } from "../../src/shared/ydocs-engine";

interface LogEntry {
  version: number;
  kind: "update" | "snapshot";
  frame: string;
  /** Change sequence (the cursor counts these). */
  seq: number;
}

/**
 * The server side of `POST /api/me/sync` for one attendee, in memory, as PROTOCOL.md and the vault
 * contract describe it (plaintext profile in `docs`, encrypted logs, keys, devices), plus the
 * attendee endpoints; it records every request. It never holds a notebook key.
 */
class FakeServer {
  docs = new Map<string, { doc: Y.Doc; seq: number }>();
  logs = new Map<string, { last: number; entries: LogEntry[] }>();
  seq = 0;
  keyId = 0;
  keyring: string | null = null;
  wrapped = new Map<string, string>();
  devices = new Map<string, { name?: string; publicKey?: string; proof?: string }>([["dev_1", {}]]);
  requests: { url: string; method: string; auth: string | null; body: unknown }[] = [];
  refuse: Record<string, { status: number; detail: string }> = {};
  /** Most documents changed elsewhere in one answer (the real server counts bytes). */
  pageSize = Infinity;
  /** Once set, cursors are `<epoch>.<seq>` as the real server's (older servers sent the sequence alone). */
  epoch: string | null = null;

  fetch: Fetch = async (url, init) => {
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    const auth = new Headers(init?.headers).get("Authorization");
    const method = init?.method ?? "GET";
    this.requests.push({ url, method, auth, body });
    const refusal = this.refuse[url];
    if (refusal) return Response.json({ status_code: refusal.status, detail: refusal.detail }, { status: refusal.status });
    if (url === "/api/attendees") {
      this.devices.set("dev_1", { name: body?.name, publicKey: body?.publicKey });
      return Response.json({ attendeeId: "att_1", token: "kpa_secret", deviceId: "dev_1" });
    }
    if (url === "/api/attendees/link") {
      this.devices.set("dev_1", { name: body?.name, publicKey: body?.publicKey, proof: body?.proof });
      return Response.json({ attendeeId: "att_2", token: "kpa_linked", deviceId: "dev_1" });
    }
    if (url === "/api/attendees/me" && method === "DELETE") return new Response(null, { status: 204 });
    if (url === "/api/attendees/me/keys") {
      const keys = body as { keyId: number; previous: number; keyring: string | null; wrapped: { deviceId: string; key: string }[] };
      if (keys.previous !== this.keyId) return Response.json({ detail: "stale", keyId: this.keyId }, { status: 409 });
      this.keyId = keys.keyId;
      this.keyring = keys.keyring;
      for (const wrap of keys.wrapped) this.wrapped.set(wrap.deviceId, wrap.key);
      return Response.json({ keyId: this.keyId });
    }
    if (url === "/api/attendees/me/device" && method === "PATCH") {
      this.devices.set("dev_1", { ...this.devices.get("dev_1"), ...body });
      return Response.json({ id: "dev_1", ...body });
    }
    if (url === "/api/attendees/me/devices") {
      return Response.json(
        [...this.devices].map(([id, device]) => ({
          id,
          name: device.name ?? "",
          linkedAt: "2026-12-01T10:00:00Z",
          lastSeenAt: null,
          current: id === "dev_1",
          publicKey: device.publicKey ?? null,
          proof: device.proof ?? null,
          keyId: this.wrapped.has(id) ? this.keyId : null,
        })),
      );
    }
    if (url === "/api/me/sync") {
      try {
        return Response.json(this.sync(body as SyncRequestBody));
      } catch (error) {
        const { status, payload } = error as { status: number; payload: object };
        return Response.json(payload, { status });
      }
    }
    return new Response("not found", { status: 404 });
  };

  private check(frame: string): void {
    const bytes = fromBase64(frame);
    if (bytes.length < 33 || bytes[0] !== 1) throw { status: 400, payload: { detail: "malformed frame" } };
    if (frameKeyId(bytes) !== this.keyId) throw { status: 409, payload: { detail: "stale key", keyId: this.keyId } };
  }

  private sync(request: SyncRequestBody): SyncResponseBody {
    if (request.docs.some((doc) => doc.id.startsWith("note:"))) throw { status: 400, payload: { detail: "notes go in logs" } };
    for (const log of request.logs ?? []) {
      for (const frame of log.append ?? []) this.check(frame);
      if (log.snapshot) this.check(log.snapshot.frame);
    }
    const [epoch, seq] = request.cursor?.includes(".") ? request.cursor.split(".") : [this.epoch, request.cursor ?? "0"];
    const resend = request.cursor !== null && (epoch !== this.epoch || Number(seq) > this.seq);
    const since = resend ? 0 : Number(seq);
    const replies: SyncResponseBody["docs"] = [];
    for (const sent of request.docs) {
      const entry = this.docs.get(sent.id) ?? { doc: new Y.Doc(), seq: 0 };
      const before = Y.encodeStateAsUpdate(entry.doc);
      Y.applyUpdate(entry.doc, fromBase64(sent.update));
      const after = Y.encodeStateAsUpdate(entry.doc);
      if (!this.docs.has(sent.id) || toBase64(before) !== toBase64(after)) entry.seq = ++this.seq;
      this.docs.set(sent.id, entry);
      const missing = Y.encodeStateAsUpdate(entry.doc, fromBase64(sent.stateVector));
      if (toBase64(missing) !== "AAA=") replies.push({ id: sent.id, update: toBase64(missing) });
    }
    const logs: NonNullable<SyncResponseBody["logs"]> = [];
    for (const sent of request.logs ?? []) {
      const log = this.logs.get(sent.id) ?? { last: 0, entries: [] };
      this.logs.set(sent.id, log);
      this.docs.delete(sent.id); // the plaintext of a migrated note is gone
      const mine = new Set<number>();
      for (const frame of sent.append ?? []) {
        log.last += 1;
        mine.add(log.last);
        log.entries.push({ version: log.last, kind: "update", frame, seq: ++this.seq });
      }
      if (sent.snapshot && !log.entries.some((entry) => entry.kind === "snapshot" && entry.version >= sent.snapshot!.upTo)) {
        log.entries = [
          { version: sent.snapshot.upTo, kind: "snapshot", frame: sent.snapshot.frame, seq: ++this.seq },
          ...log.entries.filter((entry) => entry.version > sent.snapshot!.upTo),
        ];
      }
      logs.push({
        id: sent.id,
        version: log.last,
        entries: log.entries.filter((entry) => entry.version > sent.since && !mine.has(entry.version)).map(({ version, kind, frame }) => ({ version, kind, frame })),
      });
    }
    const sentIds = new Set([...request.docs.map((doc) => doc.id), ...(request.logs ?? []).map((log) => log.id)]);
    const changed = [...this.docs].filter(([id, entry]) => !sentIds.has(id) && entry.seq > since).sort((a, b) => a[1].seq - b[1].seq);
    const page = changed.slice(0, this.pageSize);
    for (const [id, entry] of page) replies.push({ id, update: toBase64(Y.encodeStateAsUpdate(entry.doc)) });
    let more = page.length < changed.length;
    let until = more ? page[page.length - 1]![1].seq : this.seq;
    const changedLogs = [...this.logs].filter(([id, log]) => !sentIds.has(id) && log.entries.some((entry) => entry.seq > since));
    const logPage = changedLogs.slice(0, Math.max(0, this.pageSize - page.length));
    for (const [id, log] of logPage) {
      const entries = log.entries.filter((entry) => entry.seq > since);
      logs.push({ id, version: Math.max(...entries.map((entry) => entry.version)), entries: entries.map(({ version, kind, frame }) => ({ version, kind, frame })) });
    }
    if (!more && logPage.length < changedLogs.length) {
      more = true;
      until = Math.max(...logPage.flatMap(([, log]) => log.entries.map((entry) => entry.seq)), page.at(-1)?.[1].seq ?? since);
    }
    const cursor = this.epoch ? `${this.epoch}.${until}` : String(until);
    const answer: SyncResponseBody = { cursor, docs: replies, keyId: this.keyId, logs };
    if ((request.keyId ?? 0) < this.keyId) answer.key = { id: this.keyId, wrapped: this.wrapped.get("dev_1") ?? null, keyring: this.keyring };
    if (resend) answer.resend = true;
    if (more) answer.more = true;
    return answer;
  }

  /** The documents as they are now, as a backup holds them. */
  backup(): { docs: Map<string, Uint8Array>; logs: Map<string, { last: number; entries: LogEntry[] }>; seq: number } {
    return {
      docs: new Map([...this.docs].map(([id, entry]) => [id, Y.encodeStateAsUpdate(entry.doc)])),
      logs: new Map([...this.logs].map(([id, log]) => [id, { last: log.last, entries: [...log.entries] }])),
      seq: this.seq,
    };
  }

  /** Replace everything with a backup: a new epoch, the backup's sequence, and nothing written since. */
  restore(backup: ReturnType<FakeServer["backup"]>, epoch: string): void {
    this.docs = new Map();
    for (const [id, state] of backup.docs) {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, state);
      this.docs.set(id, { doc, seq: backup.seq });
    }
    this.logs = backup.logs;
    this.seq = backup.seq;
    this.epoch = epoch;
  }

  /** Another device of the attendee changes a plaintext document (the profile) on the server. */
  edit(id: string, change: (doc: Y.Doc) => void): void {
    const entry = this.docs.get(id) ?? { doc: new Y.Doc(), seq: 0 };
    change(entry.doc);
    entry.seq = ++this.seq;
    this.docs.set(id, entry);
  }

  /** Another device appends an encrypted change to a note's log (it holds the key; the server does not). */
  async append(id: string, key: { keyId: number; raw: Uint8Array }, change: (doc: Y.Doc) => void): Promise<void> {
    const doc = (this.otherDevice.get(id) ?? new Y.Doc()) as Y.Doc;
    this.otherDevice.set(id, doc);
    const before = Y.encodeStateVector(doc);
    change(doc);
    const frame = await sealFrame(await importNotebookKey(key.raw), key.keyId, vaultAad(id, "update"), Y.encodeStateAsUpdate(doc, before));
    const log = this.logs.get(id) ?? { last: 0, entries: [] };
    log.last += 1;
    log.entries.push({ version: log.last, kind: "update", frame: toBase64(frame), seq: ++this.seq });
    this.logs.set(id, log);
  }

  otherDevice = new Map<string, Y.Doc>();

  /** What a note's log says, decrypted with the attendee's keys (as a device of theirs reads it). */
  async read(id: string, keys?: Map<number, Uint8Array>): Promise<Y.Doc> {
    const raw = keys ?? (await deviceKeys());
    const imported = new Map<number, CryptoKey>();
    for (const [keyId, key] of raw) imported.set(keyId, await importNotebookKey(key));
    const doc = new Y.Doc();
    for (const entry of this.logs.get(id)?.entries ?? []) {
      Y.applyUpdate(doc, await openFrame(imported, vaultAad(id, entry.kind), fromBase64(entry.frame)));
    }
    return doc;
  }

  /** Every byte the server holds of notes, as text (to look for plaintext in). */
  everything(): string {
    const frames = [...this.logs.values()].flatMap((log) => log.entries.map((entry) => fromBase64(entry.frame)));
    return frames.map((frame) => new TextDecoder("latin1").decode(frame)).join("\n");
  }

  syncRequests(): SyncRequestBody[] {
    return this.requests.filter((request) => request.url === "/api/me/sync").map((request) => request.body as SyncRequestBody);
  }
}

/** The raw notebook keys this device holds, by key id. */
async function deviceKeys(): Promise<Map<number, Uint8Array>> {
  const vault = await getPrivate("vault");
  return new Map(Object.entries(vault?.keys ?? {}).map(([id, raw]) => [Number(id), raw]));
}

let server: FakeServer;

beforeEach(async () => {
  await closeDb();
  globalThis.indexedDB = new IDBFactory();
  server = new FakeServer();
});

async function stored(id: string): Promise<Y.Doc> {
  const record = (await (await db()).get("docs", id))!;
  const doc = new Y.Doc();
  Y.applyUpdate(doc, record.state);
  return doc;
}

describe("base64", () => {
  it("is standard base64 (with + / and = padding), the same as the server's", () => {
    const bytes = new Uint8Array(300).map((_, i) => (i * 37 + 251) % 256);
    expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString("base64"));
    expect([...fromBase64(Buffer.from(bytes).toString("base64"))]).toEqual([...bytes]);
    expect(toBase64(new Uint8Array([251, 255]))).toBe("+/8=");
  });

  it("shows and reads link codes as people type them", () => {
    expect(groupCode("abcde23456")).toBe("ABCDE-23456");
    expect(normaliseCode(" abcde-2345 6 ")).toBe("ABCDE23456");
  });
});

describe("the private sync round trip", () => {
  it("asks nothing of the server before anything private was written", async () => {
    const result = await syncPrivateDocs({ fetch: server.fetch });
    expect(result.skipped).toBe(true);
    expect(server.requests).toEqual([]);
  });

  it("creates an attendee and key 1 once, sends a new note encrypted into its log, and stores the cursor", async () => {
    const docs = new PrivateDocs();
    const id = sessionNoteId("plenary-opening");
    docs.editNote(id, "plenary-opening", (doc) => doc.getText("body").insert(0, "Notes typed offline"));
    await docs.flush();
    await setPrivate("wantIdentity", true);

    const result = await syncPrivateDocs({ fetch: server.fetch });
    expect(result.sent).toContain(id);
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      "POST /api/attendees",
      "POST /api/me/sync",
      "POST /api/attendees/me/keys",
      "PATCH /api/attendees/me/device",
      "POST /api/me/sync",
      "POST /api/me/sync",
    ]);
    const [first, , sending] = server.syncRequests();
    // The first request names no key and sends no note: the answer says whether the attendee has a key.
    expect(first).toMatchObject({ cursor: null, keyId: 0, logs: [] });
    expect(server.requests[1]!.auth).toBe("Bearer kpa_secret");
    // Key 1 is wrapped for this device, which registered its public key and proof.
    expect(server.keyId).toBe(1);
    expect(server.wrapped.get("dev_1")).toBeTruthy();
    expect(server.devices.get("dev_1")).toMatchObject({ name: expect.any(String), publicKey: expect.any(String), proof: expect.any(String) });
    const log = sending!.logs![0]!;
    expect(log.id).toMatch(/^note:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sending!.docs.map((doc) => doc.id)).not.toContain(id);
    expect(sending!.keyId).toBe(1);
    expect(log.since).toBe(0);
    // The server holds only ciphertext; a device with the key reads the note.
    expect(server.everything()).not.toContain("typed offline");
    const check = await server.read(id);
    expect(check.getText("body").toString()).toBe("Notes typed offline");
    expect(check.getMap("meta").get("sessionId")).toBe("plenary-opening");
    expect(await getIdentity()).toEqual({ attendeeId: "att_1", token: "kpa_secret" });
    expect(await getPrivate("cursor")).toBe(String(server.seq));
    expect((await listDocRecords()).filter(needsSync)).toEqual([]);
    expect((await (await db()).get("docs", id))!.since).toBe(1);

    // Nothing changed: the next round trip sends no document, with the cursor.
    await syncPrivateDocs({ fetch: server.fetch });
    expect(server.syncRequests().at(-1)).toEqual({ cursor: String(server.seq), docs: [], keyId: 1, logs: [] });
  });

  it("sends only what the server lacks, and merges what other devices wrote", async () => {
    const docs = new PrivateDocs();
    const id = "note:0b0b0b0b-0000-4000-8000-000000000001";
    docs.editNote(id, null, (doc) => doc.getText("body").insert(0, "Middle."));
    await docs.flush();
    await setPrivate("wantIdentity", true);
    await syncPrivateDocs({ fetch: server.fetch });
    const key = { keyId: 1, raw: (await deviceKeys()).get(1)! };

    // Another device adds a line; this device adds one at the start at the same time.
    const laptop = new Y.Doc();
    Y.applyUpdate(laptop, Y.encodeStateAsUpdate(await server.read(id)));
    server.otherDevice.set(id, laptop);
    await server.append(id, key, (doc) => doc.getText("body").insert(doc.getText("body").length, " From the laptop."));
    server.edit("profile", (doc) => doc.getMap("bookmarks").set("plenary-aml", true));
    docs.editNote(id, null, (doc) => doc.getText("body").insert(0, "From the phone. "));
    await docs.flush();
    const before = server.syncRequests().length;
    await syncPrivateDocs({ fetch: server.fetch });

    const second = server.syncRequests()[before]!;
    const log = second.logs!.find((each) => each.id === id)!;
    expect(log.since).toBe(1);
    const full = (await (await db()).get("docs", id))!.state;
    expect(fromBase64(log.append![0]!).length).toBeLessThan(full.length); // a diff, not the whole note
    const expected = "From the phone. Middle. From the laptop.";
    expect((await server.read(id)).getText("body").toString()).toBe(expected);
    expect((await stored(id)).getText("body").toString()).toBe(expected);
    expect((await stored("profile")).getMap("bookmarks").get("plenary-aml")).toBe(true);
    expect((await (await db()).get("docs", id))!.since).toBe(3);
    // The page's live documents take the merged state.
    await docs.reload();
    expect(docs.note(id)!.body).toBe(expected);
    expect(docs.bookmarks()).toEqual(new Set(["plenary-aml"]));
  });

  it("merges and sends a change saved as the page went away, before it was merged into its document", async () => {
    const id = "note:0b0b0b0b-0000-4000-8000-00000000000a";
    const doc = new Y.Doc();
    doc.getText("body").insert(0, "last words before closing the tab");
    // Step one of a save only: what `pagehide` manages to write.
    await (await db()).add("docUpdates", { id, update: Y.encodeStateAsUpdate(doc) });
    const result = await syncPrivateDocs({ fetch: server.fetch });
    expect(result.sent).toContain(id);
    expect((await server.read(id)).getText("body").toString()).toBe("last words before closing the tab");
    expect(await (await db()).count("docUpdates")).toBe(0);
    // The page reads it too.
    const docs = new PrivateDocs();
    await docs.load();
    expect(docs.note(id)!.body).toBe("last words before closing the tab");
  });

  it("on 401 stops, keeps every local document, and remembers that the identity is gone", async () => {
    const docs = new PrivateDocs();
    docs.setBookmark("plenary-aml", true);
    await docs.flush();
    await setPrivate("wantIdentity", true);
    await syncPrivateDocs({ fetch: server.fetch });
    docs.setBookmark("d1-workshop-safeguarding", true);
    await docs.flush();
    server.refuse["/api/me/sync"] = { status: 401, detail: "the attendee token is not valid" };
    await expect(syncPrivateDocs({ fetch: server.fetch })).rejects.toBeInstanceOf(IdentityLostError);
    expect(await getPrivate("identityLost")).toBe(true);
    expect((await stored("profile")).getMap("bookmarks").toJSON()).toEqual({ "plenary-aml": true, "d1-workshop-safeguarding": true });
    const count = server.requests.length;
    await expect(syncPrivateDocs({ fetch: server.fetch })).rejects.toBeInstanceOf(IdentityLostError);
    expect(server.requests).toHaveLength(count);
  });

  it("on 413 keeps the refused note on the device, marks it, and still syncs the others", async () => {
    const docs = new PrivateDocs();
    const big = "note:0b0b0b0b-0000-4000-8000-00000000000b";
    const small = "note:0b0b0b0b-0000-4000-8000-00000000000c";
    docs.editNote(big, null, (doc) => doc.getText("body").insert(0, "refused by the server"));
    docs.editNote(small, null, (doc) => doc.getText("body").insert(0, "fine"));
    await docs.flush();
    await setPrivate("wantIdentity", true);
    const original = server.fetch;
    server.fetch = async (url, init) => {
      const body = init?.body ? (JSON.parse(String(init.body)) as SyncRequestBody) : null;
      if (url === "/api/me/sync" && body?.logs?.some((log) => log.id === big)) {
        return Response.json({ detail: `the note ${big} is over the limit of 100 KB of text` }, { status: 413 });
      }
      return original(url, init);
    };
    const result = await syncPrivateDocs({ fetch: server.fetch });
    expect(result.refused).toEqual([{ id: big, reason: `the note ${big} is over the limit of 100 KB of text` }]);
    expect(result.sent).toContain(small);
    expect(result.sent).not.toContain(big);
    const records = new Map((await listDocRecords()).map((record) => [record.id, record]));
    expect(records.get(big)!.refused?.rev).toBe(records.get(big)!.rev);
    expect((await stored(big)).getText("body").toString()).toBe("refused by the server");
    expect(needsSync(records.get(big)!)).toBe(false); // not sent again as it is
    // Shortened (changed): it is tried again.
    docs.editNote(big, null, (doc) => doc.getText("body").delete(0, 11));
    await docs.flush();
    expect(needsSync((await (await db()).get("docs", big))!)).toBe(true);
  });

  it("after a restore, sends every document whole, so the server lacks nothing this device synced", async () => {
    server.epoch = "e1e1e1e1e1e1";
    const docs = new PrivateDocs();
    const before = "note:0b0b0b0b-0000-4000-8000-0000000000b1";
    const after = "note:0b0b0b0b-0000-4000-8000-0000000000b2";
    docs.editNote(before, null, (doc) => doc.getText("body").insert(0, "Synced before the backup."));
    await docs.flush();
    await setPrivate("wantIdentity", true);
    await syncPrivateDocs({ fetch: server.fetch });
    const backup = server.backup();
    docs.editNote(after, null, (doc) => doc.getText("body").insert(0, "Synced after the backup."));
    await docs.flush();
    await syncPrivateDocs({ fetch: server.fetch });
    server.restore(backup, "0a0a0a0a0a0a");
    const other = "note:0b0b0b0b-0000-4000-8000-0000000000b3";
    await server.append(other, { keyId: 1, raw: (await deviceKeys()).get(1)! }, (doc) => doc.getText("body").insert(0, "Written on the laptop after the restore."));

    const result = await syncPrivateDocs({ fetch: server.fetch });
    expect(result.received).toContain(other);
    const [asked, resent] = server.syncRequests().slice(-2);
    expect(asked!.logs).toEqual([]);
    expect(resent!.cursor).toMatch(/^0a0a0a0a0a0a\./);
    expect(resent!.logs!.map((log) => log.id).sort()).toEqual([before, after, other].sort());
    expect((await server.read(after)).getText("body").toString()).toBe("Synced after the backup.");
    expect((await stored(other)).getText("body").toString()).toBe("Written on the laptop after the restore.");
    expect((await listDocRecords()).filter(needsSync)).toEqual([]);

    // Once is enough: the next round trip sends nothing again.
    await syncPrivateDocs({ fetch: server.fetch });
    expect(server.syncRequests().at(-1)!.logs).toEqual([]);
  });

  it("asks again at once while the server says there is more", async () => {
    const docs = new PrivateDocs();
    docs.editNote("note:0b0b0b0b-0000-4000-8000-0000000000c0", null, (doc) => doc.getText("body").insert(0, "mine"));
    await docs.flush();
    await setPrivate("wantIdentity", true);
    await syncPrivateDocs({ fetch: server.fetch });
    const others = [1, 2, 3, 4, 5].map((n) => `note:0b0b0b0b-0000-4000-8000-0000000000c${n}`);
    const key = { keyId: 1, raw: (await deviceKeys()).get(1)! };
    for (const id of others) await server.append(id, key, (doc) => doc.getText("body").insert(0, `from the laptop ${id}`));
    server.pageSize = 2;
    const before = server.syncRequests().length;

    const result = await syncPrivateDocs({ fetch: server.fetch });
    expect(server.syncRequests().length - before).toBe(3);
    expect(result.received.sort()).toEqual([...others].sort());
    for (const id of others) expect((await stored(id)).getText("body").toString()).toBe(`from the laptop ${id}`);
    expect(await getPrivate("cursor")).toBe(String(server.seq));
  });

  it("never sends a note over 100 KB of text", async () => {
    const docs = new PrivateDocs();
    const id = "note:0b0b0b0b-0000-4000-8000-00000000000d";
    docs.editNote(id, null, (doc) => doc.getText("body").insert(0, "x".repeat(100 * 1024 + 1)));
    await docs.flush();
    await setPrivate("wantIdentity", true);
    const result = await syncPrivateDocs({ fetch: server.fetch });
    expect(result.refused.map((item) => item.id)).toEqual([id]);
    for (const request of server.syncRequests()) expect(request.logs).toEqual([]);
  });
});

describe("bookmarks move into the profile document", () => {
  it("once, from the first version's bookmarks store, and ask for an attendee to sync them", async () => {
    await addBookmark("plenary-aml", 1);
    await addBookmark("d1-workshop-safeguarding", 2);
    const docs = new PrivateDocs();
    expect(await docs.migrateBookmarks()).toBe(2);
    expect(docs.bookmarks()).toEqual(new Set(["plenary-aml", "d1-workshop-safeguarding"]));
    expect((await stored("profile")).getMap("bookmarks").toJSON()).toEqual({ "plenary-aml": true, "d1-workshop-safeguarding": true });
    expect(await getPrivate("wantIdentity")).toBe(true);
    expect(await (await db()).count("bookmarks")).toBe(0);

    // Removed afterwards, it stays removed: the migration does not run again.
    docs.setBookmark("plenary-aml", false);
    await docs.flush();
    await addBookmark("plenary-aml", 3);
    const again = new PrivateDocs();
    await again.load();
    expect(await again.migrateBookmarks()).toBe(0);
    expect(again.bookmarks()).toEqual(new Set(["d1-workshop-safeguarding"]));
  });

  it("saves merging with what another tab stored meanwhile", async () => {
    const tabA = new PrivateDocs();
    const tabB = new PrivateDocs();
    tabA.setBookmark("a", true);
    tabB.setBookmark("b", true);
    await tabA.flush();
    await tabB.flush();
    expect((await stored("profile")).getMap("bookmarks").toJSON()).toEqual({ a: true, b: true });
    expect(tabB.bookmarks()).toEqual(new Set(["a", "b"]));
  });
});

describe("note ids", () => {
  it("are the same for a session on every device, and differ between sessions", () => {
    expect(sessionNoteId("plenary-aml")).toBe(sessionNoteId("plenary-aml"));
    expect(sessionNoteId("plenary-aml")).not.toBe(sessionNoteId("plenary-aml2"));
    expect(sessionNoteId("x")).toMatch(/^note:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe("encrypted notes", () => {
  async function firstSync(text = "first words"): Promise<{ docs: PrivateDocs; id: string }> {
    const docs = new PrivateDocs();
    const id = "note:0b0b0b0b-0000-4000-8000-0000000000e1";
    docs.editNote(id, null, (doc) => doc.getText("body").insert(0, text));
    await docs.flush();
    await setPrivate("wantIdentity", true);
    await syncPrivateDocs({ fetch: server.fetch });
    return { docs, id };
  }

  it("a plaintext note from before encryption is merged, encrypted into its log, and gone from the server", async () => {
    // Synced by the old protocol: the attendee exists, the note is plaintext on the server.
    await setPrivate("identity", { attendeeId: "att_1", token: "kpa_secret" });
    await setPrivate("cursor", "0");
    const id = "note:0b0b0b0b-0000-4000-8000-0000000000f1";
    server.edit(id, (doc) => doc.getText("body").insert(0, "recruiter named Ostrander"));
    const docs = new PrivateDocs();
    docs.editNote("note:0b0b0b0b-0000-4000-8000-0000000000f2", null, (doc) => doc.getText("body").insert(0, "only on this device"));
    await docs.flush();

    await syncPrivateDocs({ fetch: server.fetch });
    expect(server.keyId).toBe(1);
    expect(server.docs.has(id)).toBe(false);
    expect((await server.read(id)).getText("body").toString()).toBe("recruiter named Ostrander");
    expect((await server.read("note:0b0b0b0b-0000-4000-8000-0000000000f2")).getText("body").toString()).toBe("only on this device");
    expect(server.everything()).not.toContain("Ostrander");
    expect((await listDocRecords()).filter(needsSync)).toEqual([]);
  });

  it("a device without the key of an attendee that has one keeps its notes and sends none", async () => {
    await setPrivate("identity", { attendeeId: "att_1", token: "kpa_secret" });
    server.keyId = 1;
    const docs = new PrivateDocs();
    const id = "note:0b0b0b0b-0000-4000-8000-0000000000f3";
    docs.editNote(id, null, (doc) => doc.getText("body").insert(0, "kept here"));
    docs.setBookmark("plenary-aml", true);
    await docs.flush();
    await syncPrivateDocs({ fetch: server.fetch });
    expect(await getPrivate("vaultLocked")).toBe(true);
    expect(server.logs.size).toBe(0);
    expect(server.docs.get("profile")!.doc.getMap("bookmarks").get("plenary-aml")).toBe(true);
    expect((await stored(id)).getText("body").toString()).toBe("kept here");
    await syncPrivateDocs({ fetch: server.fetch });
    for (const request of server.syncRequests()) expect(request.logs).toEqual([]);
  });

  it("a frame changed on the server is not applied, and is asked for again", async () => {
    const { id } = await firstSync("honest words");
    await server.append(id, { keyId: 1, raw: (await deviceKeys()).get(1)! }, (doc) => doc.getText("title").insert(0, "injected"));
    const entry = server.logs.get(id)!.entries.at(-1)!;
    const frame = fromBase64(entry.frame);
    frame[frame.length - 1]! ^= 1;
    entry.frame = toBase64(frame);
    await syncPrivateDocs({ fetch: server.fetch });
    expect((await stored(id)).getText("title").toString()).toBe("");
    const record = (await (await db()).get("docs", id))!;
    expect(record.unreadable).toBe(true);
    expect(record.since).toBe(1);
    await syncPrivateDocs({ fetch: server.fetch });
    expect(server.syncRequests().at(-1)!.logs).toEqual([{ id, since: 1 }]);
  });

  it("a key rotated by another device: 409, the new key from the answer, and the change sent again under it", async () => {
    const { docs, id } = await firstSync("before the rotation");
    const old = (await deviceKeys()).get(1)!;
    // Another device revoked a third one: key 2, wrapped for this device, keyring with key 1.
    const raw2 = crypto.getRandomValues(new Uint8Array(32));
    const device = (await getPrivate("device"))!;
    const { sealKeyring, wrapKey } = await import("../../src/shared/vault-crypto");
    server.wrapped.set("dev_1", toBase64(await wrapKey(device.publicRaw, raw2, 2)));
    server.keyring = toBase64(await sealKeyring(await importNotebookKey(raw2), 2, new Map([[1, old]]), toBase64));
    server.keyId = 2;
    await server.append(id, { keyId: 2, raw: raw2 }, (doc) => doc.getText("title").insert(0, "Rotated"));

    docs.editNote(id, null, (doc) => doc.getText("body").insert(0, "After: "));
    await docs.flush();
    await syncPrivateDocs({ fetch: server.fetch });
    const keys = await deviceKeys();
    expect(keys.get(2)).toEqual(raw2);
    expect(keys.get(1)).toEqual(old);
    const last = server.logs.get(id)!.entries.at(-1)!;
    expect(frameKeyId(fromBase64(last.frame))).toBe(2);
    const read = await server.read(id, keys);
    expect(read.getText("body").toString()).toBe("After: before the rotation");
    expect(read.getText("title").toString()).toBe("Rotated");
    // The key that was revoked with the third device cannot read what is written now.
    await expect(server.read(id, new Map([[1, old]]))).rejects.toThrow(/no key 2/);
  });

  it("compacts a grown log into one snapshot, and an update appended meanwhile is kept", async () => {
    const { docs, id } = await firstSync("x");
    for (let i = 0; i < 34; i += 1) {
      docs.editNote(id, null, (doc) => doc.getText("body").insert(doc.getText("body").length, ` edit${i}`));
      await docs.flush();
      await syncPrivateDocs({ fetch: server.fetch });
    }
    const snapshots = server.syncRequests().filter((request) => request.logs?.some((log) => log.snapshot));
    expect(snapshots.length).toBeGreaterThanOrEqual(1);
    const log = server.logs.get(id)!;
    expect(log.entries[0]!.kind).toBe("snapshot");
    expect(log.entries.length).toBeLessThan(10);
    const body = (await server.read(id)).getText("body").toString();
    expect(body).toContain("edit0 ");
    expect(body).toContain("edit33");

    // Another device appended while this device's snapshot (upTo its old version) was on its way.
    await server.append(id, { keyId: 1, raw: (await deviceKeys()).get(1)! }, (doc) => doc.getText("title").insert(0, "from the laptop"));
    const record = (await (await db()).get("docs", id))!;
    await (await db()).put("docs", { ...record, logEntries: 40 });
    docs.editNote(id, null, (doc) => doc.getText("body").insert(0, "late "));
    await docs.flush();
    await syncPrivateDocs({ fetch: server.fetch });
    const read = await server.read(id);
    expect(read.getText("title").toString()).toBe("from the laptop");
    expect(read.getText("body").toString()).toMatch(/^late x edit0/);
    expect((await stored(id)).getText("title").toString()).toBe("from the laptop");
  });

  it("a small edit to a 5 KB note costs under 1 KB on the wire", async () => {
    const words = Array.from({ length: 800 }, (_, i) => `word${i}`).join(" ").slice(0, 5 * 1024);
    const { docs, id } = await firstSync(words);
    docs.editNote(id, null, (doc) => doc.getText("body").insert(2500, " small edit"));
    await docs.flush();
    const before = server.requests.length;
    await syncPrivateDocs({ fetch: server.fetch });
    const sent = server.requests.slice(before).filter((request) => request.url === "/api/me/sync");
    expect(sent).toHaveLength(1);
    const bytes = new TextEncoder().encode(JSON.stringify(sent[0]!.body)).length;
    console.log(`request body for a small edit to a 5 KB note: ${bytes} bytes`);
    expect(bytes).toBeLessThan(1024);
  });
});

describe("the agenda kept from the server", () => {
  it("moves the bookmarks into the encrypted agenda and back; the server sees them only while it may", async () => {
    const docs = new PrivateDocs();
    docs.setBookmark("plenary-aml", true);
    docs.setBookmark("d1-workshop-safeguarding", true);
    await docs.flush();
    await setPrivate("wantIdentity", true);
    await syncPrivateDocs({ fetch: server.fetch });
    expect(server.docs.get("profile")!.doc.getMap("bookmarks").toJSON()).toEqual({ "plenary-aml": true, "d1-workshop-safeguarding": true });

    docs.setAgendaOnServer(false);
    docs.setBookmark("d2-panel", true);
    await docs.flush();
    expect(docs.agendaOnServer()).toBe(false);
    expect(docs.bookmarks()).toEqual(new Set(["plenary-aml", "d1-workshop-safeguarding", "d2-panel"]));
    await syncPrivateDocs({ fetch: server.fetch });
    expect(server.docs.get("profile")!.doc.getMap("bookmarks").toJSON()).toEqual({});
    expect(server.docs.get("profile")!.doc.getMap("prefs").get("agendaOnServer")).toBe(false);
    expect(server.everything()).not.toContain("d2-panel");
    expect((await server.read("agenda")).getMap("bookmarks").toJSON()).toEqual({ "plenary-aml": true, "d1-workshop-safeguarding": true, "d2-panel": true });

    docs.setAgendaOnServer(true);
    await docs.flush();
    await syncPrivateDocs({ fetch: server.fetch });
    expect(docs.bookmarks()).toEqual(new Set(["plenary-aml", "d1-workshop-safeguarding", "d2-panel"]));
    expect(server.docs.get("profile")!.doc.getMap("bookmarks").toJSON()).toEqual({ "plenary-aml": true, "d1-workshop-safeguarding": true, "d2-panel": true });
    expect((await server.read("agenda")).getMap("bookmarks").toJSON()).toEqual({});
  });
});

describe("linking", () => {
  async function withNote(): Promise<string> {
    const docs = new PrivateDocs();
    const id = "note:0b0b0b0b-0000-4000-8000-0000000000d1";
    docs.editNote(id, null, (doc) => doc.getText("body").insert(0, "the victim's statement"));
    await docs.flush();
    await setPrivate("wantIdentity", true);
    await syncPrivateDocs({ fetch: server.fetch });
    return id;
  }

  it("without the copy choice, leaves this device's notes with the identity it remembers, and sends none", async () => {
    const id = await withNote();
    const before = await getIdentity();
    const oldKeys = await deviceKeys();
    const raw = newRawKey();
    await linkWithCode("abcde-23456", { keyId: 1, raw }, false, { fetch: server.fetch });
    const link = server.requests.find((request) => request.url === "/api/attendees/link")!.body as Record<string, string>;
    expect(link.code).toBe("ABCDE23456");
    const device = (await getPrivate("device"))!;
    expect(await verifyProof(new Map([[1, raw]]), device.publicRaw, fromBase64(link.proof!))).toBe(true);
    expect(await getIdentity()).toEqual({ attendeeId: "att_2", token: "kpa_linked" });
    expect(await getPrivate("formerIdentities")).toEqual([{ ...before, vault: { keyId: 1, keys: { 1: oldKeys.get(1) } } }]);
    expect(await listDocRecords()).toEqual([]);
    expect((await deviceKeys()).get(1)).toEqual(raw);
    server.logs.clear();
    await syncPrivateDocs({ fetch: server.fetch });
    expect(server.logs.has(id)).toBe(false);

    // Erasing reaches every identity this device held.
    await eraseOnServer({ fetch: server.fetch });
    const erased = server.requests.filter((request) => request.method === "DELETE").map((request) => request.auth);
    expect(erased).toEqual(["Bearer kpa_secret", "Bearer kpa_linked"]);
  });

  it("with the copy choice, sends this device's notes into the new notebook under its key", async () => {
    const id = await withNote();
    const raw = newRawKey();
    await linkWithCode("ABCDE23456", { keyId: 1, raw }, true, { fetch: server.fetch });
    server.logs.clear();
    await syncPrivateDocs({ fetch: server.fetch });
    const read = await server.read(id, new Map([[1, raw]]));
    expect(read.getText("body").toString()).toBe("the victim's statement");
  });
});

describe("a log over the server's limit", () => {
  it("is compacted into a snapshot and sent again, not refused", async () => {
    const docs = new PrivateDocs();
    const id = "note:0b0b0b0b-0000-4000-8000-0000000000e9";
    docs.editNote(id, null, (doc) => doc.getText("body").insert(0, "start"));
    await docs.flush();
    await setPrivate("wantIdentity", true);
    await syncPrivateDocs({ fetch: server.fetch });
    const original = server.fetch;
    let refusals = 0;
    server.fetch = async (url, init) => {
      const body = init?.body ? (JSON.parse(String(init.body)) as SyncRequestBody) : null;
      const log = body?.logs?.find((each) => each.id === id);
      if (url === "/api/me/sync" && log?.append && !log.snapshot) {
        refusals += 1;
        return Response.json({ detail: `logs[0]: the log of ${id} is over 256 KB` }, { status: 413 });
      }
      return original(url, init);
    };
    docs.editNote(id, null, (doc) => doc.getText("body").insert(5, " and more"));
    await docs.flush();
    const result = await syncPrivateDocs({ fetch: server.fetch });
    expect(refusals).toBe(1);
    expect(result.refused).toEqual([]);
    expect(server.logs.get(id)!.entries[0]!.kind).toBe("snapshot");
    expect((await server.read(id)).getText("body").toString()).toBe("start and more");
  });
});
