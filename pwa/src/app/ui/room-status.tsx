/** A room's live status (full, closed, an emergency message …) as one badge, wherever a session's room shows. */

import { roomStatus, roomStatusLabel } from "../room-status";

export function RoomStatusBadge({ roomId }: { roomId: string }) {
  const entry = roomStatus.value.get(roomId);
  const label = roomStatusLabel(roomId);
  if (!entry || !label) return null;
  return <span class={`badge badge-room badge-room-${entry.state}`}>{label}</span>;
}
