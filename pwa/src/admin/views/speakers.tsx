/** Speakers: the list, and the form whose "anonymous" switch takes away every identifying field. */

import type { Speaker } from "../../shared/types";
import { ApiError } from "../api";
import { auth } from "../auth";
import { ANONYMOUS_HIDDEN, holdsIdentifyingFields, SPEAKER_DEFAULTS, SPEAKER_FIELDS, speakerBody, speakerDraft, type SpeakerDraft } from "../drafts";
import { revealSpeaker } from "../privacy";
import { programme } from "../programme";
import { mayLoosenPrivacy } from "../roles";
import { s } from "../strings";
import { confirmAction } from "../ui/dialog";
import { announce } from "../ui/status";
import { describe, FieldError, Fieldset, TextArea, TextField } from "../ui/fields";
import { useState } from "preact/hooks";

import { EntityFormPage, type FormState } from "./entity-form";
import { EntityList, usage } from "./entity-list";

export function SpeakersView() {
  return (
    <EntityList<Speaker>
      kind="speakers"
      title={s.speakersTitle}
      newLabel={s.newSpeaker}
      searchLabel={s.searchSpeakers}
      countText={s.speakersCount}
      items={(data) => [...data.speakers].sort((a, b) => a.name.localeCompare(b.name))}
      searchText={(speaker) => [speaker.name, speaker.organisation, speaker.country, speaker.role]}
      badge={(speaker) => (speaker.anonymous ? <span class="badge badge-anonymous">{s.anonymous}</span> : null)}
      columns={[
        { label: s.colOrganisation, cell: (speaker) => speaker.organisation || "" },
        { label: s.colSessions, cell: (speaker) => usage("speakers", speaker.id) },
      ]}
      deleteText={s.confirmDeleteSpeaker}
    />
  );
}

const FORM = "speaker";

function LinksField({ state }: { state: FormState<SpeakerDraft> }) {
  const { draft, setDraft, errors } = state;
  const attrs = describe(FORM, "links", errors.fields["links"]);
  const update = (index: number, key: "title" | "url", value: string) =>
    setDraft((current) => ({ ...current, links: current.links.map((link, i) => (i === index ? { ...link, [key]: value } : link)) }));
  return (
    <Fieldset legend={s.fieldLinks} class={errors.fields["links"] ? "has-error" : ""}>
      {draft.links.map((link, index) => (
        <div class="link-row" key={index}>
          <TextField
            form={FORM}
            name={`link-title-${index}`}
            label={s.linkTitle(index + 1)}
            value={link.title}
            onValue={(value) => update(index, "title", value)}
            {...(index === 0 && errors.fields["links"] ? { "aria-invalid": "true", "aria-describedby": `${attrs.id}-error` } : {})}
          />
          <TextField form={FORM} name={`link-url-${index}`} label={s.linkUrl(index + 1)} type="url" value={link.url} onValue={(value) => update(index, "url", value)} />
          <button
            type="button"
            class="button button-small"
            aria-label={s.removeLink(index + 1)}
            onClick={() => setDraft((current) => ({ ...current, links: current.links.filter((_, i) => i !== index) }))}
          >
            {s.remove}
          </button>
        </div>
      ))}
      <button type="button" class="button button-small" onClick={() => setDraft((current) => ({ ...current, links: [...current.links, { title: "", url: "" }] }))}>
        {s.addLink}
      </button>
      <FieldError id={attrs.id} text={errors.fields["links"]} />
    </Fieldset>
  );
}

function SpeakerFields({ state, stored }: { state: FormState<SpeakerDraft>; stored: Speaker | null }) {
  const { draft, set, setDraft, errors } = state;
  const anonymous = draft.anonymous;
  const [failure, setFailure] = useState<string | null>(null);
  // Once stored as anonymous, only an admin's deliberate reveal makes a speaker public again.
  const sticky = Boolean(stored?.anonymous);
  const admin = auth.value.state === "signedIn" && mayLoosenPrivacy(auth.value.organiser.role);
  const reveal = async () => {
    if (!stored) return;
    const ok = await confirmAction({ title: s.revealTitle(stored.name), text: s.revealText(stored.name), confirm: s.revealConfirm });
    if (!ok) return;
    try {
      await revealSpeaker(stored.id);
      setFailure(null);
      setDraft((current) => ({ ...current, anonymous: false }));
      announce(s.revealed(stored.name));
    } catch (error) {
      setFailure(error instanceof ApiError ? error.detail : String(error));
    }
  };
  return (
    <>
      <div class="field field-check">
        <label class="check">
          <input
            type="checkbox"
            id={`${FORM}-anonymous`}
            name="anonymous"
            checked={anonymous}
            disabled={sticky && anonymous}
            aria-describedby={`${FORM}-anonymous-hint`}
            onChange={(event) => set("anonymous")(event.currentTarget.checked)}
          />
          <span>{s.fieldAnonymous}</span>
        </label>
        <p class="field-hint" id={`${FORM}-anonymous-hint`}>
          {sticky && anonymous ? s.anonymousSticky : s.anonymousHint}
        </p>
        {sticky && anonymous && admin && (
          <button type="button" class="button button-small" onClick={() => void reveal()}>
            {s.revealSpeaker}
          </button>
        )}
        {failure && (
          <p class="field-error" role="alert">
            {failure}
          </p>
        )}
      </div>
      {anonymous && (
        <div class="notice notice-info" role="note">
          <p>{s.anonymousExplained}</p>
          {holdsIdentifyingFields(stored) && !stored?.anonymous && <p>{s.anonymousErases}</p>}
          {ANONYMOUS_HIDDEN.some((field) => errors.fields[field]) && (
            <p class="field-error">{ANONYMOUS_HIDDEN.map((field) => errors.fields[field]).filter(Boolean).join(" ")}</p>
          )}
        </div>
      )}
      <TextField form={FORM} name="name" label={anonymous ? s.fieldPseudonym : s.fieldName} value={draft.name} onValue={set("name")} error={errors.fields["name"]} />
      <TextField form={FORM} name="pronouns" label={s.fieldPronouns} optional value={draft.pronouns} onValue={set("pronouns")} error={errors.fields["pronouns"]} />
      <TextArea form={FORM} name="bio" label={s.fieldBio} optional rows={6} value={draft.bio} onValue={set("bio")} error={errors.fields["bio"]} />
      {!anonymous && (
        <>
          <TextField form={FORM} name="organisation" label={s.fieldOrganisation} optional value={draft.organisation} onValue={set("organisation")} error={errors.fields["organisation"]} />
          <TextField form={FORM} name="role" label={s.fieldRole} optional value={draft.role} onValue={set("role")} error={errors.fields["role"]} />
          <TextField form={FORM} name="country" label={s.fieldCountry} optional value={draft.country} onValue={set("country")} error={errors.fields["country"]} />
          <TextField form={FORM} name="photoUrl" label={s.fieldPhoto} optional type="url" hint={s.photoHint} value={draft.photoUrl} onValue={set("photoUrl")} error={errors.fields["photoUrl"]} />
          <LinksField state={state} />
        </>
      )}
    </>
  );
}

export function SpeakerFormView({ id }: { id: string | null }) {
  const find = (speakerId: string) => programme.value?.speakers.find((speaker) => speaker.id === speakerId);
  const stored = id ? (find(id) ?? null) : null;
  return (
    <EntityFormPage<Speaker, SpeakerDraft>
      kind="speakers"
      id={id}
      title={id === null ? s.newSpeakerTitle : s.editSpeakerTitle}
      find={find}
      fields={SPEAKER_FIELDS}
      defaults={SPEAKER_DEFAULTS}
      draftOf={speakerDraft}
      bodyOf={speakerBody}
      backLabel={s.backToSpeakers}
      deleteText={s.confirmDeleteSpeaker}
      render={(state) => <SpeakerFields state={state} stored={stored} />}
    />
  );
}
