/** Entry point of the organiser console at /admin: find out who is signed in, then render. */

import { render } from "preact";

import "./styles.css";
import { Console } from "./app";
import { loadSession } from "./auth";
import { startRouter } from "./router";

startRouter();
render(<Console />, document.getElementById("console")!);
void loadSession();
