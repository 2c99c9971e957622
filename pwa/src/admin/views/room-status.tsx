/**
 * Room status at the door, sized for a phone: pick the room, say how it is (open, filling up, full, closed, or an
 * emergency message), set. Every open app shows it within seconds; it ends by itself when the session running in the
 * room ends (or after the chosen time when nothing runs). Volunteers see only this page.
 */

import { useEffect, useState } from "preact/hooks";

import { ApiError, get, put } from "../api";
import { errorsFrom } from "../fields";
import { programme, zone } from "../programme";
import { s } from "../strings";
import { ErrorSummary, Fieldset, SelectField, TextField, useFormErrors } from "../ui/fields";
import { Page } from "../ui/page";
import { announce } from "../ui/status";
import { formatClock } from "../zone";

export interface RoomStatus {
  roomId: string;
  state: string;
  message: string;
  setAt: string;
  until: string;
}

const STATES = ["open", "filling", "full", "closed", "emergency"] as const;
const MINUTES = [30, 60, 120, 240] as const;
/** The server's limit on a message (server/schemas/room_status.py). */
const MAX_MESSAGE = 280;

export function RoomStatusView() {
  const rooms = programme.value?.rooms ?? [];
  const [roomId, setRoomId] = useState("");
  const [state, setState] = useState<string>("full");
  const [message, setMessage] = useState("");
  const [minutes, setMinutes] = useState("60");
  const [busy, setBusy] = useState(false);
  const [statuses, setStatuses] = useState<RoomStatus[]>([]);
  const { form, errors, refuse, clear } = useFormErrors();

  const load = async () => {
    try {
      setStatuses(await get<RoomStatus[]>("/api/room-status"));
    } catch {
      // The list beside the form is a convenience; setting a status still works.
    }
  };
  useEffect(() => void load(), []);
  useEffect(() => {
    if (!roomId && rooms[0]) setRoomId(rooms[0].id);
  }, [rooms.length]);

  const now = Date.now();
  const running = (programme.value?.sessions ?? []).find(
    (session) => session.roomId === roomId && session.status !== "cancelled" && Date.parse(session.start) <= now && now < Date.parse(session.end),
  );
  const roomName = (id: string) => rooms.find((room) => room.id === id)?.name ?? id;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (state === "emergency" && !message.trim()) {
      refuse({ fields: { message: s.statusNeedsMessage }, general: [] });
      return;
    }
    setBusy(true);
    try {
      const body: Record<string, unknown> = { state, message: message.trim() };
      if (!running) body["minutes"] = Number(minutes);
      const saved = await put<RoomStatus>(`/api/admin/room-status/${encodeURIComponent(roomId)}`, body);
      clear();
      announce(s.statusSet(roomName(saved.roomId), s.statusStates[saved.state] ?? saved.state, formatClock(saved.until, zone.value)));
      setStatuses([...statuses.filter((item) => item.roomId !== saved.roomId), saved]);
    } catch (error) {
      refuse(error instanceof ApiError ? errorsFrom(error, ["state", "message", "minutes"]) : { fields: {}, general: [String(error)] });
    } finally {
      setBusy(false);
    }
  };

  const current = statuses.filter((item) => Date.parse(item.until) > now);
  return (
    <Page title={s.roomStatusTitle} lead={s.roomStatusLead} wide={false}>
      <form ref={form} class="card room-status-form" noValidate onSubmit={(event) => void submit(event)} aria-labelledby="page-title">
        <ErrorSummary errors={errors} />
        <SelectField
          form="status"
          name="room"
          label={s.fieldStatusRoom}
          value={roomId}
          onValue={setRoomId}
          options={rooms.map((room) => ({ value: room.id, label: room.name }))}
        />
        <p class="hint">{running ? s.statusRunningNow(running.title, formatClock(running.end, zone.value)) : s.statusNothingRunning}</p>
        <Fieldset legend={s.fieldStatusState} class="status-choices">
          {STATES.map((value) => (
            <label key={value} class="check status-choice">
              <input type="radio" name="state" value={value} checked={state === value} onChange={() => setState(value)} />
              <span>{s.statusStates[value]}</span>
            </label>
          ))}
        </Fieldset>
        <TextField
          form="status"
          name="message"
          label={s.fieldStatusMessage}
          hint={s.statusMessageHint}
          optional={state !== "emergency"}
          maxLength={MAX_MESSAGE}
          value={message}
          onValue={setMessage}
          error={errors.fields["message"]}
        />
        {!running && (
          <SelectField
            form="status"
            name="minutes"
            label={s.fieldStatusMinutes}
            value={minutes}
            onValue={setMinutes}
            options={MINUTES.map((value) => ({ value: String(value), label: s.statusMinutes(value) }))}
            error={errors.fields["minutes"]}
          />
        )}
        <div class="form-actions">
          <button type="submit" class="button button-primary" disabled={busy || !roomId}>
            {busy ? s.saving : s.setStatus}
          </button>
        </div>
      </form>
      <section aria-labelledby="current-statuses">
        <h2 id="current-statuses">{s.currentStatuses}</h2>
        {current.length ? (
          <ul class="plain-list">
            {current.map((item) => (
              <li key={item.roomId}>
                <strong>{roomName(item.roomId)}</strong>: {s.statusStates[item.state] ?? item.state}
                {item.message && <> — {item.message}</>} ({s.statusUntil(formatClock(item.until, zone.value))})
              </li>
            ))}
          </ul>
        ) : (
          <p>{s.noStatuses}</p>
        )}
      </section>
    </Page>
  );
}
