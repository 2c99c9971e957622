/** The app: the frame and the view of the current route; focus moves to the new view's heading. */

import { useEffect } from "preact/hooks";

import { navigated, route } from "./router";
import { DeviceView, NotesView, NoteView } from "./notes/lazy";
import { Layout } from "./ui/layout";
import { InfoPageView, MapView } from "./venue-lazy";
import { AgendaView } from "./views/agenda";
import { AnnouncementView } from "./views/announcement";
import { AnnouncementsView } from "./views/announcements";
import { ChangesView } from "./views/changes";
import { InfoView, NotFoundView } from "./views/info";
import { NowNextView } from "./views/now-next";
import { ProgrammeView } from "./views/programme";
import { SessionView } from "./views/session";
import { SpeakersView, SpeakerView } from "./views/speakers";

function View() {
  const current = route.value;
  switch (current.name) {
    case "now":
      return <NowNextView />;
    case "programme":
      return <ProgrammeView />;
    case "session":
      return <SessionView key={current.id} id={current.id} />;
    case "speakers":
      return <SpeakersView />;
    case "speaker":
      return <SpeakerView key={current.id} id={current.id} />;
    case "agenda":
      return <AgendaView />;
    case "changes":
      return <ChangesView />;
    case "announcements":
      return <AnnouncementsView />;
    case "announcement":
      return <AnnouncementView key={current.id} id={current.id} />;
    case "info":
      return <InfoView />;
    case "infoPage":
      return <InfoPageView key={current.slug} slug={current.slug} />;
    case "map":
      return <MapView />;
    case "notes":
      return <NotesView />;
    case "note":
      return <NoteView key={current.uuid} uuid={current.uuid} />;
    case "device":
      return <DeviceView />;
    case "notFound":
      return <NotFoundView />;
  }
}

export function App() {
  const count = navigated.value;
  useEffect(() => {
    if (count === 0) return;
    // After an in-app navigation, take keyboard and screen-reader focus to the new content.
    const hash = window.location.hash.slice(1);
    const target = (hash && document.getElementById(hash)) || document.getElementById("page-title");
    target?.focus({ preventScroll: Boolean(!hash) });
    if (hash) target?.scrollIntoView();
  }, [count]);
  return (
    <Layout>
      <View />
    </Layout>
  );
}
