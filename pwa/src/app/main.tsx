/** Entry point: render from the device's copy at once, then sync, follow the live stream and register the service worker. */

import { render } from "preact";

import "./styles.css";
import { startAnnouncements } from "./announce/start";
import { App } from "./app";
import { startChanges } from "./changes";
import { startRouter } from "./router";
import { start } from "./store";
import { registerServiceWorker } from "./sw-bridge";
import { startVenue } from "./venue-lazy";

startRouter();
render(<App />, document.getElementById("app")!);
void start().then(startChanges);
startAnnouncements();
startVenue();
// Room status: fetched and kept after the first screen, outside the app shell.
void import("./room-status-sync").then((module) => module.startRoomStatusSync());
void registerServiceWorker();
