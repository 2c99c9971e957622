/** A session's links or attachments in the session form: title and https address each, added, removed and reordered. */

import type { Link } from "../../shared/types";
import { s } from "../strings";
import { describe, FieldError, Fieldset, TextField } from "../ui/fields";

export function MaterialsField({
  form,
  name,
  legend,
  noun,
  value,
  onValue,
  error,
}: {
  form: string;
  name: "links" | "attachments";
  legend: string;
  /** "link" or "attachment", for the labels of each row's controls. */
  noun: string;
  value: Link[];
  onValue: (value: Link[]) => void;
  error?: string | undefined;
}) {
  const attrs = describe(form, name, error);
  const update = (index: number, key: "title" | "url", text: string) => onValue(value.map((item, i) => (i === index ? { ...item, [key]: text } : item)));
  const move = (index: number, by: number) => {
    const next = [...value];
    const [item] = next.splice(index, 1);
    next.splice(index + by, 0, item!);
    onValue(next);
  };
  return (
    <Fieldset legend={legend} class={error ? "has-error" : ""}>
      <p class="field-hint fieldset-note">{s.materialsHint}</p>
      {value.map((item, index) => (
        <div class="link-row" key={index}>
          <TextField
            form={form}
            name={`${name}-title-${index}`}
            label={s.materialTitle(noun, index + 1)}
            value={item.title}
            onValue={(text) => update(index, "title", text)}
            {...(index === 0 && error ? { "aria-invalid": "true", "aria-describedby": `${attrs.id}-error` } : {})}
          />
          <TextField form={form} name={`${name}-url-${index}`} label={s.materialUrl(noun, index + 1)} type="url" value={item.url} onValue={(text) => update(index, "url", text)} />
          <span class="link-row-actions">
            <button type="button" class="button button-small" aria-label={s.moveUp(`${noun} ${index + 1}`)} disabled={index === 0} onClick={() => move(index, -1)}>
              ↑
            </button>
            <button type="button" class="button button-small" aria-label={s.moveDown(`${noun} ${index + 1}`)} disabled={index === value.length - 1} onClick={() => move(index, 1)}>
              ↓
            </button>
            <button type="button" class="button button-small" aria-label={s.removeMaterial(noun, index + 1)} onClick={() => onValue(value.filter((_, i) => i !== index))}>
              {s.remove}
            </button>
          </span>
        </div>
      ))}
      <button type="button" class="button button-small" onClick={() => onValue([...value, { title: "", url: "" }])}>
        {s.addMaterial(noun)}
      </button>
      <FieldError id={attrs.id} text={error} />
    </Fieldset>
  );
}
