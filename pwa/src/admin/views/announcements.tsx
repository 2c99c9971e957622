/** Announcements: compose with a lock-screen preview, send or schedule, follow the delivery, correct or retract. */

import { useEffect, useState } from "preact/hooks";

import { ApiError, del, get, patch, post } from "../api";
import { errorsFrom } from "../fields";
import { languageName } from "../languages";
import { notificationPreview } from "../preview";
import { programme, zone } from "../programme";
import { s } from "../strings";
import { confirmAction, Modal } from "../ui/dialog";
import { ErrorSummary, Fieldset, SelectField, TextArea, TextField, useFormErrors } from "../ui/fields";
import { focusAfterRemoval, Page, Problem } from "../ui/page";
import { announce } from "../ui/status";
import { formatExact, formatMoment, fromLocalInput, zoneLabel } from "../zone";
import { DeliveryReport } from "./delivery";

export interface AnnouncementRecord {
  id: string;
  title: string;
  body: string;
  priority: "normal" | "urgent";
  audience: "everyone" | "onsite" | "online" | "session";
  sessionId: string | null;
  publishedAt: string;
  updatedAt: string;
  expiresAt: string | null;
  state: "scheduled" | "published" | "retracted" | "expired";
  sendAt: string;
  version: number;
  createdBy: string;
  /** The announcement in the event's other languages. */
  translations?: Record<string, { title: string; body?: string }>;
}

/** Texts by language, as the form holds them (empty strings for languages not written yet). */
export type TranslationDrafts = Record<string, { title: string; body: string }>;

type Audience = AnnouncementRecord["audience"];
type Priority = AnnouncementRecord["priority"];

const FORM = "announce";
const FIELDS = ["title", "body", "audience", "sessionId", "priority", "sendAt"] as const;

/** The event's main language and its others, which announcements may be translated into. */
function eventLanguages(): { main: string; others: string[] } {
  const event = programme.value?.event;
  const main = event?.language || "en";
  return { main, others: (event?.languages ?? []).filter((code) => code !== main) };
}

/** The translations to send: those with a title, trimmed (a language left empty falls back to the original). */
export function translationsToSend(drafts: TranslationDrafts, languages: readonly string[]): Record<string, { title: string; body: string }> {
  const result: Record<string, { title: string; body: string }> = {};
  for (const code of languages) {
    const draft = drafts[code];
    if (draft && draft.title.trim()) result[code] = { title: draft.title.trim(), body: draft.body.trim() };
  }
  return result;
}

/** Side by side with the original: a title and a message in each of the event's other languages. */
function TranslationFields({ form, languages, drafts, onDrafts, errors }: {
  form: string;
  languages: readonly string[];
  drafts: TranslationDrafts;
  onDrafts: (next: TranslationDrafts) => void;
  errors: Record<string, string>;
}) {
  if (languages.length === 0) return null;
  const set = (code: string, field: "title" | "body", value: string) => {
    const current = drafts[code] ?? { title: "", body: "" };
    onDrafts({ ...drafts, [code]: { ...current, [field]: value } });
  };
  return (
    <div class="translation-grid">
      {languages.map((code) => (
        <Fieldset key={code} legend={s.inLanguage(languageName(code))} class="translation">
          <p class="muted">{s.translationHint}</p>
          <TextField
            form={form}
            name={`title-${code}`}
            label={s.titleIn(languageName(code))}
            optional
            maxLength={140}
            lang={code}
            value={drafts[code]?.title ?? ""}
            onValue={(value) => set(code, "title", value)}
            error={errors[`title-${code}`]}
          />
          <TextArea
            form={form}
            name={`body-${code}`}
            label={s.bodyIn(languageName(code))}
            optional
            rows={4}
            maxLength={5000}
            lang={code}
            value={drafts[code]?.body ?? ""}
            onValue={(value) => set(code, "body", value)}
          />
        </Fieldset>
      ))}
    </div>
  );
}

/** The lock-screen preview of the original and of each translation written so far. */
function Previews({ title, body, priority, main, translations }: {
  title: string;
  body: string;
  priority: Priority;
  main: string;
  translations: Record<string, { title: string; body: string }>;
}) {
  const others = Object.entries(translations);
  return (
    <div class="previews">
      <PhonePreview title={title} body={body} priority={priority} lang={main} labelled={others.length > 0} />
      {others.map(([code, text]) => (
        <PhonePreview key={code} title={text.title} body={text.body} priority={priority} lang={code} labelled />
      ))}
    </div>
  );
}

function PhonePreview({ title, body, priority, lang, labelled }: { title: string; body: string; priority: Priority; lang: string; labelled: boolean }) {
  const preview = notificationPreview(title.trim() || s.previewEmptyTitle, body, priority);
  const card = (expanded: boolean) => (
    <div class={expanded ? "notification notification-expanded" : "notification"}>
      <p class="notification-head">
        <img src="/icons/icon.svg" alt="" width="16" height="16" />
        <span>Kumpul</span>
        <span aria-hidden="true">·</span>
        <span>{s.previewNow}</span>
      </p>
      <p class="notification-title" lang={lang}>
        {preview.title}
      </p>
      {expanded ? (
        <p class="notification-body" lang={lang}>
          {preview.body}
        </p>
      ) : (
        preview.line && (
          <p class="notification-line" lang={lang}>
            {preview.line}
          </p>
        )
      )}
    </div>
  );
  const headingId = `preview-title-${lang}`;
  return (
    <section class="preview" aria-labelledby={headingId}>
      <h2 id={headingId}>{labelled ? s.previewTitleIn(languageName(lang)) : s.previewTitle}</h2>
      <p class="muted">{s.previewLead}</p>
      <div class="phone">
        <p class="phone-clock" aria-hidden="true">
          09:41
        </p>
        <figure class="phone-shot">
          <figcaption>{s.previewCollapsed}</figcaption>
          {card(false)}
        </figure>
        <figure class="phone-shot">
          <figcaption>{s.previewExpanded}</figcaption>
          {card(true)}
        </figure>
      </div>
      {preview.cut && <p class="muted">{s.previewCut}</p>}
    </section>
  );
}

function Composer({ onSent }: { onSent: (record: AnnouncementRecord) => void }) {
  const [title, setTitle] = useState("");
  const [body, setBody] = useState("");
  const [audience, setAudience] = useState<Audience>("everyone");
  const [sessionId, setSessionId] = useState("");
  const [priority, setPriority] = useState<Priority>("normal");
  const [sendAt, setSendAt] = useState("");
  const [drafts, setDrafts] = useState<TranslationDrafts>({});
  const { form, errors, refuse, clear } = useFormErrors();
  const [busy, setBusy] = useState(false);
  const tz = zone.value;
  const sessions = programme.value?.sessions ?? [];
  const languages = eventLanguages();
  const translations = translationsToSend(drafts, languages.others);


  const submit = async (event: Event) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!title.trim()) found["title"] = "Enter a title.";
    if (audience === "session" && !sessionId) found["sessionId"] = "Choose the session whose followers should receive it.";
    const at = sendAt ? fromLocalInput(sendAt, tz) : null;
    if (sendAt && !at) found["sendAt"] = "Enter a valid date and time, or leave it empty to send now.";
    for (const code of languages.others) {
      const draft = drafts[code];
      if (draft && !draft.title.trim() && draft.body.trim()) found[`title-${code}`] = s.translationNeedsTitle(languageName(code));
    }
    if (Object.keys(found).length) return refuse({ fields: found, general: [] });
    setBusy(true);
    try {
      const record = await post<AnnouncementRecord>("/api/admin/announcements", {
        title: title.trim(),
        body: body.trim(),
        priority,
        audience,
        sessionId: audience === "session" ? sessionId : null,
        sendAt: at,
        translations,
      });
      clear();
      setTitle("");
      setBody("");
      setSendAt("");
      setDrafts({});
      announce(record.state === "scheduled" ? s.announcementScheduled(record.title) : s.announcementSent(record.title));
      onSent(record);
    } catch (error) {
      if (error instanceof ApiError) refuse(errorsFrom(error, FIELDS));
      else refuse({ fields: {}, general: [String(error)] });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="compose-grid">
      <form ref={form} class="card compose" noValidate onSubmit={(event) => void submit(event)} aria-labelledby="compose-title">
        <h2 id="compose-title">{s.compose}</h2>
        <ErrorSummary errors={errors} />
        <TextField form={FORM} name="title" label={s.fieldAnnouncementTitle} maxLength={140} value={title} onValue={setTitle} error={errors.fields["title"]} />
        <TextArea form={FORM} name="body" label={s.fieldBody} optional hint={s.bodyHint} rows={5} maxLength={5000} value={body} onValue={setBody} error={errors.fields["body"]} />
        <TranslationFields form={FORM} languages={languages.others} drafts={drafts} onDrafts={setDrafts} errors={errors.fields} />
        <Fieldset legend={s.fieldAudience}>
          {(
            [
              ["everyone", s.audienceEveryone],
              ["onsite", s.audienceOnsite],
              ["online", s.audienceOnline],
              ["session", s.audienceSession],
            ] as const
          ).map(([value, label]) => (
            <label class="check" key={value}>
              <input type="radio" name="audience" value={value} checked={audience === value} onChange={() => setAudience(value)} />
              <span>{label}</span>
            </label>
          ))}
          {audience === "session" && (
            <SelectField
              form={FORM}
              name="sessionId"
              label={s.fieldSession}
              value={sessionId}
              onValue={setSessionId}
              placeholder={s.chooseSession}
              options={sessions.map((session) => ({ value: session.id, label: `${formatMoment(session.start, tz)} — ${session.title}` }))}
              error={errors.fields["sessionId"]}
            />
          )}
        </Fieldset>
        <Fieldset legend={s.fieldPriority}>
          {(
            [
              ["normal", s.priorityNormal],
              ["urgent", s.priorityUrgent],
            ] as const
          ).map(([value, label]) => (
            <label class="check" key={value}>
              <input type="radio" name="priority" value={value} checked={priority === value} onChange={() => setPriority(value)} />
              <span>{label}</span>
            </label>
          ))}
        </Fieldset>
        <TextField
          form={FORM}
          name="sendAt"
          label={s.fieldSendAt}
          optional
          type="datetime-local"
          hint={s.sendAtHint(zoneLabel(tz))}
          value={sendAt}
          onValue={setSendAt}
          error={errors.fields["sendAt"]}
        />
        <div class="form-actions">
          <button type="submit" class="button button-primary" disabled={busy}>
            {busy ? s.sending : sendAt ? s.schedule : s.send}
          </button>
        </div>
      </form>
      <Previews title={title} body={body} priority={priority} main={languages.main} translations={translations} />
    </div>
  );
}

function CorrectDialog({ record, onClose, onSaved }: { record: AnnouncementRecord; onClose: () => void; onSaved: () => void }) {
  const [title, setTitle] = useState(record.title);
  const [body, setBody] = useState(record.body);
  const [priority, setPriority] = useState<Priority>(record.priority);
  const languages = eventLanguages();
  // Languages the announcement has that the event no longer offers stay editable too.
  const translatable = [...new Set([...languages.others, ...Object.keys(record.translations ?? {})])];
  const [drafts, setDrafts] = useState<TranslationDrafts>(() =>
    Object.fromEntries(Object.entries(record.translations ?? {}).map(([code, text]) => [code, { title: text.title, body: text.body ?? "" }])),
  );
  const { form, errors, refuse } = useFormErrors();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!title.trim()) {
      refuse({ fields: { title: "Enter a title." }, general: [] });
      return;
    }
    setBusy(true);
    try {
      const changes: Record<string, unknown> = {};
      if (title.trim() !== record.title) changes["title"] = title.trim();
      if (body.trim() !== record.body) changes["body"] = body.trim();
      if (priority !== record.priority) changes["priority"] = priority;
      const translations = translationsToSend(drafts, translatable);
      const before = translationsToSend(
        Object.fromEntries(Object.entries(record.translations ?? {}).map(([code, text]) => [code, { title: text.title, body: text.body ?? "" }])),
        translatable,
      );
      if (JSON.stringify(translations) !== JSON.stringify(before)) changes["translations"] = translations;
      if (Object.keys(changes).length) await patch(`/api/admin/announcements/${encodeURIComponent(record.id)}`, changes);
      announce(s.corrected);
      onSaved();
    } catch (error) {
      refuse(error instanceof ApiError ? errorsFrom(error, ["title", "body", "priority"]) : { fields: {}, general: [String(error)] });
      setBusy(false);
    }
  };

  return (
    <Modal labelledBy="correct-title" onClose={onClose} initialFocus="#correct-title-field">
      <form ref={form} noValidate onSubmit={(event) => void submit(event)}>
        <h2 id="correct-title" class="dialog-title">
          {s.correctTitle}
        </h2>
        <p class="muted">{s.correctLead}</p>
        <ErrorSummary errors={errors} />
        <TextField form="correct" name="title-field" label={s.fieldAnnouncementTitle} maxLength={140} value={title} onValue={setTitle} error={errors.fields["title"]} />
        <TextArea form="correct" name="body" label={s.fieldBody} rows={5} maxLength={5000} value={body} onValue={setBody} error={errors.fields["body"]} />
        <TranslationFields form="correct" languages={translatable} drafts={drafts} onDrafts={setDrafts} errors={errors.fields} />
        <SelectField
          form="correct"
          name="priority"
          label={s.fieldPriority}
          value={priority}
          onValue={(value) => setPriority(value as Priority)}
          options={[
            { value: "normal", label: s.priorityNormal },
            { value: "urgent", label: s.priorityUrgent },
          ]}
        />
        <div class="dialog-actions">
          <button type="button" class="button" onClick={onClose}>
            {s.goBack}
          </button>
          <button type="submit" class="button button-primary" disabled={busy}>
            {busy ? s.sending : s.saveCorrection}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function AnnouncementItem({ record, open, onToggle, onCorrect, onChanged, onProblem }: {
  record: AnnouncementRecord;
  open: boolean;
  onToggle: () => void;
  onCorrect: () => void;
  onChanged: () => void;
  onProblem: (text: string | null) => void;
}) {
  const tz = zone.value;
  const sessionTitle = record.sessionId ? (programme.value?.sessions.find((session) => session.id === record.sessionId)?.title ?? record.sessionId) : "";
  const live = record.state === "published" || record.state === "scheduled";
  const when = record.state === "scheduled" ? record.sendAt : record.publishedAt;

  const retract = async () => {
    const ok = await confirmAction({ title: s.confirmRetractTitle(record.title), text: s.confirmRetractText, confirm: s.retract });
    if (!ok) return;
    try {
      await del(`/api/admin/announcements/${encodeURIComponent(record.id)}`);
      onProblem(null);
      announce(s.retracted(record.title));
      onChanged();
      focusAfterRemoval("#list-title");
    } catch (error) {
      onProblem(error instanceof ApiError ? error.detail : String(error));
    }
  };

  return (
    <li class={`announcement-item state-${record.state}`}>
      <div class="announcement-head">
        <h3 class="announcement-title">{record.title}</h3>
        <span class={`badge badge-state-${record.state}`}>{s.stateLabels[record.state] ?? record.state}</span>
        {record.priority === "urgent" && <span class="badge badge-urgent">{s.urgent}</span>}
      </div>
      {record.body && <p class="announcement-body">{record.body}</p>}
      {Object.keys(record.translations ?? {}).length > 0 && (
        <p class="muted announcement-languages">{s.alsoIn(Object.keys(record.translations ?? {}).map(languageName).join(", "))}</p>
      )}
      <p class="muted announcement-meta">
        {s.audienceLabel(record.audience, sessionTitle)} ·{" "}
        <time dateTime={when} title={formatExact(when, tz)}>
          {record.state === "scheduled" ? s.scheduledFor(formatMoment(when, tz)) : formatMoment(when, tz)}
        </time>{" "}
        · {s.byWhom(record.createdBy)}
      </p>
      <div class="row-actions">
        {record.state !== "scheduled" && (
          <button type="button" class="button button-small" aria-expanded={open} aria-controls={`report-${record.id}`} onClick={onToggle}>
            {s.showDelivery}
          </button>
        )}
        {live && (
          <button type="button" class="button button-small" aria-label={s.correctNamed(record.title)} onClick={onCorrect}>
            {s.correct}
          </button>
        )}
        {live && (
          <button type="button" class="button button-small button-danger-quiet" aria-label={s.retractNamed(record.title)} onClick={() => void retract()}>
            {s.retract}
          </button>
        )}
      </div>
      <div id={`report-${record.id}`}>{open && <DeliveryReport id={record.id} title={record.title} />}</div>
    </li>
  );
}

export function AnnouncementsView() {
  const [records, setRecords] = useState<AnnouncementRecord[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [correcting, setCorrecting] = useState<AnnouncementRecord | null>(null);

  const load = async () => {
    try {
      const all = await get<AnnouncementRecord[]>("/api/admin/announcements");
      all.sort((a, b) => Date.parse(b.sendAt || b.publishedAt) - Date.parse(a.sendAt || a.publishedAt));
      setRecords(all);
    } catch (error) {
      setProblem(error instanceof ApiError ? error.detail : String(error));
    }
  };
  useEffect(() => {
    void load();
  }, []);

  const toggle = (id: string) =>
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <Page title={s.announcementsTitle}>
      <Composer
        onSent={(record) => {
          if (record.state !== "scheduled") setOpen((current) => new Set(current).add(record.id));
          void load();
        }}
      />
      <section class="announcement-list" aria-labelledby="list-title">
        <h2 id="list-title" tabIndex={-1}>
          {s.listTitle}
        </h2>
        {problem && <Problem>{problem}</Problem>}
        {records === null ? (
          <p class="loading">{s.loading}</p>
        ) : records.length === 0 ? (
          <p class="empty">{s.noAnnouncements}</p>
        ) : (
          <ul class="plain-list">
            {records.map((record) => (
              <AnnouncementItem
                key={record.id}
                record={record}
                open={open.has(record.id)}
                onToggle={() => toggle(record.id)}
                onCorrect={() => setCorrecting(record)}
                onChanged={() => void load()}
                onProblem={setProblem}
              />
            ))}
          </ul>
        )}
      </section>
      {correcting && (
        <CorrectDialog
          record={correcting}
          onClose={() => setCorrecting(null)}
          onSaved={() => {
            setCorrecting(null);
            void load();
          }}
        />
      )}
    </Page>
  );
}
