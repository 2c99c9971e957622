/** "Changes": sessions added, moved, re-roomed or cancelled since the attendee last looked, with what changed. */

import { useEffect } from "preact/hooks";

import type { SeenSession } from "../../shared/db";
import type { Session } from "../../shared/types";
import { changes, markSeen, type ChangeKind, type SessionChange } from "../changes";
import { locale, t } from "../prefs";
import { displayZone, model } from "../store";
import { dayKey, formatDayShort, formatTimeRange } from "../time";
import { Badge } from "../ui/common";
import { ChangesIcon } from "../ui/icons";
import { Page } from "../ui/page";

const LABELS: Record<ChangeKind, "changes.added" | "changes.moved" | "changes.reroomed" | "changes.cancelled" | "changes.removed"> = {
  added: "changes.added",
  moved: "changes.moved",
  "re-roomed": "changes.reroomed",
  cancelled: "changes.cancelled",
  removed: "changes.removed",
};

function slot(start: string, end: string, roomId: string): string {
  const zone = displayZone.value;
  const room = model.value?.rooms.get(roomId)?.name ?? roomId;
  return `${formatDayShort(dayKey(start, zone), locale.value)}, ${formatTimeRange(start, end, zone, locale.value)}, ${room}`;
}

function Was({ before }: { before: SeenSession }) {
  const [, start, end, roomId] = before;
  return (
    <p class="change-was">
      <span class="muted">{t.value["changes.was"]}:</span> <del>{slot(start, end, roomId)}</del>
    </p>
  );
}

function Now({ after }: { after: Session }) {
  return (
    <p class="change-now">
      <span class="muted">{t.value["changes.now"]}:</span> {slot(after.start, after.end, after.roomId)}
    </p>
  );
}

function ChangeCard({ change }: { change: SessionChange }) {
  const messages = t.value;
  const shown = change.kinds.includes("moved") || change.kinds.includes("re-roomed");
  return (
    <li class="card change">
      <h2 class="card-title">
        {change.after ? <a href={`/sessions/${encodeURIComponent(change.id)}`}>{change.title}</a> : change.title}
      </h2>
      <p class="card-badges">
        {change.kinds.map((kind) => (
          <Badge key={kind} kind={kind === "cancelled" || kind === "removed" ? "cancelled" : "unread"}>
            {messages[LABELS[kind]]}
          </Badge>
        ))}
      </p>
      {shown && change.before && <Was before={change.before} />}
      {change.after && change.kinds[0] !== "cancelled" && <Now after={change.after} />}
      {!change.after && change.before && <Was before={change.before} />}
    </li>
  );
}

export function ChangesView() {
  const messages = t.value;
  const items = changes.value;
  // Leaving the page counts as having looked: the badge counts from here next time.
  useEffect(() => () => void markSeen(), []);
  return (
    <Page title={messages["changes.title"]} lead={<p class="lead">{messages["changes.lead"]}</p>}>
      {items.length === 0 ? (
        <div class="empty-state">
          <ChangesIcon />
          <p class="empty-title">{messages["changes.none"]}</p>
        </div>
      ) : (
        <>
          <p class="announcement-tools">
            <button type="button" class="button button-small" onClick={() => void markSeen()}>
              {messages["changes.markSeen"]}
            </button>
          </p>
          <ul class="cards">
            {items.map((change) => (
              <ChangeCard key={change.id} change={change} />
            ))}
          </ul>
        </>
      )}
    </Page>
  );
}
