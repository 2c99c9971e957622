/** Start what keeps announcements current while the app is open: read marks, the live stream, notifications. */

import { startLive } from "../live";
import { startNotify } from "../notify";
import { startReadState } from "./read";

/**
 * @param after The read marks live in the profile document, which loads Yjs: on a first visit over a slow link that
 *   waits until the programme shows (there is nothing to mark read before it).
 */
export function startAnnouncements(after: Promise<void> = Promise.resolve()): void {
  void after.then(startReadState);
  startLive();
  void startNotify();
}
