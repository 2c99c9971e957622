/**
 * The venue map: one floor plan at a time with its rooms pinned, the room asked for (`/map?room=ID`) highlighted
 * and named, and the same facts as text — every room by floor with its accessibility notes — for screen readers
 * and for floors without a plan. Pins are links, so the map is used with the keyboard like the rest of the app.
 */

import { useState } from "preact/hooks";

import type { Room } from "../../shared/types";
import { planImages, type FloorPlan, type RoomStatus } from "../../shared/venue";
import { localized } from "../content";
import { venueMessages } from "../i18n/venue";
import { lang, t } from "../prefs";
import { query } from "../router";
import { roomStatus, roomStatusLabel, type RoomState } from "../room-status";
import { model } from "../store";
import { screenPixels, venue } from "../venue-data";
import "./venue.css";

export interface VenueMapProps {
  /** The room to highlight, if any. */
  roomId: string | null;
  /** A room's live status, shown beside it on the plan and in the list. */
  statusOf?: (roomId: string) => RoomStatus | undefined;
}

const mapLink = (roomId: string) => `/map?room=${encodeURIComponent(roomId)}`;

function StatusBadge({ status }: { status: RoomStatus | undefined }) {
  return status ? <span class={`room-status room-status-${status.tone}`}>{status.label}</span> : null;
}

/** Rooms grouped by floor: floors with a plan in the plans' order, then the others by name, then rooms on none. */
function roomsByFloor(rooms: readonly Room[], plans: readonly FloorPlan[], other: string): [string, Room[]][] {
  const groups = new Map<string, Room[]>();
  for (const plan of plans) groups.set(plan.floor, []);
  const sorted = [...rooms].sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || a.name.localeCompare(b.name));
  const rest: Room[] = [];
  for (const room of sorted) {
    if (!room.floor) rest.push(room);
    else if (groups.has(room.floor)) groups.get(room.floor)!.push(room);
    else groups.set(room.floor, [room]);
  }
  const planned = plans.map((plan) => plan.floor);
  const entries = [...groups.entries()].filter(([, list]) => list.length > 0);
  entries.sort(([a], [b]) => {
    const ia = planned.indexOf(a);
    const ib = planned.indexOf(b);
    if (ia >= 0 || ib >= 0) return (ia < 0 ? Infinity : ia) - (ib < 0 ? Infinity : ib);
    return a.localeCompare(b);
  });
  if (rest.length > 0) entries.push([other, rest]);
  return entries;
}

export function VenueMap({ roomId, statusOf }: VenueMapProps) {
  const messages = t.value;
  const vm = venueMessages();
  const language = lang.value;
  const data = venue.value ?? { plans: [], pins: [] };
  const rooms = model.value?.programme.rooms ?? [];
  const roomById = new Map(rooms.map((room) => [room.id, room]));
  const room = roomId ? roomById.get(roomId) : undefined;
  const pinOfRoom = roomId ? data.pins.find((pin) => pin.roomId === roomId) : undefined;
  const [chosen, setChosen] = useState<string | null>(null);
  const plan =
    data.plans.find((item) => item.id === chosen) ??
    data.plans.find((item) => item.id === pinOfRoom?.planId) ??
    data.plans.find((item) => item.floor === room?.floor) ??
    data.plans[0];
  const image = plan ? planImages(data.plans, screenPixels()).get(plan.id) : undefined;
  const name = (id: string) => {
    const found = roomById.get(id);
    return found ? localized(found, "name", language) : id;
  };
  const pinPlan = pinOfRoom ? data.plans.find((item) => item.id === pinOfRoom.planId) : undefined;

  return (
    <>
      {room && (
        <p class="map-where">
          <strong>
            {pinPlan ? vm.roomIsOn(name(room.id), pinPlan.floor) : vm.notPinned(name(room.id))}
          </strong>
        </p>
      )}
      {data.plans.length === 0 ? (
        <p>{vm.noPlans}</p>
      ) : (
        plan && (
          <>
            {data.plans.length > 1 && (
              <div class="map-floors" role="group" aria-label={vm.floors}>
                {data.plans.map((item) => (
                  <button key={item.id} type="button" class="button" aria-pressed={item.id === plan.id} onClick={() => setChosen(item.id)}>
                    {item.floor}
                  </button>
                ))}
              </div>
            )}
            <figure class="map-figure">
              <div class="map-plan" style={{ aspectRatio: `${plan.width} / ${plan.height}`, "--ratio": String(plan.width / plan.height) }}>
                {image ? (
                  <img src={image.url} width={image.width} height={image.height} alt={vm.planAlt(plan.floor)} decoding="async" />
                ) : (
                  <p class="map-missing">{vm.planOffline}</p>
                )}
                {data.pins
                  .filter((pin) => pin.planId === plan.id && roomById.has(pin.roomId))
                  .map((pin) => {
                    const current = pin.roomId === roomId;
                    const status = statusOf?.(pin.roomId);
                    return (
                      <a
                        key={pin.roomId}
                        href={mapLink(pin.roomId)}
                        class={`map-pin${current ? " map-pin-current" : ""}`}
                        aria-current={current ? "location" : undefined}
                        style={{ left: `${pin.x * 100}%`, top: `${pin.y * 100}%` }}
                      >
                        <span class="map-pin-dot" aria-hidden="true" />
                        <span class="map-pin-label">
                          {name(pin.roomId)}
                          {status && <span class="visually-hidden">, </span>}
                          <StatusBadge status={status} />
                        </span>
                      </a>
                    );
                  })}
              </div>
              <figcaption>{plan.floor}</figcaption>
            </figure>
          </>
        )
      )}
      <section aria-labelledby="room-list" class="map-rooms">
        <h2 id="room-list">{vm.roomList}</h2>
        {roomsByFloor(rooms, data.plans, vm.otherRooms).map(([floor, list]) => (
          <section key={floor} aria-label={floor}>
            <h3>{floor}</h3>
            <ul class="room-list">
              {list.map((item) => {
                const current = item.id === roomId;
                const accessibility = localized(item, "accessibility", language);
                return (
                  <li key={item.id} class={`card${current ? " card-current" : ""}`} aria-current={current ? "location" : undefined}>
                    <h4 class="card-title">
                      <a href={mapLink(item.id)}>{name(item.id)}</a>
                      {current && <span class="muted"> ({vm.selected})</span>} <StatusBadge status={statusOf?.(item.id)} />
                    </h4>
                    {item.capacity ? <p class="muted">{messages.seats(item.capacity)}</p> : null}
                    {accessibility && <p>{accessibility}</p>}
                  </li>
                );
              })}
            </ul>
          </section>
        ))}
      </section>
    </>
  );
}

/** The /map route: the room named in `?room=` highlighted. */
const TONES: Record<RoomState, RoomStatus["tone"]> = { open: "ok", filling: "warn", full: "full", closed: "closed", emergency: "full" };

/** A room's status as door staff last set it, while it lasts. */
function liveStatus(roomId: string): RoomStatus | undefined {
  const entry = roomStatus.value.get(roomId);
  const label = roomStatusLabel(roomId);
  return entry && label ? { label, tone: TONES[entry.state] } : undefined;
}

export function MapContent() {
  const roomId = query.value.get("room");
  return <VenueMap key={roomId ?? ""} roomId={roomId} statusOf={liveStatus} />;
}
