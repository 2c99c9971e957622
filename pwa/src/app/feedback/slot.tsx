/**
 * Where session feedback enters the first screen: the form (and what sends it) loads once a session
 * has started; ratings left pending go when the app starts online or the connection returns.
 */

import { db } from "../../shared/db";
import { instant } from "../../shared/feed";
import type { Session } from "../../shared/types";
import { lazy } from "../notes/lazy";
import { appNow } from "../ui/clock";

const load = () => import("./session-feedback");
const useFeedback = lazy(load);

async function sendPending(): Promise<void> {
  // The sender loads only on a device that holds feedback at all.
  if (await (await db()).count("feedback")) await (await load()).sendPendingFeedback();
}

if (typeof window !== "undefined") {
  window.addEventListener("online", () => void sendPending().catch(() => undefined));
  if (navigator.onLine) void sendPending().catch(() => undefined);
}

function Loaded({ session }: { session: Session }) {
  const module = useFeedback();
  return module ? <module.SessionFeedback session={session} /> : null;
}

/** "Your feedback" on a session page, from the session's start on (never for a cancelled session). */
export function SessionFeedbackSlot({ session }: { session: Session }) {
  return session.status !== "cancelled" && instant(session.start) <= appNow.value ? <Loaded session={session} /> : null;
}
