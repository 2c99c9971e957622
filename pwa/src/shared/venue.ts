/** The venue as the API serves it: Info pages, floor plans and room pins (`GET /api/info-pages`, `/api/venue`). */

export interface InfoPage {
  id: string;
  slug: string;
  title: string;
  body: string;
  position: number;
  /** `stale`: the fields whose original changed since they were translated (the server sets it). */
  translations?: Record<string, { title?: string; body?: string; stale?: string[] } | undefined>;
  updatedAt?: string;
}

export interface FloorPlan {
  id: string;
  floor: string;
  position: number;
  version: number;
  width: number;
  height: number;
  bytes: number;
  url: string;
  smallWidth: number;
  smallHeight: number;
  smallBytes: number;
  smallUrl: string;
  updatedAt: string;
}

export interface RoomPin {
  roomId: string;
  planId: string;
  x: number;
  y: number;
}

export interface Venue {
  plans: FloorPlan[];
  pins: RoomPin[];
}

/** Room status as another part of the app reports it, shown on the map beside the room. */
export type RoomStatus = { label: string; tone: "ok" | "warn" | "full" | "closed" };

/** The cache the app fills with floor plan images and the service worker answers from (cache first). */
export const PLAN_CACHE = "kumpul-floor-plans";
/** The most bytes of floor plan images kept for offline use. */
export const PLAN_BUDGET_BYTES = 6 * 1024 * 1024;

export interface PlanImage {
  url: string;
  width: number;
  height: number;
}

/**
 * The image of each plan this device shows and keeps offline: the copy for phones on a small screen, the plan
 * as uploaded on a large one while the budget allows, and nothing for a plan past the budget even when small.
 */
export function planImages(plans: readonly FloorPlan[], screenPixels: number): Map<string, PlanImage> {
  const chosen = new Map<string, PlanImage>();
  let used = 0;
  for (const plan of plans) {
    const wantFull = screenPixels > plan.smallWidth * 1.25 && plan.width > plan.smallWidth;
    if (wantFull && used + plan.bytes <= PLAN_BUDGET_BYTES) {
      chosen.set(plan.id, { url: plan.url, width: plan.width, height: plan.height });
      used += plan.bytes;
    } else if (used + plan.smallBytes <= PLAN_BUDGET_BYTES) {
      chosen.set(plan.id, { url: plan.smallUrl, width: plan.smallWidth, height: plan.smallHeight });
      used += plan.smallBytes;
    }
  }
  return chosen;
}
