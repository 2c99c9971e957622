/** Creating and editing a session: every field the attendees see, times in the event's zone, errors beside their fields. */

import { useEffect, useRef, useState } from "preact/hooks";

import type { Recording, Session } from "../../shared/types";
import { ApiError } from "../api";
import { auth } from "../auth";
import { SESSION_DEFAULTS, SESSION_FIELDS, sessionBody, sessionDraft, type SessionDraft } from "../drafts";
import { cancelSession, deleteEntity, saveEntity } from "../entities";
import { errorsFrom } from "../fields";
import { editMaySet, looserThan, RECORDINGS, setRecording } from "../privacy";
import { programme, sessionById, warningsBySession, zone } from "../programme";
import { mayLoosenPrivacy } from "../roles";
import { editPath, navigate, requestFocus } from "../router";
import { s } from "../strings";
import { confirmAction } from "../ui/dialog";
import { describe, ErrorSummary, FieldError, Fieldset, Hint, SelectField, TextArea, TextField, useFormErrors } from "../ui/fields";
import { Page } from "../ui/page";
import { announce } from "../ui/status";
import { MaterialsField } from "./materials-field";
import { zoneLabel } from "../zone";
import { ProgrammeGate } from "./programme-gate";
import { translatePath } from "./translations";
import { WarningList } from "./sessions";

const FORM = "session";

function recordingLabel(recording: Recording): string {
  return recording === "off-the-record" ? s.recordingOff : recording === "no-recording" ? s.recordingNone : s.recordingPublic;
}

const languageNames = (() => {
  try {
    return new Intl.DisplayNames(["en"], { type: "language" });
  } catch {
    return null;
  }
})();

function languageName(code: string): string {
  try {
    return languageNames?.of(code) ?? code;
  } catch {
    return code;
  }
}

function LanguagesField({ value, onValue, error }: { value: string[]; onValue: (value: string[]) => void; error?: string | undefined }) {
  const eventLanguages = programme.value?.event?.languages?.length ? programme.value.event.languages : ["en"];
  const [other, setOther] = useState(() => value.filter((code) => !eventLanguages.includes(code)).join(", "));
  const attrs = describe(FORM, "languages", error, s.languagesHint);
  const toggle = (code: string, on: boolean) => onValue(on ? [...value, code] : value.filter((item) => item !== code));
  const setOthers = (text: string) => {
    setOther(text);
    const codes = text
      .split(/[\s,;]+/)
      .map((code) => code.trim())
      .filter((code) => code && !eventLanguages.includes(code));
    onValue([...value.filter((code) => eventLanguages.includes(code)), ...codes]);
  };
  return (
    <Fieldset legend={s.fieldLanguages} class={error ? "has-error" : ""}>
      <Hint id={attrs.id} text={s.languagesHint} />
      <div class="checks">
        {eventLanguages.map((code, index) => (
          <label class="check" key={code}>
            <input
              type="checkbox"
              name="languages"
              value={code}
              checked={value.includes(code)}
              onChange={(event) => toggle(code, event.currentTarget.checked)}
              {...(index === 0 ? { "aria-invalid": attrs["aria-invalid"], "aria-describedby": attrs["aria-describedby"] } : {})}
            />
            <span>
              {languageName(code)} <span class="muted">({code})</span>
            </span>
          </label>
        ))}
      </div>
      <TextField form={FORM} name="otherLanguages" label={s.otherLanguages} hint={s.otherLanguagesHint} optional value={other} onValue={setOthers} />
      <FieldError id={attrs.id} text={error} />
    </Fieldset>
  );
}

function SpeakerPicker({ value, onValue, error }: { value: string[]; onValue: (value: string[]) => void; error?: string | undefined }) {
  const speakers = programme.value?.speakers ?? [];
  const [choice, setChoice] = useState("");
  const [focus, setFocus] = useState<string | null>(null);
  const list = useRef<HTMLOListElement>(null);
  const attrs = describe(FORM, "speakerIds", error, s.speakersHint);
  const name = (id: string) => speakers.find((speaker) => speaker.id === id)?.name ?? id;
  const available = speakers.filter((speaker) => !value.includes(speaker.id));

  useEffect(() => {
    if (!focus) return;
    list.current?.querySelector<HTMLElement>(focus)?.focus();
    setFocus(null);
  }, [focus]);

  const move = (index: number, by: -1 | 1) => {
    const next = [...value];
    const [item] = next.splice(index, 1);
    next.splice(index + by, 0, item!);
    onValue(next);
    const target = index + by;
    // Keep focus on the same button of the moved speaker; at the end of the list, on the other one.
    const which = (by === -1 && target === 0) || (by === 1 && target === next.length - 1) ? (by === -1 ? "down" : "up") : by === -1 ? "up" : "down";
    setFocus(`[data-speaker="${CSS.escape(item!)}"] .move-${which}`);
  };

  return (
    <Fieldset legend={s.fieldSpeakers} class={error ? "has-error" : ""}>
      <Hint id={attrs.id} text={s.speakersHint} />
      {value.length === 0 ? (
        <p class="muted">{s.noSpeakers}</p>
      ) : (
        <ol class="picked" ref={list}>
          {value.map((id, index) => (
            <li key={id} data-speaker={id}>
              <span class="picked-name">{name(id)}</span>
              <span class="picked-actions">
                <button type="button" class="icon-button move-up" aria-label={s.moveUp(name(id))} disabled={index === 0} onClick={() => move(index, -1)}>
                  <span aria-hidden="true">↑</span>
                </button>
                <button
                  type="button"
                  class="icon-button move-down"
                  aria-label={s.moveDown(name(id))}
                  disabled={index === value.length - 1}
                  onClick={() => move(index, 1)}
                >
                  <span aria-hidden="true">↓</span>
                </button>
                <button
                  type="button"
                  class="icon-button"
                  aria-label={s.removeSpeaker(name(id))}
                  onClick={() => {
                    onValue(value.filter((item) => item !== id));
                    document.getElementById(`${FORM}-addSpeaker`)?.focus();
                  }}
                >
                  <span aria-hidden="true">✕</span>
                </button>
              </span>
            </li>
          ))}
        </ol>
      )}
      <div class="add-row">
        <div class="field">
          <label class="field-label" for={`${FORM}-addSpeaker`}>
            {s.addSpeaker}
          </label>
          <select
            id={`${FORM}-addSpeaker`}
            value={choice}
            onChange={(event) => setChoice(event.currentTarget.value)}
            {...(attrs["aria-invalid"] ? { "aria-invalid": "true" } : {})}
            aria-describedby={attrs["aria-describedby"]}
          >
            <option value="">{s.chooseSpeaker}</option>
            {available.map((speaker) => (
              <option key={speaker.id} value={speaker.id}>
                {speaker.name}
                {speaker.anonymous ? ` (${s.anonymous.toLowerCase()})` : speaker.organisation ? ` — ${speaker.organisation}` : ""}
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          class="button"
          disabled={!choice}
          onClick={() => {
            onValue([...value, choice]);
            setChoice("");
          }}
        >
          {s.add}
        </button>
      </div>
      <FieldError id={attrs.id} text={error} />
    </Fieldset>
  );
}

function SessionForm({ id, stored }: { id: string | null; stored: Session | null }) {
  const tz = zone.value;
  const data = programme.value!;
  const [draft, setDraft] = useState<SessionDraft>(() =>
    sessionDraft(stored, tz, { roomId: data.rooms[0]?.id ?? "", format: data.formats[0]?.id ?? "", day: data.event?.startDate ?? "" }),
  );
  const { form, errors, refuse, clear } = useFormErrors();
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof SessionDraft>(key: K) => (value: SessionDraft[K]) => setDraft((current) => ({ ...current, [key]: value }));
  const own = id ? (warningsBySession.value.get(id) ?? []) : [];


  const submit = async (event: Event) => {
    event.preventDefault();
    const built = sessionBody(draft, tz);
    if (Object.keys(built.errors).length) return refuse({ fields: built.errors, general: [] });
    setBusy(true);
    try {
      const saved = await saveEntity<Session>("sessions", id, built.body, stored, SESSION_DEFAULTS);
      clear();
      announce(s.saved);
      if (id === null) {
        // The form of the new session replaces this one: its heading takes focus.
        requestFocus();
        navigate(editPath("sessions", saved.id), { replace: true });
      }
      else setDraft(sessionDraft(sessionById(saved.id) ?? saved, tz));
    } catch (error) {
      if (error instanceof ApiError) refuse(errorsFrom(error, SESSION_FIELDS));
      else refuse({ fields: {}, general: [String(error)] });
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!stored) return;
    const ok = await confirmAction({ title: s.confirmDeleteTitle(stored.title), text: s.confirmDeleteText, confirm: s.delete });
    if (!ok) return;
    try {
      await deleteEntity("sessions", stored.id);
      announce(s.deleted(stored.title));
      navigate("/admin/sessions");
    } catch (error) {
      refuse({ fields: {}, general: [error instanceof ApiError ? error.detail : String(error)] });
    }
  };

  const cancel = async () => {
    if (!stored) return;
    const ok = await confirmAction({ title: s.confirmCancelTitle(stored.title), text: s.confirmCancelText, confirm: s.cancelSession });
    if (!ok) return;
    try {
      await cancelSession(stored.id);
      setDraft((current) => ({ ...current, status: "cancelled" }));
      announce(s.sessionCancelled(stored.title));
    } catch (error) {
      refuse({ fields: {}, general: [error instanceof ApiError ? error.detail : String(error)] });
    }
  };

  const loosen = async (to: Recording) => {
    if (!stored) return;
    const ok = await confirmAction({
      title: s.loosenTitle(stored.title),
      text: s.loosenText(recordingLabel(stored.recording ?? "public"), recordingLabel(to)),
      confirm: s.loosenConfirm,
    });
    if (!ok) return;
    try {
      await setRecording(stored.id, to);
      setDraft((current) => ({ ...current, recording: to }));
      announce(s.loosened(recordingLabel(to)));
    } catch (error) {
      refuse({ fields: {}, general: [error instanceof ApiError ? error.detail : String(error)] });
    }
  };

  const options = <T extends { id: string; name: string }>(items: readonly T[]) => items.map((item) => ({ value: item.id, label: item.name }));
  const storedRecording = stored?.recording ?? (stored ? "public" : undefined);
  const admin = auth.value.state === "signedIn" && mayLoosenPrivacy(auth.value.organiser.role);

  return (
    <form ref={form} class="entity-form" noValidate onSubmit={(event) => void submit(event)}>
      {own.length > 0 && <WarningList items={own} title={s.warningsForSession} current={id ?? undefined} />}
      <ErrorSummary errors={errors} />
      <div class="form-columns">
        <div class="form-column">
          <TextField form={FORM} name="title" label={s.fieldTitle} value={draft.title} onValue={set("title")} error={errors.fields["title"]} maxLength={300} />
          <TextField form={FORM} name="subtitle" label={s.fieldSubtitle} optional value={draft.subtitle} onValue={set("subtitle")} error={errors.fields["subtitle"]} />
          <TextArea form={FORM} name="abstract" label={s.fieldAbstract} optional rows={6} value={draft.abstract} onValue={set("abstract")} error={errors.fields["abstract"]} />
          <SpeakerPicker value={draft.speakerIds} onValue={set("speakerIds")} error={errors.fields["speakerIds"]} />
          <LanguagesField value={draft.languages} onValue={set("languages")} error={errors.fields["languages"]} />
          <MaterialsField form={FORM} name="links" legend={s.fieldSessionLinks} noun={s.materialNounLink} value={draft.links} onValue={set("links")} error={errors.fields["links"]} />
          <MaterialsField
            form={FORM}
            name="attachments"
            legend={s.fieldSessionAttachments}
            noun={s.materialNounAttachment}
            value={draft.attachments}
            onValue={set("attachments")}
            error={errors.fields["attachments"]}
          />
        </div>
        <div class="form-column">
          <Fieldset legend={s.fieldWhen}>
            <p class="field-hint fieldset-note" id={`${FORM}-zone`}>
              {s.timesIn(zoneLabel(tz, Date.parse(stored?.start ?? "") || Date.now()))}
            </p>
            <div class="pair">
              <TextField form={FORM} name="start" label={s.fieldStart} type="datetime-local" describedBy={`${FORM}-zone`} value={draft.start} onValue={set("start")} error={errors.fields["start"]} />
              <TextField form={FORM} name="end" label={s.fieldEnd} type="datetime-local" describedBy={`${FORM}-zone`} value={draft.end} onValue={set("end")} error={errors.fields["end"]} />
            </div>
          </Fieldset>
          <SelectField form={FORM} name="roomId" label={s.fieldRoom} value={draft.roomId} onValue={set("roomId")} options={options(data.rooms)} placeholder={s.chooseRoom} error={errors.fields["roomId"]} />
          <SelectField
            form={FORM}
            name="trackId"
            label={s.fieldTrack}
            value={draft.trackId}
            onValue={set("trackId")}
            options={[{ value: "", label: s.noTrack }, ...options(data.tracks)]}
            error={errors.fields["trackId"]}
          />
          <SelectField form={FORM} name="format" label={s.fieldFormat} value={draft.format} onValue={set("format")} options={options(data.formats)} placeholder={s.chooseFormat} error={errors.fields["format"]} />
          <TextField form={FORM} name="capacity" label={s.fieldCapacity} optional inputMode="numeric" hint={s.capacityHint} value={draft.capacity} onValue={set("capacity")} error={errors.fields["capacity"]} />
          <TextField form={FORM} name="streamUrl" label={s.fieldStream} optional type="url" hint={s.streamHint} value={draft.streamUrl} onValue={set("streamUrl")} error={errors.fields["streamUrl"]} />
          <SelectField
            form={FORM}
            name="recording"
            label={s.fieldRecording}
            value={draft.recording}
            onValue={(value) => set("recording")(value as SessionDraft["recording"])}
            options={RECORDINGS.filter((recording) => editMaySet(storedRecording, recording)).map((recording) => ({ value: recording, label: recordingLabel(recording) }))}
            {...(storedRecording && storedRecording !== "public" ? { hint: s.recordingSticky } : {})}
            error={errors.fields["recording"]}
          />
          {admin && storedRecording && looserThan(storedRecording).length > 0 && (
            <div class="field">
              {looserThan(storedRecording).map((to) => (
                <button type="button" class="button button-small" key={to} onClick={() => void loosen(to)}>
                  {s.loosenRecording(recordingLabel(to))}
                </button>
              ))}
            </div>
          )}
          <SelectField
            form={FORM}
            name="status"
            label={s.fieldStatus}
            value={draft.status}
            onValue={(value) => set("status")(value as SessionDraft["status"])}
            options={[
              { value: "scheduled", label: s.scheduled },
              { value: "cancelled", label: s.cancelled },
            ]}
            error={errors.fields["status"]}
          />
        </div>
      </div>
      <div class="form-actions form-actions-sticky">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? s.saving : id === null ? s.create : s.save}
        </button>
        <a class="button" href="/admin/sessions">
          {s.backToSessions}
        </a>
        {stored && (
          <a class="button" href={translatePath("session", stored.id)}>
            {s.navTranslations}
          </a>
        )}
        {stored && stored.status !== "cancelled" && (
          <button type="button" class="button" onClick={() => void cancel()}>
            {s.cancelSession}
          </button>
        )}
        {stored && (
          <button type="button" class="button button-danger-quiet" onClick={() => void remove()}>
            {s.delete}
          </button>
        )}
      </div>
    </form>
  );
}

export function SessionFormView({ id }: { id: string | null }) {
  const stored = id ? (sessionById(id) ?? null) : null;
  const title = id === null ? s.newSessionTitle : s.editSessionTitle;
  return (
    <Page title={title} lead={stored ? stored.title : undefined}>
      <ProgrammeGate>
        {() =>
          id !== null && !stored ? (
            <p>
              {s.notFoundEntity} <a href="/admin/sessions">{s.backToSessions}</a>
            </p>
          ) : (
            <SessionForm key={id ?? "new"} id={id} stored={stored} />
          )
        }
      </ProgrammeGate>
    </Page>
  );
}
