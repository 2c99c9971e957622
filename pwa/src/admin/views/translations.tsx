/**
 * Translations: per language, how many translated fields are missing or out of date, a filtered list of them, and
 * an editor that shows each translatable field's original beside its translation in every language the event offers.
 */

import { useEffect, useState } from "preact/hooks";

import type { StalePolicy } from "../../shared/types";
import { ApiError, put } from "../api";
import { programme, refresh } from "../programme";
import { BASE, navigate, takeFocusRequest } from "../router";
import { consoleLang } from "../i18n";
import { s } from "../strings";
import {
  entityOf,
  isTranslatableKind,
  loadKind,
  LONG_FIELDS,
  loadTranslationStatus,
  outsideProgramme,
  saveTranslations,
  TRANSLATABLE,
  type TranslatableKind,
  type TranslationDraft,
  type TranslationStatus,
} from "../translations";
import { Fieldset, SelectField, TextArea, TextField } from "../ui/fields";
import { Page, Problem } from "../ui/page";
import { announce } from "../ui/status";
import { ProgrammeGate } from "./programme-gate";

const FORM = "translations";

const namers = new Map<string, Intl.DisplayNames | null>();

/** A language's name in the console's own language ("English" in English, "Inggris" in Indonesian). */
function languageName(code: string): string {
  const console = consoleLang.value;
  if (!namers.has(console)) {
    try {
      namers.set(console, new Intl.DisplayNames([console], { type: "language" }));
    } catch {
      namers.set(console, null);
    }
  }
  try {
    return namers.get(console)?.of(code) ?? code;
  } catch {
    return code;
  }
}

/** Read when shown, so the labels follow the console's language. */
function kindLabel(kind: string): string {
  const labels: Record<string, string> = {
    event: s.kindEvent,
    room: s.kindRoom,
    track: s.kindTrack,
    format: s.kindFormat,
    speaker: s.kindSpeaker,
    session: s.kindSession,
    page: s.kindPage,
  };
  return labels[kind] ?? kind;
}

function fieldLabel(field: string): string {
  const labels: Record<string, string> = {
    name: s.fieldName,
    title: s.fieldTitle,
    subtitle: s.fieldSubtitle,
    abstract: s.fieldAbstract,
    description: s.fieldDescription,
    bio: s.fieldBio,
    role: s.fieldRole,
    accessibility: s.fieldAccessibility,
    body: s.pageBody,
  };
  return labels[field] ?? field;
}

export function translatePath(kind: TranslatableKind, id: string): string {
  return `${BASE}/translations/${kind}/${encodeURIComponent(id)}`;
}

function StaleSetting() {
  const event = programme.value?.event;
  const [problem, setProblem] = useState<string | null>(null);
  if (!event) return null;
  const change = async (value: string) => {
    try {
      await put("/api/admin/event", { ...event, staleTranslations: value as StalePolicy });
      await refresh();
      setProblem(null);
      announce(s.saved);
    } catch (error) {
      setProblem(error instanceof ApiError ? error.detail : String(error));
    }
  };
  return (
    <>
      <SelectField
        form={FORM}
        name="staleTranslations"
        label={s.staleTranslationsSetting}
        value={event.staleTranslations ?? "mark"}
        onValue={(value) => void change(value)}
        options={[
          { value: "mark", label: s.staleMark },
          { value: "original", label: s.staleOriginal },
        ]}
      />
      {problem && (
        <Problem>
          <p>{problem}</p>
        </Problem>
      )}
    </>
  );
}

function TranslationList() {
  const [lang, setLang] = useState("");
  const [state, setState] = useState("");
  const [kind, setKind] = useState("");
  const [status, setStatus] = useState<TranslationStatus | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const version = programme.value;

  useEffect(() => {
    let live = true;
    loadTranslationStatus({ lang, state, kind })
      .then((result) => {
        if (!live) return;
        setStatus(result);
        setProblem(null);
      })
      .catch((error: unknown) => live && setProblem(error instanceof ApiError ? error.detail : String(error)));
    return () => {
      live = false;
    };
  }, [lang, state, kind, version]);

  if (problem) {
    return (
      <Problem>
        <p>{problem}</p>
      </Problem>
    );
  }
  if (!status) return <p class="loading">{s.loading}</p>;
  if (!status.languages.length) return <p>{s.translationsNoLanguages}</p>;
  return (
    <>
      <section aria-labelledby="translation-counts">
        <h2 id="translation-counts">{s.translationsCounts}</h2>
        <ul class="translation-counts">
          {status.languages.map((item) => (
            <li key={item.lang}>
              <strong>{languageName(item.lang)}</strong>: {s.translationsCount(item.missing, item.stale)}
            </li>
          ))}
        </ul>
      </section>
      <StaleSetting />
      <div class="list-tools translation-filters">
        <SelectField
          form={FORM}
          name="lang"
          label={s.filterLanguage}
          value={lang}
          onValue={setLang}
          options={[{ value: "", label: s.allLanguages }, ...status.languages.map((item) => ({ value: item.lang, label: languageName(item.lang) }))]}
        />
        <SelectField
          form={FORM}
          name="state"
          label={s.filterState}
          value={state}
          onValue={setState}
          options={[
            { value: "", label: s.allStates },
            { value: "stale", label: s.stateStale },
            { value: "missing", label: s.stateMissing },
          ]}
        />
        <SelectField
          form={FORM}
          name="kind"
          label={s.filterKind}
          value={kind}
          onValue={setKind}
          options={[{ value: "", label: s.allKinds }, ...Object.keys(TRANSLATABLE).map((key) => ({ value: key, label: kindLabel(key) }))]}
        />
      </div>
      {status.gaps.length === 0 ? (
        <p>{s.translationsNone}</p>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">{s.columnItem}</th>
                <th scope="col">{s.columnField}</th>
                <th scope="col">{s.columnLanguage}</th>
                <th scope="col">{s.columnState}</th>
                <td />
              </tr>
            </thead>
            <tbody>
              {status.gaps.map((gap) => (
                <tr key={`${gap.kind}/${gap.id}/${gap.lang}/${gap.field}`}>
                  <th scope="row">
                    <span class="muted">{kindLabel(gap.kind)}:</span> {gap.label}
                  </th>
                  <td>{fieldLabel(gap.field)}</td>
                  <td>{languageName(gap.lang)}</td>
                  <td>
                    <span class={gap.state === "stale" ? "badge badge-warning" : "badge"}>{gap.state === "stale" ? s.stateStale : s.stateMissing}</span>
                  </td>
                  <td>
                    <a href={`${translatePath(gap.kind, gap.id)}#${FORM}-${gap.lang}-${gap.field}`} aria-label={s.translateLabel(`${gap.label}, ${fieldLabel(gap.field)}`, languageName(gap.lang))}>
                      {s.translate}
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {status.total > status.gaps.length && <p class="muted">{s.translationsMore(status.gaps.length, status.total)}</p>}
    </>
  );
}

export function TranslationsView() {
  return (
    <Page title={s.translationsTitle} lead={s.translationsLead}>
      <ProgrammeGate>{() => <TranslationList />}</ProgrammeGate>
    </Page>
  );
}

function draftOf(entity: ReturnType<typeof entityOf>, fields: readonly string[], languages: readonly string[]): TranslationDraft {
  const draft: TranslationDraft = {};
  for (const lang of languages) {
    const stored = entity?.translations?.[lang] ?? {};
    draft[lang] = Object.fromEntries(fields.map((field) => [field, typeof stored[field] === "string" ? (stored[field] as string) : ""]));
  }
  return draft;
}

function TranslationEditor({ kind, id }: { kind: TranslatableKind; id: string }) {
  const data = programme.value!;
  const entity = entityOf(data, kind, id);
  const source = data.event?.language || "en";
  const languages = (data.event?.languages ?? []).filter((lang) => lang !== source);
  const fields: readonly string[] = TRANSLATABLE[kind];
  const [draft, setDraft] = useState<TranslationDraft>(() => draftOf(entity, fields, languages));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    // Opened for one field (the list's link names it in the address): that field takes focus, not the heading.
    const target = window.location.hash ? document.getElementById(decodeURIComponent(window.location.hash.slice(1))) : null;
    if (!target) return;
    takeFocusRequest();
    target.focus();
  }, []);

  if (!entity) {
    return (
      <p>
        {s.notFoundEntity} <a href={`${BASE}/translations`}>{s.backToTranslations}</a>
      </p>
    );
  }
  if (!languages.length) return <p>{s.translationsNoLanguages}</p>;

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await saveTranslations(kind, entity, draft);
      setProblem(null);
      announce(s.translationsSaved);
    } catch (error) {
      setProblem(error instanceof ApiError ? error.detail : String(error));
    } finally {
      setBusy(false);
    }
  };

  const set = (lang: string, field: string) => (value: string) => setDraft((current) => ({ ...current, [lang]: { ...current[lang], [field]: value } }));

  return (
    <form class="entity-form translation-form" noValidate onSubmit={(event) => void submit(event)}>
      {problem && (
        <Problem>
          <p>{problem}</p>
        </Problem>
      )}
      {languages.map((lang) => {
        const stored = entity.translations?.[lang] ?? {};
        const stale = Array.isArray(stored["stale"]) ? (stored["stale"] as string[]) : [];
        return (
          <Fieldset key={lang} legend={languageName(lang)} class="translation-language">
            {fields.map((field) => {
              const original = typeof entity[field] === "string" ? (entity[field] as string) : "";
              const value = draft[lang]?.[field] ?? "";
              const hint = !original ? s.translationEmptyOriginal : stale.includes(field) && value === stored[field] ? s.translationStaleHint : !value ? s.translationMissingHint : undefined;
              const label = s.translationIn(fieldLabel(field), languageName(lang));
              const common = { form: `${FORM}-${lang}`, name: field, label, value, onValue: set(lang, field), ...(hint ? { hint } : {}) };
              return (
                <div class={`translation-pair${hint === s.translationStaleHint ? " is-stale" : ""}`} key={field}>
                  <div class="translation-original">
                    <p class="field-label">{s.translationOriginal(`${fieldLabel(field)}, ${languageName(source)}`)}</p>
                    <p lang={source} class="translation-source">
                      {original || <span class="muted">{s.none}</span>}
                    </p>
                  </div>
                  <div lang={lang}>{LONG_FIELDS.has(field) ? <TextArea {...common} rows={5} /> : <TextField {...common} />}</div>
                </div>
              );
            })}
          </Fieldset>
        );
      })}
      <div class="form-actions form-actions-sticky">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? s.saving : s.save}
        </button>
        <a class="button" href={`${BASE}/translations`}>
          {s.backToTranslations}
        </a>
      </div>
    </form>
  );
}

export function TranslateView({ kind, id }: { kind: string; id: string }) {
  const known = isTranslatableKind(kind);
  const [problem, setProblem] = useState<string | null>(null);
  const [read, setRead] = useState(false);
  useEffect(() => {
    if (!known) {
      navigate(`${BASE}/translations`, { replace: true });
      return;
    }
    // An Info page is not part of the programme: the editor opens on the pages as they are now.
    if (!outsideProgramme(kind)) return;
    setRead(false);
    loadKind(kind)
      .then(() => setRead(true))
      .catch((error: unknown) => setProblem(error instanceof ApiError ? error.detail : String(error)));
  }, [kind, known]);
  const data = programme.value;
  const loading = known && outsideProgramme(kind) && !read;
  const entity = data && known && !loading ? entityOf(data, kind, id) : null;
  const label = entity ? String(entity["title"] ?? entity["name"] ?? id) : undefined;
  return (
    <Page title={s.translateTitle} lead={label}>
      {problem ? (
        <Problem>
          <p>{problem}</p>
        </Problem>
      ) : loading ? (
        <p class="loading">{s.loading}</p>
      ) : (
        <ProgrammeGate>{() => (known ? <TranslationEditor key={`${kind}/${id}`} kind={kind} id={id} /> : null)}</ProgrammeGate>
      )}
    </Page>
  );
}
