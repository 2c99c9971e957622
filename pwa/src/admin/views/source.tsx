/** The source of record: the pretalx or frab export the programme follows, how its last pull went, "Pull now". */

import { useEffect, useState } from "preact/hooks";

import { ApiError, del, get, post, put } from "../api";
import { refresh } from "../programme";
import { s } from "../strings";
import { Page } from "../ui/page";
import { announce } from "../ui/status";

export interface Source {
  url: string;
  everySeconds: number;
  lastPullAt: string | null;
  lastResult: "imported" | "unchanged" | "failed" | null;
  lastDetail: string;
  lastSuccessAt: string | null;
  failures: number;
  nextPullAt: string;
}

const SOURCE_URL = "/api/admin/source";

function when(value: string | null): string {
  if (!value) return s.sourceNever;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}

function Status({ source }: { source: Source }) {
  const failed = source.lastResult === "failed";
  return (
    <section class="card" aria-labelledby="source-status-title">
      <h2 id="source-status-title">{s.sourceStatus}</h2>
      <dl class="source-status">
        <dt>{s.sourceLastPull}</dt>
        <dd>{when(source.lastPullAt)}</dd>
        <dt>{s.sourceResult}</dt>
        <dd>{source.lastResult ? (s.sourceResults[source.lastResult] ?? source.lastResult) : "—"}</dd>
        {source.lastDetail && (
          <>
            <dt>{s.sourceDetail}</dt>
            <dd>{source.lastDetail}</dd>
          </>
        )}
        <dt>{s.sourceLastSuccess}</dt>
        <dd>{when(source.lastSuccessAt)}</dd>
        <dt>{s.sourceNext}</dt>
        <dd>{when(source.nextPullAt)}</dd>
      </dl>
      {failed && (
        <div class="error-summary" role="alert">
          <p>
            <strong>{s.sourceResults["failed"]}:</strong> {source.lastDetail}
          </p>
          <p>{s.sourceFailures(source.failures)}</p>
        </div>
      )}
    </section>
  );
}

export function SourceView() {
  const [source, setSource] = useState<Source | null | undefined>(undefined);
  const [url, setUrl] = useState("");
  const [minutes, setMinutes] = useState("5");
  const [busy, setBusy] = useState<"save" | "pull" | "stop" | null>(null);
  const [problem, setProblem] = useState<ApiError | null>(null);

  const show = (next: Source | null) => {
    setSource(next);
    if (next) {
      setUrl(next.url);
      setMinutes(String(Math.max(1, Math.round(next.everySeconds / 60))));
    }
  };

  useEffect(() => {
    let live = true;
    const load = () =>
      get<Source | null>(SOURCE_URL)
        .then((found) => live && setSource(found))
        .catch((error: unknown) => live && error instanceof ApiError && setProblem(error));
    void get<Source | null>(SOURCE_URL)
      .then((found) => live && show(found))
      .catch((error: unknown) => live && error instanceof ApiError && setProblem(error));
    // The server pulls on its own schedule: keep the status current while the page is open.
    const timer = setInterval(() => void load(), 5_000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);

  const act = async (kind: "save" | "pull" | "stop") => {
    setBusy(kind);
    setProblem(null);
    try {
      if (kind === "stop") {
        await del(SOURCE_URL);
        show(null);
        announce(s.sourceStopped);
        return;
      }
      const next =
        kind === "save"
          ? await put<Source>(SOURCE_URL, { url: url.trim(), everySeconds: Math.round(Number(minutes) * 60) })
          : await post<Source>(`${SOURCE_URL}/pull`);
      const shown = next;
      show(shown);
      announce(kind === "save" ? s.sourceSaved : (s.sourceResults[shown.lastResult ?? ""] ?? ""));
      if (shown.lastResult === "imported") void refresh();
    } catch (error) {
      if (error instanceof ApiError) setProblem(error);
      else throw error;
    } finally {
      setBusy(null);
    }
  };

  return (
    <Page title={s.sourceTitle} lead={s.sourceLead}>
      <form
        class="card"
        aria-label={s.sourceTitle}
        onSubmit={(event) => {
          event.preventDefault();
          void act("save");
        }}
      >
        <div class="field">
          <label class="field-label" for="source-url">
            {s.sourceUrl}
          </label>
          <input
            id="source-url"
            name="url"
            type="url"
            required
            value={url}
            aria-describedby={problem ? "source-problem" : undefined}
            onInput={(event) => setUrl(event.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label class="field-label" for="source-every">
            {s.sourceEvery}
          </label>
          <input id="source-every" name="every" type="number" min="1" max="10080" required value={minutes} onInput={(event) => setMinutes(event.currentTarget.value)} />
        </div>
        <div class="form-actions">
          <button type="submit" class="button button-primary" disabled={busy !== null}>
            {busy === "save" ? s.sourceSaving : s.sourceSave}
          </button>
          {source && (
            <>
              <button type="button" class="button" disabled={busy !== null} onClick={() => void act("pull")}>
                {busy === "pull" ? s.sourcePulling : s.sourcePull}
              </button>
              <button type="button" class="button" disabled={busy !== null} onClick={() => void act("stop")}>
                {s.sourceStop}
              </button>
            </>
          )}
        </div>
      </form>
      {problem && (
        <div class="error-summary" role="alert" id="source-problem" tabIndex={-1}>
          <p>{problem.detail}</p>
        </div>
      )}
      {source === null && <p>{s.sourceNone}</p>}
      {source && <Status source={source} />}
    </Page>
  );
}
