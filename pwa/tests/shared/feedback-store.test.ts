import "fake-indexeddb/auto";
import { IDBFactory } from "fake-indexeddb";
import { beforeEach, describe, expect, it } from "vitest";

import { closeDb } from "../../src/shared/db";
import { flushFeedback, getFeedback, saveFeedback } from "../../src/shared/feedback-store";
import { clearPrivateData } from "../../src/shared/private-store";

beforeEach(async () => {
  await closeDb();
  globalThis.indexedDB = new IDBFactory();
});

type Answer = (url: string, init?: RequestInit) => Response | Promise<Response>;

/** A server that creates an attendee, then answers each feedback PUT with `answer`; the bodies it got. */
function server(answer: Answer) {
  const sent: { url: string; body: unknown }[] = [];
  const fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    if (url === "/api/attendees") return Response.json({ attendeeId: "a1", token: "t1", deviceId: "d1" }, { status: 201 });
    sent.push({ url, body: JSON.parse(String(init?.body)) });
    return answer(url, init);
  };
  return { fetch, sent };
}

describe("session feedback on the device", () => {
  it("waits while offline, then sends once and is marked sent", async () => {
    await saveFeedback("s1", 4, "  Clear  ", 1);
    const offline = await flushFeedback({ fetch: () => Promise.reject(new TypeError("offline")) });
    expect(offline.stopped).toBe(true);
    expect((await getFeedback("s1"))?.state).toBe("pending");

    const { fetch, sent } = server(() => Response.json({}));
    expect((await flushFeedback({ fetch })).sent).toEqual(["s1"]);
    expect(sent).toEqual([{ url: "/api/me/feedback/s1", body: { rating: 4, comment: "Clear" } }]);
    expect((await getFeedback("s1"))?.state).toBe("sent");
    expect((await flushFeedback({ fetch })).sent).toEqual([]);
    expect(sent).toHaveLength(1);
  });

  it("keeps a refusal with the server's reason and does not send it again; a busy server leaves it pending", async () => {
    await saveFeedback("cancelled", 5, "", 1);
    await saveFeedback("busy", 3, "", 2);
    const { fetch, sent } = server((url) =>
      url.endsWith("/cancelled")
        ? Response.json({ detail: "this session was cancelled, so it takes no feedback" }, { status: 409 })
        : new Response(JSON.stringify({ detail: "too many" }), { status: 429, headers: { "Retry-After": "5" } }),
    );
    const result = await flushFeedback({ fetch });
    expect(result).toEqual({ sent: [], refused: ["cancelled"], stopped: true });
    expect(await getFeedback("cancelled")).toMatchObject({ state: "refused", refusal: "this session was cancelled, so it takes no feedback" });
    expect((await getFeedback("busy"))?.state).toBe("pending");
    await flushFeedback({ fetch });
    expect(sent.filter((request) => request.url.endsWith("/cancelled"))).toHaveLength(1);
  });

  it("does not mark a newer rating sent when an older one was in flight", async () => {
    await saveFeedback("s1", 2, "", 1);
    const { fetch } = server(async () => {
      await saveFeedback("s1", 5, "changed my mind", 2);
      return Response.json({});
    });
    await flushFeedback({ fetch });
    expect(await getFeedback("s1")).toMatchObject({ rating: 5, state: "pending" });
  });

  it("is erased with the rest of the private data", async () => {
    await saveFeedback("s1", 4, "", 1);
    await clearPrivateData();
    expect(await getFeedback("s1")).toBeUndefined();
  });
});
