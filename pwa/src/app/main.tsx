/** Entry point: render from the device's copy at once, then sync and register the service worker. */

import { render } from "preact";

import "./styles.css";
import { App } from "./app";
import { startRouter } from "./router";
import { start } from "./store";
import { registerServiceWorker } from "./sw-bridge";

startRouter();
render(<App />, document.getElementById("app")!);
void start();
void registerServiceWorker();
