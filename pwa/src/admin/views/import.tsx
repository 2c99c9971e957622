/** Importing a programme file: a dry run shows what would change, then the import writes it. */

import type { ComponentChildren } from "preact";
import { useRef, useState } from "preact/hooks";

import { ApiError, request } from "../api";
import { refresh } from "../programme";
import { s } from "../strings";
import { Page } from "../ui/page";
import { announce } from "../ui/status";

interface Item {
  id: string;
  label: string;
}

export interface ImportReport {
  format: string;
  dryRun: boolean;
  missing: "cancel" | "delete";
  kinds: { kind: string; added: Item[]; changed: Item[]; removed: Item[]; refused?: (Item & { reason: string })[] }[];
}

type Missing = "cancel" | "delete";

const FORMATS: Record<string, string> = {
  "frab-xml": "frab / Pentabarf schedule.xml",
  "c3voc-json": "C3VOC / pretalx schedule.json",
  "kumpul-json": "Kumpul JSON",
};

/** Run the import (`dryRun` only reports) with the file's bytes as they are. */
export function runImport(file: Blob, dryRun: boolean, missing: Missing): Promise<ImportReport> {
  return request<ImportReport>("POST", `/api/admin/import?dryRun=${dryRun}&missing=${missing}`, { body: file, contentType: "application/octet-stream" });
}

/** The entries a real import refuses the whole file for: they would reveal a speaker or loosen a recording policy. */
export function refusals(report: ImportReport): (Item & { reason: string })[] {
  return report.kinds.flatMap((kind) => kind.refused ?? []);
}

/** Whether importing the file would change anything. */
export function hasChanges(report: ImportReport): boolean {
  return report.kinds.some((kind) => kind.added.length || kind.changed.length || kind.removed.length);
}

function Group({ title, items }: { title: string; items: Item[] }) {
  if (!items.length) return null;
  return (
    <details class="import-group" open={items.length <= 12}>
      <summary>
        {title} ({items.length})
      </summary>
      <ul class={items.length > 8 ? "import-many" : undefined}>
        {items.map((item) => (
          <li key={item.id}>
            {item.label} <span class="muted">({item.id})</span>
          </li>
        ))}
      </ul>
    </details>
  );
}

export function Report({ report, headingId, children }: { report: ImportReport; headingId: string; children?: ComponentChildren }) {
  const changed = report.kinds.filter((kind) => kind.added.length || kind.changed.length || kind.removed.length);
  const refused = refusals(report);
  return (
    <section class="card import-report" aria-labelledby={headingId}>
      <h2 id={headingId} tabIndex={-1}>
        {report.dryRun ? s.importReport : s.importDone}
      </h2>
      <p class="muted">{s.importFormat(FORMATS[report.format] ?? report.format)}</p>
      {refused.length > 0 && (
        <div class="notice notice-info" role="alert">
          <h3>
            {s.importRefusedEntries} ({refused.length})
          </h3>
          <p>{s.importRefusedHelp}</p>
          <ul>
            {refused.map((item) => (
              <li key={item.id}>
                {item.label} <span class="muted">({item.id})</span>: {item.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
      {changed.length === 0 && refused.length === 0 && <p>{s.importNothing}</p>}
      {changed.map((kind) => (
        <section key={kind.kind} class="import-kind" aria-labelledby={`${headingId}-${kind.kind}`}>
          <h3 id={`${headingId}-${kind.kind}`}>
            {s.kindNames[kind.kind] ?? kind.kind}: <span class="import-counts">{s.importSummary(kind.added.length, kind.changed.length, kind.removed.length)}</span>
          </h3>
          <Group title={s.importAdded} items={kind.added} />
          <Group title={s.importChanged} items={kind.changed} />
          <Group title={kind.kind === "session" && report.missing === "cancel" ? s.importRemovedCancel : s.importRemoved} items={kind.removed} />
        </section>
      ))}
      {children}
    </section>
  );
}

export function ImportView() {
  const [file, setFile] = useState<File | null>(null);
  const [missing, setMissing] = useState<Missing>("cancel");
  const [report, setReport] = useState<ImportReport | null>(null);
  const [done, setDone] = useState<ImportReport | null>(null);
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState<"check" | "import" | null>(null);
  const input = useRef<HTMLInputElement>(null);

  const focusSoon = (selector: string) => setTimeout(() => document.querySelector<HTMLElement>(selector)?.focus(), 0);

  const check = async (how: Missing = missing) => {
    if (!file) {
      setProblem(new ApiError(400, s.chooseFileFirst));
      input.current?.focus();
      return;
    }
    setBusy("check");
    setProblem(null);
    setDone(null);
    try {
      setReport(await runImport(file, true, how));
      focusSoon("#import-report-title");
    } catch (error) {
      setReport(null);
      setProblem(error instanceof ApiError ? error : new ApiError(0, String(error)));
      focusSoon("#import-problem");
    } finally {
      setBusy(null);
    }
  };

  const commit = async () => {
    if (!file) return;
    setBusy("import");
    setProblem(null);
    try {
      const result = await runImport(file, false, missing);
      setDone(result);
      setReport(null);
      await refresh();
      announce(s.importDone);
      focusSoon("#import-done-title");
    } catch (error) {
      setProblem(error instanceof ApiError ? error : new ApiError(0, String(error)));
      focusSoon("#import-problem");
    } finally {
      setBusy(null);
    }
  };

  const reset = () => {
    setFile(null);
    setReport(null);
    setDone(null);
    setProblem(null);
    if (input.current) input.current.value = "";
    input.current?.focus();
  };

  return (
    <Page title={s.importTitle} lead={s.importLead}>
      <form
        class="card import-form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void check();
        }}
      >
        <div class="field">
          <label class="field-label" for="import-file">
            {s.importFile}
          </label>
          <input
            ref={input}
            id="import-file"
            type="file"
            accept=".xml,.json,application/xml,text/xml,application/json"
            aria-describedby={problem ? "import-problem" : undefined}
            onChange={(event) => {
              setFile(event.currentTarget.files?.[0] ?? null);
              setReport(null);
              setDone(null);
              setProblem(null);
            }}
          />
        </div>
        <fieldset class="fieldset">
          <legend>{s.importMissing}</legend>
          {(["cancel", "delete"] as const).map((how) => (
            <label class="check" key={how}>
              <input
                type="radio"
                name="missing"
                value={how}
                checked={missing === how}
                onChange={() => {
                  setMissing(how);
                  if (report) void check(how);
                }}
              />
              <span>{how === "cancel" ? s.importMissingCancel : s.importMissingDelete}</span>
            </label>
          ))}
        </fieldset>
        <div class="form-actions">
          <button type="submit" class="button" disabled={busy !== null}>
            {busy === "check" ? s.importChecking : s.importCheck}
          </button>
          {done && (
            <button type="button" class="button" onClick={reset}>
              {s.importAnother}
            </button>
          )}
        </div>
      </form>
      {problem && (
        <div class="error-summary" role="alert" id="import-problem" tabIndex={-1}>
          <p>
            <strong>{s.importRefused}:</strong> {problem.status === 429 ? `${problem.detail}` : problem.detail}
          </p>
          {problem.problems.length > 0 && (
            <ul>
              {problem.problems.map((item, index) => (
                <li key={index}>
                  {item.key && <code>{item.key}</code>} {item.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {report && (
        <Report report={report} headingId="import-report-title">
          {hasChanges(report) && refusals(report).length === 0 && (
            <div class="form-actions">
              <button type="button" class="button button-primary" disabled={busy !== null} onClick={() => void commit()}>
                {busy === "import" ? s.importing : s.importDo}
              </button>
            </div>
          )}
        </Report>
      )}
      {done && <Report report={done} headingId="import-done-title" />}
    </Page>
  );
}
