/**
 * "Turn on notifications": what will be sent, the switch itself, alerts and reminders for bookmarked sessions,
 * and what to do where it cannot work yet (iPhone outside the Home Screen, permission blocked).
 */

import { alertSessions, notifyError, notifyState, notifySupport, permission, setAlertSessions, turnOff, turnOn } from "../notify";
import { t } from "../prefs";
import { parseMinutes, REMINDER_MINUTES, reminderMinutes, setReminderMinutes } from "../reminder-prefs";
import { pushReminders } from "../reminders";

/** How long before each bookmarked session a reminder comes: by push, or in the page where push is not on. */
function ReminderChoice() {
  const messages = t.value;
  return (
    <>
      <label class="notify-reminders">
        <span>{messages["reminders.label"]}</span>
        <select value={String(reminderMinutes.value ?? "off")} onChange={(event) => setReminderMinutes(parseMinutes(event.currentTarget.value))}>
          <option value="off">{messages["reminders.off"]}</option>
          {REMINDER_MINUTES.map((minutes) => (
            <option key={minutes} value={String(minutes)}>
              {messages["reminders.before"](minutes)}
            </option>
          ))}
        </select>
      </label>
      {!pushReminders.value && reminderMinutes.value ? <p class="muted notify-reminders-hint">{messages["reminders.inPage"]}</p> : null}
    </>
  );
}

export function NotifyPanel() {
  const messages = t.value;
  const support = notifySupport();
  const state = notifyState.value;
  const on = state === "on";
  const blocked = support === "ready" && permission.value === "denied" && !on;
  const feedback = state === "working" ? messages["notify.working"] : notifyError.value ? messages["notify.failed"] : on ? messages["notify.on"] : "";
  return (
    <section class={`notify-panel${on ? " is-on" : ""}`} aria-labelledby="notify-title">
      <h2 id="notify-title">{messages["notify.title"]}</h2>
      <p>{messages["notify.intro"]}</p>
      <ul class="notify-what">
        <li>{messages["notify.whatAnnouncements"]}</li>
        <li>{messages["notify.whatAlerts"]}</li>
        <li>{messages["notify.whatReminders"]}</li>
      </ul>
      {support === "ios-install" && <p class="callout">{messages["notify.ios"]}</p>}
      {support === "unsupported" && <p class="callout">{messages["notify.unsupported"]}</p>}
      {blocked && <p class="callout callout-warn">{messages["notify.denied"]}</p>}
      <ReminderChoice />
      {support === "ready" && (
        <>
          <label class="notify-alerts">
            <input type="checkbox" checked={alertSessions.value} onChange={(event) => setAlertSessions(event.currentTarget.checked)} />
            <span>{messages["notify.alertSessions"]}</span>
          </label>
          <p class="notify-actions">
            {on ? (
              <button type="button" class="button" onClick={() => void turnOff()}>
                {messages["notify.turnOff"]}
              </button>
            ) : (
              <button type="button" class="button button-primary" disabled={state === "working" || blocked} onClick={() => void turnOn()}>
                {messages["notify.turnOn"]}
              </button>
            )}
          </p>
        </>
      )}
      <p class={`notify-feedback${notifyError.value ? " is-error" : ""}`} aria-live="polite">
        {feedback}
      </p>
      <p class="muted notify-privacy">{messages["notify.privacy"]}</p>
    </section>
  );
}
