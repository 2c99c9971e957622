/** Start what keeps announcements current while the app is open: read marks, the live stream, notifications. */

import { startLive } from "../live";
import { startNotify } from "../notify";
import { startReadState } from "./read";

export function startAnnouncements(): void {
  startReadState();
  startLive();
  void startNotify();
}
