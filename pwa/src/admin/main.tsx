/** Entry point of the organiser console at /admin: find out who is signed in, then render. */

import { render } from "preact";

import "./styles.css";
import { Console } from "./app";
import { loadSession } from "./auth";
import { consoleLang, initialConsoleLang, setConsoleLang } from "./i18n";
import { startRouter } from "./router";

/**
 * A change of language renders the console anew with the texts now in `s` (components skip renders whose props
 * and signals did not change, so the tree is keyed by the language: unsaved edits in an open form are lost).
 */
function Root() {
  return <Console key={consoleLang.value} />;
}

startRouter();
const first = initialConsoleLang();
// Indonesian is a lazy chunk: wait for it (it is small) rather than flash English first.
void (first === "en" ? Promise.resolve() : setConsoleLang(first, false)).then(() => render(<Root />, document.getElementById("console")!));
void loadSession();
