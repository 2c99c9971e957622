/** The history: who changed what and when, newest first, fifty at a time. */

import { useEffect, useState } from "preact/hooks";

import { ApiError, get } from "../api";
import { editPath, KINDS, type Kind } from "../router";
import { programme, zone } from "../programme";
import { s } from "../strings";
import { Page, Problem } from "../ui/page";
import { formatExact, relativeTime } from "../zone";

export interface HistoryEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  kind: string;
  entityId: string;
  summary: string;
}

export const PAGE_SIZE = 50;

/** "created session", "changed the password of organiser", "announced" (an announcement says what it is). */
export function whatWasDone(entry: Pick<HistoryEntry, "action" | "kind">): string {
  const verb = s.actions[entry.action] ?? entry.action;
  return entry.kind === "announcement" ? verb : `${verb} ${entry.kind}`;
}

/** The console page of an entity the history names, while it still exists. */
function entityLink(entry: HistoryEntry): string | null {
  const kind = `${entry.kind}s` as Kind;
  if (!(KINDS as readonly string[]).includes(kind) || entry.action === "deleted") return null;
  const exists = (programme.value?.[kind] as readonly { id: string }[] | undefined)?.some((item) => item.id === entry.entityId);
  return exists ? editPath(kind, entry.entityId) : null;
}

function useNow(intervalMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export function HistoryView() {
  const [entries, setEntries] = useState<HistoryEntry[] | null>(null);
  const [more, setMore] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const now = useNow(30_000);
  const tz = zone.value;

  const load = async (before: number | null) => {
    setBusy(true);
    try {
      const page = await get<HistoryEntry[]>(`/api/admin/history?limit=${PAGE_SIZE}${before === null ? "" : `&before=${before}`}`);
      setEntries((current) => (before === null ? page : [...(current ?? []), ...page]));
      setMore(page.length === PAGE_SIZE);
      setProblem(null);
      if (before !== null && page[0]) setTimeout(() => document.getElementById(`history-${page[0]!.id}`)?.focus(), 0);
    } catch (error) {
      setProblem(error instanceof ApiError ? error.detail : String(error));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    void load(null);
  }, []);

  return (
    <Page title={s.historyTitle} lead={s.historyLead}>
      {problem && <Problem>{problem}</Problem>}
      {entries === null ? (
        !problem && <p class="loading">{s.loading}</p>
      ) : entries.length === 0 ? (
        <p class="empty">{s.noHistory}</p>
      ) : (
        <>
          <div class="table-wrap">
            <table class="table history">
              <caption class="visually-hidden">{s.historyTitle}</caption>
              <thead>
                <tr>
                  <th scope="col">{s.colWhen}</th>
                  <th scope="col">{s.colWho}</th>
                  <th scope="col">{s.colWhat}</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((entry) => {
                  const link = entityLink(entry);
                  return (
                    <tr key={entry.id} id={`history-${entry.id}`} tabIndex={-1}>
                      <td class="nowrap">
                        <time dateTime={entry.at} title={formatExact(entry.at, tz)}>
                          {relativeTime(entry.at, now)}
                        </time>
                      </td>
                      <td>{entry.actor}</td>
                      <td>
                        {whatWasDone(entry)}{" "}
                        {link ? <a href={link}>{entry.summary || entry.entityId}</a> : <span>{entry.summary || entry.entityId}</span>}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <div class="form-actions">
            {more ? (
              <button type="button" class="button" disabled={busy} onClick={() => void load(entries[entries.length - 1]!.id)}>
                {busy ? s.loading : s.older}
              </button>
            ) : (
              <p class="muted">{s.historyEnd}</p>
            )}
          </div>
        </>
      )}
    </Page>
  );
}
