/**
 * The venue in the console: floor plans (upload one per floor, pin each room by clicking its place) and the Info
 * pages attendees read offline.
 */

import { useEffect, useState } from "preact/hooks";

import type { FloorPlan, InfoPage, Venue } from "../../shared/venue";
import { ApiError, del, get, patch, post, put, request } from "../api";
import { programme } from "../programme";
import { s } from "../strings";
import { confirmAction } from "../ui/dialog";
import { TextArea, TextField } from "../ui/fields";
import { Page, Problem } from "../ui/page";
import { announce } from "../ui/status";
import { refreshTranslationCounts } from "../translations";
import { translatePath } from "./translations";

const problemOf = (error: unknown) => (error instanceof ApiError ? error.detail : String(error));

function UploadForm({ floors, onUploaded }: { floors: string[]; onUploaded: () => void }) {
  const [floor, setFloor] = useState(floors[0] ?? "");
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setProblem(null);
    try {
      const plan = await request<FloorPlan>("POST", `/api/admin/floor-plans?floor=${encodeURIComponent(floor.trim())}`, {
        body: file,
        contentType: "application/octet-stream",
      });
      announce(s.uploaded(plan.floor));
      onUploaded();
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" aria-labelledby="upload-plan" onSubmit={(event) => void submit(event)}>
      <h2 id="upload-plan">{s.uploadPlanTitle}</h2>
      {problem && <Problem>{problem}</Problem>}
      <TextField form="plan" name="floor" label={s.fieldPlanFloor} hint={s.planFloorHint} value={floor} onValue={setFloor} />
      <div class="field">
        <label for="plan-file">{s.fieldPlanFile}</label>
        <input id="plan-file" name="file" type="file" accept="image/png,image/jpeg,image/webp" required onChange={(event) => setFile(event.currentTarget.files?.[0] ?? null)} />
      </div>
      <button type="submit" class="button button-primary" disabled={busy || !file || !floor.trim()}>
        {busy ? s.uploading : s.upload}
      </button>
    </form>
  );
}

function PlanCard({ plan, venue, onChanged }: { plan: FloorPlan; venue: Venue; onChanged: () => void }) {
  const rooms = programme.value?.rooms ?? [];
  const onFloor = rooms.filter((room) => room.floor === plan.floor);
  const choices = onFloor.length > 0 ? [...onFloor, ...rooms.filter((room) => room.floor !== plan.floor)] : rooms;
  const [roomId, setRoomId] = useState(choices[0]?.id ?? "");
  const [across, setAcross] = useState("");
  const [down, setDown] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const nameOf = (id: string) => rooms.find((room) => room.id === id)?.name ?? id;
  const pins = venue.pins.filter((pin) => pin.planId === plan.id);
  const save = async (x: number, y: number) => {
    if (!roomId) return;
    setProblem(null);
    try {
      await put(`/api/admin/floor-plans/${encodeURIComponent(plan.id)}/pins/${encodeURIComponent(roomId)}`, { x, y });
      setAcross(String(Math.round(x * 1000) / 10));
      setDown(String(Math.round(y * 1000) / 10));
      announce(s.pinned(nameOf(roomId), plan.floor));
      onChanged();
    } catch (error) {
      setProblem(problemOf(error));
    }
  };
  const place = (event: MouseEvent) => {
    const box = (event.currentTarget as HTMLElement).getBoundingClientRect();
    const fraction = (value: number) => Math.min(1, Math.max(0, Math.round(value * 10000) / 10000));
    void save(fraction((event.clientX - box.left) / box.width), fraction((event.clientY - box.top) / box.height));
  };
  const unpin = async (id: string) => {
    try {
      await del(`/api/admin/pins/${encodeURIComponent(id)}`);
      announce(s.pinRemoved(nameOf(id)));
      onChanged();
    } catch (error) {
      setProblem(problemOf(error));
    }
  };
  const remove = async () => {
    if (!(await confirmAction({ title: s.confirmDeletePlan, text: s.confirmDeletePlanText, confirm: s.deletePlan(plan.floor), danger: true }))) return;
    try {
      await del(`/api/admin/floor-plans/${encodeURIComponent(plan.id)}`);
      announce(s.planDeleted(plan.floor));
      onChanged();
    } catch (error) {
      setProblem(problemOf(error));
    }
  };
  const form = `pin-${plan.id}`;
  return (
    <section class="card plan-card" aria-labelledby={`plan-${plan.id}`}>
      <h2 id={`plan-${plan.id}`}>{plan.floor}</h2>
      {problem && <Problem>{problem}</Problem>}
      <div class="field">
        <label for={`${form}-room`}>{s.pinRoom}</label>
        <span class="hint" id={`${form}-hint`}>
          {s.pinHint}
        </span>
        <select id={`${form}-room`} aria-describedby={`${form}-hint`} value={roomId} onChange={(event) => setRoomId(event.currentTarget.value)}>
          {choices.map((room) => (
            <option key={room.id} value={room.id}>
              {room.name}
              {room.floor && room.floor !== plan.floor ? ` (${room.floor})` : ""}
            </option>
          ))}
        </select>
      </div>
      <div class="plan-canvas" style={{ aspectRatio: `${plan.width} / ${plan.height}` }}>
        {/* Clicking places the pin; the fields below do the same from the keyboard. */}
        <img src={plan.smallUrl} alt={s.planImageOf(plan.floor)} width={plan.smallWidth} height={plan.smallHeight} onClick={place} />
        {pins.map((pin) => (
          <span key={pin.roomId} class={`plan-pin${pin.roomId === roomId ? " plan-pin-current" : ""}`} style={{ left: `${pin.x * 100}%`, top: `${pin.y * 100}%` }} aria-hidden="true">
            {nameOf(pin.roomId)}
          </span>
        ))}
      </div>
      <form
        class="pin-fields"
        onSubmit={(event) => {
          event.preventDefault();
          const x = Number(across) / 100;
          const y = Number(down) / 100;
          if (Number.isFinite(x) && Number.isFinite(y)) void save(Math.min(1, Math.max(0, x)), Math.min(1, Math.max(0, y)));
        }}
      >
        <TextField form={form} name="across" label={s.pinAcross} inputMode="text" value={across} onValue={setAcross} />
        <TextField form={form} name="down" label={s.pinDown} inputMode="text" value={down} onValue={setDown} />
        <button type="submit" class="button">
          {s.savePin}
        </button>
      </form>
      {pins.length > 0 && (
        <>
          <h3>{s.pinsOn(plan.floor)}</h3>
          <ul class="plain-list">
            {pins.map((pin) => (
              <li key={pin.roomId}>
                {nameOf(pin.roomId)}{" "}
                <button type="button" class="button button-small" aria-label={s.removePin(nameOf(pin.roomId))} onClick={() => void unpin(pin.roomId)}>
                  {s.removePinShort}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      <p>
        <button type="button" class="button button-danger-quiet" onClick={() => void remove()}>
          {s.deletePlan(plan.floor)}
        </button>
      </p>
    </section>
  );
}

export function FloorPlansView() {
  const [venue, setVenue] = useState<Venue | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const load = () =>
    get<Venue>("/api/venue")
      .then(setVenue)
      .catch((error: unknown) => setProblem(problemOf(error)));
  useEffect(() => void load(), []);
  const floors = [...new Set((programme.value?.rooms ?? []).map((room) => room.floor ?? "").filter(Boolean))];
  return (
    <Page title={s.floorPlansTitle} lead={<p>{s.floorPlansLead}</p>}>
      {problem && <Problem>{problem}</Problem>}
      <UploadForm floors={floors} onUploaded={() => void load()} />
      {venue === null ? (
        <p class="loading">{s.loading}</p>
      ) : venue.plans.length === 0 ? (
        <p>{s.noPlans}</p>
      ) : (
        venue.plans.map((plan) => <PlanCard key={`${plan.id}-${plan.version}`} plan={plan} venue={venue} onChanged={() => void load()} />)
      )}
    </Page>
  );
}

interface PageDraft {
  title: string;
  slug: string;
  body: string;
  position: string;
}

function PageForm({ page, onDone }: { page: InfoPage | null; onDone: () => void }) {
  const [draft, setDraft] = useState<PageDraft>({
    title: page?.title ?? "",
    slug: page?.slug ?? "",
    body: page?.body ?? "",
    position: String(page?.position ?? 0),
  });
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (key: keyof PageDraft) => (value: string) => setDraft({ ...draft, [key]: value });
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    const body = { title: draft.title, slug: draft.slug, body: draft.body, position: Number(draft.position) || 0 };
    try {
      const saved = page ? await patch<InfoPage>(`/api/admin/info-pages/${encodeURIComponent(page.id)}`, body) : await post<InfoPage>("/api/admin/info-pages", body);
      announce(s.pageSaved(saved.title));
      onDone();
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(false);
    }
  };
  const form = page ? `page-${page.id}` : "page-new";
  return (
    <form class="card" aria-labelledby={`${form}-title`} onSubmit={(event) => void submit(event)}>
      <h2 id={`${form}-title`}>{page ? s.editInfoPage(page.title) : s.newInfoPage}</h2>
      {problem && <Problem>{problem}</Problem>}
      <TextField form={form} name="title" label={s.fieldPageTitle} value={draft.title} onValue={set("title")} maxLength={300} />
      <TextField form={form} name="slug" label={s.fieldSlug} hint={s.slugHint} value={draft.slug} onValue={set("slug")} maxLength={64} />
      <TextArea form={form} name="body" label={s.pageBody} hint={s.pageBodyHint} rows={10} maxLength={10000} value={draft.body} onValue={set("body")} />
      <TextField form={form} name="position" label={s.fieldPosition} hint={s.positionHint} inputMode="numeric" value={draft.position} onValue={set("position")} />
      <p class="actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? s.saving : s.save}
        </button>{" "}
        <button type="button" class="button" onClick={onDone}>
          {s.cancel}
        </button>
      </p>
    </form>
  );
}

/** How many of a page's translated fields are out of date (their original changed since), in every language. */
const staleCount = (page: InfoPage): number => Object.values(page.translations ?? {}).reduce((sum, item) => sum + (item?.stale?.length ?? 0), 0);

export function InfoPagesView() {
  const [pages, setPages] = useState<InfoPage[] | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const load = () =>
    get<InfoPage[]>("/api/info-pages")
      .then(setPages)
      .catch((error: unknown) => setProblem(problemOf(error)));
  useEffect(() => void load(), []);
  /** A page changed: read the pages again, and the navigation's count of out-of-date translations. */
  const changed = () => {
    void load();
    void refreshTranslationCounts();
  };
  const done = () => {
    setEditing(null);
    changed();
  };
  const remove = async (page: InfoPage) => {
    if (!(await confirmAction({ title: s.confirmDeletePage, text: s.confirmDeletePageText, confirm: s.deletePage(page.title), danger: true }))) return;
    try {
      await del(`/api/admin/info-pages/${encodeURIComponent(page.id)}`);
      announce(s.pageDeleted(page.title));
      changed();
    } catch (error) {
      setProblem(problemOf(error));
    }
  };
  return (
    <Page
      title={s.infoPagesTitle}
      lead={<p>{s.infoPagesLead}</p>}
      actions={
        editing === null && (
          <button type="button" class="button button-primary" onClick={() => setEditing("new")}>
            {s.newInfoPage}
          </button>
        )
      }
    >
      {problem && <Problem>{problem}</Problem>}
      {editing === "new" && <PageForm page={null} onDone={done} />}
      {pages === null ? (
        <p class="loading">{s.loading}</p>
      ) : (
        <ul class="plain-list info-page-list">
          {pages.map((page) =>
            editing === page.id ? (
              <li key={page.id}>
                <PageForm page={page} onDone={done} />
              </li>
            ) : (
              <li key={page.id} class="card">
                <h2 class="card-title">{page.title}</h2>
                <p class="muted">/info/{page.slug}</p>
                {staleCount(page) > 0 && (
                  <p>
                    <span class="badge badge-warning">{s.pageTranslationsStale(staleCount(page))}</span>
                  </p>
                )}
                <p>
                  <button type="button" class="button button-small" aria-label={s.editInfoPage(page.title)} onClick={() => setEditing(page.id)}>
                    {s.edit}
                  </button>{" "}
                  <button type="button" class="button button-small button-danger-quiet" aria-label={s.deletePage(page.title)} onClick={() => void remove(page)}>
                    {s.delete}
                  </button>{" "}
                  <a class="button button-small" href={translatePath("page", page.id)} aria-label={s.translatePage(page.title)}>
                    {s.navTranslations}
                  </a>
                </p>
              </li>
            ),
          )}
        </ul>
      )}
    </Page>
  );
}
