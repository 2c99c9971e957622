/** What the speaker, room and track forms share: the draft, saving, refusals beside their fields, delete. */

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

import { ApiError } from "../api";
import type { Built } from "../drafts";
import { deleteEntity, saveEntity } from "../entities";
import { errorsFrom, type FormErrors } from "../fields";
import { programme } from "../programme";
import { editPath, navigate, requestFocus, type Kind } from "../router";
import { s } from "../strings";
import type { TranslatableKind } from "../translations";
import { translatePath } from "./translations";
import { confirmAction } from "../ui/dialog";
import { ErrorSummary, useFormErrors } from "../ui/fields";
import { Page } from "../ui/page";
import { announce } from "../ui/status";
import { ProgrammeGate } from "./programme-gate";

export interface FormState<D> {
  draft: D;
  set: <K extends keyof D>(key: K) => (value: D[K]) => void;
  setDraft: (update: (current: D) => D) => void;
  errors: FormErrors;
}

interface Spec<T extends { id: string; name: string }, D> {
  kind: Exclude<Kind, "sessions">;
  id: string | null;
  stored: T | null;
  fields: readonly string[];
  defaults: Record<string, unknown>;
  draftOf: (stored: T | null) => D;
  bodyOf: (draft: D) => Built;
  render: (state: FormState<D>) => ComponentChildren;
  backLabel: string;
  deleteText?: string;
  /** Field aliases: a server key → the form field that shows it. */
  aliases?: Record<string, string>;
}

function EntityForm<T extends { id: string; name: string }, D>(spec: Spec<T, D>) {
  const [draft, setDraftState] = useState<D>(() => spec.draftOf(spec.stored));
  const { form, errors, refuse, clear } = useFormErrors();
  const [busy, setBusy] = useState(false);
  const list = `/admin/${spec.kind}`;

  const setDraft = (update: (current: D) => D) => setDraftState(update);
  const set =
    <K extends keyof D>(key: K) =>
    (value: D[K]) =>
      setDraftState((current) => ({ ...current, [key]: value }));

  const submit = async (event: Event) => {
    event.preventDefault();
    const built = spec.bodyOf(draft);
    if (Object.keys(built.errors).length) return refuse({ fields: built.errors, general: [] });
    setBusy(true);
    try {
      const saved = await saveEntity<T>(spec.kind, spec.id, built.body, spec.stored, spec.defaults);
      clear();
      announce(s.saved);
      if (spec.id === null) {
        requestFocus();
        navigate(editPath(spec.kind, saved.id), { replace: true });
      }
      else setDraftState(spec.draftOf((programme.value?.[spec.kind] as readonly T[] | undefined)?.find((item) => item.id === saved.id) ?? saved));
    } catch (error) {
      if (error instanceof ApiError) refuse(errorsFrom(error, spec.fields, spec.aliases));
      else refuse({ fields: {}, general: [String(error)] });
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    const stored = spec.stored;
    if (!stored) return;
    const ok = await confirmAction({ title: s.confirmDeleteTitle(stored.name), text: spec.deleteText ?? s.confirmDeleteText, confirm: s.delete });
    if (!ok) return;
    try {
      await deleteEntity(spec.kind, stored.id);
      announce(s.deleted(stored.name));
      navigate(list);
    } catch (error) {
      refuse({ fields: {}, general: [error instanceof ApiError ? error.detail : String(error)] });
    }
  };

  return (
    <form ref={form} class="entity-form form-single" noValidate onSubmit={(event) => void submit(event)}>
      <ErrorSummary errors={errors} />
      {spec.render({ draft, set, setDraft, errors })}
      <div class="form-actions form-actions-sticky">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? s.saving : spec.id === null ? s.create : s.save}
        </button>
        <a class="button" href={list}>
          {spec.backLabel}
        </a>
        {spec.stored && (
          <a class="button" href={translatePath(spec.kind.slice(0, -1) as TranslatableKind, spec.stored.id)}>
            {s.navTranslations}
          </a>
        )}
        {spec.stored && (
          <button type="button" class="button button-danger-quiet" onClick={() => void remove()}>
            {s.delete}
          </button>
        )}
      </div>
    </form>
  );
}

/** The page around an entity form: its heading, the entity's name, and "not found" for a deleted one. */
export function EntityFormPage<T extends { id: string; name: string }, D>(props: Omit<Spec<T, D>, "stored"> & { title: string; find: (id: string) => T | undefined }) {
  const stored = props.id ? (props.find(props.id) ?? null) : null;
  return (
    <Page title={props.title} lead={stored?.name}>
      <ProgrammeGate>
        {() =>
          props.id !== null && !stored ? (
            <p>
              {s.notFoundEntity} <a href={`/admin/${props.kind}`}>{props.backLabel}</a>
            </p>
          ) : (
            <EntityForm<T, D> key={props.id ?? "new"} {...props} stored={stored} />
          )
        }
      </ProgrammeGate>
    </Page>
  );
}
