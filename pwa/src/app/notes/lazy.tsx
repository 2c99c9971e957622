/**
 * The notes views as they enter the first screen: small frames that load their content (and Yjs)
 * on demand. Each keeps its page heading while loading, so focus lands on it after a navigation.
 */

import { useEffect, useState } from "preact/hooks";

import { t } from "../prefs";
import { Page } from "../ui/page";

export function lazy<T>(load: () => Promise<T>): () => T | null {
  let module: T | null = null;
  let loading: Promise<T> | null = null;
  return function useModule(): T | null {
    const [, setReady] = useState(module !== null);
    useEffect(() => {
      if (module) return;
      let live = true;
      loading ??= load().then((loaded) => (module = loaded));
      void loading.then(() => live && setReady(true));
      return () => {
        live = false;
      };
    }, []);
    return module;
  };
}

const useNotes = lazy(() => import("../views/notes"));
const useDevice = lazy(() => import("../views/device"));
const useSessionNotes = lazy(() => import("./session-notes"));

function Loading() {
  return <p class="loading">{t.value["notes.loading"]}</p>;
}

export function NotesView() {
  const module = useNotes();
  return <Page title={t.value["notes.title"]} needsProgramme={false}>{module ? <module.NotesContent /> : <Loading />}</Page>;
}

export function NoteView({ uuid }: { uuid: string }) {
  const module = useNotes();
  return (
    <Page title={t.value["notes.noteTitle"]} needsProgramme={false}>
      {module ? <module.NoteContent uuid={uuid} /> : <Loading />}
    </Page>
  );
}

export function DeviceView() {
  const module = useDevice();
  return <Page title={t.value["device.title"]} needsProgramme={false}>{module ? <module.DeviceContent /> : <Loading />}</Page>;
}

/** The "Notes" section of a session page. */
export function SessionNotesSlot({ sessionId }: { sessionId: string }) {
  const module = useSessionNotes();
  return module ? (
    <module.SessionNotes sessionId={sessionId} />
  ) : (
    <section aria-labelledby="session-notes" class="session-notes">
      <h2 id="session-notes">{t.value["notes.section"]}</h2>
      <Loading />
    </section>
  );
}

/** On Info: where notes and devices are managed. */
export function DevicesSection() {
  const messages = t.value;
  return (
    <section aria-labelledby="devices-data">
      <h2 id="devices-data">{messages["device.title"]}</h2>
      <p>
        <a href="/device">{messages["device.infoLink"]}</a>
      </p>
    </section>
  );
}

/** The main navigation's icon for My notes. */
export const NotesIcon = () => (
  <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
    <path d="M14 3H6a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V9z" />
    <path d="M14 3v6h6M8 13h8M8 17h5" />
  </svg>
);
