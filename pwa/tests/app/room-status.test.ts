import { beforeEach, describe, expect, it, vi } from "vitest";

import { en } from "../../src/app/i18n/en";

// The interface language as the app would pick it, without a browser to ask.
vi.mock("../../src/app/prefs", () => ({ t: { value: en } }));

import { roomStatus, roomStatusLabel } from "../../src/app/room-status";
import { onRoomStatusEvent, parseStatuses, setStatuses } from "../../src/app/room-status-sync";

const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

describe("room status", () => {
  beforeEach(() => setStatuses(new Map()));

  it("keeps what the server sends and leaves out anything malformed", () => {
    const found = parseStatuses([
      { roomId: "hall-a", state: "full", message: "", setAt: inMinutes(-1), until: inMinutes(30) },
      { roomId: "hall-b", state: "packed", until: inMinutes(30) },
      { roomId: "hall-c", state: "closed", until: "soon" },
      null,
      "hall-d",
    ]);
    expect([...found.keys()]).toEqual(["hall-a"]);
  });

  it("labels a status, with the emergency message as written", () => {
    setStatuses(parseStatuses([
      { roomId: "hall-a", state: "filling", message: "", setAt: "", until: inMinutes(30) },
      { roomId: "hall-b", state: "emergency", message: "<b>Leave</b> by the east stairs", setAt: "", until: inMinutes(30) },
    ]));
    expect(roomStatusLabel("hall-a")).toBe("Room filling up");
    expect(roomStatusLabel("hall-b")).toBe("Emergency: <b>Leave</b> by the east stairs");
    expect(roomStatusLabel("hall-z")).toBeNull();
  });

  it("takes a live event as the whole current list", () => {
    setStatuses(parseStatuses([{ roomId: "hall-a", state: "full", until: inMinutes(30) }]));
    onRoomStatusEvent(new MessageEvent("room-status", { data: JSON.stringify({ rooms: [{ roomId: "hall-b", state: "closed", until: inMinutes(30) }] }) }));
    expect([...roomStatus.value.keys()]).toEqual(["hall-b"]);
  });

  it("drops a status by itself when it lapses", () => {
    vi.useFakeTimers();
    try {
      setStatuses(parseStatuses([{ roomId: "hall-a", state: "full", until: new Date(Date.now() + 5_000).toISOString() }]));
      expect(roomStatusLabel("hall-a")).toBe("Room full");
      vi.advanceTimersByTime(6_000);
      expect(roomStatusLabel("hall-a")).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});
