import { describe, expect, it } from "vitest";

import { diffSessions, lookAt } from "../../src/app/changes-model";
import { applyChanges } from "../../src/shared/feed";
import type { Change, Programme, Session } from "../../src/shared/types";
import { demoProgramme } from "../fixtures";

function upsert(session: Session): Change {
  return { type: "session", id: session.id, deleted: false, data: session } as unknown as Change;
}

function edit(programme: Programme, id: string, change: Partial<Session>): Change {
  return upsert({ ...programme.sessions.find((session) => session.id === id)!, ...change });
}

describe("diffSessions", () => {
  const before = demoProgramme();
  const seen = lookAt(before);

  it("finds nothing when nothing changed", () => {
    expect(diffSessions(seen, before)).toEqual([]);
  });

  it("names moves, room changes, cancellations, additions and removals from the change feed", () => {
    const added: Session = { ...before.sessions[0]!, id: "late-addition", title: "A late addition" };
    const after = applyChanges(
      before,
      [
        edit(before, "plenary-aml", { start: "2024-07-23T11:00:00+08:00", end: "2024-07-23T12:30:00+08:00" }),
        edit(before, "plenary-opening", { roomId: "room-hall-a" }),
        edit(before, "d1-registration", { status: "cancelled" }),
        upsert(added),
        { type: "session", id: "d1-coffee-am", deleted: true } as unknown as Change,
      ],
      "aaaaaaaaaaaa.99",
    );
    const found = Object.fromEntries(diffSessions(seen, after).map((change) => [change.id, change.kinds]));
    expect(found).toEqual({
      "plenary-aml": ["moved"],
      "plenary-opening": ["re-roomed"],
      "d1-registration": ["cancelled"],
      "late-addition": ["added"],
      "d1-coffee-am": ["removed"],
    });
  });

  it("does not count the same instant written in another offset as a move", () => {
    const after = applyChanges(before, [edit(before, "plenary-aml", { start: "2024-07-23T02:30:00Z" })], "aaaaaaaaaaaa.99");
    expect(diffSessions(seen, after)).toEqual([]);
  });

  it("counts from the new point once the attendee has looked", () => {
    const after = applyChanges(before, [edit(before, "plenary-opening", { roomId: "room-hall-a" })], "aaaaaaaaaaaa.99");
    expect(diffSessions(lookAt(after), after)).toEqual([]);
  });
});
