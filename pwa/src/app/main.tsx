/** Entry point: render from the device's copy at once, then sync, follow the live stream and register the service worker. */

import { render } from "preact";

import "./styles.css";
import { startAnnouncements } from "./announce/start";
import { App } from "./app";
import { startChanges } from "./changes";
import { languageReady } from "./prefs";
import { startRouter } from "./router";
import { programmeShown, start } from "./store";
import { registerServiceWorker } from "./sw-bridge";
import { startVenue } from "./venue-lazy";

startRouter();
/** The chosen language's catalogue is a precached chunk that arrives within milliseconds; English shows if it is slower. */
const LANGUAGE_WAIT_MS = 300;
void Promise.race([languageReady, new Promise((resolve) => setTimeout(resolve, LANGUAGE_WAIT_MS))]).then(() =>
  render(<App />, document.getElementById("app")!),
);
void start().then(startChanges);
startAnnouncements(programmeShown);
// The Info pages and room status: fetched and kept once the programme shows (on a first visit over a slow link,
// today's part of it comes first), outside the app shell.
void programmeShown.then(() => {
  startVenue();
  void import("./room-status-sync").then((module) => module.startRoomStatusSync());
});
void registerServiceWorker();
