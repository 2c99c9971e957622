/** The push delivery report of one announcement, read every two seconds while devices are still waiting. */

import { useEffect, useState } from "preact/hooks";

import { ApiError, get } from "../api";
import { s } from "../strings";
import { languageName } from "../languages";

export interface Counts {
  targeted: number;
  sent: number;
  failed: number;
  gone: number;
  pending: number;
}

export interface Delivery extends Counts {
  /** The same counts by the language of the text each device gets (older servers send none). */
  languages?: (Counts & { language: string })[];
}

export const POLL_MS = 2000;

/** Devices whose message is settled (sent, failed or gone) out of those targeted. */
export function settled(delivery: Counts): number {
  return delivery.sent + delivery.failed + delivery.gone;
}

/** Whether the report may still change: devices are waiting (or none is counted yet right after sending). */
export function stillRunning(delivery: Delivery): boolean {
  return delivery.pending > 0;
}

export function DeliveryReport({ id, title }: { id: string; title: string }) {
  const [delivery, setDelivery] = useState<Delivery | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const read = async () => {
      timer = null;
      if (document.visibilityState === "hidden") {
        // Resume when the console is looked at again.
        document.addEventListener("visibilitychange", read, { once: true });
        return;
      }
      try {
        const next = await get<Delivery>(`/api/admin/announcements/${encodeURIComponent(id)}/delivery`);
        if (stopped) return;
        setDelivery(next);
        setProblem(null);
        if (stillRunning(next)) timer = setTimeout(() => void read(), POLL_MS);
      } catch (error) {
        if (stopped) return;
        setProblem(error instanceof ApiError ? error.detail : String(error));
        timer = setTimeout(() => void read(), POLL_MS * 2);
      }
    };
    void read();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      document.removeEventListener("visibilitychange", read);
    };
  }, [id]);

  const headingId = `delivery-${id}`;
  return (
    <section class="delivery" aria-labelledby={headingId}>
      <h4 id={headingId} class="delivery-title">
        {s.deliveryFor(title)}
      </h4>
      {problem && <p class="field-error">{problem}</p>}
      {!delivery ? (
        <p class="loading">{s.loading}</p>
      ) : (
        <>
          {delivery.targeted > 0 && (
          <div
            class="progress"
            role="progressbar"
            aria-label={s.deliveryProgress}
            aria-valuemin={0}
            aria-valuemax={delivery.targeted}
            aria-valuenow={settled(delivery)}
            aria-valuetext={s.deliveryValue(settled(delivery), delivery.targeted)}
          >
            <span class="progress-sent" style={{ width: `${(delivery.sent / delivery.targeted) * 100}%` }} />
            <span class="progress-failed" style={{ width: `${((delivery.failed + delivery.gone) / delivery.targeted) * 100}%` }} />
          </div>
          )}
          <dl class="delivery-counts">
            <div>
              <dt>{s.targeted}</dt>
              <dd>{delivery.targeted}</dd>
            </div>
            <div>
              <dt>{s.sentCount}</dt>
              <dd>{delivery.sent}</dd>
            </div>
            <div>
              <dt>{s.failed}</dt>
              <dd>{delivery.failed}</dd>
            </div>
            <div>
              <dt>{s.gone}</dt>
              <dd>{delivery.gone}</dd>
            </div>
            <div>
              <dt>{s.pending}</dt>
              <dd>{delivery.pending}</dd>
            </div>
          </dl>
          {(delivery.languages?.length ?? 0) > 1 && <LanguageTable languages={delivery.languages ?? []} />}
          <p class="muted delivery-state">{delivery.targeted === 0 ? s.deliveryNone : stillRunning(delivery) ? s.deliveryRunning : s.deliveryDone}</p>
        </>
      )}
    </section>
  );
}

/** One row per language: how many devices get the text in it, and where their messages stand. */
function LanguageTable({ languages }: { languages: NonNullable<Delivery["languages"]> }) {
  return (
    <table class="delivery-languages">
      <caption>{s.deliveryByLanguage}</caption>
      <thead>
        <tr>
          <th scope="col">{s.deliveryLanguage}</th>
          <th scope="col">{s.targeted}</th>
          <th scope="col">{s.sentCount}</th>
          <th scope="col">{s.failed}</th>
          <th scope="col">{s.gone}</th>
          <th scope="col">{s.pending}</th>
        </tr>
      </thead>
      <tbody>
        {languages.map((row) => (
          <tr key={row.language}>
            <th scope="row">{languageName(row.language)}</th>
            <td>{row.targeted}</td>
            <td>{row.sent}</td>
            <td>{row.failed}</td>
            <td>{row.gone}</td>
            <td>{row.pending}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
