/** Entry point of the organiser console at /admin: find out who is signed in, then render. */

import { render } from "preact";

import "./styles.css";
import { Console } from "./app";
import { loadSession } from "./auth";
import { consoleLang, initialConsoleLang, setConsoleLang } from "./i18n";
import { startRouter } from "./router";

/** Reads the language so that a change of language renders every view again with the texts now in `s`. */
function Root() {
  void consoleLang.value;
  return <Console />;
}

startRouter();
const first = initialConsoleLang();
// Indonesian is a lazy chunk: wait for it (it is small) rather than flash English first.
void (first === "en" ? Promise.resolve() : setConsoleLang(first, false)).then(() => render(<Root />, document.getElementById("console")!));
void loadSession();
