/**
 * Programme: its page frame in the first screen; the content (windowed list, room grid, search index and
 * stemmers) is a chunk of its own, loaded when the page opens, so the shell stays within its budget.
 */

import { useEffect, useState } from "preact/hooks";

import { t } from "../prefs";
import { model } from "../store";
import { Page } from "../ui/page";

type Content = typeof import("./programme-content");

let loaded: Content | null = null;
let loading: Promise<Content> | null = null;

function load(): Promise<Content> {
  loading ??= import("./programme-content").then((module) => (loaded = module));
  return loading;
}

export function ProgrammeView() {
  const [module, setModule] = useState(loaded);
  useEffect(() => {
    if (module) return;
    let live = true;
    void load().then((found) => live && setModule(found));
    return () => {
      live = false;
    };
  }, []);
  const current = model.value;
  return (
    <Page title={t.value.programmeTitle} wide>
      {current && (module ? <module.ProgrammeContent model={current} /> : <p class="loading">{t.value.loading}</p>)}
    </Page>
  );
}
