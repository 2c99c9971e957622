/** Rooms and tracks: lists and forms (a room or track that sessions still use cannot be deleted; the server says which). */

import type { Room, Track } from "../../shared/types";
import { ROOM_DEFAULTS, ROOM_FIELDS, roomBody, roomDraft, TRACK_DEFAULTS, TRACK_FIELDS, trackBody, trackDraft, type RoomDraft, type TrackDraft } from "../drafts";
import { programme } from "../programme";
import { s } from "../strings";
import { TextArea, TextField } from "../ui/fields";
import { EntityFormPage } from "./entity-form";
import { EntityList, usage } from "./entity-list";

const byPosition = <T extends { position?: number; name: string }>(items: readonly T[]) =>
  [...items].sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || a.name.localeCompare(b.name));

export function RoomsView() {
  return (
    <EntityList<Room>
      kind="rooms"
      title={s.roomsTitle}
      newLabel={s.newRoom}
      searchLabel={s.searchRooms}
      countText={s.roomsCount}
      items={(data) => byPosition(data.rooms)}
      searchText={(room) => [room.name, room.floor]}
      columns={[
        { label: s.colFloor, cell: (room) => room.floor ?? "" },
        { label: s.colCapacity, cell: (room) => room.capacity ?? "" },
        { label: s.colSessions, cell: (room) => usage("rooms", room.id) },
      ]}
    />
  );
}

export function TracksView() {
  return (
    <EntityList<Track>
      kind="tracks"
      title={s.tracksTitle}
      newLabel={s.newTrack}
      searchLabel={s.searchTracks}
      countText={s.tracksCount}
      items={(data) => byPosition(data.tracks)}
      searchText={(track) => [track.name, track.description]}
      columns={[
        { label: s.colColour, cell: (track) => <span class="swatch" style={{ background: track.colour ?? "#5b6770" }} title={track.colour} aria-label={track.colour} role="img" /> },
        { label: s.colSessions, cell: (track) => usage("tracks", track.id) },
      ]}
    />
  );
}

const ROOM = "room";
const TRACK = "track";

export function RoomFormView({ id }: { id: string | null }) {
  return (
    <EntityFormPage<Room, RoomDraft>
      kind="rooms"
      id={id}
      title={id === null ? s.newRoomTitle : s.editRoomTitle}
      find={(roomId) => programme.value?.rooms.find((room) => room.id === roomId)}
      fields={ROOM_FIELDS}
      defaults={ROOM_DEFAULTS}
      draftOf={roomDraft}
      bodyOf={roomBody}
      backLabel={s.backToRooms}
      render={({ draft, set, errors }) => (
        <>
          <TextField form={ROOM} name="name" label={s.fieldName} value={draft.name} onValue={set("name")} error={errors.fields["name"]} />
          <TextField form={ROOM} name="floor" label={s.fieldFloor} optional value={draft.floor} onValue={set("floor")} error={errors.fields["floor"]} />
          <TextField form={ROOM} name="capacity" label={s.fieldCapacity} optional inputMode="numeric" value={draft.capacity} onValue={set("capacity")} error={errors.fields["capacity"]} />
          <TextArea form={ROOM} name="accessibility" label={s.fieldAccessibility} optional hint={s.accessibilityHint} value={draft.accessibility} onValue={set("accessibility")} error={errors.fields["accessibility"]} />
          <TextField form={ROOM} name="streamUrl" label={s.fieldStream} optional type="url" hint={s.streamHint} value={draft.streamUrl} onValue={set("streamUrl")} error={errors.fields["streamUrl"]} />
          <TextField form={ROOM} name="position" label={s.fieldPosition} inputMode="numeric" hint={s.positionHint} value={draft.position} onValue={set("position")} error={errors.fields["position"]} />
        </>
      )}
    />
  );
}

export function TrackFormView({ id }: { id: string | null }) {
  return (
    <EntityFormPage<Track, TrackDraft>
      kind="tracks"
      id={id}
      title={id === null ? s.newTrackTitle : s.editTrackTitle}
      find={(trackId) => programme.value?.tracks.find((track) => track.id === trackId)}
      fields={TRACK_FIELDS}
      defaults={TRACK_DEFAULTS}
      draftOf={trackDraft}
      bodyOf={trackBody}
      backLabel={s.backToTracks}
      render={({ draft, set, errors }) => (
        <>
          <TextField form={TRACK} name="name" label={s.fieldName} value={draft.name} onValue={set("name")} error={errors.fields["name"]} />
          <TextField form={TRACK} name="colour" label={s.fieldColour} type="color" class="field-colour" value={draft.colour} onValue={set("colour")} error={errors.fields["colour"]} />
          <TextArea form={TRACK} name="description" label={s.fieldDescription} optional value={draft.description} onValue={set("description")} error={errors.fields["description"]} />
          <TextField form={TRACK} name="position" label={s.fieldPosition} inputMode="numeric" hint={s.positionHint} value={draft.position} onValue={set("position")} error={errors.fields["position"]} />
        </>
      )}
    />
  );
}
