/** The map and the Info pages as they enter the first screen: frames that load their content on demand. */

import { lazy } from "./notes/lazy";
import { t } from "./prefs";
import { Page } from "./ui/page";

const useMap = lazy(() => import("./views/map"));
const usePages = lazy(() => import("./views/info-page"));

function Loading() {
  return <p class="loading">{t.value["venue.loading"]}</p>;
}

/** Keep the Info pages and floor plans on the device (loaded after the first screen). */
export function startVenue(): void {
  void import("./venue-data").then((module) => module.startVenue());
}

export function MapView() {
  const module = useMap();
  return (
    <Page title={t.value["venue.mapTitle"]} needsProgramme={false} wide>
      {module ? <module.MapContent /> : <Loading />}
    </Page>
  );
}

export function InfoPageView({ slug }: { slug: string }) {
  const module = usePages();
  return (
    <Page title={module?.pageTitle(slug) ?? t.value["venue.infoPages"]} needsProgramme={false}>
      {module ? <module.InfoPageContent slug={slug} /> : <Loading />}
    </Page>
  );
}

/** On Info: the organisers' pages (code of conduct, safeguarding, emergency numbers, …) and the map. */
export function InfoPagesSlot() {
  const module = usePages();
  return module ? (
    <module.InfoPagesSection />
  ) : (
    <section aria-labelledby="info-pages">
      <h2 id="info-pages">{t.value["venue.infoPages"]}</h2>
      <Loading />
    </section>
  );
}
