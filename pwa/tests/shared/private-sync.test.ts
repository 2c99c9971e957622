import "fake-indexeddb/auto";
import { IDBFactory } from "fake-indexeddb";
import { beforeEach, describe, expect, it } from "vitest";
import * as Y from "yjs";

import { addBookmark, closeDb, db } from "../../src/shared/db";
import type { Fetch } from "../../src/shared/http";
import { IdentityLostError, fromBase64, groupCode, normaliseCode, toBase64 } from "../../src/shared/private-api";
import { getIdentity, getPrivate, listDocRecords, needsSync, setPrivate } from "../../src/shared/private-store";
import { syncPrivateDocs, type SyncRequestBody, type SyncResponseBody } from "../../src/shared/private-sync";
import { PrivateDocs, sessionNoteId } from "../../src/shared/ydocs-engine";

/**
 * The server side of `POST /api/me/sync` for one attendee, in memory, as PROTOCOL.md describes it,
 * plus the attendee endpoints; it records every request.
 */
class FakeServer {
  docs = new Map<string, { doc: Y.Doc; seq: number }>();
  seq = 0;
  requests: { url: string; method: string; auth: string | null; body: unknown }[] = [];
  refuse: Record<string, { status: number; detail: string }> = {};
  /** Most documents changed elsewhere in one answer (the real server counts bytes). */
  pageSize = Infinity;
  /** Once set, cursors are `<epoch>.<seq>` as the real server's (older servers sent the sequence alone). */
  epoch: string | null = null;

  fetch: Fetch = async (url, init) => {
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    const auth = new Headers(init?.headers).get("Authorization");
    this.requests.push({ url, method: init?.method ?? "GET", auth, body });
    const refusal = this.refuse[url];
    if (refusal) return Response.json({ status_code: refusal.status, detail: refusal.detail }, { status: refusal.status });
    if (url === "/api/attendees") return Response.json({ attendeeId: "att_1", token: "kpa_secret" });
    if (url === "/api/me/sync") return Response.json(this.sync(body as SyncRequestBody));
    return new Response("not found", { status: 404 });
  };

  private sync(request: SyncRequestBody): SyncResponseBody {
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
    const sentIds = new Set(request.docs.map((doc) => doc.id));
    const changed = [...this.docs].filter(([id, entry]) => !sentIds.has(id) && entry.seq > since).sort((a, b) => a[1].seq - b[1].seq);
    const page = changed.slice(0, this.pageSize);
    for (const [id, entry] of page) replies.push({ id, update: toBase64(Y.encodeStateAsUpdate(entry.doc)) });
    const more = page.length < changed.length;
    const until = more ? page[page.length - 1]![1].seq : this.seq;
    const cursor = this.epoch ? `${this.epoch}.${until}` : String(until);
    const answer: SyncResponseBody = { cursor, docs: replies };
    if (resend) answer.resend = true;
    if (more) answer.more = true;
    return answer;
  }

  /** The documents as they are now, as a backup holds them. */
  backup(): { docs: Map<string, Uint8Array>; seq: number } {
    return { docs: new Map([...this.docs].map(([id, entry]) => [id, Y.encodeStateAsUpdate(entry.doc)])), seq: this.seq };
  }

  /** Replace everything with a backup: a new epoch, the backup's sequence, and nothing written since. */
  restore(backup: { docs: Map<string, Uint8Array>; seq: number }, epoch: string): void {
    this.docs = new Map();
    for (const [id, state] of backup.docs) {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, state);
      this.docs.set(id, { doc, seq: backup.seq });
    }
    this.seq = backup.seq;
    this.epoch = epoch;
  }

  /** Another device of the attendee changes a document on the server. */
  edit(id: string, change: (doc: Y.Doc) => void): void {
    const entry = this.docs.get(id) ?? { doc: new Y.Doc(), seq: 0 };
    change(entry.doc);
    entry.seq = ++this.seq;
    this.docs.set(id, entry);
  }

  syncRequests(): SyncRequestBody[] {
    return this.requests.filter((request) => request.url === "/api/me/sync").map((request) => request.body as SyncRequestBody);
  }
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

  it("creates an attendee once, sends a new note with its state vector, and stores the cursor", async () => {
    const docs = new PrivateDocs();
    const id = sessionNoteId("plenary-opening");
    docs.editNote(id, "plenary-opening", (doc) => doc.getText("body").insert(0, "Notes typed offline"));
    await docs.flush();
    await setPrivate("wantIdentity", true);

    const result = await syncPrivateDocs({ fetch: server.fetch });
    expect(result.sent).toEqual([id]);
    expect(server.requests.map((request) => request.url)).toEqual(["/api/attendees", "/api/me/sync"]);
    const [request] = server.syncRequests();
    expect(request!.cursor).toBeNull();
    expect(server.requests[1]!.auth).toBe("Bearer kpa_secret");
    const wire = request!.docs[0]!;
    expect(wire.id).toMatch(/^note:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The fields decode as a Yjs update and state vector with the note in it.
    const check = new Y.Doc();
    Y.applyUpdate(check, fromBase64(wire.update));
    expect(check.getText("body").toString()).toBe("Notes typed offline");
    expect(check.getMap("meta").get("sessionId")).toBe("plenary-opening");
    expect(Y.decodeStateVector(fromBase64(wire.stateVector)).size).toBe(1);
    expect(server.docs.get(id)!.doc.getText("body").toString()).toBe("Notes typed offline");
    expect(await getIdentity()).toEqual({ attendeeId: "att_1", token: "kpa_secret" });
    expect(await getPrivate("cursor")).toBe("1");
    expect((await listDocRecords()).filter(needsSync)).toEqual([]);

    // Nothing changed: the next round trip sends no document, with the cursor.
    await syncPrivateDocs({ fetch: server.fetch });
    expect(server.syncRequests()[1]).toEqual({ cursor: "1", docs: [] });
  });

  it("sends only what the server lacks, and merges what other devices wrote", async () => {
    const docs = new PrivateDocs();
    const id = "note:0b0b0b0b-0000-4000-8000-000000000001";
    docs.editNote(id, null, (doc) => doc.getText("body").insert(0, "Middle."));
    await docs.flush();
    await setPrivate("wantIdentity", true);
    await syncPrivateDocs({ fetch: server.fetch });

    // Another device adds a line; this device adds one at the start at the same time.
    server.edit(id, (doc) => doc.getText("body").insert(doc.getText("body").length, " From the laptop."));
    server.edit("profile", (doc) => doc.getMap("bookmarks").set("plenary-aml", true));
    docs.editNote(id, null, (doc) => doc.getText("body").insert(0, "From the phone. "));
    await docs.flush();
    await syncPrivateDocs({ fetch: server.fetch });

    const second = server.syncRequests()[1]!;
    expect(second.cursor).toBe("1");
    const diff = fromBase64(second.docs[0]!.update);
    const full = (await (await db()).get("docs", id))!.state;
    expect(diff.length).toBeLessThan(full.length); // a diff, not the whole note
    const expected = "From the phone. Middle. From the laptop.";
    expect(server.docs.get(id)!.doc.getText("body").toString()).toBe(expected);
    expect((await stored(id)).getText("body").toString()).toBe(expected);
    expect((await stored("profile")).getMap("bookmarks").get("plenary-aml")).toBe(true);
    // The page's live documents take the merged state.
    await docs.reload();
    expect(docs.note(id)!.body).toBe(expected);
    expect(docs.bookmarks()).toEqual(new Set(["plenary-aml"]));
    // Replaying the same request changes nothing on the server.
    const before = toBase64(Y.encodeStateAsUpdate(server.docs.get(id)!.doc));
    await server.fetch("/api/me/sync", { method: "POST", body: JSON.stringify(second) });
    expect(toBase64(Y.encodeStateAsUpdate(server.docs.get(id)!.doc))).toBe(before);
  });

  it("merges and sends a change saved as the page went away, before it was merged into its document", async () => {
    const id = "note:0b0b0b0b-0000-4000-8000-00000000000a";
    const doc = new Y.Doc();
    doc.getText("body").insert(0, "last words before closing the tab");
    // Step one of a save only: what `pagehide` manages to write.
    await (await db()).add("docUpdates", { id, update: Y.encodeStateAsUpdate(doc) });
    const result = await syncPrivateDocs({ fetch: server.fetch });
    expect(result.sent).toEqual([id]);
    expect(server.docs.get(id)!.doc.getText("body").toString()).toBe("last words before closing the tab");
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
      if (url === "/api/me/sync" && body?.docs.some((doc) => doc.id === big)) {
        return Response.json({ detail: `the note ${big} is over the limit of 100 KB of text` }, { status: 413 });
      }
      return original(url, init);
    };
    const result = await syncPrivateDocs({ fetch: server.fetch });
    expect(result.refused).toEqual([{ id: big, reason: `the note ${big} is over the limit of 100 KB of text` }]);
    expect(result.sent).toEqual([small]);
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
    server.edit(other, (doc) => doc.getText("body").insert(0, "Written on the laptop after the restore."));

    const result = await syncPrivateDocs({ fetch: server.fetch });
    expect(result.received).toContain(other);
    const [asked, resent] = server.syncRequests().slice(-2);
    expect(asked!.docs).toEqual([]);
    expect(resent!.cursor).toMatch(/^0a0a0a0a0a0a\./);
    expect(resent!.docs.map((doc) => doc.id).sort()).toEqual([before, after, other].sort());
    expect(server.docs.get(after)!.doc.getText("body").toString()).toBe("Synced after the backup.");
    expect((await stored(other)).getText("body").toString()).toBe("Written on the laptop after the restore.");
    expect((await listDocRecords()).filter(needsSync)).toEqual([]);

    // Once is enough: the next round trip sends nothing again.
    await syncPrivateDocs({ fetch: server.fetch });
    expect(server.syncRequests().at(-1)!.docs).toEqual([]);
  });

  it("asks again at once while the server says there is more", async () => {
    const docs = new PrivateDocs();
    docs.editNote("note:0b0b0b0b-0000-4000-8000-0000000000c0", null, (doc) => doc.getText("body").insert(0, "mine"));
    await docs.flush();
    await setPrivate("wantIdentity", true);
    await syncPrivateDocs({ fetch: server.fetch });
    const others = [1, 2, 3, 4, 5].map((n) => `note:0b0b0b0b-0000-4000-8000-0000000000c${n}`);
    for (const id of others) server.edit(id, (doc) => doc.getText("body").insert(0, `from the laptop ${id}`));
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
    expect(server.syncRequests()[0]!.docs).toEqual([]);
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
