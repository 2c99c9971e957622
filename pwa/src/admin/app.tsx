/** The console: sign-in, then the password step if due, then the view of the route that the role allows. */

import { useEffect } from "preact/hooks";

import { auth } from "./auth";
import { startProgramme, stopProgramme } from "./programme";
import { areasFor, may } from "./roles";
import { areaOf, areaPath, navigate, requestFocus, route } from "./router";
import { s } from "./strings";
import { Layout } from "./ui/layout";
import { Page } from "./ui/page";
import { AnnouncementsView } from "./views/announcements";
import { FeedbackView } from "./views/feedback";
import { HistoryView } from "./views/history";
import { ImportView } from "./views/import";
import { OrganisersView } from "./views/organisers";
import { RoomFormView, RoomsView, TrackFormView, TracksView } from "./views/places";
import { FloorPlansView, InfoPagesView } from "./views/venue";
import { RoomStatusView } from "./views/room-status";
import { SessionFormView } from "./views/session-form";
import { SessionsView } from "./views/sessions";
import { SetPasswordView, SignInView } from "./views/sign-in";
import { SourceView } from "./views/source";
import { SpeakerFormView, SpeakersView } from "./views/speakers";
import { TranslateView, TranslationsView } from "./views/translations";

function Message({ title, text }: { title: string; text: string }) {
  return (
    <Page title={title}>
      <p>{text}</p>
      <p>
        <a href="/admin">{s.toStart}</a>
      </p>
    </Page>
  );
}

function View({ role }: { role: string }) {
  const current = route.value;
  const area = areaOf(current);
  useEffect(() => {
    if (current.name === "home") navigate(areaPath(areasFor(role)[0] ?? "history"), { replace: true });
  }, [current.name, role]);
  if (current.name === "home") return <p class="loading">{s.loading}</p>;
  if (area && !may(role, area)) return <Message title={s.forbiddenTitle} text={s.forbiddenText} />;
  switch (current.name) {
    case "list":
      switch (current.kind) {
        case "sessions":
          return <SessionsView />;
        case "speakers":
          return <SpeakersView />;
        case "rooms":
          return <RoomsView />;
        case "tracks":
          return <TracksView />;
      }
      break;
    case "edit":
      switch (current.kind) {
        case "sessions":
          return <SessionFormView key={current.id ?? "new"} id={current.id} />;
        case "speakers":
          return <SpeakerFormView key={current.id ?? "new"} id={current.id} />;
        case "rooms":
          return <RoomFormView key={current.id ?? "new"} id={current.id} />;
        case "tracks":
          return <TrackFormView key={current.id ?? "new"} id={current.id} />;
      }
      break;
    case "floorPlans":
      return <FloorPlansView />;
    case "infoPages":
      return <InfoPagesView />;
    case "import":
      return <ImportView />;
    case "source":
      return <SourceView />;
    case "announcements":
      return <AnnouncementsView />;
    case "room-status":
      return <RoomStatusView />;
    case "history":
      return <HistoryView />;
    case "feedback":
      return <FeedbackView />;
    case "organisers":
      return <OrganisersView />;
    case "translations":
      return <TranslationsView />;
    case "translate":
      return <TranslateView key={`${current.kind}/${current.id}`} kind={current.kind} id={current.id} />;
  }
  return <Message title={s.notFoundTitle} text={s.notFoundText} />;
}

/** The screen shown: a change (signed in, password set, signed out) moves focus to the new heading. */
let shownScreen = "loading";

export function Console() {
  const state = auth.value;
  const screen = state.state === "signedIn" ? (state.mustChangePassword ? "password" : "console") : state.state;
  // The first screen after loading the page keeps the browser's own focus (the start of the document).
  if (screen !== shownScreen && shownScreen !== "loading") requestFocus();
  shownScreen = screen;
  const role = state.state === "signedIn" ? state.organiser.role : null;
  const ready = state.state === "signedIn" && !state.mustChangePassword;

  useEffect(() => {
    if (ready && role) startProgramme(may(role, "programme"));
    else stopProgramme();
  }, [ready, role]);

  if (state.state === "loading") {
    return (
      <Layout nav={false}>
        <p class="loading page">{s.loading}</p>
      </Layout>
    );
  }
  if (state.state === "signedOut") {
    return (
      <Layout nav={false}>
        <SignInView notice={state.notice} />
      </Layout>
    );
  }
  if (state.mustChangePassword) {
    return (
      <Layout nav={false}>
        <SetPasswordView name={state.organiser.name} />
      </Layout>
    );
  }
  return (
    <Layout>
      <View role={state.organiser.role} />
    </Layout>
  );
}
